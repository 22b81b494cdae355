//! Per-address limits on the sign-in form and the token endpoints, counted in the database
//! ([`rate_limit`]) so they hold across nodes. The address is the resolved client address
//! ([`client_ip`]): a spoofed `X-Forwarded-For` does not buy a fresh budget.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use gatehouse_core::services::rate_limit::{self, RatePolicy, RateWindow};
use serde_json::json;

use crate::AppState;
use crate::client_ip;
use crate::error::WebError;
use crate::views::{MessagePage, render_page};
use askama::Template as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limited {
    SignIn,
    /// Okta's classic `POST /api/v1/authn`: the sign-in form's budget, answered in JSON.
    Authn,
    Token,
}

fn limited(method: &Method, path: &str) -> Option<Limited> {
    if method != Method::POST {
        return None;
    }
    // The authorize flow's form and the console's own sign-in page.
    // "Forgot password?" shares the sign-in budget (it also has a per-user one).
    if path == "/login"
        || path == "/login/login.htm"
        || path == "/signin/forgot-password"
        || path == "/login/password-expired"
    {
        return Some(Limited::SignIn);
    }
    // The second step's factor calls too (`/api/v1/authn/factors/…`): each answer is a guess.
    if path == "/api/v1/authn"
        || path == "/api/v1/authn/credentials/change_password"
        || path.starts_with("/api/v1/authn/factors")
    {
        return Some(Limited::Authn);
    }
    // Entra's `/{tenant}/oauth2/token` and `/{tenant}/oauth2/v2.0/token` (the org server's).
    let entra_tenant = path
        .strip_suffix("/oauth2/token")
        .or_else(|| path.strip_suffix("/oauth2/v2.0/token"))
        .and_then(|p| p.strip_prefix('/'));
    if entra_tenant.is_some_and(|t| !t.is_empty() && !t.contains('/')) {
        return Some(Limited::Token);
    }
    // `/oauth2/v1/token` and `/oauth2/{server}/v1/token`.
    let rest = path.strip_prefix("/oauth2/")?;
    let server_then_token = rest
        .strip_suffix("/v1/token")
        .is_some_and(|server| !server.is_empty() && !server.contains('/'));
    (rest == "v1/token" || server_then_token).then_some(Limited::Token)
}

/// The budget a request draws on, if any (see [`enforce`]).
pub struct Budget {
    kind: Limited,
    per_minute: u32,
    prefix: &'static str,
    ip: std::net::IpAddr,
}

/// Which per-address budget the request draws on: none for most requests.
pub fn budget(state: &AppState, req: &Request) -> Option<Budget> {
    let kind = limited(req.method(), req.uri().path())?;
    let (per_minute, prefix) = match kind {
        Limited::SignIn | Limited::Authn => {
            (state.config.signin_requests_per_minute_per_ip, "signin-ip")
        }
        Limited::Token => (state.config.token_requests_per_minute_per_ip, "token-ip"),
    };
    if per_minute == 0 {
        return None;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = client_ip::resolve(peer, req.headers(), &state.config.trusted_proxies);
    Some(Budget {
        kind,
        per_minute,
        prefix,
        ip,
    })
}

/// Counts the request against its budget: `Some` is the refusal of a request over it.
pub async fn enforce(state: &AppState, budget: Budget) -> Option<Response> {
    let Budget {
        kind,
        per_minute,
        prefix,
        ip,
    } = budget;
    let bucket = format!("{prefix}:{ip}");
    let hit = rate_limit::hit(&state.provider, &bucket, RatePolicy::per_minute(per_minute)).await;
    match rate_limit::fail_open(hit, "per-address limit not counted") {
        Ok(Some(w)) if w.exceeded => {
            tracing::info!(%ip, limit = per_minute, bucket = prefix, "per-address limit reached");
            Some(too_many(kind, state, w))
        }
        Ok(_) => None,
        Err(e) => {
            let e = gatehouse_core::oauth2::OAuthError::from(e);
            Some(match kind {
                Limited::Token => WebError::OAuthJson(e).into_response(),
                Limited::SignIn => WebError::Page(e).into_response(),
                Limited::Authn => crate::routes::authn::unavailable().into_response(),
            })
        }
    }
}

fn too_many(kind: Limited, state: &AppState, w: RateWindow) -> Response {
    let retry_after = (w.reset - state.provider.now()).max(1);
    let mut res = match kind {
        Limited::Token => {
            let body = json!({
                "error": "temporarily_unavailable",
                "error_description": format!(
                    "Too many token requests from this address. Retry after {retry_after} seconds."
                ),
            });
            let mut res = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Limited::Authn => crate::routes::authn::rate_limited(),
        Limited::SignIn => {
            let message = format!(
                "There have been too many sign-in attempts from your network. Wait {} and try again.",
                if retry_after <= 60 {
                    "a minute".to_owned()
                } else {
                    format!("{} minutes", (retry_after + 59) / 60)
                }
            );
            let page = MessagePage {
                title: "Too many sign-in attempts",
                message: &message,
            };
            render_page(StatusCode::TOO_MANY_REQUESTS, page.render(), None)
        }
    };
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limited_paths() {
        let post = Method::POST;
        assert_eq!(limited(&post, "/login"), Some(Limited::SignIn));
        assert_eq!(limited(&post, "/oauth2/v1/token"), Some(Limited::Token));
        assert_eq!(
            limited(&post, "/oauth2/default/v1/token"),
            Some(Limited::Token)
        );
        assert_eq!(limited(&post, "/oauth2/a/b/v1/token"), None);
        assert_eq!(limited(&post, "/common/oauth2/token"), Some(Limited::Token));
        assert_eq!(
            limited(&post, "/common/oauth2/v2.0/token"),
            Some(Limited::Token)
        );
        assert_eq!(limited(&post, "/oauth2/token"), None);
        assert_eq!(limited(&post, "/oauth2/v1/revoke"), None);
        assert_eq!(limited(&Method::GET, "/login"), None);
        assert_eq!(limited(&post, "/api/v1/authn"), Some(Limited::Authn));
        assert_eq!(
            limited(&post, "/api/v1/authn/factors/uft1/verify"),
            Some(Limited::Authn)
        );
    }
}
