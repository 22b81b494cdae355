//! Storage interfaces for changes that span rows or nodes: setup changes made in one
//! transaction ([`SetupStore`]) and the feed of configuration changes ([`ChangeStore`]).
//! Re-exported by [`crate::store`], whose [`crate::store::Store`] includes them.

use async_trait::async_trait;

use crate::domain::*;
use crate::store_error::StoreResult;

/// A change of one server's active signing key, made by [`SetupStore::replace_active_signing_key`].
#[derive(Debug, Clone, Copy)]
pub struct KeyChange<'a> {
    pub auth_server_id: &'a str,
    /// The active key the caller saw (`None`: the server had none). When the server's active
    /// key is another by now (a concurrent change, on any node), nothing changes.
    pub expected_active: Option<&'a str>,
    /// Stored as the server's only `ACTIVE` key; the previous active key becomes `EXPIRED`
    /// (still published, so tokens it signed still verify).
    pub new_active: &'a SigningKey,
}

/// The first administrator of an empty installation ([`SetupStore::create_bootstrap_admin`]).
#[derive(Debug, Clone, Copy)]
pub struct BootstrapAdmin<'a> {
    pub user: &'a User,
    /// Created unless a group of this name exists; the user becomes a member of the group.
    pub group: &'a Group,
    pub role: &'a AdminRole,
}

/// Setup changes of several rows that must never be seen, or left, half made.
#[async_trait]
pub trait SetupStore: Send + Sync {
    /// In one transaction, serialized per server across nodes: retires the active key and
    /// stores `change.new_active` as the active one, if the active key is still
    /// `change.expected_active`. True when it did; false (nothing written) when the active key
    /// changed meanwhile. `NotFound` when there is no such server. Readers see either the old
    /// or the new active key, never none.
    async fn replace_active_signing_key(&self, change: &KeyChange<'_>) -> StoreResult<bool>;
    /// Creates the bootstrap administrator (user, group membership, role) in one transaction,
    /// once per installation, whatever the number of nodes starting at once: true when this
    /// call created it; false (nothing written) when the installation already has one, or
    /// already has users (an installation that predates this marker).
    async fn create_bootstrap_admin(&self, admin: &BootstrapAdmin<'_>) -> StoreResult<bool>;
    /// The id of the bootstrap administrator, if this installation created one.
    async fn bootstrap_admin_id(&self) -> StoreResult<Option<String>>;
    /// Sets a `meta` value unless it is set: true when this call set it. Of nodes racing to
    /// set one, exactly one wins and the others see its value.
    async fn insert_meta_if_absent(&self, key: &str, value: &str) -> StoreResult<bool>;
}

/// A committed change to configuration that nodes cache (see [`ChangeStore`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An app (client) or its secrets, by client id.
    Client(String),
    /// An authorization server, its configuration or its signing keys.
    AuthServer(String),
    /// Trusted origins.
    Origins,
    /// Changes may have been missed (the feed reconnected): forget everything.
    All,
}

impl Change {
    /// Parses a notification payload (`client:<id>`, `server:<id>`, `origins:`).
    pub fn from_payload(payload: &str) -> Option<Self> {
        match payload.split_once(':')? {
            ("client", id) if !id.is_empty() => Some(Self::Client(id.to_owned())),
            ("server", id) if !id.is_empty() => Some(Self::AuthServer(id.to_owned())),
            ("origins", _) => Some(Self::Origins),
            _ => None,
        }
    }
}

/// The changes committed by any node, in commit order, as they happen.
#[async_trait]
pub trait ChangeFeed: Send {
    /// The next change; waits for one. Yields [`Change::All`] after any gap.
    async fn next(&mut self) -> Change;
}

/// Change notification across nodes.
#[async_trait]
pub trait ChangeStore: Send + Sync {
    /// A feed of every node's configuration changes, or `None` when the backend serves a single
    /// node (SQLite): then caches expire by their TTLs only.
    async fn change_feed(&self) -> StoreResult<Option<Box<dyn ChangeFeed>>>;
}
