//! Authorization servers: Okta's rules for creating and changing custom servers, their
//! lifecycle, the signing algorithm and key rotation. Their scopes, claims and policies are in
//! [`crate::services::auth_server_config`].

use crate::crypto::okta_id;
use crate::domain::text::{self, limits};
use crate::domain::{
    AppStatus, AuthServer, AuthServerKind, IssuerMode, KeyStatus, SigningAlg, SigningKey,
};
use crate::keys::KeyError;
use crate::provider::Provider;
use crate::services::auth_server_config;
pub use crate::services::auth_server_error::AuthServerError;

/// What an administrator sets on a custom server.
#[derive(Debug, Clone)]
pub struct AuthServerSpec {
    pub name: String,
    pub description: String,
    pub audiences: Vec<String>,
    pub issuer_mode: IssuerMode,
    /// RFC 9207 `iss` on every authorization response ([`AuthServer::authorization_response_iss`]);
    /// `None`: off for a new server, unchanged on a replace.
    pub authorization_response_iss: Option<bool>,
}

fn invalid(field: &str, message: impl Into<String>) -> AuthServerError {
    AuthServerError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

async fn check_spec(
    provider: &Provider,
    spec: &AuthServerSpec,
    except_id: Option<&str>,
) -> Result<(), AuthServerError> {
    if spec.name.trim().is_empty() {
        return Err(invalid("name", "The name must not be empty."));
    }
    text::check_free_text(&spec.name, limits::NAME).map_err(|m| invalid("name", m))?;
    text::check_free_text(&spec.description, limits::DESCRIPTION)
        .map_err(|m| invalid("description", m))?;
    if spec.audiences.is_empty() || spec.audiences.iter().any(|a| a.trim().is_empty()) {
        return Err(invalid(
            "audiences",
            "An authorization server needs at least one audience.",
        ));
    }
    if spec.issuer_mode == IssuerMode::CustomUrl && provider.domains.custom_url().is_none() {
        return Err(invalid(
            "issuerMode",
            "CUSTOM_URL requires a custom URL domain, and none is configured (custom_domains): use ORG_URL or DYNAMIC.",
        ));
    }
    let taken = provider
        .store
        .list_auth_servers()
        .await?
        .into_iter()
        .any(|s| s.name == spec.name && Some(s.id.as_str()) != except_id);
    if taken {
        return Err(invalid(
            "name",
            "An authorization server with this name already exists.",
        ));
    }
    Ok(())
}

/// Custom servers whose name starts with `q` (ignoring case), by id, after `after`; and the
/// cursor of the next page.
pub async fn list_custom(
    provider: &Provider,
    q: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<AuthServer>, Option<String>), AuthServerError> {
    let q = q.map(str::to_lowercase);
    let mut all: Vec<AuthServer> = provider
        .store
        .list_auth_servers()
        .await?
        .into_iter()
        .filter(|s| s.kind == AuthServerKind::Custom)
        .filter(|s| {
            q.as_ref()
                .is_none_or(|q| s.name.to_lowercase().starts_with(q))
        })
        .filter(|s| after.is_none_or(|a| s.id.as_str() > a))
        .collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let limit = limit.max(1) as usize;
    let next = (all.len() > limit).then(|| all[limit - 1].id.clone());
    all.truncate(limit);
    Ok((all, next))
}

/// The custom server `id` (`NotFound` for the org server).
pub async fn find_custom(provider: &Provider, id: &str) -> Result<AuthServer, AuthServerError> {
    match provider.store.find_auth_server(id).await? {
        Some(s) if s.kind == AuthServerKind::Custom => Ok(s),
        _ => Err(AuthServerError::NotFound(id.to_owned())),
    }
}

/// A new ACTIVE custom server with a signing key and Okta's system scopes (and, as in Okta,
/// no access policy: requests fail until one is added).
pub async fn create(
    provider: &Provider,
    spec: AuthServerSpec,
) -> Result<AuthServer, AuthServerError> {
    create_with_id(provider, okta_id("aus"), spec).await
}

/// [`create`] with a chosen id: `gatehouse import okta` keeps a source server's id, so its
/// issuer path (`/oauth2/<id>`) does not change. The caller checks the id's form.
pub async fn create_with_id(
    provider: &Provider,
    id: String,
    spec: AuthServerSpec,
) -> Result<AuthServer, AuthServerError> {
    check_spec(provider, &spec, None).await?;
    let now = provider.now();
    let server = AuthServer {
        id,
        kind: AuthServerKind::Custom,
        name: spec.name,
        description: spec.description,
        audiences: spec.audiences,
        issuer_mode: spec.issuer_mode,
        status: AppStatus::Active,
        signing_alg: SigningAlg::default(),
        authorization_response_iss: spec.authorization_response_iss.unwrap_or(false),
        created: now,
        last_updated: now,
    };
    provider.store.create_auth_server(&server).await?;
    provider.keys.ensure_active_key(&server.id, now).await?;
    auth_server_config::seed_system_scopes(provider, &server.id).await?;
    Ok(server)
}

pub async fn replace(
    provider: &Provider,
    id: &str,
    spec: AuthServerSpec,
) -> Result<AuthServer, AuthServerError> {
    let mut server = find_custom(provider, id).await?;
    check_spec(provider, &spec, Some(id)).await?;
    server.name = spec.name;
    server.description = spec.description;
    server.audiences = spec.audiences;
    server.issuer_mode = spec.issuer_mode;
    if let Some(on) = spec.authorization_response_iss {
        server.authorization_response_iss = on;
    }
    server.last_updated = provider.now();
    provider.store.update_auth_server(&server).await?;
    provider.invalidate_auth_server(id);
    Ok(server)
}

/// ACTIVE or INACTIVE; an inactive server answers no protocol request.
pub async fn set_status(
    provider: &Provider,
    id: &str,
    status: AppStatus,
) -> Result<AuthServer, AuthServerError> {
    let mut server = find_custom(provider, id).await?;
    if server.status != status {
        server.status = status;
        server.last_updated = provider.now();
        provider.store.update_auth_server(&server).await?;
        provider.invalidate_auth_server(id);
    }
    Ok(server)
}

/// Deletes a custom server with its keys and configuration. As in Okta, it must be
/// deactivated first.
pub async fn delete(provider: &Provider, id: &str) -> Result<(), AuthServerError> {
    let server = find_custom(provider, id).await?;
    if server.status == AppStatus::Active {
        return Err(AuthServerError::Forbidden(format!(
            "The authorization server {id} is ACTIVE: deactivate it first."
        )));
    }
    provider.store.delete_auth_server(id).await?;
    provider.invalidate_auth_server(id);
    Ok(())
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
/// Other nodes pick the new key up when the database notifies them of the change (see
/// [`crate::services::changes`]). Returns the active key.
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

/// Turns RFC 9207 `iss` on every authorization response on or off, on any server (the org
/// server included).
pub async fn set_authorization_response_iss(
    provider: &Provider,
    id: &str,
    on: bool,
) -> Result<AuthServer, AuthServerError> {
    let mut server = provider
        .store
        .find_auth_server(id)
        .await?
        .ok_or_else(|| AuthServerError::NotFound(id.to_owned()))?;
    if server.authorization_response_iss != on {
        server.authorization_response_iss = on;
        server.last_updated = provider.now();
        provider.store.update_auth_server(&server).await?;
        provider.invalidate_auth_server(id);
    }
    Ok(server)
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
