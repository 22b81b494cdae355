use super::Ctx;
use crate::oauth2::{OAuthError, scope};

/// At least one scope; on the org server, all of them known to it (custom servers check
/// theirs in `check_policy`).
pub(super) fn run(ctx: &Ctx<'_>) -> Result<Vec<String>, OAuthError> {
    let scopes = scope::parse(ctx.params.scope.as_deref().unwrap_or_default());
    if scopes.is_empty() {
        return Err(OAuthError::InvalidScope("No scopes were requested.".into()));
    }
    if let Some(unknown) = scopes
        .iter()
        .find(|s| ctx.server.is_org() && !scope::is_known(s))
    {
        return Err(OAuthError::InvalidScope(format!(
            "One or more scopes are not configured for the authorization server resource: '{unknown}'."
        )));
    }
    if ctx.server.is_org() && !scope::has(&scopes, scope::OPENID) {
        return Err(OAuthError::InvalidScope(
            "Requests to the org authorization server require the `openid` scope.".into(),
        ));
    }
    Ok(scopes)
}
