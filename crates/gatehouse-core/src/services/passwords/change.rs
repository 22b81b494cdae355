//! A user changing their own password with the old one: Okta's
//! `POST /api/v1/users/{id}/credentials/change_password`, the dashboard's "Change password"
//! page, and the new password an expired one asks for at sign-in.

use crate::audit::Actor;
use crate::crypto::verify_password;
use crate::domain::{User, UserStatus};
use crate::provider::Provider;
use crate::services::directory_rules::DirectoryError;

use super::{SetBy, set_password};

/// Why a change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The old password is wrong (Okta's E0000014, "oldPassword: … not correct").
    #[error("Old Password is not correct")]
    WrongOldPassword,
    /// The user may not change a password now (not ACTIVE or PASSWORD_EXPIRED).
    #[error("the user's password cannot be changed in status {0}")]
    NotAllowed(UserStatus),
    /// The new password breaks the policy, or storing failed.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

/// Checks `old` against the stored hash, then sets `new` through the policy
/// ([`super::set_password`]; [`SetBy::User`] holds it to the minimum age too, as Okta's
/// `strict=true` and the dashboard do): the user's sessions and tokens end.
pub async fn change_password(
    provider: &Provider,
    actor: &Actor,
    user: User,
    old: &str,
    new: String,
    by: SetBy,
) -> Result<User, ChangeError> {
    if !matches!(
        user.status,
        UserStatus::Active | UserStatus::PasswordExpired
    ) {
        return Err(ChangeError::NotAllowed(user.status));
    }
    let ok = verify_password(old.to_owned(), user.password_hash.clone())
        .await
        .map_err(DirectoryError::from)?;
    if !ok || user.password_hash.is_none() {
        return Err(ChangeError::WrongOldPassword);
    }
    Ok(set_password(provider, actor, user, new, by).await?)
}
