//! Authorization-server settings that are not protocol: the signing algorithm and key rotation.

use crate::domain::{AuthServer, KeyStatus, SigningAlg, SigningKey};
use crate::keys::KeyError;
use crate::provider::Provider;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AuthServerError {
    #[error("no authorization server {0}")]
    NotFound(String),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every authorization server, the org server included.
pub async fn list(provider: &Provider) -> Result<Vec<AuthServer>, AuthServerError> {
    Ok(provider.store.list_auth_servers().await?)
}

/// The server's keys, newest first (the private halves stay sealed).
pub async fn keys(provider: &Provider, id: &str) -> Result<Vec<SigningKey>, AuthServerError> {
    Ok(provider.store.list_signing_keys(id).await?)
}

/// Makes `alg` the server's signing algorithm. When it changes, a new key of that algorithm
/// becomes active at once; the old keys stay published so tokens they signed still verify.
/// Other nodes pick the new key up when their key cache expires (30 s). Returns the active key.
pub async fn set_signing_alg(
    provider: &Provider,
    id: &str,
    alg: SigningAlg,
) -> Result<SigningKey, AuthServerError> {
    let mut server = provider
        .store
        .find_auth_server(id)
        .await?
        .ok_or_else(|| AuthServerError::NotFound(id.to_owned()))?;
    let now = provider.now();
    if server.signing_alg != alg {
        server.signing_alg = alg;
        server.last_updated = now;
        provider.store.update_auth_server(&server).await?;
        provider.invalidate_auth_server(id);
    }
    // Rotates only if the active key is not of `alg` (also repairs an interrupted change).
    provider.keys.ensure_active_key(id, now).await?;
    active_key(provider, id).await
}

/// Retires the active key (it stays published) and activates a new one of the server's
/// algorithm.
pub async fn rotate_key(provider: &Provider, id: &str) -> Result<SigningKey, AuthServerError> {
    if provider.store.find_auth_server(id).await?.is_none() {
        return Err(AuthServerError::NotFound(id.to_owned()));
    }
    Ok(provider.keys.rotate(id, provider.now()).await?)
}

async fn active_key(provider: &Provider, id: &str) -> Result<SigningKey, AuthServerError> {
    provider
        .store
        .list_signing_keys(id)
        .await?
        .into_iter()
        .find(|k| k.status == KeyStatus::Active)
        .ok_or_else(|| AuthServerError::Keys(KeyError::NoActiveKey(id.to_owned())))
}
