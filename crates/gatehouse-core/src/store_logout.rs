//! Storage for ending sessions and for back-channel logout (OpenID Connect Back-Channel Logout
//! 1.0): which apps each session signed in to, and the durable outbox of logout tokens still to
//! deliver. Re-exported by [`crate::store`], whose [`crate::store::Store`] includes
//! [`LogoutStore`].

use async_trait::async_trait;

use crate::domain::Timestamp;
use crate::store_error::StoreResult;

/// An app a session signed in to, recorded at `/authorize` for apps with a
/// `backchannel_logout_uri`, so that the end of the session can be told to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionApp {
    /// The session's id (the SHA-256 of its cookie).
    pub session_hash: String,
    pub user_id: String,
    pub client_id: String,
    pub auth_server_id: String,
    /// The issuer the app saw in its ID token (the logout token's `iss`).
    pub issuer: String,
    /// The session's `sid` claim as the app saw it.
    pub sid: String,
    pub created: Timestamp,
    /// The session's expiry: after it, the record goes.
    pub expires_at: Timestamp,
}

/// Which sessions [`LogoutStore::end_sessions`] ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionScope<'a> {
    /// One session, by id.
    One(&'a str),
    /// Every session of the user, but `except` (the caller's own, when it stays).
    User {
        user_id: &'a str,
        except: Option<&'a str>,
    },
}

/// What [`LogoutStore::end_sessions`] ends, at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndSessions<'a> {
    pub scope: SessionScope<'a>,
    /// Also revokes the user's grants with their refresh and access tokens (only with
    /// [`SessionScope::User`]).
    pub oauth_tokens: bool,
    /// Also revokes the API tokens the user owns (only with [`SessionScope::User`]).
    pub api_tokens: bool,
    pub now: Timestamp,
}

/// A logout token still to deliver: one app told that one session (of one user) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutDelivery {
    pub id: String,
    pub client_id: String,
    pub auth_server_id: String,
    pub issuer: String,
    pub user_id: String,
    pub sid: String,
    /// Delivery attempts so far, this one included.
    pub attempts: i64,
    pub created: Timestamp,
}

#[async_trait]
pub trait LogoutStore: Send + Sync {
    /// Records that the session signed in to the app (again: idempotent).
    async fn record_session_app(&self, app: &SessionApp) -> StoreResult<()>;
    /// In one transaction: queues a logout token for every app the ended sessions signed in
    /// to, ends the sessions and revokes what `end` asks. Returns how many sessions ended.
    async fn end_sessions(&self, end: &EndSessions<'_>) -> StoreResult<u64>;
    /// Claims up to `limit` deliveries that are due at `now` and not claimed by anyone (or
    /// whose claim lapsed), for `now + lease` seconds, counting an attempt on each. One
    /// conditional statement: of concurrent callers on any node, one gets each delivery.
    async fn claim_logout_deliveries(
        &self,
        now: Timestamp,
        lease: i64,
        limit: u32,
    ) -> StoreResult<Vec<LogoutDelivery>>;
    /// Removes a delivery (delivered, or given up on).
    async fn finish_logout_delivery(&self, id: &str) -> StoreResult<()>;
    /// Releases the claim and makes the delivery due again at `next_attempt_at`.
    async fn retry_logout_delivery(&self, id: &str, next_attempt_at: Timestamp) -> StoreResult<()>;
    /// Deletes the records of sessions expired at `now`; returns how many went.
    async fn purge_session_apps(&self, now: Timestamp) -> StoreResult<u64>;
}
