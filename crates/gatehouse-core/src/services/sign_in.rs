//! Signing in on the hosted sign-in page without an authorize request (the admin console, the
//! end-user dashboard): the same password check and session as the authorize flow's form.

use crate::audit::ClientInfo;
use crate::crypto::{random_token, sha256_b64url};
use crate::domain::{Session, User};
use crate::oauth2::OAuthError;
use crate::provider::Provider;
use crate::services::lockout;

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
    client: &ClientInfo,
    username: &str,
    password: &str,
) -> Result<Option<SignedIn>, OAuthError> {
    // The authorize flow's check: lockout counting, one answer for every failure, the log.
    let Some(user) = lockout::verify_sign_in(provider, client, username.trim(), password).await?
    else {
        return Ok(None);
    };
    let opened = open_password_session(provider, user).await?;
    Ok(Some(SignedIn {
        session_cookie: opened.cookie,
        session_ttl: provider.lifetimes.session,
        user: opened.user,
    }))
}

/// A session just opened: the cookie's value (only its hash is stored), the session, and the
/// user as stored now.
pub(crate) struct OpenedSession {
    pub cookie: String,
    pub session: Session,
    pub user: User,
}

/// Opens a password session for a user whose password was just verified. Shared by the authorize flow's form and the console's sign-in page.
pub(crate) async fn open_password_session(
    provider: &Provider,
    user: User,
) -> Result<OpenedSession, OAuthError> {
    let now = provider.now();
    let cookie = random_token(32);
    let session = Session {
        id_hash: sha256_b64url(&cookie),
        user_id: user.id.clone(),
        auth_time: now,
        amr: vec!["pwd".into()],
        created: now,
        expires_at: now + provider.lifetimes.session,
    };
    // The sign-in time was recorded by `lockout::verify_sign_in`, on the row itself.
    provider.store.create_session(&session).await?;
    Ok(OpenedSession {
        cookie,
        session,
        user,
    })
}
