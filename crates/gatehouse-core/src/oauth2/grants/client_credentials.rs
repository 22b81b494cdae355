//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client gets an access token
//! for itself. No refresh token, no ID token; the JWT has `sub` = `cid` = client_id and no `uid`.
//!
//! * Custom servers (e.g. `default`): scopes the server has, other than the OpenID Connect user
//!   scopes (`openid`, `profile`, …, which need a user); with none requested, the server's
//!   default scopes (openmetadata-ingestion sends none). An access policy rule must allow the
//!   client, the grant type and the scopes; it sets the token's lifetime.
//! * The org server: only `okta.*` scopes granted to the app (`/api/v1/apps/{id}/grants`), at
//!   least one requested, and only for `private_key_jwt` clients, as Okta requires.

use super::{ClientAuthRequirement, GrantHandler, GrantParams, GrantRequest, GrantType};
use crate::audit::TokenRequestLog;
use crate::authz::{policy, server_config};
use crate::domain::{App, Grant, TokenEndpointAuthMethod};
use crate::oauth2::types::ScopeSet;
use crate::oauth2::{OAuthError, scope};
use crate::oidc::tokens::{self, Issue, RefreshPlan, TokenResponse};
use crate::provider::{Provider, ServerContext};

pub(super) struct ClientCredentials;

#[async_trait::async_trait]
impl GrantHandler for ClientCredentials {
    fn grant_type(&self) -> GrantType {
        GrantType::ClientCredentials
    }
    fn parameters(&self) -> &'static [&'static str] {
        &["scope"]
    }
    /// Public clients are refused by the registry, before the exchange.
    fn client_auth(&self) -> ClientAuthRequirement {
        ClientAuthRequirement::Confidential
    }
    async fn exchange(&self, r: GrantRequest<'_>) -> Result<TokenResponse, OAuthError> {
        exchange(r.provider, r.server, r.app, r.params, r.log).await
    }
}

async fn exchange(
    provider: &Provider,
    server: &ServerContext,
    app: &App,
    params: &GrantParams,
    log: Option<&TokenRequestLog<'_>>,
) -> Result<TokenResponse, OAuthError> {
    let requested = ScopeSet::parse(params.raw("scope").unwrap_or_default()).map_err(|e| {
        OAuthError::InvalidScope(format!("The scope '{}' is malformed.", e.token()))
    })?;
    let (scopes, decision) = if server.is_org() {
        (org_scopes(provider, app, requested).await?, None)
    } else {
        let scopes = custom_scopes(provider, server, requested).await?;
        let decision = policy::decide(
            provider,
            &server.server.id,
            &app.client_id,
            GrantType::ClientCredentials.as_str(),
            &scopes,
            None,
        )
        .await?;
        (scopes, Some(decision))
    };
    let now = provider.now();
    let grant = Grant {
        id: crate::crypto::time_ordered_okta_id("oag"),
        client_id: app.client_id.clone(),
        user_id: None,
        auth_server_id: server.server.id.clone(),
        scopes,
        auth_time: None,
        amr: vec![],
        acr: None,
        created: now,
        revoked_at: None,
    };
    // Neither the grant nor the token is stored: a token without a user is self-contained
    // (`tokens::issue_claiming`); only its System Log event is written.
    tokens::issue(
        provider,
        Issue {
            server,
            app,
            user: None,
            grant: &grant,
            nonce: None,
            refresh: RefreshPlan::None,
            store_grant: false,
            decision: decision.as_ref(),
            log,
            claim: None,
            sid: None,
        },
    )
    .await
}

async fn custom_scopes(
    provider: &Provider,
    server: &ServerContext,
    requested: ScopeSet,
) -> Result<Vec<String>, OAuthError> {
    let config = server_config(provider, &server.server.id).await?;
    if requested.is_empty() {
        let defaults = config.default_scopes();
        if defaults.is_empty() {
            return Err(OAuthError::InvalidScope(
                "The authorization server resource does not have any configured default scopes, 'scope' must be provided.".into(),
            ));
        }
        return Ok(defaults);
    }
    if let Some(unknown) = requested.iter().find(|s| config.scope(s).is_none()) {
        return Err(OAuthError::InvalidScope(format!(
            "One or more scopes are not configured for the authorization server resource: '{unknown}'."
        )));
    }
    let refused: Vec<&str> = requested
        .iter()
        .filter(|s| scope::is_known(s) || s.starts_with("okta."))
        .collect();
    if !refused.is_empty() {
        return Err(OAuthError::InvalidScope(format!(
            "The following scopes are not allowed for the client_credentials grant: {}.",
            refused.join(" ")
        )));
    }
    Ok(requested.into_vec())
}

async fn org_scopes(
    provider: &Provider,
    app: &App,
    requested: ScopeSet,
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
        .filter(|s| !granted.iter().any(|g| g.scope_id == *s))
        .collect();
    if !missing.is_empty() {
        return Err(OAuthError::InvalidScope(format!(
            "The following scopes were requested, but not granted to the client: {}.",
            missing.join(" ")
        )));
    }
    Ok(requested.into_vec())
}
