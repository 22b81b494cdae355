//! Custom servers: the requested scopes must exist on the server, and an access policy rule
//! must allow the client, the grant type, the scopes and the signed-in user.

use super::AuthorizeRequest;
use crate::authz::policy::{self, Decision};
use crate::authz::server_config;
use crate::domain::{App, User};
use crate::oauth2::OAuthError;
use crate::oauth2::grants::GrantType;
use crate::oauth2::types::ScopeSet;
use crate::provider::{Provider, ServerContext};

/// Okta's `invalid_scope` for a scope the server does not have.
pub(crate) async fn known_scopes(
    provider: &Provider,
    server: &ServerContext,
    scopes: &ScopeSet,
) -> Result<(), OAuthError> {
    if server.is_org() {
        return Ok(());
    }
    let config = server_config(provider, &server.server.id).await?;
    match scopes.iter().find(|s| config.scope(s).is_none()) {
        Some(unknown) => Err(OAuthError::InvalidScope(format!(
            "One or more scopes are not configured for the authorization server resource: '{unknown}'."
        ))),
        None => Ok(()),
    }
}

/// The authorize request's policy decision: grant type `implicit` when tokens travel in the
/// authorization response, else `authorization_code` (as the code will be redeemed). The org
/// server has no policies (`None`).
pub(super) async fn run(
    provider: &Provider,
    server: &ServerContext,
    app: &App,
    user: &User,
    request: &AuthorizeRequest,
) -> Result<Option<Decision>, OAuthError> {
    if server.is_org() {
        return Ok(None);
    }
    let grant_type = if request.response_type.has_front_channel_tokens() {
        GrantType::Implicit
    } else {
        GrantType::AuthorizationCode
    };
    policy::decide(
        provider,
        &server.server.id,
        &app.client_id,
        grant_type.as_str(),
        request.scopes.as_slice(),
        Some(user),
    )
    .await
    .map(Some)
}
