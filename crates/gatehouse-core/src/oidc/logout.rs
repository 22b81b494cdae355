//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

use serde::Deserialize;

use crate::oauth2::OAuthError;
use crate::provider::{Provider, ServerContext};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// Redirect to this (registered) URI.
    Redirect(String),
    /// Show the "signed out" page.
    SignedOut,
}

/// Ends the session and decides where the browser goes. A `post_logout_redirect_uri` is only
/// followed when an ID token of ours names a client that registered exactly that URI, so the
/// endpoint is never an open redirect.
pub async fn logout(
    provider: &Provider,
    server: &ServerContext,
    params: LogoutParams,
    session_cookie: Option<&str>,
) -> Result<LogoutOutcome, OAuthError> {
    let redirect = match (
        params.id_token_hint.as_deref().filter(|s| !s.is_empty()),
        params.post_logout_redirect_uri.as_deref(),
    ) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(OAuthError::InvalidRequest(
                "The 'post_logout_redirect_uri' parameter requires an 'id_token_hint'.".into(),
            ));
        }
        (Some(hint), uri) => {
            let claims = provider
                .keys
                .verify_ignoring_expiry(&server.server.id, hint)
                .await
                .map_err(|_| {
                    OAuthError::InvalidRequest(
                        "The 'id_token_hint' parameter is not a valid ID token.".into(),
                    )
                })?;
            if claims["iss"].as_str() != Some(server.issuer.as_str()) {
                return Err(OAuthError::InvalidRequest(
                    "The 'id_token_hint' was issued by another authorization server.".into(),
                ));
            }
            match uri {
                None => None,
                Some(uri) => {
                    let client_id = claims["aud"].as_str().unwrap_or_default();
                    let app = provider.store.find_app_by_client_id(client_id).await?;
                    let registered = app.is_some_and(|a| {
                        a.settings
                            .post_logout_redirect_uris
                            .iter()
                            .any(|u| u == uri)
                    });
                    if !registered {
                        return Err(OAuthError::InvalidRequest(format!(
                            "The 'post_logout_redirect_uri' parameter must be a Logout redirect URI in the client app settings: {uri}"
                        )));
                    }
                    Some(uri.to_owned())
                }
            }
        }
    };
    // Ends the session and queues its apps' back-channel logouts.
    crate::services::sessions::end(provider, session_cookie).await?;
    Ok(match redirect {
        Some(uri) => {
            let location = match &params.state {
                Some(state) => {
                    let sep = if uri.contains('?') { '&' } else { '?' };
                    format!(
                        "{uri}{sep}{}",
                        serde_urlencoded::to_string([("state", state)]).unwrap_or_default()
                    )
                }
                None => uri,
            };
            LogoutOutcome::Redirect(location)
        }
        None => LogoutOutcome::SignedOut,
    })
}
