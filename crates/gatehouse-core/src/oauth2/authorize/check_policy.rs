//! Custom servers: the requested scopes must exist on the server, and an access policy rule
//! must allow the client, the grant type, the scopes and the signed-in user.

use crate::authz::{policy, server_config};
use crate::domain::{App, User};
use crate::oauth2::OAuthError;
use crate::provider::{Provider, ServerContext};

/// Okta's `invalid_scope` for a scope the server does not have.
pub(crate) async fn known_scopes(
    provider: &Provider,
    server: &ServerContext,
    scopes: &[String],
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

/// The authorize request's policy decision (`grant_type` `authorization_code`, as the code
/// will be redeemed); the org server has no policies.
pub(super) async fn run(
    provider: &Provider,
    server: &ServerContext,
    app: &App,
    user: &User,
    scopes: &[String],
) -> Result<(), OAuthError> {
    if server.is_org() {
        return Ok(());
    }
    policy::decide(
        provider,
        &server.server.id,
        &app.client_id,
        "authorization_code",
        scopes,
        Some(user),
    )
    .await
    .map(|_| ())
}
