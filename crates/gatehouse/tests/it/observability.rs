//! Probes and metrics: `/healthz` answers without the database, `/readyz` says 503 when the
//! database or the signing keys fail, `/metrics` is served on its own listener only, labels
//! requests by route template (never a client-chosen path), counts sign-ins, lockouts and
//! tokens, and every response carries a request id.
//!
//! The metrics recorder is process-wide and the tests of this binary run concurrently, so
//! counters are compared as "moved by at least": other tests' requests may be counted too.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::{Context as _, Result, ensure};
use gatehouse::startup::Application;
use gatehouse_core::Provider;
use gatehouse_core::crypto::SecretBox;
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection as _;

use crate::helpers::{Browser, PASSWORD, Server, TestApp, http_client, spawn_app_with};

backend_tests!(
    healthz_and_readyz,
    readyz_fails_without_the_database,
    readyz_fails_when_keys_cannot_be_opened,
    metrics_count_by_route_template_on_their_own_listener,
    every_response_has_a_request_id,
);

async fn spawn_with_metrics(backend: Backend) -> Result<(TestApp, String)> {
    let app = spawn_app_with(backend, |s| {
        s.metrics_bind = Some("127.0.0.1:0".into());
        s.security.lockout_max_attempts = 2;
    })
    .await?;
    let metrics = app.metrics_base.clone().context("no metrics listener")?;
    Ok((app, metrics))
}

async fn healthz_and_readyz(backend: Backend) -> Result<()> {
    let (app, metrics) = spawn_with_metrics(backend).await?;
    for base in [&app.base, &metrics] {
        let health = app.get(&format!("{base}/healthz")).await?;
        ensure!(health.status == StatusCode::OK, "{health:?}");
        let ready = app.get(&format!("{base}/readyz")).await?;
        ensure!(ready.status == StatusCode::OK, "{ready:?}");
        let body: Value = ready.json()?;
        ensure!(body["status"] == "ready", "{body}");
        ensure!(body["checks"]["database"] == "ok", "{body}");
        ensure!(body["checks"]["signing_keys"] == "ok", "{body}");
    }
    Ok(())
}

/// The meta table `/readyz` reads is dropped behind the server's back: not ready, while
/// `/healthz` (which must not touch the database) still answers.
async fn readyz_fails_without_the_database(backend: Backend) -> Result<()> {
    let mut url = String::new();
    let app = spawn_app_with(backend, |s| url = s.database_url.clone()).await?;
    let drop_meta = "DROP TABLE meta";
    match backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&url).await?;
            sqlx::query(drop_meta).execute(&mut c).await?;
            c.close().await?;
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&url).await?;
            sqlx::query(drop_meta).execute(&mut c).await?;
            c.close().await?;
        }
    }
    let ready = app.get(&format!("{}/readyz", app.base)).await?;
    ensure!(ready.status == StatusCode::SERVICE_UNAVAILABLE, "{ready:?}");
    let body: Value = ready.json()?;
    ensure!(body["checks"]["database"] == "failed", "{body}");
    ensure!(!ready.body.contains("meta"), "no error details: {body}");
    let health = app.get(&format!("{}/healthz", app.base)).await?;
    ensure!(health.status == StatusCode::OK, "{health:?}");
    Ok(())
}

/// A node started with a different encryption key cannot open the signing keys: not ready.
async fn readyz_fails_when_keys_cannot_be_opened(backend: Backend) -> Result<()> {
    let mut settings = None;
    let app = spawn_app_with(backend, |s| settings = Some(s.clone())).await?;
    let settings = settings.context("settings")?;
    let wrong = Arc::new(SecretBox::from_base64(&SecretBox::generate_key())?);
    let provider = Arc::new(Provider::new(app.provider.store.clone(), wrong));
    let node = Application::with_provider(&settings, provider).await?;
    let base = format!("http://{}", node.local_addr()?);
    let server = tokio::spawn(node.run_until_stopped());
    let mut ready = None;
    for _ in 0..50 {
        if let Ok(r) = app.get(&format!("{base}/readyz")).await {
            ready = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.abort();
    let ready = ready.context("the second node never answered")?;
    ensure!(ready.status == StatusCode::SERVICE_UNAVAILABLE, "{ready:?}");
    let body: Value = ready.json()?;
    ensure!(body["checks"]["database"] == "ok", "{body}");
    ensure!(body["checks"]["signing_keys"] == "failed", "{body}");
    Ok(())
}

/// One sample's value in Prometheus text format (0 when the series does not exist yet).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(series, _)| {
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|(_, value)| value.parse::<f64>().ok())
        .sum()
}

