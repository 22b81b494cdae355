use super::Ctx;
use crate::oauth2::{OAuthError, pkce};

/// S256 only; required for public clients and for apps that demand it, when a code is asked
/// for (implicit responses have no code to bind a verifier to).
pub(super) fn run(ctx: &Ctx<'_>) -> Result<Option<String>, OAuthError> {
    if !ctx.response_type.code {
        return Ok(None);
    }
    let method = ctx.params.code_challenge_method.as_deref();
    let challenge = ctx.params.code_challenge.as_deref();
    let required = ctx
        .app
        .as_ref()
        .is_some_and(|a| a.is_public() || a.settings.pkce_required);
    match (challenge, method) {
        (None, None) if required => {
            Err(OAuthError::InvalidRequest("PKCE code challenge is required when the token endpoint authentication method is 'NONE'.".into()))
        }
        (None, None) => Ok(None),
        (None, Some(_)) => Err(OAuthError::InvalidRequest("The `code_challenge` parameter is required.".into())),
        (Some(_), m) if m != Some("S256") => Err(OAuthError::InvalidRequest(
            "The `code_challenge_method` parameter must be 'S256'.".into(),
        )),
        (Some(c), _) if !pkce::is_valid_syntax(c) => Err(OAuthError::InvalidRequest(
            "The `code_challenge` parameter must be 43 to 128 URL-safe characters.".into(),
        )),
        (Some(c), _) => Ok(Some(c.to_owned())),
    }
}
