//! Storage for users and groups that come from outside Gatehouse (an LDAP or Active Directory
//! directory), and for leases that let one node at a time run a scheduled job. Re-exported by
//! [`crate::store`], whose [`crate::store::Store`] includes [`FederationStore`].

use async_trait::async_trait;

use crate::domain::Timestamp;
use crate::store_error::StoreResult;

/// Where a user or group came from: the source's name (`ldap`) and its own key for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSource {
    pub source: String,
    /// The directory's name for the entry (a DN for LDAP).
    pub external_id: String,
    pub synced_at: Timestamp,
}

/// An import's high-water mark for one source (see `services::ldap::incremental`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncMark {
    pub source: String,
    /// What the mark is about (directory URL, base, filter, attribute); a mark whose scope
    /// differs from the configured one is not used.
    pub scope: String,
    /// The greatest change-attribute value seen; `None` before any import saw one.
    pub mark: Option<String>,
    /// The DNs whose change attribute equals `mark` (a `>=` search finds them again).
    pub mark_entries: Vec<String>,
    /// When the last full import finished.
    pub full_sync_at: Option<Timestamp>,
    /// 0 when never saved; each save adds one.
    pub version: i64,
}

#[async_trait]
pub trait FederationStore: Send + Sync {
    /// Records (or updates) where the user comes from.
    async fn set_user_source(
        &self,
        user_id: &str,
        source: &str,
        external_id: &str,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// `None` for a Gatehouse (local) user.
    async fn user_source(&self, user_id: &str) -> StoreResult<Option<RecordSource>>;
    /// The ids of every user from `source`.
    async fn list_source_users(&self, source: &str) -> StoreResult<Vec<String>>;
    async fn set_group_source(
        &self,
        group_id: &str,
        source: &str,
        external_id: &str,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// The ids of every group from `source`.
    async fn list_source_groups(&self, source: &str) -> StoreResult<Vec<String>>;
    /// Takes back one counted failed sign-in (never below zero): the attempt was counted
    /// before the password could be judged, and it could not be (the directory was down).
    async fn forgive_signin_failure(&self, user_id: &str) -> StoreResult<()>;
    /// Takes the lease `name` for `holder` until `now + ttl_seconds` when it is free, expired
    /// or already `holder`'s; `false` when another holder has it. One statement, so two nodes
    /// asking at once cannot both get it.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl_seconds: i64,
    ) -> StoreResult<bool>;
    /// Gives the lease back if `holder` has it.
    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()>;
    /// The saved mark of `source` (`None`: never saved).
    async fn sync_mark(&self, source: &str) -> StoreResult<Option<SyncMark>>;
    /// Saves `mark` if the stored version is still `mark.version` (0: none stored), as
    /// version + 1; `false` when another import saved in between (nothing is written). One
    /// statement.
    async fn save_sync_mark(&self, mark: &SyncMark, now: Timestamp) -> StoreResult<bool>;
    /// The user from `source` whose external id is `external_id`, compared case-insensitively
    /// (as LDAP compares DNs).
    async fn find_source_user(
        &self,
        source: &str,
        external_id: &str,
    ) -> StoreResult<Option<String>>;
}
