//! `id_token_hint` (OIDC Core §3.1.2.1): an ID token this server issued, expired or not, naming
//! the user the client expects. Returns its `sub`; a hint that is not ours is `invalid_request`.

use super::Ctx;
use crate::oauth2::OAuthError;

pub(super) async fn run(ctx: &Ctx<'_>) -> Result<Option<String>, OAuthError> {
    let Some(hint) = ctx
        .params
        .id_token_hint
        .as_deref()
        .filter(|h| !h.is_empty())
    else {
        return Ok(None);
    };
    let invalid = || {
        OAuthError::InvalidRequest("The 'id_token_hint' parameter is not a valid ID token.".into())
    };
    // Only this server's keys: a forged, unsigned or foreign token fails here.
    let claims = ctx
        .provider
        .keys
        .verify_ignoring_expiry(&ctx.server.server.id, hint)
        .await
        .map_err(|_| invalid())?;
    if claims["iss"].as_str() != Some(ctx.server.issuer.as_str()) {
        return Err(invalid());
    }
    claims["sub"]
        .as_str()
        .map(|s| Some(s.to_owned()))
        .ok_or_else(invalid)
}
