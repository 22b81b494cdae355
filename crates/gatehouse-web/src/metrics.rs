//! Prometheus metrics, request ids and the access log.
//!
//! `/metrics` is not a route of the public router: [`metrics_router`] is served on a listener of
//! its own (`--metrics-bind`, see `gatehouse`'s startup), so a reverse proxy that forwards
//! everything to the main port can never expose it. Without that listener no recorder is
//! installed and every `metrics::*!` call in the code is a no-op.
//!
//! Every label has a bounded set of values: the route is axum's matched route template (never
//! the raw path, which a client chooses), the method one of the standard ones or `OTHER`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use gatehouse_core::crypto::random_token;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Instrument as _;

use crate::AppState;

/// Every response carries its request's id in this header (Okta's name for it), and the
/// access-log line and every log line written while serving it carry the same id.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-okta-request-id");

/// The request's id, in the request's extensions for handlers that want to show it.
#[derive(Debug, Clone)]
pub struct RequestId(HeaderValue);

impl RequestId {
    /// Kept as the header value it is sent as: one is made for every request.
    fn new() -> Self {
        // The token's own buffer becomes the header's, without a copy.
        let id = HeaderValue::from_maybe_shared(axum::body::Bytes::from(random_token(15)))
            .unwrap_or_else(|_| HeaderValue::from_static("none"));
        Self(id)
    }

    pub fn as_str(&self) -> &str {
        // Always ASCII (base64url).
        self.0.to_str().unwrap_or_default()
    }
}

/// The route label of requests no route matched (the fallback's 404s).
const UNMATCHED: &str = "unmatched";

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs the process-wide Prometheus recorder (once; later calls return the same handle).
pub fn install_recorder() -> Result<PrometheusHandle, BuildError> {
    let mut slot = HANDLE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(handle) = slot.as_ref() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)?
        .set_buckets_for_metric(Matcher::Suffix("_batch_size".into()), BATCH_BUCKETS)?
        .install_recorder()?;
    describe();
    // Histogram samples pile up between scrapes until drained: drain them even if nobody
    // scrapes (what the exporter's own `install` does on its own thread).
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(5));
                upkeep.run_upkeep();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no metrics upkeep thread: histograms are drained by scrapes only");
    }
    *slot = Some(handle.clone());
    INSTALLED.store(true, Ordering::Relaxed);
    Ok(handle)
}

/// The HELP lines (`promtool check metrics` wants one for every metric).
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "gatehouse_http_requests_total",
        "HTTP requests by method, matched route template and status."
    );
    describe_histogram!(
        "gatehouse_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency by method and matched route template."
    );
    describe_counter!(
        "gatehouse_tokens_issued_total",
        "Token responses by grant (authorization_code, refresh_token, client_credentials, implicit) and authorization server."
    );
    describe_counter!(
        "gatehouse_sign_ins_total",
        "Password sign-ins by outcome (success, invalid_credentials, unknown_user, locked_out, not_active)."
    );
    describe_counter!(
        "gatehouse_lockouts_total",
        "Accounts locked after too many failed sign-ins."
    );
    describe_gauge!(
        "gatehouse_db_pool_connections",
        "Database pool connections by state (in_use, idle)."
    );
    describe_histogram!(
        "gatehouse_store_group_commit_batch_size",
        "Requests whose writes the batching writer committed in one transaction."
    );
    describe_histogram!(
        "gatehouse_store_read_batch_keys",
        "Distinct keys the store read in one batched query (concurrent token and throttle lookups)."
    );
    describe_gauge!(
        "gatehouse_build_info",
        "Always 1; the version label is the running build."
    );
}

/// The metrics listener's routes: `/metrics`, plus `/healthz` and `/readyz` for probes that
/// use this port.
pub fn metrics_router(state: AppState, handle: PrometheusHandle) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(move |State(state): State<AppState>| {
                let handle = handle.clone();
                async move { render(&state, &handle) }
            }),
        )
        .merge(crate::routes::health::router())
        .with_state(state)
}

fn render(state: &AppState, handle: &PrometheusHandle) -> Response {
    // Gauges read now rather than updated on every acquire: the pool knows its own numbers.
    if let Some(pool) = state.provider.store.pool_stats() {
        let idle = f64::from(pool.idle);
        let in_use = f64::from(pool.connections.saturating_sub(pool.idle));
        metrics::gauge!("gatehouse_db_pool_connections", "state" => "in_use").set(in_use);
        metrics::gauge!("gatehouse_db_pool_connections", "state" => "idle").set(idle);
    }
    metrics::gauge!("gatehouse_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// Gives each request an id, counts it and times it by route, and writes its access-log line:
/// method, route template, status, latency and id. Never the path's values, the query string
/// or any header: those carry codes, tokens and credentials.
pub async fn observe(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = RequestId::new();
    let method = method_label(req.method());
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    req.extensions_mut().insert(id.clone());
    let span = tracing::info_span!("request", request_id = %id.as_str());
    let mut res = next.run(req).instrument(span).await;
    let latency = start.elapsed();
    let status = res.status().as_u16();
    // Labels are built only when something records them (`--metrics-bind`).
    if INSTALLED.load(Ordering::Relaxed) {
        metrics::counter!(
            "gatehouse_http_requests_total",
            "method" => method,
            "route" => route.to_owned(),
            "status" => status.to_string()
        )
        .increment(1);
        metrics::histogram!(
            "gatehouse_http_request_duration_seconds",
            "method" => method,
            "route" => route.to_owned()
        )
        .record(latency.as_secs_f64());
    }
    let latency_ms = latency.as_secs_f64() * 1000.0;
    let request_id = id.as_str();
    // Outside the span: the id is a field of the line itself, not repeated as its context.
    if status >= 500 {
        tracing::warn!(target: "access", %request_id, method, route, status, latency_ms, "request");
    } else {
        tracing::info!(target: "access", %request_id, method, route, status, latency_ms, "request");
    }
    // Replaces the one `/api/v1` sets: one id per request, the one in the log.
    res.headers_mut().insert(REQUEST_ID_HEADER, id.0);
    res
}

/// The standard methods by name; anything else (a client may send any token) as `OTHER`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        let odd = Method::from_bytes(b"BREW").unwrap_or(Method::TRACE);
        assert_eq!(method_label(&odd), "OTHER");
    }
}
