//! Requests no endpoint can serve are refused before routing, in the shape of the endpoint they
//! addressed: a NUL character (`%00`) in the path, the query or a form body. No protocol value
//! contains one, and PostgreSQL cannot even compare a string holding one, so letting it through
//! would turn a lookup into a database error.
//!
//! Paths with dot segments (`/./`, `/../`, encoded or not) or an encoded slash or backslash
//! (`%2F`, `%5C`) are refused too: a path has one meaning, the one the router matches (empty
//! segments, `//`, are collapsed before routing in `lib.rs`).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_core::oauth2::OAuthError;

use crate::error::WebError;
use crate::routes::api_v1::ApiError;

/// Form bodies are read whole to be checked; larger ones are refused (the routes' own body
/// limit is the same).
pub const MAX_FORM_BODY: usize = 64 * 1024;

const NUL_MESSAGE: &str = "must not contain NUL characters";
const AMBIGUOUS_PATH_MESSAGE: &str = "must not contain dot segments or encoded slashes (%2F, %5C)";

/// A dot segment (`.` or `..`, percent-encoded or not) or an encoded slash or backslash.
fn has_ambiguous_segment(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") {
        return true;
    }
    lower.split('/').any(|segment| {
        let decoded = segment.replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
}

pub async fn refuse_nul(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if has_encoded_nul(&path) {
        return refusal(&path, "path", NUL_MESSAGE);
    }
    if has_ambiguous_segment(&path) {
        return refusal(&path, "path", AMBIGUOUS_PATH_MESSAGE);
    }
    if req.uri().query().is_some_and(has_encoded_nul) {
        return refusal(&path, "query", NUL_MESSAGE);
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    if has_encoded_nul_bytes(&bytes) {
        return refusal(&path, "body", NUL_MESSAGE);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn has_encoded_nul(s: &str) -> bool {
    has_encoded_nul_bytes(s.as_bytes())
}

fn has_encoded_nul_bytes(b: &[u8]) -> bool {
    b.contains(&0) || b.windows(3).any(|w| w == b"%00")
}

fn refusal(path: &str, part: &'static str, message: &str) -> Response {
    if path.starts_with("/api/v1/") {
        return ApiError::validation(part, message).into_response();
    }
    let e = OAuthError::InvalidRequest(format!("The request's {part} {message}."));
    // Browser-facing endpoints get a page; the rest answer in RFC 6749's JSON.
    if path.ends_with("/authorize") || path.ends_with("/logout") || path.starts_with("/login") {
        WebError::Page(e).into_response()
    } else {
        WebError::OAuthJson(e).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_dot_segments_and_encoded_slashes() {
        for odd in [
            "/api/v1/apps/./0oa1/grants",
            "/api/v1/apps/../apps/0oa1/grants",
            "/api/v1/apps/%2e/x",
            "/api/v1/apps/%2E%2e/x",
            "/api/v1/apps/0oa1%2Fgrants",
            "/api/v1/apps/0oa1%5cgrants",
            "/.",
        ] {
            assert!(has_ambiguous_segment(odd), "{odd}");
        }
        for fine in [
            "/api/v1/users/a.b%40c.d",
            "/oauth2/default/v1/token",
            "/..x/y.",
        ] {
            assert!(!has_ambiguous_segment(fine), "{fine}");
        }
    }

    #[test]
    fn finds_encoded_and_raw_nul() {
        assert!(has_encoded_nul("client_id=%00"));
        assert!(has_encoded_nul("/api/v1/users/a%00b"));
        assert!(has_encoded_nul_bytes(b"a\0b"));
        assert!(!has_encoded_nul("client_id=%2500&x=%0A"));
        assert!(!has_encoded_nul("limit=100"));
    }
}
