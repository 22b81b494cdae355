//! `private_key_jwt` with keys published at a `jwks_uri`: a tiny key server on 127.0.0.1
//! (allowed by the development setting), cached sets, one refetch for a rotated `kid`, and the
//! SSRF refusals (schemes, private and metadata addresses, redirects, oversized bodies).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result, ensure};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gatehouse::jwks_fetch::{HttpJwksFetcher, MAX_BODY_BYTES};
use gatehouse_core::oauth2::remote_jwks::{JwksFetchError, JwksFetcher};
use gatehouse_store::test_support::Backend;
use serde_json::{Value, json};

use crate::client_keys::{ClientKey, JWT_BEARER, assertion_claims};
use crate::helpers::{Auth, Server, TestApp, spawn_app, spawn_app_with};

backend_tests!(
    jwks_uri_keys_verify_and_are_cached,
    rotated_kid_is_refetched_once,
    registration_refuses_disallowed_jwks_uris,
    fetch_refusals_reach_no_server,
);

/// The key server: `/jwks` (the current set), `/big` (over the cap), `/redirect` (to `/jwks`),
/// `/html` (not JSON); counts the requests it gets.
#[derive(Clone)]
struct KeyServer {
    set: Arc<Mutex<Value>>,
    hits: Arc<AtomicUsize>,
    addr: SocketAddr,
}

impl KeyServer {
    async fn start(keys: &[&ClientKey]) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let server = KeyServer {
            set: Arc::new(Mutex::new(set_of(keys))),
            hits: Arc::new(AtomicUsize::new(0)),
            addr: listener.local_addr()?,
        };
        let router = axum::Router::new()
            .route("/jwks", get(serve_set))
            .route("/big", get(serve_big))
            .route("/redirect", get(serve_redirect))
            .route("/html", get(serve_html))
            .with_state(server.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(server)
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.addr.port())
    }

    fn publish(&self, keys: &[&ClientKey]) {
        if let Ok(mut s) = self.set.lock() {
            *s = set_of(keys);
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn set_of(keys: &[&ClientKey]) -> Value {
    json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
}

async fn serve_set(State(s): State<KeyServer>) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let body = s.set.lock().map(|v| v.to_string()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn serve_big(State(s): State<KeyServer>) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    // Valid JSON, just too long: only the cap can refuse it.
    let padding = "x".repeat(MAX_BODY_BYTES + 1);
    let body = json!({"keys": [], "padding": padding}).to_string();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn serve_redirect(State(s): State<KeyServer>) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    (StatusCode::FOUND, [(header::LOCATION, "/jwks")]).into_response()
}

async fn serve_html(State(s): State<KeyServer>) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    ([(header::CONTENT_TYPE, "text/html")], "<html></html>").into_response()
}

async fn spawn_dev_app(backend: Backend) -> Result<TestApp> {
    let app = spawn_app_with(backend, |s| s.dev_jwks_uri_allow_loopback = true).await?;
    app.add_default_scope("svc:default").await?;
    Ok(app)
}

async fn register(app: &TestApp, ssws: &str, jwks_uri: &str) -> Result<crate::helpers::Reply> {
    app.api(
        reqwest::Method::POST,
        "/oauth2/v1/clients",
        Some(&format!("SSWS {ssws}")),
        Some(&json!({
            "client_name": "jwks_uri service",
            "grant_types": ["client_credentials"],
            "response_types": ["token"],
            "token_endpoint_auth_method": "private_key_jwt",
            "application_type": "service",
            "jwks_uri": jwks_uri,
        })),
    )
    .await
}

async fn register_ok(app: &TestApp, ssws: &str, jwks_uri: &str) -> Result<String> {
    let reply = register(app, ssws, jwks_uri).await?;
    ensure!(reply.status.as_u16() == 201, "register: {reply:?}");
    let body = reply.json()?;
    ensure!(body["jwks_uri"] == jwks_uri, "{body}");
    body["client_id"]
        .as_str()
        .map(str::to_owned)
        .context("client_id")
}

fn now(app: &TestApp) -> i64 {
    use gatehouse_core::provider::Clock as _;
    app.clock.now()
}

/// A client_credentials request with an assertion signed by `key`; the reply status and body.
async fn token(
    app: &TestApp,
    client_id: &str,
    key: &ClientKey,
    with_kid: bool,
) -> Result<(u16, Value)> {
    let token_url = app.endpoint(Server::Default, "token");
    let assertion = key.sign(&assertion_claims(client_id, &token_url, now(app)), with_kid)?;
    let reply = app
        .token(
            Server::Default,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &assertion),
            ],
            Auth::None,
        )
        .await?;
    Ok((reply.status.as_u16(), reply.json().unwrap_or(Value::Null)))
}

