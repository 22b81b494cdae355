use super::Ctx;
use crate::oauth2::OAuthError;

/// Request objects are not supported (discovery says so). Refusing beats silently ignoring
/// parameters the client may have signed; the error goes back to the client (OIDC Core
/// §3.1.2.6), as the client and redirect URI have been checked by now.
pub(super) fn run(ctx: &Ctx<'_>) -> Result<(), OAuthError> {
    if ctx.params.request.is_some() {
        return Err(OAuthError::RequestNotSupported(
            "The `request` parameter (a request object) is not supported.".into(),
        ));
    }
    if ctx.params.request_uri.is_some() {
        return Err(OAuthError::RequestUriNotSupported(
            "The `request_uri` parameter is not supported.".into(),
        ));
    }
    Ok(())
}
