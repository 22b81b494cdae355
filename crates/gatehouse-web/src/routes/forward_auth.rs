//! Forward auth for reverse proxies (see `docs/integrations/forward-auth.md`):
//!
//! * `/forward-auth/v1/verify` (any method): the proxy's sub-request. 200 with the identity headers for
//!   a live session, 401 without one (or, with `redirect=true`, a 302 to the sign-in for
//!   proxies that pass the answer to the browser as is: Traefik, Caddy), 403 when the user is
//!   not assigned to the `app` named.
//! * `GET /forward-auth/v1/signin?rd=URL`: where the browser signs in; back to `rd` after, and
//!   only to a protected origin (no open redirect).
//! * `GET /forward-auth/v1/signout?rd=URL`: ends the session.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use gatehouse_core::oauth2::OAuthError;
use gatehouse_core::services::forward_auth::{self, Identity, Verdict, header_safe};
use gatehouse_core::services::sessions;
use serde::Deserialize;

use crate::AppState;
use crate::cookies;
use crate::error::WebError;
use crate::origin::Origin;
use crate::views::{MessagePage, render_page};
use askama::Template as _;

pub const VERIFY_PATH: &str = "/forward-auth/v1/verify";
pub const SIGNIN_PATH: &str = "/forward-auth/v1/signin";
pub const SIGNOUT_PATH: &str = "/forward-auth/v1/signout";

pub fn router() -> Router<AppState> {
    Router::new()
        // nginx's auth_request sub-request keeps the original method (a form POST to the
        // protected app asks with POST, and no body): answer every method alike.
        .route(VERIFY_PATH, any(verify))
        .route(SIGNIN_PATH, get(signin))
        .route(SIGNOUT_PATH, get(signout))
}

