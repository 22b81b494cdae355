//! Every error's HTTP form, in one place: RFC 6749 JSON for OAuth endpoints, a Bearer challenge
//! for protected resources, and an error page for the browser.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::oauth2::OAuthError;
use serde_json::json;

use crate::views::{ErrorPage, render_page};
use askama::Template as _;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Token, introspection, revocation: `{"error","error_description"}`.
    #[error("{0}")]
    OAuthJson(OAuthError),
    /// A failed `Authorization: Basic` client authentication: the JSON body plus
    /// `WWW-Authenticate: Basic …` (RFC 6749 §5.2).
    #[error("{0}")]
    BasicChallenge(OAuthError),
    /// Userinfo: the same body plus `WWW-Authenticate: Bearer …`.
    #[error("{0}")]
    Bearer(OAuthError),
    /// Browser-facing endpoints that must not redirect: a rendered page.
    #[error("{0}")]
    Page(OAuthError),
    /// A request too malformed to route to any of the above.
    #[error("{0}")]
    BadRequest(String),
}

fn status_of(e: &OAuthError) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST)
}

fn log_internal(e: &OAuthError) {
    if let OAuthError::Internal(source) = e {
        if e.is_unavailable() {
            tracing::warn!(error = %source, "database unavailable: answered 503");
        } else {
            tracing::error!(error = %source, "internal error");
        }
    }
}

fn oauth_json(e: &OAuthError) -> Response {
    let mut res = (
        status_of(e),
        Json(json!({"error": e.code(), "error_description": e.description()})),
    )
        .into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Some(v) = e
        .retry_after()
        .and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok())
    {
        h.insert(header::RETRY_AFTER, v);
    }
    res
}

/// Quotes a value for an auth-param (RFC 9110 §11.2).
fn quoted(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect()
}

pub fn error_page(e: &OAuthError) -> Response {
    let status = match e {
        OAuthError::Internal(_) => status_of(e),
        _ => StatusCode::BAD_REQUEST,
    };
    let description = e.description();
    if e.is_unavailable() {
        let page = ErrorPage {
            title: "Gatehouse is temporarily unavailable",
            code: e.code(),
            description: &description,
            hint: "Wait a moment and try again.",
        };
        return render_page(status, page.render(), None);
    }
    let page = ErrorPage {
        title: "Something is wrong with this sign-in request",
        code: e.code(),
        description: &description,
        hint: "Return to the application and try again. If this keeps happening, send this message to the \
               application's administrator: the app's settings in Gatehouse must match what it sends.",
    };
    render_page(status, page.render(), None)
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match &self {
            WebError::OAuthJson(e) => {
                log_internal(e);
                oauth_json(e)
            }
            WebError::BasicChallenge(e) => {
                log_internal(e);
                let mut res = oauth_json(e);
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"gatehouse\", charset=\"UTF-8\""),
                );
                res
            }
            WebError::Bearer(e) => {
                log_internal(e);
                let mut res = oauth_json(e);
                let challenge = format!(
                    "Bearer error=\"{}\", error_description=\"{}\"",
                    e.code(),
                    quoted(&e.description())
                );
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                res
            }
            WebError::Page(e) => {
                log_internal(e);
                error_page(e)
            }
            WebError::BadRequest(msg) => error_page(&OAuthError::InvalidRequest(msg.clone())),
        }
    }
}
