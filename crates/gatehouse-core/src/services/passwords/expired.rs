//! A sign-in whose password was right but has expired: the caller (the hosted sign-in page,
//! `/api/v1/authn`) gets a short-lived `stateToken` instead of a session, and trades it, with a
//! new password that the policy accepts, for the rest of the sign-in.
//!
//! The token is sealed ([`crate::crypto::SecretBox`]) and names the user, its expiry and a
//! fingerprint of the password hash it was issued against: once the password has changed it is
//! worthless, so it serves once, on any node, with nothing stored.

use crate::audit::Actor;
use crate::domain::{Timestamp, User, UserStatus};
use crate::provider::Provider;
use crate::services::directory_rules::DirectoryError;

use super::{SetBy, set_password};

/// How long the new password may be chosen (Okta's state tokens last minutes too).
pub const STATE_TOKEN_TTL: i64 = 600;

const CONTEXT: &str = "gatehouse/password-expired-state/v1";

fn fingerprint(provider: &Provider, user: &User) -> String {
    provider.secrets.fingerprint(
        CONTEXT,
        user.password_hash.as_deref().unwrap_or_default().as_bytes(),
    )
}

/// A state token for `user`, whose (expired) password was just checked, and its expiry.
pub fn issue_state_token(provider: &Provider, user: &User) -> (String, Timestamp) {
    let expires = provider.now() + STATE_TOKEN_TTL;
    let plain = format!("{}\n{expires}\n{}", user.id, fingerprint(provider, user));
    (provider.secrets.seal(CONTEXT, plain.as_bytes()), expires)
}

/// Why a state token could not be traded.
#[derive(Debug, thiserror::Error)]
pub enum ExpiredError {
    /// Unknown, expired, already used, or the user is gone or no longer expired.
    #[error("the state token is invalid or expired")]
    InvalidState,
    /// The new password was refused (policy) or could not be stored.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

/// The user behind a live state token.
pub async fn state_user(provider: &Provider, token: &str) -> Result<User, ExpiredError> {
    let plain = provider
        .secrets
        .open(CONTEXT, token.trim())
        .map_err(|_| ExpiredError::InvalidState)?;
    let plain = String::from_utf8(plain).map_err(|_| ExpiredError::InvalidState)?;
    let mut parts = plain.splitn(3, '\n');
    let (Some(user_id), Some(expires), Some(print)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(ExpiredError::InvalidState);
    };
    let expires: Timestamp = expires.parse().map_err(|_| ExpiredError::InvalidState)?;
    if expires <= provider.now() {
        return Err(ExpiredError::InvalidState);
    }
    let user = provider
        .store
        .find_user(user_id)
        .await
        .map_err(DirectoryError::from)?
        .ok_or(ExpiredError::InvalidState)?;
    let same =
        crate::crypto::constant_time_eq(fingerprint(provider, &user).as_bytes(), print.as_bytes());
    if !same
        || !matches!(
            user.status,
            UserStatus::Active | UserStatus::PasswordExpired
        )
    {
        return Err(ExpiredError::InvalidState);
    }
    Ok(user)
}

/// Sets the new password of the user behind `token` through the policy; the user, ACTIVE.
pub async fn change_expired_password(
    provider: &Provider,
    actor_for: impl FnOnce(&User) -> Actor,
    token: &str,
    new_password: String,
) -> Result<User, ExpiredError> {
    let user = state_user(provider, token).await?;
    let actor = actor_for(&user);
    Ok(set_password(provider, &actor, user, new_password, SetBy::ExpiredPassword).await?)
}
