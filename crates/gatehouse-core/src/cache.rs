//! The node-local caches the `Provider` holds, defined here, below it, so that `provider`
//! imports nothing that imports it back. Each is filled and read by its own module
//! (`authz`, `oidc::discovery`, `services::trusted_origins`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::authz::model::ServerConfig;

/// How long a node trusts its copy of an authorization server (and of the discovery documents
/// built from it) before reading the database again. A change made on another node is seen when
/// the database's notification arrives (PostgreSQL, milliseconds; see
/// [`crate::services::changes`]), and within this time at the latest.
pub const SERVER_CACHE_TTL: Duration = Duration::from_secs(10);

/// Servers' configurations read recently (as [`crate::Provider::find_auth_server`] caches servers):
/// a token request would otherwise read it again each time.
#[derive(Default)]
pub struct ConfigCache(pub(crate) RwLock<HashMap<String, (Instant, Arc<ServerConfig>)>>);

impl ConfigCache {
    pub fn invalidate(&self, auth_server_id: &str) {
        if let Ok(mut m) = self.0.write() {
            m.remove(auth_server_id);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut m) = self.0.write() {
            m.clear();
        }
    }
}

/// Which discovery document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Document {
    /// `/.well-known/openid-configuration`
    OpenidConfiguration,
    /// `/.well-known/oauth-authorization-server`
    AuthorizationServerMetadata,
}

/// At most this many documents are kept; origins come from `Host` headers, so the cache is
/// emptied rather than allowed to grow with them.
pub(crate) const DOCUMENT_CACHE_MAX: usize = 64;

pub(crate) type DocumentKey = (Document, Option<String>, String);

/// Serialized discovery documents, kept for [`SERVER_CACHE_TTL`]: the document only changes
/// with the server's keys' algorithms, and is asked for on every client start.
#[derive(Default)]
pub struct DocumentCache(pub(crate) RwLock<HashMap<DocumentKey, (Instant, Bytes)>>);

impl DocumentCache {
    pub fn clear(&self) {
        if let Ok(mut m) = self.0.write() {
            m.clear();
        }
    }
}

/// This node's copy of [`crate::services::trusted_origins::cors_origins`], so that a CORS check reads nothing. It is dropped
/// whenever this node changes an app or a trusted origin, and re-read after
/// [`SERVER_CACHE_TTL`], so a change made on another node is seen within that time.
#[derive(Default)]
pub struct CorsOriginCache(RwLock<Option<(Instant, Arc<HashSet<String>>)>>);

impl CorsOriginCache {
    pub(crate) fn fresh(&self) -> Option<Arc<HashSet<String>>> {
        let guard = self.0.read().ok()?;
        let (at, origins) = guard.as_ref()?;
        (at.elapsed() < SERVER_CACHE_TTL).then(|| origins.clone())
    }

    pub(crate) fn put(&self, origins: Arc<HashSet<String>>) {
        if let Ok(mut slot) = self.0.write() {
            *slot = Some((Instant::now(), origins));
        }
    }

    /// Forgets the copy (after an app or a trusted origin was created, changed or deleted).
    pub fn invalidate(&self) {
        if let Ok(mut slot) = self.0.write() {
            *slot = None;
        }
    }
}