async fn scrape(app: &TestApp, metrics: &str) -> Result<String> {
    let reply = app.get(&format!("{metrics}/metrics")).await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    ensure!(
        reply
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("text/plain; version=0.0.4")),
        "{reply:?}"
    );
    Ok(reply.body)
}

async fn metrics_count_by_route_template_on_their_own_listener(backend: Backend) -> Result<()> {
    let (app, metrics) = spawn_with_metrics(backend).await?;
    // Not on the public listener.
    let public = app.get(&format!("{}/metrics", app.base)).await?;
    ensure!(public.status == StatusCode::NOT_FOUND, "{public:?}");

    let before = scrape(&app, &metrics).await?;
    let ok_signins = |t: &str| sample(t, "gatehouse_sign_ins_total", &[("outcome", "success")]);
    let bad_signins = |t: &str| {
        sample(
            t,
            "gatehouse_sign_ins_total",
            &[("outcome", "invalid_credentials")],
        )
    };
    let code_tokens = |t: &str| {
        sample(
            t,
            "gatehouse_tokens_issued_total",
            &[
                ("grant", "authorization_code"),
                ("authorization_server", "default"),
            ],
        )
    };
    let lockouts = |t: &str| sample(t, "gatehouse_lockouts_total", &[]);
    let user_route = |t: &str| {
        sample(
            t,
            "gatehouse_http_requests_total",
            &[
                ("method", "GET"),
                ("route", "/api/v1/users/{id}"),
                ("status", "401"),
            ],
        )
    };

    app.sign_in_and_exchange(Server::Default, "openid").await?;
    // Two wrong passwords lock Alice (max 2 attempts here).
    let browser = Browser::new()?;
    let form = browser.open_login(&app.authz(Server::Org).url()).await?;
    for _ in 0..2 {
        let r = browser.submit(&form, &app.alice.login, "wrong").await?;
        ensure!(r.status == StatusCode::UNAUTHORIZED, "{r:?}");
    }
    // Client-chosen path segments and query strings never become labels.
    let raw = "00uRAWPATHVALUE";
    let odd = http_client()?
        .get(format!("{}/api/v1/users/{raw}?q=RAWQUERY", app.base))
        .send()
        .await?;
    ensure!(odd.status() == StatusCode::UNAUTHORIZED, "{odd:?}");
    let missing = app
        .get(&format!("{}/no/such/RAWPATHVALUE2", app.base))
        .await?;
    ensure!(missing.status == StatusCode::NOT_FOUND, "{missing:?}");

    let after = scrape(&app, &metrics).await?;
    ensure!(ok_signins(&after) >= ok_signins(&before) + 1.0, "{after}");
    ensure!(bad_signins(&after) >= bad_signins(&before) + 2.0, "{after}");
    ensure!(code_tokens(&after) >= code_tokens(&before) + 1.0, "{after}");
    ensure!(lockouts(&after) >= lockouts(&before) + 1.0, "{after}");
    ensure!(user_route(&after) >= user_route(&before) + 1.0, "{after}");
    ensure!(
        sample(
            &after,
            "gatehouse_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ) >= 1.0,
        "{after}"
    );
    for secret in ["RAWPATHVALUE", "RAWQUERY", PASSWORD, "wrong"] {
        ensure!(!after.contains(secret), "{secret} in metrics");
    }
    // Latency histograms by route, pool gauges, the batching writer's batch sizes.
    ensure!(
        sample(
            &after,
            "gatehouse_http_request_duration_seconds_count",
            &[("method", "POST"), ("route", "/oauth2/{as}/v1/token")]
        ) >= 1.0,
        "{after}"
    );
    ensure!(
        after.contains("gatehouse_db_pool_connections{state=\"idle\"}"),
        "{after}"
    );
    ensure!(
        after.contains("gatehouse_db_pool_connections{state=\"in_use\"}"),
        "{after}"
    );
    ensure!(
        after.contains("gatehouse_store_group_commit_batch_size_bucket{"),
        "{after}"
    );
    ensure!(after.contains("# HELP gatehouse_sign_ins_total"), "{after}");
    Ok(())
}

async fn every_response_has_a_request_id(backend: Backend) -> Result<()> {
    let (app, _) = spawn_with_metrics(backend).await?;
    let mut ids = HashSet::new();
    for path in [
        "/healthz",
        "/.well-known/openid-configuration",
        "/no/such/page",
        "/api/v1/users",
        "/oauth2/v1/keys",
    ] {
        let reply = app.get(&format!("{}{path}", app.base)).await?;
        let id = reply
            .header("x-okta-request-id")
            .with_context(|| format!("no request id on {path}: {reply:?}"))?;
        ensure!(id.len() >= 16, "{id}");
        ensure!(ids.insert(id.to_owned()), "request id {id} repeated");
    }
    Ok(())
}
