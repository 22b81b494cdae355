use super::Ctx;
use crate::oauth2::types::ScopeSet;
use crate::oauth2::{OAuthError, scope};

/// At least one scope, each a valid scope token; on the org server, all of them known to it
/// (custom servers check theirs in `check_policy`). A malformed token is answered as a scope
/// the server does not have, which it cannot be.
pub(super) fn run(ctx: &Ctx<'_>) -> Result<ScopeSet, OAuthError> {
    let not_configured = |name: &str| {
        OAuthError::InvalidScope(format!(
            "One or more scopes are not configured for the authorization server resource: '{name}'."
        ))
    };
    let scopes = ScopeSet::parse(ctx.params.scope.as_deref().unwrap_or_default())
        .map_err(|e| not_configured(e.token()))?;
    if scopes.is_empty() {
        return Err(OAuthError::InvalidScope("No scopes were requested.".into()));
    }
    if let Some(unknown) = scopes
        .iter()
        .find(|s| ctx.server.is_org() && !scope::is_known(s))
    {
        return Err(not_configured(unknown));
    }
    if ctx.server.is_org() && !scopes.contains(scope::OPENID) {
        return Err(OAuthError::InvalidScope(
            "Requests to the org authorization server require the `openid` scope.".into(),
        ));
    }
    Ok(scopes)
}
