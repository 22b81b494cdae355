use super::Ctx;
use super::check_lengths::{MAX_REDIRECT_URI, too_long};
use crate::oauth2::OAuthError;
use crate::oauth2::types::RedirectUri;

/// Byte-exact match against the app's registered sign-in redirect URIs: no normalisation of
/// case, trailing slashes, query strings, userinfo or scheme. A value that is no redirect URI
/// at all ([`RedirectUri::parse`]) cannot be a registered one and is answered the same way.
pub(super) fn run(ctx: &mut Ctx<'_>) -> Result<(), OAuthError> {
    let Some(app) = &ctx.app else {
        return Err(OAuthError::InvalidRequest("Unknown client.".into()));
    };
    let raw = ctx.params.redirect_uri.as_deref().ok_or_else(|| {
        OAuthError::InvalidRequest("The `redirect_uri` parameter is required.".into())
    })?;
    // Not echoed on the error page when over-long (whatever else is wrong with it); no
    // registered URI is that long anyway.
    if raw.len() > MAX_REDIRECT_URI {
        return Err(too_long("redirect_uri", MAX_REDIRECT_URI));
    }
    match RedirectUri::parse(raw) {
        Ok(uri)
            if app
                .settings
                .redirect_uris
                .iter()
                .any(|registered| uri.matches(registered)) =>
        {
            ctx.redirect_uri = Some(uri);
            Ok(())
        }
        _ => {
            // The admin sees both sides in the log; the page names what was received, so a user
            // can report it without the app's registered URIs being shown to anyone who asks.
            tracing::warn!(client_id = %app.client_id, received = %raw, registered = ?app.settings.redirect_uris, "redirect_uri is not registered");
            Err(OAuthError::InvalidRequest(format!(
                "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings. \
                 Received '{raw}', which is not one of the Sign-in redirect URIs of app '{}' (matching is exact: \
                 scheme, host, path, trailing slash and query all count).",
                app.label
            )))
        }
    }
}
