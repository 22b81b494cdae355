use serde::{Deserialize, Serialize};

use super::{Ctx, ResponseMode};
use crate::oauth2::OAuthError;

/// What the client asked to get back from the authorize endpoint: `code` (the code flow), or
/// `id_token` and/or `token` with or without `code` (implicit and hybrid, OAuth 2.0 Multiple
/// Response Types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseType {
    pub code: bool,
    pub id_token: bool,
    pub token: bool,
}

impl Default for ResponseType {
    /// The code flow: what login transactions stored before implicit existed carried.
    fn default() -> Self {
        Self {
            code: true,
            id_token: false,
            token: false,
        }
    }
}

impl ResponseType {
    /// Tokens in the authorization response itself (implicit or hybrid).
    pub fn has_front_channel_tokens(self) -> bool {
        self.id_token || self.token
    }

    /// Multiple Response Types §5: fragment for anything carrying tokens, else query.
    pub fn default_mode(self) -> ResponseMode {
        if self.has_front_channel_tokens() {
            ResponseMode::Fragment
        } else {
            ResponseMode::Query
        }
    }
}

/// A refusal, with the response mode its error goes back in.
pub(super) struct Refused {
    pub mode: ResponseMode,
    pub error: OAuthError,
}

fn parse_mode(raw: Option<&str>) -> Result<Option<ResponseMode>, String> {
    match raw {
        None | Some("") => Ok(None),
        Some("query") => Ok(Some(ResponseMode::Query)),
        Some("fragment") => Ok(Some(ResponseMode::Fragment)),
        Some("form_post") => Ok(Some(ResponseMode::FormPost)),
        Some("okta_post_message") => Ok(Some(ResponseMode::OktaPostMessage)),
        Some(other) => Err(format!("The response mode '{other}' is not supported.")),
    }
}

/// The response type (each part once, out of `code`, `id_token`, `token`; `token` alone only
/// on custom authorization servers, as in Okta's discovery documents) and the response mode
/// (`query` refused for anything carrying tokens). The app must allow every part: `code`
/// through the authorization_code grant, `id_token` and `token` through the implicit grant,
/// each also listed in its `response_types` (Okta's "Implicit (hybrid)" ID and access token
/// options).
pub(super) fn run(ctx: &Ctx<'_>) -> Result<(ResponseType, ResponseMode), Refused> {
    let raw = ctx.params.response_type.as_deref().unwrap_or_default();
    let parts: Vec<&str> = raw.split(' ').filter(|p| !p.is_empty()).collect();
    let carries_tokens = parts.iter().any(|p| matches!(*p, "id_token" | "token"));
    let requested_mode = parse_mode(ctx.params.response_mode.as_deref());
    // Errors go back the way the client will look for them: the mode it asked for when that
    // is usable, else the response type's default.
    let error_mode = match requested_mode {
        Ok(Some(ResponseMode::Query)) if carries_tokens => ResponseMode::Fragment,
        Ok(Some(mode)) => mode,
        _ if carries_tokens => ResponseMode::Fragment,
        _ => ResponseMode::Query,
    };
    let refuse = |error: OAuthError| Refused {
        mode: error_mode,
        error,
    };
    if parts.is_empty() {
        return Err(refuse(OAuthError::InvalidRequest(
            "The `response_type` parameter is required.".into(),
        )));
    }
    let unsupported = || {
        refuse(OAuthError::UnsupportedResponseType(format!(
            "The response type '{raw}' is not supported by this authorization server."
        )))
    };
    let mut rt = ResponseType {
        code: false,
        id_token: false,
        token: false,
    };
    for part in &parts {
        let seen = match *part {
            "code" => &mut rt.code,
            "id_token" => &mut rt.id_token,
            "token" => &mut rt.token,
            _ => return Err(unsupported()),
        };
        if *seen {
            return Err(unsupported());
        }
        *seen = true;
    }
    if rt.token && !rt.code && !rt.id_token && ctx.server.is_org() {
        // The org server issues access tokens for Okta's own APIs only; Okta lists no bare
        // `token` in its discovery document.
        return Err(unsupported());
    }
    let mode = match requested_mode {
        Err(message) => return Err(refuse(OAuthError::InvalidRequest(message))),
        Ok(Some(ResponseMode::Query)) if rt.has_front_channel_tokens() => {
            return Err(refuse(OAuthError::InvalidRequest(
                "The response mode 'query' is not allowed when the response type includes \
                 'token' or 'id_token'."
                    .into(),
            )));
        }
        Ok(Some(mode)) => mode,
        Ok(None) => rt.default_mode(),
    };
    check_app_allows(ctx, rt).map_err(refuse)?;
    Ok((rt, mode))
}

fn check_app_allows(ctx: &Ctx<'_>, rt: ResponseType) -> Result<(), OAuthError> {
    let Some(app) = &ctx.app else {
        return Err(OAuthError::UnauthorizedClient("Unknown client.".into()));
    };
    let lists = |t: &str| app.settings.response_types.iter().any(|r| r == t);
    let wanted = [
        (rt.code, "code", "authorization_code"),
        (rt.id_token, "id_token", "implicit"),
        (rt.token, "token", "implicit"),
    ];
    for (_, part, grant) in wanted.iter().filter(|(on, ..)| *on) {
        if !lists(part) {
            return Err(OAuthError::UnauthorizedClient(
                "The client is not authorized to use the provided response type.".into(),
            ));
        }
        if !app.allows_grant(grant) {
            return Err(OAuthError::UnauthorizedClient(format!(
                "The client is not authorized to use the {grant} grant."
            )));
        }
    }
    Ok(())
}
