//! Sign-in sessions: the caller's own (`/api/v1/sessions/me`), found by the session cookie,
//! and ending a user's sessions ([`end_all_for_user`]: Okta's "clear user sessions", and what a
//! password change, reset, deactivation or suspension does). Every ending queues the
//! back-channel logouts of the apps the sessions signed in to (see [`crate::services::backchannel`])
//! in the same transaction.

use crate::Provider;
use crate::audit::{Actor, Entity, event_type as ev};
use crate::crypto::sha256_b64url;
use crate::domain::{Session, User, UserStatus};
use crate::oauth2::OAuthError;
use crate::oidc::tokens::org_id;
use crate::store::{self, SessionScope, StoreError};

/// The live session behind a cookie, with its user, if both are still valid.
pub(crate) async fn live_session(
    provider: &Provider,
    cookie: Option<&str>,
) -> Result<Option<(Session, User)>, OAuthError> {
    let Some(cookie) = cookie.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let Some(session) = provider
        .store
        .find_session(&sha256_b64url(cookie), provider.now())
        .await?
    else {
        return Ok(None);
    };
    match provider.store.find_user(&session.user_id).await? {
        Some(user) if user.status == UserStatus::Active => Ok(Some((session, user))),
        _ => Ok(None),
    }
}

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
            end_one(provider, &session.id_hash).await?;
            Ok(true)
        }
        None => {
            // A stale cookie's row may linger until purged; drop it all the same.
            if let Some(c) = cookie.filter(|c| !c.is_empty()) {
                end_one(provider, &sha256_b64url(c)).await?;
            }
            Ok(false)
        }
    }
}

/// Ends one session by id, queueing its apps' back-channel logouts.
pub async fn end_one(provider: &Provider, id_hash: &str) -> Result<u64, StoreError> {
    let ended = provider
        .store
        .end_sessions(&store::EndSessions {
            scope: SessionScope::One(id_hash),
            oauth_tokens: false,
            api_tokens: false,
            now: provider.now(),
        })
        .await?;
    provider.logout_wake.notify_one();
    Ok(ended)
}

/// What ending a user's sessions also ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndSessions {
    /// Revoke the user's grants, refresh tokens and access tokens too (Okta's
    /// `oauthTokens=true`): refreshes get `invalid_grant`, access tokens introspect inactive.
    pub oauth_tokens: bool,
    /// Revoke the API tokens (`SSWS`) the user owns too.
    pub api_tokens: bool,
    /// The session that stays (the caller's own, changing their password), by id.
    pub except_session: Option<String>,
}

/// Why a user's sessions end (the System Log's `debugData.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// An administrator cleared them (`DELETE /api/v1/users/{id}/sessions`, console, CLI).
    Cleared,
    PasswordChanged,
    PasswordReset,
    /// Deactivation or suspension (recorded by its own lifecycle event).
    Lifecycle,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cleared => "ADMIN_CLEAR",
            Self::PasswordChanged => "PASSWORD_CHANGED",
            Self::PasswordReset => "PASSWORD_RESET",
            Self::Lifecycle => "LIFECYCLE",
        }
    }
}

/// Ends every session of `user` (but `end.except_session`) and what `end` asks, in one
/// transaction that also queues the back-channel logouts; records Okta's `user.session.clear`
/// (except for [`EndReason::Lifecycle`]) and returns how many sessions ended. Durable and
/// shared by every node: a revoked token is refused wherever it is presented.
pub async fn end_all_for_user(
    provider: &Provider,
    actor: &Actor,
    user: &User,
    end: EndSessions,
    reason: EndReason,
) -> Result<u64, StoreError> {
    let ended = provider
        .store
        .end_sessions(&store::EndSessions {
            scope: SessionScope::User {
                user_id: &user.id,
                except: end.except_session.as_deref(),
            },
            oauth_tokens: end.oauth_tokens,
            api_tokens: end.api_tokens,
            now: provider.now(),
        })
        .await?;
    provider.logout_wake.notify_one();
    if reason != EndReason::Lifecycle {
        let event = crate::audit::Event::new(
            ev::SESSION_CLEAR,
            "Clear user session",
            actor.entity.clone(),
        )
        .client(&actor.client)
        .target(Entity::user(user))
        .debug("reason", reason.as_str())
        .debug("oauthTokens", end.oauth_tokens)
        .debug("sessionsEnded", ended);
        crate::audit::record(provider, event).await;
    }
    Ok(ended)
}
