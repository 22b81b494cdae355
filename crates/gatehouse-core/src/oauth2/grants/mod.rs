//! The token endpoint's grant registry: one module per `grant_type`, each a [`GrantHandler`]
//! that says which grant it serves, which parameters it reads, what client authentication it
//! needs and how it exchanges. [`HANDLERS`] is the one place they are registered; discovery,
//! the app rules and the console read the grant types from [`GrantType`].

mod authorization_code;
pub mod client_credentials;
pub mod device_code;
mod grant_type;
mod params;
mod refresh_token;

use async_trait::async_trait;

pub use grant_type::{DEVICE_CODE, GrantType, GrantTypeError, OKTA_UNIMPLEMENTED};
pub use params::{GrantParams, TokenParams};

use crate::audit::TokenRequestLog;
use crate::domain::App;
use crate::oauth2::OAuthError;
use crate::oauth2::client_auth;
use crate::oidc::tokens::TokenResponse;
use crate::provider::{Provider, ServerContext};
use crate::store::{GrantKey, GrantLookup};

/// What client authentication a grant needs beyond what the client registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthRequirement {
    /// Public clients identify themselves by `client_id`; confidential ones authenticate.
    AsRegistered,
    /// Only confidential clients (RFC 6749 §4.4.2).
    Confidential,
}

/// One token request, as a grant handler sees it: the client is already authenticated and
/// allowed this grant, and `params` holds only the handler's declared parameters.
pub struct GrantRequest<'a> {
    pub provider: &'a Provider,
    pub server: &'a ServerContext,
    pub app: &'a App,
    pub params: &'a GrantParams,
    pub log: Option<&'a TokenRequestLog<'a>>,
    /// What the throttle check read with its counters ([`presented_grant`]), if anything: the
    /// handler uses it when it matches what it would read itself.
    pub prefetched: Option<GrantLookup>,
}

#[async_trait]
pub trait GrantHandler: Send + Sync {
    fn grant_type(&self) -> GrantType;
    /// The form parameters the grant reads (besides `grant_type` and client authentication).
    fn parameters(&self) -> &'static [&'static str];
    fn client_auth(&self) -> ClientAuthRequirement {
        ClientAuthRequirement::AsRegistered
    }
    async fn exchange(&self, request: GrantRequest<'_>) -> Result<TokenResponse, OAuthError>;
}

/// Every grant the token endpoint serves.
pub static HANDLERS: [&dyn GrantHandler; 4] = [
    &authorization_code::AuthorizationCode,
    &refresh_token::RefreshToken,
    &client_credentials::ClientCredentials,
    &device_code::DeviceCode,
];

/// The handler for a grant type, when the token endpoint serves it (not `implicit`).
pub fn handler(grant_type: GrantType) -> Option<&'static dyn GrantHandler> {
    HANDLERS
        .iter()
        .copied()
        .find(|h| h.grant_type() == grant_type)
}

pub async fn token(
    provider: &Provider,
    server: &ServerContext,
    params: TokenParams,
    authorization: Option<&str>,
    log: Option<&TokenRequestLog<'_>>,
) -> Result<TokenResponse, OAuthError> {
    let credentials = params.credentials(authorization);
    token_with_credentials(provider, server, params, &credentials, log, None).await
}

/// The hash of the code or refresh token a code exchange or refresh presents, read with the
/// client-authentication throttle's counters in one query
/// ([`crate::oauth2::client_throttle::ClientAuthGuard::check_with_grant`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresentedGrant {
    Code(String),
    Refresh(String),
}

impl PresentedGrant {
    pub fn key(&self) -> GrantKey<'_> {
        match self {
            Self::Code(hash) => GrantKey::Code(hash),
            Self::Refresh(hash) => GrantKey::Refresh(hash),
        }
    }
}

