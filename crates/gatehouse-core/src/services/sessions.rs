//! The caller's own sign-in session (`/api/v1/sessions/me`), found by the session cookie.

use crate::Provider;
use crate::crypto::sha256_b64url;
use crate::domain::{Session, User};
use crate::oauth2::OAuthError;
use crate::oauth2::authorize::session::live_session;
use crate::oidc::tokens::org_id;

/// A live session with its user and the org (the session's identity provider).
#[derive(Debug, Clone)]
pub struct CurrentSession {
    /// The session's public id: the SHA-256 of the cookie, which is all the server keeps.
    pub id: String,
    pub session: Session,
    pub user: User,
    pub org_id: String,
}

/// The session behind `cookie`, if it is live and its user active.
pub async fn current(
    provider: &Provider,
    cookie: Option<&str>,
) -> Result<Option<CurrentSession>, OAuthError> {
    let Some((session, user)) = live_session(provider, cookie).await? else {
        return Ok(None);
    };
    Ok(Some(CurrentSession {
        id: session.id_hash.clone(),
        session,
        user,
        org_id: org_id(provider).await?,
    }))
}

/// Ends the session behind `cookie`; false when there was no live one.
pub async fn end(provider: &Provider, cookie: Option<&str>) -> Result<bool, OAuthError> {
    match live_session(provider, cookie).await? {
        Some((session, _)) => {
            provider.store.delete_session(&session.id_hash).await?;
            Ok(true)
        }
        None => {
            // A stale cookie's row may linger until purged; drop it all the same.
            if let Some(c) = cookie.filter(|c| !c.is_empty()) {
                provider.store.delete_session(&sha256_b64url(c)).await?;
            }
            Ok(false)
        }
    }
}
