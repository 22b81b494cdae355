use super::{Ctx, ResponseMode};
use crate::oauth2::OAuthError;

/// `code` only (implicit and hybrid come with the SPA work); picks the response mode.
pub(super) fn run(ctx: &Ctx<'_>) -> Result<ResponseMode, OAuthError> {
    let response_type = ctx.params.response_type.as_deref().unwrap_or_default();
    let mut parts: Vec<&str> = response_type.split(' ').filter(|p| !p.is_empty()).collect();
    parts.sort_unstable();
    if parts.is_empty() {
        return Err(OAuthError::InvalidRequest(
            "The `response_type` parameter is required.".into(),
        ));
    }
    if parts != ["code"] {
        return Err(OAuthError::UnsupportedResponseType(format!(
            "The response type '{response_type}' is not supported by this authorization server."
        )));
    }
    let allowed = ctx
        .app
        .as_ref()
        .is_some_and(|a| a.settings.response_types.iter().any(|r| r == "code"));
    if !allowed {
        return Err(OAuthError::UnauthorizedClient(
            "The client is not authorized to use the provided response type.".into(),
        ));
    }
    let allows_grant = ctx
        .app
        .as_ref()
        .is_some_and(|a| a.allows_grant("authorization_code"));
    if !allows_grant {
        return Err(OAuthError::UnauthorizedClient(
            "The client is not authorized to use the authorization_code grant.".into(),
        ));
    }
    match ctx.params.response_mode.as_deref() {
        None | Some("query") => Ok(ResponseMode::Query),
        Some("fragment") => Ok(ResponseMode::Fragment),
        Some("form_post") => Ok(ResponseMode::FormPost),
        Some("okta_post_message") => Ok(ResponseMode::OktaPostMessage),
        Some(other) => Err(OAuthError::InvalidRequest(format!(
            "The response mode '{other}' is not supported."
        ))),
    }
}