/// What a token request's grant reads first, when it is a code exchange or a refresh that
/// presents its code or token (as the handler reads it: [`GrantParams::get`]).
///
/// Not for a client that authenticates with an assertion: checking one may fetch the client's
/// `jwks_uri`, and a record read before that wait would be as old as it is when the grant
/// decides (a revocation meanwhile unseen). A secret's check is a keyed hash, so a record read
/// just before it is as fresh as one read just after.
pub fn presented_grant(params: &TokenParams) -> Option<PresentedGrant> {
    if params.client_assertion.is_some() || params.client_assertion_type.is_some() {
        return None;
    }
    let grant_type = GrantType::parse(params.grant_type.as_deref()?).ok()?;
    match grant_type {
        GrantType::AuthorizationCode => params
            .grant
            .get("code")
            .map(|c| PresentedGrant::Code(crate::crypto::sha256_b64url(c))),
        GrantType::RefreshToken => params
            .grant
            .get("refresh_token")
            .map(|t| PresentedGrant::Refresh(crate::crypto::sha256_b64url(t))),
        _ => None,
    }
}

/// [`token`] with the client's credentials already read from the request (`params` and its
/// `Authorization` header, by [`TokenParams::credentials`]): the token endpoint reads them
/// once, for its throttle and log too. `prefetched`: what its throttle check read for the
/// grant ([`presented_grant`]).
pub async fn token_with_credentials(
    provider: &Provider,
    server: &ServerContext,
    params: TokenParams,
    credentials: &client_auth::ClientCredentials,
    log: Option<&TokenRequestLog<'_>>,
    prefetched: Option<GrantLookup>,
) -> Result<TokenResponse, OAuthError> {
    let name = params
        .grant_type
        .clone()
        .filter(|g| !g.is_empty())
        .ok_or_else(|| {
            OAuthError::InvalidRequest("The `grant_type` parameter is required.".into())
        })?;
    let handler = GrantType::parse(&name)
        .ok()
        .and_then(handler)
        .ok_or_else(|| {
            OAuthError::UnsupportedGrantType(
                "The grant type in the request isn't supported.".into(),
            )
        })?;
    let grant_type = handler.grant_type();
    let app =
        client_auth::authenticate(provider, credentials, server, client_auth::Endpoint::Token)
            .await?;
    if !app.allows_grant(grant_type.as_str()) {
        return Err(OAuthError::UnauthorizedClient(format!(
            "The client is not authorized to use the provided grant type. Configured grant types: {}.",
            app.settings.grant_types.join(", ")
        )));
    }
    if handler.client_auth() == ClientAuthRequirement::Confidential && app.is_public() {
        return Err(OAuthError::UnauthorizedClient(format!(
            "The {grant_type} grant is only for confidential clients."
        )));
    }
    let own = params.grant.only(handler.parameters());
    let issued = handler
        .exchange(GrantRequest {
            provider,
            server,
            app: &app,
            params: &own,
            log,
            prefetched,
        })
        .await;
    if issued.is_ok() {
        let auth_server = server.server.id.clone();
        metrics::counter!("gatehouse_tokens_issued_total", "grant" => grant_type.as_str(), "authorization_server" => auth_server).increment(1);
    }
    issued
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_or_refresh_token_presented_is_read_with_the_throttle() {
        let params = |pairs: &[(&str, &str)], assertion: bool| TokenParams {
            grant_type: Some(pairs[0].1.to_owned()),
            client_assertion: assertion.then(|| "eyJ.x.y".to_owned()),
            grant: GrantParams::from_pairs(pairs[1..].iter().copied()),
            ..Default::default()
        };
        let hash = crate::crypto::sha256_b64url;
        let code = [("grant_type", "authorization_code"), ("code", "abc")];
        let refresh = [("grant_type", "refresh_token"), ("refresh_token", "def")];
        assert_eq!(
            presented_grant(&params(&code, false)),
            Some(PresentedGrant::Code(hash("abc")))
        );
        assert_eq!(
            presented_grant(&params(&refresh, false)),
            Some(PresentedGrant::Refresh(hash("def")))
        );
        // An assertion's check may wait on the client's jwks_uri: the grant reads after it.
        assert_eq!(presented_grant(&params(&refresh, true)), None);
        let empty = [("grant_type", "authorization_code"), ("code", "")];
        assert_eq!(presented_grant(&params(&empty, false)), None);
        let cc = [("grant_type", "client_credentials"), ("scope", "x")];
        assert_eq!(presented_grant(&params(&cc, false)), None);
    }

    #[test]
    fn one_handler_per_grant_and_implicit_has_none() {
        for g in GrantType::ALL {
            let n = HANDLERS.iter().filter(|h| h.grant_type() == g).count();
            assert_eq!(n, usize::from(g != GrantType::Implicit), "{g}");
        }
    }
}
