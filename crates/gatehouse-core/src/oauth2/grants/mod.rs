//! The token endpoint: one file per `grant_type`.

mod authorization_code;
pub mod client_credentials;
mod refresh_token;

use serde::Deserialize;

use crate::audit::TokenRequestLog;
use crate::oauth2::OAuthError;
use crate::oauth2::client_auth::{self, ClientCredentials};
use crate::oidc::tokens::TokenResponse;
use crate::provider::{Provider, ServerContext};

/// The token request form. Unknown fields (e.g. a DPoP-related one) are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

impl TokenParams {
    pub fn credentials(&self, authorization: Option<&str>) -> ClientCredentials {
        ClientCredentials {
            basic: authorization.and_then(ClientCredentials::parse_basic),
            form_client_id: self.client_id.clone().filter(|s| !s.is_empty()),
            form_client_secret: self.client_secret.clone().filter(|s| !s.is_empty()),
            client_assertion_type: self.client_assertion_type.clone(),
            client_assertion: self.client_assertion.clone(),
        }
    }
}

pub async fn token(
    provider: &Provider,
    server: &ServerContext,
    params: TokenParams,
    authorization: Option<&str>,
    log: Option<&TokenRequestLog<'_>>,
) -> Result<TokenResponse, OAuthError> {
    let grant_type = params
        .grant_type
        .clone()
        .filter(|g| !g.is_empty())
        .ok_or_else(|| {
            OAuthError::InvalidRequest("The `grant_type` parameter is required.".into())
        })?;
    if !matches!(
        grant_type.as_str(),
        "authorization_code" | "refresh_token" | "client_credentials"
    ) {
        return Err(OAuthError::UnsupportedGrantType(
            "The grant type in the request isn't supported.".into(),
        ));
    }
    let app = client_auth::authenticate(
        provider,
        &params.credentials(authorization),
        server,
        client_auth::Endpoint::Token,
    )
    .await?;
    if !app.allows_grant(&grant_type) {
        return Err(OAuthError::UnauthorizedClient(format!(
            "The client is not authorized to use the provided grant type. Configured grant types: {}.",
            app.settings.grant_types.join(", ")
        )));
    }
    let (grant, issued) = match grant_type.as_str() {
        "authorization_code" => (
            "authorization_code",
            authorization_code::exchange(provider, server, &app, &params, log).await,
        ),
        "client_credentials" => (
            "client_credentials",
            client_credentials::exchange(provider, server, &app, &params, log).await,
        ),
        _ => (
            "refresh_token",
            refresh_token::exchange(provider, server, &app, &params, log).await,
        ),
    };
    if issued.is_ok() {
        let auth_server = server.server.id.clone();
        metrics::counter!("gatehouse_tokens_issued_total", "grant" => grant, "authorization_server" => auth_server).increment(1);
    }
    issued
}
