//! Storage for Okta's classic Authentication API (`sessionToken`s) and for users imported from
//! an Okta org whose password is migrated at their first sign-in. Re-exported by
//! [`crate::store`].

use async_trait::async_trait;

use crate::domain::Timestamp;
use crate::store_error::StoreResult;

/// A `sessionToken` from `POST /api/v1/authn`: single use, short-lived, stored as its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTokenRecord {
    /// SHA-256 (base64url) of the token.
    pub token_hash: String,
    pub user_id: String,
    /// When the password was verified (the session's `auth_time`).
    pub auth_time: Timestamp,
    pub created: Timestamp,
    pub expires_at: Timestamp,
}

/// What `gatehouse import okta` carried from a source org (migration 0028): the source's id of
/// a record and the id it has here, so a rerun can tell what was deleted at the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    pub source_url: String,
    /// `user`, `group`, `app`, `authorization server`, `trusted origin`.
    pub kind: String,
    pub source_id: String,
    pub target_id: String,
    /// When an import last read it at the source.
    pub last_seen: Timestamp,
}

#[async_trait]
pub trait AuthnStore: Send + Sync {
    /// Stores a new token (and drops expired ones).
    async fn insert_session_token(&self, token: &SessionTokenRecord) -> StoreResult<()>;
    /// Spends an unexpired token in one statement: `Some` for exactly one caller.
    async fn spend_session_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<SessionTokenRecord>>;
    /// Marks `user_id` for password migration from `source_url` (replacing any mark).
    async fn mark_password_migration(
        &self,
        user_id: &str,
        source_url: &str,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// The source org the user's password is still to be checked against, if any.
    async fn password_migration_source(&self, user_id: &str) -> StoreResult<Option<String>>;
    /// In one transaction: clears the mark and, if this call cleared it and the user still has
    /// no password, stores `password_hash`. True when this call stored it.
    async fn complete_password_migration(
        &self,
        user_id: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Records (or refreshes) that `source_id` of `source_url` was carried as `target_id`.
    async fn record_import(&self, record: &ImportRecord) -> StoreResult<()>;
    /// Every record of `kind` carried from `source_url`.
    async fn list_imports(&self, source_url: &str, kind: &str) -> StoreResult<Vec<ImportRecord>>;
    /// Forgets one record (its target was removed).
    async fn forget_import(&self, source_url: &str, kind: &str, source_id: &str)
    -> StoreResult<()>;
}
