//! Sign-on policies (issue 19): what a sign-in needs beyond the password. This is the seam
//! between the sign-in flow and the policy engine: the policy module fills `evaluate`.

use crate::domain::User;
use crate::store::{Store, StoreError};

/// What a sign-in of `user` to an app must satisfy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignOnRequirement {
    pub require_mfa: bool,
    /// Seconds after which the user must authenticate again.
    pub reauthenticate_after: Option<i64>,
    /// Seconds a "remember this device" choice lasts; `None`: not offered.
    pub remember_device_for: Option<i64>,
}

/// The requirement for `user` (member of `group_ids`) signing in to `client_id` (`None`: the
/// org itself, e.g. the console). Until policies exist: password only, no re-auth limit, no
/// remember.
pub async fn evaluate(
    _store: &dyn Store,
    _user: &User,
    _group_ids: &[String],
    _client_id: Option<&str>,
) -> Result<SignOnRequirement, StoreError> {
    Ok(SignOnRequirement::default())
}