async fn jwks_uri_keys_verify_and_are_cached(backend: Backend) -> Result<()> {
    let app = spawn_dev_app(backend).await?;
    let ssws = app.api_token().await?;
    let key = ClientKey::rsa("k1")?;
    let other = ClientKey::rsa("k1")?; // same kid, different key: must not verify
    let keys = KeyServer::start(&[&key]).await?;
    let client_id = register_ok(&app, &ssws, &keys.url("/jwks")).await?;
    ensure!(keys.hits() == 0, "registration does not fetch");

    let (status, body) = token(&app, &client_id, &key, true).await?;
    ensure!(status == 200, "{status} {body}");
    ensure!(keys.hits() == 1);
    // Without kid (openmetadata-ingestion), from the cache.
    let (status, body) = token(&app, &client_id, &key, false).await?;
    ensure!(status == 200, "{status} {body}");
    ensure!(keys.hits() == 1, "cached: {} fetches", keys.hits());
    // A key the set does not hold is refused.
    let (status, body) = token(&app, &client_id, &other, true).await?;
    ensure!(
        status == 401 && body["error"] == "invalid_client",
        "{status} {body}"
    );

    // A client whose jwks_uri answers garbage gets invalid_client, not a 500.
    for path in ["/html", "/redirect", "/big", "/missing"] {
        let id = register_ok(&app, &ssws, &keys.url(path)).await?;
        let (status, body) = token(&app, &id, &key, true).await?;
        ensure!(
            status == 401 && body["error"] == "invalid_client",
            "{path}: {status} {body}"
        );
        ensure!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| d.contains("jwks_uri")),
            "{path}: {body}"
        );
    }
    Ok(())
}

async fn rotated_kid_is_refetched_once(backend: Backend) -> Result<()> {
    let app = spawn_dev_app(backend).await?;
    let ssws = app.api_token().await?;
    let old = ClientKey::rsa("2026-01")?;
    let new = ClientKey::rsa("2026-02")?;
    let keys = KeyServer::start(&[&old]).await?;
    let client_id = register_ok(&app, &ssws, &keys.url("/jwks")).await?;
    let (status, body) = token(&app, &client_id, &old, true).await?;
    ensure!(status == 200, "{status} {body}");
    ensure!(keys.hits() == 1);

    // The client rotates: the new kid is unknown to the cached set, so it is fetched again.
    keys.publish(&[&new]);
    let (status, body) = token(&app, &client_id, &new, true).await?;
    ensure!(status == 200, "rotated key: {status} {body}");
    ensure!(keys.hits() == 2, "one refetch: {}", keys.hits());
    // The old key is gone from the refetched set.
    let (status, _) = token(&app, &client_id, &old, true).await?;
    ensure!(status == 401, "retired key still accepted");
    // Made-up kids do not make the server fetch again and again.
    let stranger = ClientKey::rsa("made-up")?;
    for _ in 0..3 {
        let (status, _) = token(&app, &client_id, &stranger, true).await?;
        ensure!(status == 401);
    }
    ensure!(
        keys.hits() == 2,
        "refetches are rate limited: {}",
        keys.hits()
    );
    Ok(())
}

