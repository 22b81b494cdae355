//! CORS for browser apps (okta-auth-js): the endpoints a single-page app calls with `fetch` —
//! discovery, keys, token, userinfo, introspect, revoke, and `/api/v1/sessions/me` — answer
//! scripts on an allowed origin (see [`trusted_origins::allows_cors`]): the exact origin is
//! echoed with `Access-Control-Allow-Credentials: true` (`sessions/me` is called with
//! credentials), never `*`. Preflights are answered here, before routing; a preflight from
//! any other origin gets `403` without CORS headers, and actual responses to it carry none,
//! so the browser withholds them from the script.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::services::trusted_origins;

use crate::AppState;

const ALLOW_METHODS: &str = "GET, POST, DELETE, OPTIONS";
/// What okta-auth-js sends (`X-Okta-User-Agent-Extended` on every request), plus DPoP.
const ALLOW_HEADERS: &str =
    "Accept, Authorization, Content-Type, X-Okta-User-Agent-Extended, X-Requested-With, DPoP";
const EXPOSE_HEADERS: &str = "WWW-Authenticate, X-Okta-Request-Id, Link";
const MAX_AGE: &str = "600";

/// The `fetch`-able endpoints, of the org server and of custom servers (`/oauth2/{as}/…`).
pub fn is_cors_path(path: &str) -> bool {
    const V1: [&str; 5] = ["token", "keys", "userinfo", "introspect", "revoke"];
    if path == "/api/v1/sessions/me"
        || path == "/api/v1/authn"
        || path.starts_with("/api/v1/authn/factors")
        || path.starts_with("/.well-known/")
    {
        return true;
    }
    let Some(rest) = path.strip_prefix("/oauth2/") else {
        return false;
    };
    let rest = rest.split_once('/').map_or(
        rest,
        |(first, tail)| {
            if first == "v1" { rest } else { tail }
        },
    );
    if rest.starts_with(".well-known/") {
        return true;
    }
    rest.strip_prefix("v1/")
        .is_some_and(|endpoint| V1.contains(&endpoint))
}

/// What the CORS check decided before the request is served (see [`Cors::check`]).
pub enum Cors {
    /// Not a `fetch`-able endpoint: the response is left alone.
    Off,
    /// A `fetch`-able endpoint: the response gets `Vary: Origin`, and the allow headers when the
    /// request came from an allowed origin (this one).
    On { allowed_origin: Option<String> },
}

impl Cors {
    /// Checks the request's `Origin`. `Err` is the answer to a preflight, which goes no further.
    /// (The request's parts rather than the request: a body is not `Sync`, and the check awaits.)
    pub async fn check(
        state: &AppState,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<Self, Response> {
        if !is_cors_path(path) {
            return Ok(Self::Off);
        }
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let Some(origin) = origin else {
            return Ok(Self::On {
                allowed_origin: None,
            });
        };
        let allowed = match trusted_origins::allows_cors(&state.provider, &origin).await {
            Ok(allowed) => allowed,
            Err(e) => {
                tracing::error!(error = %e, "CORS: cannot check the origin");
                false
            }
        };
        let preflight = method == Method::OPTIONS
            && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        if preflight {
            if !allowed {
                tracing::info!(%origin, path, "CORS preflight from an untrusted origin");
                return Err(vary(
                    (StatusCode::FORBIDDEN, "origin not allowed").into_response(),
                ));
            }
            let mut res = StatusCode::NO_CONTENT.into_response();
            let h = res.headers_mut();
            allow(h, &origin);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE),
            );
            return Err(vary(res));
        }
        Ok(Self::On {
            allowed_origin: allowed.then_some(origin),
        })
    }

    /// Adds the CORS headers to the actual response.
    pub fn finish(self, mut res: Response) -> Response {
        let Self::On { allowed_origin } = self else {
            return res;
        };
        if let Some(origin) = allowed_origin {
            let h = res.headers_mut();
            allow(h, &origin);
            h.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSE_HEADERS),
            );
        }
        vary(res)
    }
}

fn allow(h: &mut HeaderMap, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
}

/// Answers differ per `Origin`: caches must keep them apart.
fn vary(mut res: Response) -> Response {
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Origin"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_paths() {
        for yes in [
            "/.well-known/openid-configuration",
            "/oauth2/default/.well-known/openid-configuration",
            "/oauth2/default/.well-known/oauth-authorization-server",
            "/oauth2/v1/token",
            "/oauth2/v1/keys",
            "/oauth2/default/v1/token",
            "/oauth2/default/v1/userinfo",
            "/oauth2/aus1/v1/revoke",
            "/oauth2/default/v1/introspect",
            "/api/v1/sessions/me",
        ] {
            assert!(is_cors_path(yes), "{yes}");
        }
        for no in [
            "/oauth2/v1/authorize",
            "/oauth2/default/v1/authorize",
            "/oauth2/default/v1/logout",
            "/oauth2/v1/clients",
            "/login",
            "/api/v1/users",
            "/",
        ] {
            assert!(!is_cors_path(no), "{no}");
        }
    }
}
