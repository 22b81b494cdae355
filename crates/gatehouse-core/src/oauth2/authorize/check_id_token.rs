use super::Ctx;
use crate::oauth2::types::ScopeSet;
use crate::oauth2::{OAuthError, scope};

/// A response carrying an ID token needs the `openid` scope and a `nonce` (OIDC Core
/// §3.2.2.1, §3.3.2.11): the nonce is the client's only defence against a replayed ID token
/// when nothing else binds the response to its request.
pub(super) fn run(ctx: &Ctx<'_>, scopes: &ScopeSet) -> Result<(), OAuthError> {
    if !ctx.response_type.id_token {
        return Ok(());
    }
    if !scopes.contains(scope::OPENID) {
        return Err(OAuthError::InvalidScope(
            "The response type 'id_token' requires the `openid` scope.".into(),
        ));
    }
    if ctx.params.nonce.as_deref().is_none_or(str::is_empty) {
        return Err(OAuthError::InvalidRequest(
            "The request is missing a required parameter: nonce. A response with an ID token \
             (response_type containing 'id_token') needs one."
                .into(),
        ));
    }
    Ok(())
}
