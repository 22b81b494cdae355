//! Signing in on the hosted sign-in page without an authorize request (the admin console, the
//! end-user dashboard): the same password check and session as the authorize flow's form.

use crate::crypto::{random_token, sha256_b64url, verify_password};
use crate::domain::{Session, User, UserStatus};
use crate::oauth2::OAuthError;
use crate::provider::Provider;

/// A new sign-in session.
#[derive(Debug)]
pub struct SignedIn {
    /// The session cookie's value.
    pub session_cookie: String,
    pub session_ttl: i64,
    pub user: User,
}

/// Checks the username and password and opens a session; `None` for a wrong password, an
/// unknown user or one who may not sign in (one answer for all, so nobody learns which
/// accounts exist).
pub async fn sign_in_with_password(
    provider: &Provider,
    username: &str,
    password: &str,
) -> Result<Option<SignedIn>, OAuthError> {
    let now = provider.now();
    let user = provider.store.find_user_by_login(username.trim()).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let password_ok = verify_password(password.to_owned(), hash)
        .await
        .map_err(OAuthError::internal)?;
    let mut user = match user {
        Some(u) if password_ok && u.status == UserStatus::Active => u,
        _ => return Ok(None),
    };
    let session_cookie = random_token(32);
    let session = Session {
        id_hash: sha256_b64url(&session_cookie),
        user_id: user.id.clone(),
        auth_time: now,
        amr: vec!["pwd".into()],
        created: now,
        expires_at: now + provider.lifetimes.session,
    };
    provider.store.create_session(&session).await?;
    user.last_login = Some(now);
    provider.store.update_user(&user).await?;
    Ok(Some(SignedIn {
        session_cookie,
        session_ttl: provider.lifetimes.session,
        user,
    }))
}
