use super::Ctx;
use crate::oauth2::OAuthError;

/// The longest values the authorize endpoint keeps (in the login transaction, for up to its
/// lifetime) or echoes (in redirects and on the sign-in page), in bytes. Generous for real
/// clients (okta-auth-js and social-auth send 43-character states and nonces); anything longer
/// is refused rather than stored. Request objects (`request`, `request_uri`) have their own
/// rules; their parameters are checked here once they replace the query's.
pub const MAX_CLIENT_ID: usize = crate::oauth2::types::ClientId::MAX_LEN;
pub const MAX_REDIRECT_URI: usize = crate::oauth2::types::RedirectUri::MAX_LEN;
pub const MAX_STATE: usize = 2048;
pub const MAX_NONCE: usize = 2048;
pub const MAX_LOGIN_HINT: usize = 1024;
pub const MAX_SCOPE: usize = 2048;
/// RFC 7636 §4.1: a verifier (so a `plain` challenge) is at most 128 characters.
pub const MAX_CODE_CHALLENGE: usize = 128;
/// An id token carrying many claims (groups) can run to several kB.
pub const MAX_ID_TOKEN_HINT: usize = 16 * 1024;
/// `response_type`, `response_mode`, `prompt`, `max_age`, `code_challenge_method`.
pub const MAX_SHORT: usize = 256;

/// The first parameter over its limit, cleared so that nothing echoes it (the error redirect
/// carries `state`, error descriptions name values), as an `invalid_request`.
pub(super) fn run(ctx: &mut Ctx<'_>) -> Result<(), OAuthError> {
    let p = &mut ctx.params;
    let fields: [(&str, &mut Option<String>, usize); 10] = [
        ("state", &mut p.state, MAX_STATE),
        ("nonce", &mut p.nonce, MAX_NONCE),
        ("login_hint", &mut p.login_hint, MAX_LOGIN_HINT),
        ("scope", &mut p.scope, MAX_SCOPE),
        ("code_challenge", &mut p.code_challenge, MAX_CODE_CHALLENGE),
        ("id_token_hint", &mut p.id_token_hint, MAX_ID_TOKEN_HINT),
        ("response_type", &mut p.response_type, MAX_SHORT),
        ("response_mode", &mut p.response_mode, MAX_SHORT),
        ("prompt", &mut p.prompt, MAX_SHORT),
        ("max_age", &mut p.max_age, MAX_SHORT),
    ];
    let mut refused = None;
    for (name, value, max) in fields {
        if value.as_ref().is_some_and(|v| v.len() > max) {
            *value = None;
            refused.get_or_insert_with(|| too_long(name, max));
        }
    }
    if p.code_challenge_method
        .as_ref()
        .is_some_and(|v| v.len() > MAX_SHORT)
    {
        p.code_challenge_method = None;
        refused.get_or_insert_with(|| too_long("code_challenge_method", MAX_SHORT));
    }
    refused.map_or(Ok(()), Err)
}

pub(super) fn too_long(name: &str, max: usize) -> OAuthError {
    OAuthError::InvalidRequest(format!(
        "The '{name}' parameter is too long (at most {max} characters)."
    ))
}