async fn registration_refuses_disallowed_jwks_uris(backend: Backend) -> Result<()> {
    // Without the development setting, loopback (and http) is refused at registration.
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    for uri in [
        "http://127.0.0.1:9/jwks",
        "https://127.0.0.1/jwks",
        "https://localhost/jwks",
        "https://[::1]/jwks",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.7/jwks",
        "https://192.168.1.1/jwks",
        "https://[fd00:ec2::254]/jwks",
        "https://[::ffff:169.254.169.254]/jwks",
        "http://keys.example.com/jwks",
        "file:///etc/passwd",
        "https://user:pw@keys.example.com/jwks",
    ] {
        let reply = register(&app, &ssws, uri).await?;
        ensure!(reply.status.as_u16() == 400, "{uri}: {reply:?}");
        ensure!(
            reply.json()?["error"] == "invalid_client_metadata",
            "{uri}: {reply:?}"
        );
    }
    // A public https URI registers.
    register_ok(&app, &ssws, "https://keys.example.com/jwks").await?;

    // With the development setting: loopback yes, but still not private or metadata ranges.
    let dev = spawn_dev_app(backend).await?;
    let ssws = dev.api_token().await?;
    for uri in [
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.7/jwks",
        "http://keys.example.com/jwks",
    ] {
        let reply = register(&dev, &ssws, uri).await?;
        ensure!(reply.status.as_u16() == 400, "dev {uri}: {reply:?}");
    }
    register_ok(&dev, &ssws, "http://127.0.0.1:9/jwks").await?;
    Ok(())
}

/// The fetcher itself, for what registration cannot see: names that resolve to loopback, and
/// loopback without the development setting. The key server must get no request at all.
async fn fetch_refusals_reach_no_server(_backend: Backend) -> Result<()> {
    let key = ClientKey::rsa("k")?;
    let keys = KeyServer::start(&[&key]).await?;
    let port = keys.addr.port();
    let strict = HttpJwksFetcher::new(false);
    for uri in [
        format!("http://127.0.0.1:{port}/jwks"),
        format!("https://127.0.0.1:{port}/jwks"),
        format!("https://localhost:{port}/jwks"),
        format!("https://[::ffff:127.0.0.1]:{port}/jwks"),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "https://10.255.255.1/jwks".to_owned(),
        format!("ftp://127.0.0.1:{port}/jwks"),
    ] {
        let result = strict.fetch(&uri).await;
        ensure!(
            matches!(result, Err(JwksFetchError::Refused(_))),
            "{uri}: {result:?}"
        );
    }
    // DNS names (not spelled "localhost") that resolve to loopback: refused after resolution,
    // before connecting. Checked for those the resolver here maps to loopback (the machine's
    // own name usually is, in /etc/hosts).
    let own_name = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let mut resolved_some = false;
    for name in ["localhost.", own_name.trim()] {
        if name.is_empty() || name.contains(['/', ':']) {
            continue;
        }
        if tokio::net::lookup_host((name, port))
            .await
            .is_ok_and(|mut a| a.all(|a| a.ip().is_loopback()))
        {
            resolved_some = true;
            let result = strict.fetch(&format!("https://{name}:{port}/jwks")).await;
            ensure!(
                matches!(&result, Err(JwksFetchError::Refused(m)) if m.contains("resolves to")),
                "{name}: {result:?}"
            );
        }
    }
    if !resolved_some {
        eprintln!("note: no local name resolves to loopback; the DNS case was not exercised");
    }
    ensure!(keys.hits() == 0, "a refused fetch reached the server");

    let dev = HttpJwksFetcher::new(true);
    let body = dev.fetch(&keys.url("/jwks")).await?;
    ensure!(serde_json::from_slice::<Value>(&body)?["keys"].is_array());
    ensure!(keys.hits() == 1);
    // Even with the setting: private and metadata addresses, and http to a public name.
    for uri in [
        "http://169.254.169.254/latest/meta-data",
        "https://10.255.255.1/jwks",
        "http://keys.example.com/jwks",
    ] {
        let result = dev.fetch(uri).await;
        ensure!(
            matches!(result, Err(JwksFetchError::Refused(_))),
            "dev {uri}: {result:?}"
        );
    }
    // Oversized bodies and redirects fail without being followed or buffered whole.
    let result = dev.fetch(&keys.url("/big")).await;
    ensure!(
        matches!(&result, Err(JwksFetchError::Failed(m)) if m.contains("larger")),
        "{result:?}"
    );
    let before = keys.hits();
    let result = dev.fetch(&keys.url("/redirect")).await;
    ensure!(
        matches!(result, Err(JwksFetchError::Failed(_))),
        "{result:?}"
    );
    ensure!(keys.hits() == before + 1, "the redirect was followed");
    Ok(())
}
