//! Sign-on policies (issue 19): what a sign-in needs beyond the password.
//!
//! Two kinds of Okta policy decide it: the first ACTIVE `OKTA_SIGN_ON` policy (the global
//! session policy) whose groups include the user, and the `ACCESS_POLICY` assigned to the app
//! being opened. [`evaluate`] reads both in two queries ([`SignOnPolicyStore::sign_on_policies_for`])
//! and [`decide`] combines them without I/O. [`manage`] creates, changes and deletes policies
//! and rules for `/api/v1/policies`, the console and the CLI.

mod decide;
pub mod manage;

pub use decide::{SignOnDecision, decide};

use crate::domain::User;
use crate::store::{SignOnPolicyStore, Store, StoreError};

/// What a sign-in must satisfy. `Default`: the password alone, no re-authentication limit,
/// no "remember this device".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignOnRequirement {
    pub require_mfa: bool,
    /// Seconds a sign-in stays good for (the shorter of the session lifetime and the app's
    /// `reauthenticateIn`); `Some(0)` asks every time.
    pub reauthenticate_after: Option<i64>,
    /// Seconds a device may be remembered for after a factor; `None`: not offered.
    pub remember_device_for: Option<i64>,
    /// `rememberDeviceByDefault`: the "remember this device" box starts checked.
    pub remember_device_by_default: bool,
}

/// The requirement for `user` (a member of `group_ids`, which should include the built-in
/// `Everyone` group) signing in, to the app with `client_id` if any.
///
/// A `DENY` rule cannot be said with a [`SignOnRequirement`]: it answers the strictest one
/// (a factor, every time, nothing remembered). A caller that can refuse the sign-in should
/// call [`decision`] and refuse on [`SignOnDecision::Deny`].
pub async fn evaluate(
    store: &dyn Store,
    user: &User,
    group_ids: &[String],
    client_id: Option<&str>,
) -> Result<SignOnRequirement, StoreError> {
    Ok(match decision(store, user, group_ids, client_id).await? {
        SignOnDecision::Allow(requirement) => requirement,
        SignOnDecision::Deny { .. } => SignOnRequirement {
            require_mfa: true,
            reauthenticate_after: Some(0),
            remember_device_for: None,
            remember_device_by_default: false,
        },
    })
}

/// As [`evaluate`], with a `DENY` rule said as such.
pub async fn decision(
    store: &dyn Store,
    _user: &User,
    group_ids: &[String],
    client_id: Option<&str>,
) -> Result<SignOnDecision, StoreError> {
    let policies = SignOnPolicyStore::sign_on_policies_for(store, client_id).await?;
    Ok(decide(&policies, group_ids))
}
