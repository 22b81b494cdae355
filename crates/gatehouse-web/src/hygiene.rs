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
/// Checked on every request, so without allocating.
fn has_ambiguous_segment(path: &str) -> bool {
    let encoded_slash = path.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && ((w[1] == b'2' && w[2].eq_ignore_ascii_case(&b'f'))
                || (w[1] == b'5' && w[2].eq_ignore_ascii_case(&b'c')))
    });
    encoded_slash || path.split('/').any(is_dot_segment)
}

/// `.` or `..`, each dot possibly written `%2e` (or `%2E`).
fn is_dot_segment(segment: &str) -> bool {
    let mut rest = segment.as_bytes();
    let mut dots = 0;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix(b".") {
            rest = r;
        } else if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"%2e") {
            rest = &rest[3..];
        } else {
            return false;
        }
        dots += 1;
    }
    dots == 1 || dots == 2
}

/// Refuses what no endpoint can serve; `Ok` is the request to serve (a form body read whole).
pub async fn screen(req: Request) -> Result<Request, Response> {
    let path = req.uri().path();
    if has_encoded_nul(path) {
        return Err(refusal(path, "path", NUL_MESSAGE));
    }
    if has_ambiguous_segment(path) {
        return Err(refusal(path, "path", AMBIGUOUS_PATH_MESSAGE));
    }
    if req.uri().query().is_some_and(has_encoded_nul) {
        return Err(refusal(path, "query", NUL_MESSAGE));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .get(..FORM_TYPE.len())
                .is_some_and(|t| t.eq_ignore_ascii_case(FORM_TYPE))
        });
    if !is_form {
        return Ok(req);
    }
    let path = path.to_owned();
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BODY).await else {
        return Err((StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response());
    };
    if has_encoded_nul_bytes(&bytes) {
        return Err(refusal(&path, "body", NUL_MESSAGE));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

const FORM_TYPE: &str = "application/x-www-form-urlencoded";

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
            "/a/...",
            "/a/%2e%2e%2e",
            "/a/%2",
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
