//! Probes for load balancers and orchestrators. `/healthz`: the process answers (no database
//! access, so a database outage does not get every node restarted). `/readyz`: this node can
//! serve, i.e. the database answers a cheap query and the org server's signing key is loaded
//! (which also proves the encryption key opens it); 503 otherwise. Neither says why in its
//! body: the reason goes to the log.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use gatehouse_core::domain::ORG_AUTH_SERVER_ID;
use serde_json::json;

use crate::AppState;

/// A probe must answer before its prober gives up (typically 1-5 s), also when the database
/// hangs rather than refuses.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
}

async fn readyz(State(state): State<AppState>) -> Response {
    let provider = &state.provider;
    let database = tokio::time::timeout(CHECK_TIMEOUT, provider.store.get_meta("readyz")).await;
    let database_ok = match database {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readyz: the database query failed");
            false
        }
        Err(_) => {
            tracing::warn!("readyz: the database did not answer within 2 s");
            false
        }
    };
    let keys =
        tokio::time::timeout(CHECK_TIMEOUT, provider.keys.active_key(ORG_AUTH_SERVER_ID)).await;
    let keys_ok = match keys {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readyz: no usable signing key");
            false
        }
        Err(_) => {
            tracing::warn!("readyz: loading the signing keys took over 2 s");
            false
        }
    };
    let ready = database_ok && keys_ok;
    let word = |ok: bool| if ok { "ok" } else { "failed" };
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "checks": { "database": word(database_ok), "signing_keys": word(keys_ok) },
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut res = (status, axum::Json(body)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