#[derive(Debug, Default, Deserialize)]
struct VerifyQuery {
    /// A client id: the user must be assigned to this app.
    #[serde(default)]
    app: Option<String>,
    /// Put before every header name (e.g. `X-` gives `X-Remote-User`).
    #[serde(default)]
    prefix: Option<String>,
    /// Between the groups of the NetBox group header (NetBox's default is `|`).
    #[serde(default)]
    group_separator: Option<String>,
    /// `true`: answer a signed-out browser with a 302 to the sign-in rather than a 401.
    #[serde(default)]
    redirect: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ReturnQuery {
    #[serde(default)]
    rd: Option<String>,
    #[serde(default)]
    app: Option<String>,
}

async fn verify(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Query(query): Query<VerifyQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let prefix = query.prefix.as_deref().unwrap_or_default();
    if !valid_prefix(prefix) {
        return Err(WebError::BadRequest(
            "prefix may hold only letters, digits and '-' (at most 32).".into(),
        ));
    }
    let separator = query.group_separator.as_deref().unwrap_or("|");
    if separator.is_empty()
        || separator.len() > 3
        || !separator.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
    {
        return Err(WebError::BadRequest(
            "group_separator must be 1 to 3 visible characters.".into(),
        ));
    }
    let app = query.app.as_deref();
    let verdict = forward_auth::verify(&state.provider, cookies::session(&headers), app)
        .await
        .map_err(WebError::Page)?;
    Ok(match verdict {
        Verdict::Allow(identity) => allowed(&identity, prefix, separator),
        Verdict::SignIn if query.redirect.as_deref() == Some("true") => {
            let back = forwarded_url(&headers).unwrap_or_else(|| origin.clone());
            let location = signin_url(&origin, &back, app);
            redirect(&location)
        }
        Verdict::SignIn => plain(StatusCode::UNAUTHORIZED, "Sign in with Gatehouse first."),
        Verdict::Deny(reason) => plain(StatusCode::FORBIDDEN, &reason),
    })
}

fn valid_prefix(prefix: &str) -> bool {
    prefix.len() <= 32
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The 200 answer: the generic `Remote-*` headers and NetBox's `REMOTE_AUTH_*` defaults.
fn allowed(identity: &Identity, prefix: &str, separator: &str) -> Response {
    let mut res = (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response();
    let values = [
        ("Remote-User", identity.login.clone()),
        ("Remote-Email", identity.email.clone()),
        ("Remote-Name", identity.name.clone()),
        ("Remote-Groups", identity.groups.join(",")),
        ("Remote-User-Email", identity.email.clone()),
        ("Remote-User-First-Name", identity.first_name.clone()),
        ("Remote-User-Last-Name", identity.last_name.clone()),
        ("Remote-User-Group", identity.groups.join(separator)),
    ];
    let h = res.headers_mut();
    for (name, value) in values {
        let name = HeaderName::from_bytes(format!("{prefix}{name}").as_bytes());
        let value = HeaderValue::from_bytes(header_safe(&value).as_bytes());
        if let (Ok(name), Ok(value)) = (name, value) {
            h.insert(name, value);
        }
    }
    res
}

/// The URL the browser asked for, as Traefik and Caddy report it to the auth server.
fn forwarded_url(headers: &HeaderMap) -> Option<String> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let proto = get("x-forwarded-proto").unwrap_or("https");
    let host = get("x-forwarded-host")?;
    let uri = get("x-forwarded-uri").unwrap_or("/");
    Some(format!("{proto}://{host}{uri}"))
}

fn signin_url(origin: &str, back: &str, app: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("rd", back);
    if let Some(app) = app.filter(|a| !a.is_empty()) {
        query.append_pair("app", app);
    }
    format!("{origin}{SIGNIN_PATH}?{}", query.finish())
}

async fn signin(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Query(query): Query<ReturnQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let rd = query.rd.as_deref().unwrap_or_default();
    let app = query.app.as_deref();
    let Some(back) = forward_auth::allowed_return_url(&state.provider, &origin, rd, app)
        .await
        .map_err(WebError::Page)?
    else {
        return Ok(refused_return());
    };
    let cookie = cookies::session(&headers);
    let signed_in = sessions::current(&state.provider, cookie)
        .await
        .map_err(WebError::Page)?
        .is_some();
    if signed_in {
        return Ok(redirect(&back));
    }
    // The hosted sign-in form comes back here (a path on this server) once the user is in.
    let here = signin_url("", &back, app);
    let mut login = url::form_urlencoded::Serializer::new(String::new());
    login.append_pair("fromURI", &here);
    Ok(redirect(&format!(
        "{origin}/login/login.htm?{}",
        login.finish()
    )))
}

async fn signout(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Query(query): Query<ReturnQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    sessions::end(&state.provider, cookies::session(&headers))
        .await
        .map_err(WebError::Page)?;
    let rd = query.rd.as_deref().unwrap_or_default();
    let back = forward_auth::allowed_return_url(&state.provider, &origin, rd, query.app.as_deref())
        .await
        .map_err(WebError::Page)?
        .unwrap_or_else(|| format!("{origin}/login/login.htm"));
    let mut res = redirect(&back);
    for cookie in cookies::clear_session(&origin) {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(res)
}

fn refused_return() -> Response {
    let page = MessagePage {
        title: "Cannot return to that address",
        message: "The address to return to after signing in is missing or is not a protected origin. An administrator can add its origin as a trusted origin with the Redirect scope.",
    };
    let mut res = render_page(StatusCode::BAD_REQUEST, page.render(), None);
    *res.status_mut() = StatusCode::BAD_REQUEST;
    res
}

fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, value),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => WebError::Page(OAuthError::InvalidRequest(
            "The return address is not valid.".into(),
        ))
        .into_response(),
    }
}

fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        ],
        text.to_owned(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_header_name_safe() {
        assert!(valid_prefix(""));
        assert!(valid_prefix("X-"));
        assert!(!valid_prefix("X_"));
        assert!(!valid_prefix("X:\r\n"));
    }

    #[test]
    fn signin_url_encodes_the_return_address() {
        assert_eq!(
            signin_url(
                "https://id.example",
                "https://app.example/a?b=c&d",
                Some("0oa1")
            ),
            "https://id.example/forward-auth/v1/signin?rd=https%3A%2F%2Fapp.example%2Fa%3Fb%3Dc%26d&app=0oa1"
        );
    }
}
