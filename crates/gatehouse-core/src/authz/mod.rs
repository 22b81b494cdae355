//! Custom authorization servers' own rules: which scopes exist, which access policy and rule
//! decide a request, what it gets (lifetimes), and which custom claims go into its tokens.
//! Okta's model; the management API edits it through [`crate::services::auth_server_config`].

pub mod claims;
pub mod model;
pub mod policy;

use std::sync::Arc;
use std::time::Instant;

pub use crate::cache::ConfigCache;
use crate::cache::SERVER_CACHE_TTL;
use crate::provider::Provider;
use crate::store::StoreError;
use model::ServerConfig;

/// The configuration of server `auth_server_id`, from this node's short-lived cache or the
/// database. A change made on another node is seen within [`SERVER_CACHE_TTL`].
pub async fn server_config(
    provider: &Provider,
    auth_server_id: &str,
) -> Result<Arc<ServerConfig>, StoreError> {
    let cache = &provider.authz_configs.0;
    if let Some(found) = cache.read().ok().and_then(|m| {
        m.get(auth_server_id)
            .filter(|(at, _)| at.elapsed() < SERVER_CACHE_TTL)
            .map(|(_, c)| c.clone())
    }) {
        return Ok(found);
    }
    let objects = provider
        .store
        .list_auth_server_objects(auth_server_id)
        .await?;
    let config = Arc::new(ServerConfig::from_objects(&objects));
    if let Ok(mut m) = cache.write() {
        m.insert(auth_server_id.to_owned(), (Instant::now(), config.clone()));
    }
    Ok(config)
}
