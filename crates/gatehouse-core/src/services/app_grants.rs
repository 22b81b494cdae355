//! Okta API scope grants of apps (`/api/v1/apps/{appId}/grants`): which `okta.*` scopes a
//! service app may ask the org server for.

use crate::crypto::okta_id;
use crate::domain::{App, AppGrant, User};
use crate::oauth2::scope;
use crate::provider::Provider;
use crate::services::directory::{DirectoryError, invalid};
use crate::store::StoreError;

/// Grants `scope_id` to the app. `issuer` must be the org server's (`org_issuer`, the org URL
/// as the request sees it): Okta API scopes are issued by the org server only.
pub async fn grant(
    provider: &Provider,
    app: &App,
    scope_id: &str,
    issuer: &str,
    org_issuer: &str,
    created_by: Option<&User>,
) -> Result<AppGrant, DirectoryError> {
    if !scope::is_okta_api_scope(scope_id) {
        return Err(invalid(
            "scopeId",
            format!("'{scope_id}' is not an Okta API scope that can be granted"),
        ));
    }
    if issuer.trim_end_matches('/') != org_issuer.trim_end_matches('/') {
        return Err(invalid(
            "issuer",
            format!("must be the org authorization server's issuer, {org_issuer}"),
        ));
    }
    let now = provider.now();
    let grant = AppGrant {
        id: okta_id("oag"),
        app_id: app.id.clone(),
        scope_id: scope_id.to_owned(),
        issuer: org_issuer.trim_end_matches('/').to_owned(),
        source: "ADMIN".into(),
        created_by: created_by.map(|u| u.id.clone()),
        created: now,
        last_updated: now,
    };
    match provider.store.create_app_grant(&grant).await {
        Err(StoreError::Conflict { constraint }) if constraint == "scope_id" => Err(invalid(
            "scopeId",
            format!("the scope '{scope_id}' is already granted to this app"),
        )),
        Err(StoreError::NotFound) => Err(DirectoryError::Missing {
            kind: "App",
            key: app.id.clone(),
        }),
        other => {
            other?;
            Ok(grant)
        }
    }
}

pub async fn list(provider: &Provider, app: &App) -> Result<Vec<AppGrant>, DirectoryError> {
    Ok(provider.store.list_app_grants(&app.id).await?)
}

pub async fn get(provider: &Provider, app: &App, id: &str) -> Result<AppGrant, DirectoryError> {
    provider
        .store
        .find_app_grant(&app.id, id)
        .await?
        .ok_or_else(|| DirectoryError::Missing {
            kind: "OAuth2ScopeConsentGrant",
            key: id.to_owned(),
        })
}

/// Revokes the grant; tokens already issued lose the scope at once (the `/api/v1` check
/// narrows a token's scopes to the current grants).
pub async fn revoke(provider: &Provider, app: &App, id: &str) -> Result<(), DirectoryError> {
    match provider.store.delete_app_grant(&app.id, id).await {
        Err(StoreError::NotFound) => Err(DirectoryError::Missing {
            kind: "OAuth2ScopeConsentGrant",
            key: id.to_owned(),
        }),
        other => Ok(other?),
    }
}
