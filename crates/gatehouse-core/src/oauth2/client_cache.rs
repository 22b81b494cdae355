//! This node's short-lived copies of the clients that authenticate at the token, introspection
//! and revocation endpoints, so a token request does not read its client's row each time.
//!
//! Nodes stay stateless: a change made through this node (secret rotation, deactivation,
//! settings, deletion) forgets the copy at once ([`ClientCache::invalidate`]); a change made on
//! another node, or by the CLI, is forgotten when the database's change notification arrives
//! (PostgreSQL, milliseconds; see `crate::services::changes`), and at the latest after
//! [`CLIENT_CACHE_TTL`]. Unknown client ids are not cached, so a new client works at once
//! everywhere.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use crate::domain::{App, AppStatus, ClientSecret};
use crate::oauth2::types::ClientId;
use crate::store::{Store, StoreResult};

/// How long a node trusts its copy of a client.
pub const CLIENT_CACHE_TTL: Duration = Duration::from_secs(5);
/// Past this many clients, expired copies are dropped (and all of them if none had expired).
const MAX_CACHED_CLIENTS: usize = 4096;

/// A client with the secrets it may authenticate with. Shared, not copied: a token request
/// clones the `Arc`, not the app's settings and URIs.
#[derive(Debug)]
pub struct CachedClient {
    pub app: Arc<App>,
    /// Its `ACTIVE` client secrets, sealed (none for clients that use no secret).
    pub active_secrets: Vec<ClientSecret>,
    /// Keyed fingerprints of `active_secrets` in clear (see `client_auth`), made by the first
    /// authentication with this copy: later ones hash the presented secret once instead of
    /// opening every sealed one. Never the secrets themselves; gone with the copy.
    pub secret_fingerprints: OnceLock<Vec<String>>,
}

#[derive(Default)]
pub struct ClientCache {
    entries: RwLock<HashMap<String, (Instant, Arc<CachedClient>)>>,
    /// Bumped by every invalidation: a read that started before one does not store its copy,
    /// which may predate the change.
    generation: AtomicU64,
}

impl ClientCache {
    /// The client with this id and its active secrets, from the cache or the store.
    pub async fn find(
        &self,
        store: &dyn Store,
        client_id: &ClientId,
    ) -> StoreResult<Option<Arc<CachedClient>>> {
        let client_id = client_id.as_str();
        let cached = self.entries.read().ok().and_then(|m| {
            m.get(client_id)
                .filter(|(at, _)| at.elapsed() < CLIENT_CACHE_TTL)
                .map(|(_, client)| Arc::clone(client))
        });
        if cached.is_some() {
            return Ok(cached);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let found = match store.find_app_by_client_id(client_id).await? {
            Some(app) => {
                let mut active_secrets = store.list_client_secrets(&app.id).await?;
                active_secrets.retain(|s| s.status == AppStatus::Active);
                Some(Arc::new(CachedClient {
                    app: Arc::new(app),
                    active_secrets,
                    secret_fingerprints: OnceLock::new(),
                }))
            }
            None => None,
        };
        if let (Some(client), Ok(mut m)) = (&found, self.entries.write())
            && self.generation.load(Ordering::Acquire) == generation
        {
            if m.len() >= MAX_CACHED_CLIENTS {
                m.retain(|_, (at, _)| at.elapsed() < CLIENT_CACHE_TTL);
                if m.len() >= MAX_CACHED_CLIENTS {
                    m.clear();
                }
            }
            m.insert(client_id.to_owned(), (Instant::now(), Arc::clone(client)));
        }
        Ok(found)
    }

    /// Forgets every client (the change feed may have missed changes).
    pub fn invalidate_all(&self) {
        if let Ok(mut m) = self.entries.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            m.clear();
        }
    }

    /// Forgets this node's copy of the client (after changing or deleting it).
    pub fn invalidate(&self, client_id: &str) {
        if let Ok(mut m) = self.entries.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            m.remove(client_id);
        }
    }
}
