//! The layer over every `/api/v1` response: `X-Okta-Request-Id` and the per-credential rate limit
//! with its `X-Rate-Limit-*` headers.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use gatehouse_core::crypto::random_token;
use gatehouse_core::services::rate_limit::{self, RatePolicy};

use super::ApiError;
use crate::AppState;
use crate::client_ip;
use crate::origin::Origin;
use crate::routes::authorization_header;

/// `X-Okta-Request-Id` and the rate-limit headers on every response, errors included; a caller
/// over its per-minute budget gets `429 E0000047` (with `Date`, which hyper adds, and
/// `X-Rate-Limit-Reset`: both SDKs need them to back off). Also wraps `/oauth2/v1/clients`.
pub(crate) async fn okta_headers(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let request_id = req
        .extensions()
        .get::<crate::metrics::RequestId>()
        .map_or_else(|| random_token(15), |id| id.as_str().to_owned());
    let policy = RatePolicy::per_minute(state.config.api_requests_per_minute);
    let (window, mut res) = match rate_limit_bucket(&state, req).await {
        Err(e) => (None, ApiError::from(e).into_response()),
        Ok((req, bucket)) => {
            let hit = rate_limit::hit(&state.provider, &bucket, policy).await;
            match rate_limit::fail_open(hit, "rate limit not counted") {
                Ok(Some(w)) if w.exceeded => (Some(w), ApiError::RateLimited.into_response()),
                Ok(window) => (window, next.run(req).await),
                Err(e) => (None, ApiError::from(e).into_response()),
            }
        }
    };
    let h = res.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    set("x-okta-request-id", request_id);
    if let Some(w) = window {
        set("x-rate-limit-limit", w.limit.to_string());
        set("x-rate-limit-remaining", w.remaining.to_string());
        set("x-rate-limit-reset", w.reset.to_string());
    }
    res
}

/// Whom a request counts against: a valid credential's own bucket, else the client address's
/// (resolved as everywhere else, see `client_ip`), so made-up tokens share one budget.
async fn rate_limit_bucket(
    state: &AppState,
    req: Request,
) -> Result<(Request, String), gatehouse_core::store::StoreError> {
    let (mut parts, body) = req.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = client_ip::resolve(peer, &parts.headers, &state.config.trusted_proxies);
    let origin = Origin::from_request_parts(&mut parts, state)
        .await
        .map(|o| o.0)
        .unwrap_or_default();
    let bucket = rate_limit::api_bucket(
        &state.provider,
        authorization_header(&parts.headers),
        &origin,
        &ip.to_string(),
    )
    .await?;
    Ok((Request::from_parts(parts, body), bucket))
}
