//! Server-rendered pages.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// Pages may not be framed and run no script but the form_post auto-submit (by nonce).
fn csp(script_nonce: Option<&str>) -> String {
    csp_framed_by(script_nonce, "'none'")
}

fn csp_framed_by(script_nonce: Option<&str>, frame_ancestors: &str) -> String {
    let script = script_nonce.map_or_else(|| "'none'".to_owned(), |n| format!("'nonce-{n}'"));
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; script-src {script}; \
         frame-ancestors {frame_ancestors}; base-uri 'none'"
    )
}

/// The `okta_post_message` page: the one page that may be framed, and only by the client's
/// origin (okta-auth-js loads it in a hidden iframe). No `X-Frame-Options`, whose `DENY` would
/// win over the CSP in some browsers.
pub fn render_post_message_page(
    page: &OktaPostMessagePage<'_>,
    framed_by: Option<&str>,
) -> Response {
    let mut res = render_page(StatusCode::OK, page.render(), Some(page.nonce));
    let h = res.headers_mut();
    h.remove(header::X_FRAME_OPTIONS);
    let ancestors = framed_by.unwrap_or("'none'");
    if let Ok(v) = HeaderValue::from_str(&csp_framed_by(Some(page.nonce), ancestors)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

/// JSON for a `<script>` block: no `<`, `>`, `&`, U+2028 or U+2029 can end the script or the
/// line.
pub fn script_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    for c in value.to_string().chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

pub fn render_page(
    status: StatusCode,
    html: Result<String, askama::Error>,
    script_nonce: Option<&str>,
) -> Response {
    match html {
        Ok(body) => {
            let mut res = (status, Html(body)).into_response();
            let h = res.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&csp(script_nonce)) {
                h.insert(header::CONTENT_SECURITY_POLICY, v);
            }
            h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub action: &'a str,
    pub app_label: &'a str,
    pub transaction_id: &'a str,
    pub csrf_token: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
    pub branding: &'a crate::Branding,
    /// Set on the sign-in page of the console and dashboard (no authorize request): where to go
    /// once signed in.
    pub from_uri: Option<&'a str>,
    /// (id, name) of the active identity providers: a "Sign in with X" button each.
    pub idps: &'a [(String, String)],
    /// Where the buttons post.
    pub idp_action: &'a str,
    /// An IdP routes by email domain: the password is not required to submit the form.
    pub password_optional: bool,
}

/// The hosted sign-in's expired-password step.
#[derive(Template)]
#[template(path = "password_expired.html")]
pub struct PasswordExpiredPage<'a> {
    pub action: &'a str,
    pub prompt: &'a gatehouse_core::oauth2::authorize::ExpiredPrompt,
    pub branding: &'a crate::Branding,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    pub action: &'a str,
    pub prompt: &'a gatehouse_core::oauth2::authorize::ConsentPrompt,
    pub branding: &'a crate::Branding,
}

/// `/activate`: the user-code form, or (with `prompt`) the approve/deny confirmation.
#[derive(Template)]
#[template(path = "activate.html")]
pub struct ActivatePage<'a> {
    pub action: &'a str,
    pub csrf_token: &'a str,
    pub user_code: &'a str,
    pub error: Option<&'a str>,
    pub prompt: Option<&'a gatehouse_core::services::device_activation::ActivationPrompt>,
    pub branding: &'a crate::Branding,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub code: &'a str,
    pub description: &'a str,
    pub hint: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage<'a> {
    pub action: &'a str,
    pub params: &'a [(String, String)],
    pub nonce: &'a str,
}

#[derive(Template)]
#[template(path = "okta_post_message.html")]
pub struct OktaPostMessagePage<'a> {
    /// The message, as [`script_json`].
    pub data: &'a str,
    /// The target origin as a JS string literal (`"null"`-free: `'*'` is never used).
    pub target_origin: &'a str,
    pub nonce: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_script() {
        let v = serde_json::json!({"state": "</script><b>&\u{2028}"});
        let s = script_json(&v);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        assert!(!s.contains('\u{2028}'));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).ok(), Some(v));
    }
}
