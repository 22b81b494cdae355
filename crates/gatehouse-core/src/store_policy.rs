//! Storage of sign-on policies ([`SignOnPolicyStore`]): Okta's `OKTA_SIGN_ON` and
//! `ACCESS_POLICY` policies, their rules, and the app ↔ access-policy assignment. Re-exported
//! by [`crate::store`], whose [`crate::store::Store`] includes it.

use async_trait::async_trait;

use crate::domain::*;
use crate::store_error::StoreResult;

#[async_trait]
pub trait SignOnPolicyStore: Send + Sync {
    /// Fails with `Conflict { constraint: "name" }` when a policy of the same type has the name.
    async fn create_policy(&self, policy: &SignOnPolicy) -> StoreResult<()>;
    async fn find_policy(&self, id: &str) -> StoreResult<Option<SignOnPolicy>>;
    /// The policies of one type (every type for `None`) in evaluation order: by priority, the
    /// system policy last, ties by id.
    async fn list_policies(
        &self,
        policy_type: Option<PolicyType>,
    ) -> StoreResult<Vec<SignOnPolicy>>;
    /// Writes every field but `id`, `policy_type`, `system` and `created`; `NotFound` if absent.
    async fn update_policy(&self, policy: &SignOnPolicy) -> StoreResult<()>;
    /// Removes the policy, its rules and its app assignments; `NotFound` if absent.
    async fn delete_policy(&self, id: &str) -> StoreResult<()>;

    /// `NotFound` when the policy does not exist; `Conflict { constraint: "name" }` when the
    /// policy has a rule of that name.
    async fn create_policy_rule(&self, rule: &SignOnRule) -> StoreResult<()>;
    async fn find_policy_rule(
        &self,
        policy_id: &str,
        rule_id: &str,
    ) -> StoreResult<Option<SignOnRule>>;
    /// The policy's rules in evaluation order (priority, the system rule last, ties by id).
    async fn list_policy_rules(&self, policy_id: &str) -> StoreResult<Vec<SignOnRule>>;
    /// Writes name, priority, status, conditions, actions and `last_updated`.
    async fn update_policy_rule(&self, rule: &SignOnRule) -> StoreResult<()>;
    async fn delete_policy_rule(&self, policy_id: &str, rule_id: &str) -> StoreResult<()>;

    /// Makes `policy_id` the app's access policy, replacing any other; `NotFound` when the
    /// app or the policy does not exist.
    async fn assign_app_access_policy(&self, app_id: &str, policy_id: &str) -> StoreResult<()>;
    /// The app's access policy id, if one is assigned.
    async fn find_app_access_policy(&self, app_id: &str) -> StoreResult<Option<String>>;
    /// Ids of the apps using the policy, ordered.
    async fn list_access_policy_apps(&self, policy_id: &str) -> StoreResult<Vec<String>>;

    /// What a sign-in's evaluation reads, in two queries whatever the number of rules: every
    /// ACTIVE `OKTA_SIGN_ON` policy, and the ACTIVE access policy of the app with this
    /// `client_id` (if any), each with its ACTIVE rules; policies and rules in evaluation order.
    async fn sign_on_policies_for(
        &self,
        client_id: Option<&str>,
    ) -> StoreResult<Vec<PolicyWithRules>>;
}
