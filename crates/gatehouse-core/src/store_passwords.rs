//! Storage of `PASSWORD` policies and of each user's password history
//! ([`PasswordPolicyStore`]). Re-exported by [`crate::store`], whose [`crate::store::Store`]
//! includes it.

use async_trait::async_trait;

use crate::domain::{PasswordPolicy, Timestamp, User};
use crate::store_error::StoreResult;

#[async_trait]
pub trait PasswordPolicyStore: Send + Sync {
    /// Fails with `Conflict { constraint: "name" }` when a password policy has the name.
    async fn create_password_policy(&self, policy: &PasswordPolicy) -> StoreResult<()>;
    async fn find_password_policy(&self, id: &str) -> StoreResult<Option<PasswordPolicy>>;
    /// Every password policy in evaluation order: by priority, the system policy last, ties
    /// by id.
    async fn list_password_policies(&self) -> StoreResult<Vec<PasswordPolicy>>;
    /// Writes every field but `id`, `system` and `created`; `NotFound` if absent.
    async fn update_password_policy(&self, policy: &PasswordPolicy) -> StoreResult<()>;
    /// `NotFound` if absent.
    async fn delete_password_policy(&self, id: &str) -> StoreResult<()>;

    /// The user's earlier password hashes, newest first, at most `limit`.
    async fn password_history(&self, user_id: &str, limit: u32) -> StoreResult<Vec<String>>;
    /// Records `hash` as the user's newest password and keeps only the newest `keep` entries.
    async fn push_password_history(
        &self,
        user_id: &str,
        hash: &str,
        at: Timestamp,
        keep: u32,
    ) -> StoreResult<()>;

    /// Creates `user` (whose `password_hash` is set) and records that hash in their history,
    /// keeping the newest `keep`, in one transaction.
    async fn create_user_with_password(&self, user: &User, keep: u32) -> StoreResult<()>;
    /// Writes `user` as [`crate::store::UserStore::update_user`] does and records their new
    /// `password_hash` in their history (keeping the newest `keep`) in one transaction, so a
    /// changed password is never missing from the history that the next change is checked
    /// against. `NotFound` if the user is absent.
    async fn update_user_with_password(&self, user: &User, keep: u32) -> StoreResult<()>;

    /// Sets the user's hash to `new` if it is still `old` (an imported hash rehashed at sign-in,
    /// `password_changed` untouched); whether it was.
    async fn replace_password_hash(&self, user_id: &str, old: &str, new: &str)
    -> StoreResult<bool>;
}
