//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client gets an access token
//! for itself. No refresh token, no ID token; the JWT has `sub` = `cid` = client_id and no `uid`.
//!
//! * Custom servers (e.g. `default`): any requested scope that is not an OpenID Connect user
//!   scope (`openid`, `profile`, …, which need a user) nor an `okta.*` scope. Gatehouse does not
//!   model custom scopes per server yet, so every such scope name is accepted, and the server's
//!   default scopes, used when none is requested (openmetadata-ingestion sends none), are the
//!   empty set: the token then has `scp: []`.
//! * The org server: only `okta.*` scopes granted to the app (`/api/v1/apps/{id}/grants`), at
//!   least one requested, and only for `private_key_jwt` clients, as Okta requires.

use crate::domain::{App, Grant, TokenEndpointAuthMethod};
use crate::oauth2::{OAuthError, grants::TokenParams, scope};
use crate::oidc::tokens::{self, Issue, RefreshPlan, TokenResponse};
use crate::provider::{Provider, ServerContext};

/// Scopes granted on a custom server when the request names none.
pub fn default_scopes(_server: &ServerContext) -> Vec<String> {
    Vec::new()
}

pub(super) async fn exchange(
    provider: &Provider,
    server: &ServerContext,
    app: &App,
    params: &TokenParams,
) -> Result<TokenResponse, OAuthError> {
    if app.is_public() {
        return Err(OAuthError::UnauthorizedClient(
            "The client_credentials grant is only for confidential clients.".into(),
        ));
    }
    let requested = params
        .scope
        .as_deref()
        .map(scope::parse)
        .unwrap_or_default();
    if let Some(bad) = requested.iter().find(|s| !scope::is_valid_token(s)) {
        return Err(OAuthError::InvalidScope(format!(
            "The scope '{bad}' is malformed."
        )));
    }
    let scopes = if server.is_org() {
        org_scopes(provider, app, requested).await?
    } else {
        custom_scopes(server, requested)?
    };
    let now = provider.now();
    let grant = Grant {
        id: crate::crypto::okta_id("oag"),
        client_id: app.client_id.clone(),
        user_id: None,
        auth_server_id: server.server.id.clone(),
        scopes,
        auth_time: None,
        amr: vec![],
        created: now,
        revoked_at: None,
    };
    provider.store.create_grant(&grant).await?;
    tokens::issue(
        provider,
        Issue {
            server,
            app,
            user: None,
            grant: &grant,
            nonce: None,
            refresh: RefreshPlan::None,
        },
    )
    .await
}

fn custom_scopes(
    server: &ServerContext,
    requested: Vec<String>,
) -> Result<Vec<String>, OAuthError> {
    if requested.is_empty() {
        return Ok(default_scopes(server));
    }
    let refused: Vec<&str> = requested
        .iter()
        .map(String::as_str)
        .filter(|s| scope::is_known(s) || s.starts_with("okta."))
        .collect();
    if !refused.is_empty() {
        return Err(OAuthError::InvalidScope(format!(
            "The following scopes are not allowed for the client_credentials grant: {}.",
            refused.join(" ")
        )));
    }
    Ok(requested)
}

async fn org_scopes(
    provider: &Provider,
    app: &App,
    requested: Vec<String>,
) -> Result<Vec<String>, OAuthError> {
    if app.settings.token_endpoint_auth_method != TokenEndpointAuthMethod::PrivateKeyJwt {
        return Err(OAuthError::InvalidClient(
            "Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.".into(),
        ));
    }
    if requested.is_empty() {
        return Err(OAuthError::InvalidScope("No scopes were requested.".into()));
    }
    let granted = provider.store.list_app_grants(&app.id).await?;
    let missing: Vec<&str> = requested
        .iter()
        .map(String::as_str)
        .filter(|s| !granted.iter().any(|g| g.scope_id == *s))
        .collect();
    if !missing.is_empty() {
        return Err(OAuthError::InvalidScope(format!(
            "The following scopes were requested, but not granted to the client: {}.",
            missing.join(" ")
        )));
    }
    Ok(requested)
}
