//! A fake upstream OpenID Connect provider on 127.0.0.1 for the identity-provider tests: its
//! keys at `/jwks`, and a `/token` endpoint that answers with whatever ID token the test put
//! there (signed by a key of its choosing, with the claims it wants), recording each request.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use url::Url;

use crate::client_keys::ClientKey;
use crate::helpers::{Browser, Reply, TestApp};

pub const UPSTREAM_CLIENT_ID: &str = "gatehouse-at-upstream";
pub const UPSTREAM_SECRET: &str = "upstream-secret-0123456789";

/// A token request's form fields.
pub type Form = Vec<(String, String)>;

#[derive(Clone)]
pub struct Upstream {
    pub key: Arc<ClientKey>,
    id_token: Arc<Mutex<String>>,
    /// Every form the token endpoint got.
    pub token_requests: Arc<Mutex<Vec<Form>>>,
    pub addr: SocketAddr,
    /// The public keys `/jwks` serves (`key`'s until [`Upstream::publish`]).
    served: Arc<Mutex<Vec<Value>>>,
    /// How many times `/jwks` was fetched.
    jwks_fetches: Arc<AtomicUsize>,
}

impl Upstream {
    pub async fn start() -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let key = Arc::new(ClientKey::rsa("upstream-1")?);
        let upstream = Upstream {
            served: Arc::new(Mutex::new(vec![key.jwk.clone()])),
            jwks_fetches: Arc::new(AtomicUsize::new(0)),
            key,
            id_token: Arc::new(Mutex::new(String::new())),
            token_requests: Arc::new(Mutex::new(Vec::new())),
            addr: listener.local_addr()?,
        };
        let router = axum::Router::new()
            .route("/jwks", get(jwks))
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/token", post(token))
            .with_state(upstream.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(upstream)
    }

    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// Serves `keys` at `/jwks` from now on (a key rotation).
    pub fn publish(&self, keys: &[&ClientKey]) {
        if let Ok(mut served) = self.served.lock() {
            *served = keys.iter().map(|k| k.jwk.clone()).collect();
        }
    }

    pub fn jwks_fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }

    /// The ID token the next code exchange answers with.
    pub fn answer_with(&self, id_token: String) {
        if let Ok(mut t) = self.id_token.lock() {
            *t = id_token;
        }
    }

    /// Claims of a valid ID token for `nonce` (an hour of life).
    pub fn claims(&self, sub: &str, nonce: &str, extra: Value) -> Value {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut claims = json!({
            "iss": self.issuer(),
            "sub": sub,
            "aud": UPSTREAM_CLIENT_ID,
            "iat": now,
            "exp": now + 3600,
            "nonce": nonce,
        });
        if let (Some(c), Value::Object(more)) = (claims.as_object_mut(), extra) {
            c.extend(more);
        }
        claims
    }

    /// `/api/v1/idps`' body for this upstream, with `policy` merged over the defaults.
    pub fn idp_body(&self, name: &str, policy: Value) -> Value {
        let base = self.issuer();
        json!({
            "type": "OIDC",
            "name": name,
            "protocol": {
                "type": "OIDC",
                "endpoints": {
                    "authorization": {"url": format!("{base}/authorize"), "binding": "HTTP-REDIRECT"},
                    "token": {"url": format!("{base}/token"), "binding": "HTTP-POST"},
                    "jwks": {"url": format!("{base}/jwks"), "binding": "HTTP-REDIRECT"}
                },
                "scopes": ["openid", "profile", "email"],
                "issuer": {"url": base},
                "credentials": {"client": {"client_id": UPSTREAM_CLIENT_ID, "client_secret": UPSTREAM_SECRET}}
            },
            "policy": policy,
            "gatehouse": {"routing": {"domains": ["upstream.example"]}}
        })
    }
}

async fn jwks(State(u): State<Upstream>) -> Response {
    u.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let keys = u.served.lock().map(|k| k.clone()).unwrap_or_default();
    let body = json!({ "keys": keys }).to_string();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn discovery(State(u): State<Upstream>) -> Response {
    let base = u.issuer();
    let body = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn token(State(u): State<Upstream>, body: axum::body::Bytes) -> Response {
    let form: Form = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if let Ok(mut r) = u.token_requests.lock() {
        r.push(form);
    }
    let id_token = u.id_token.lock().map(|t| t.clone()).unwrap_or_default();
    let body = json!({"access_token": "upstream-at", "token_type": "Bearer", "id_token": id_token});
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Where Gatehouse sent the browser upstream, parsed.
pub struct SentUpstream {
    pub state: String,
    pub nonce: String,
    pub code_challenge: String,
    pub redirect_uri: String,
    pub url: Url,
}

impl SentUpstream {
    pub fn from_reply(reply: &Reply) -> Result<Self> {
        let url = reply
            .location()
            .with_context(|| format!("no redirect upstream: {reply:?}"))?;
        let get = |k: &str| {
            url.query_pairs()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.into_owned())
                .with_context(|| format!("the upstream URL has no {k}: {url}"))
        };
        Ok(Self {
            state: get("state")?,
            nonce: get("nonce")?,
            code_challenge: get("code_challenge")?,
            redirect_uri: get("redirect_uri")?,
            url: url.clone(),
        })
    }

    /// The upstream sends the browser back with `code`.
    pub async fn come_back(&self, browser: &Browser) -> Result<Reply> {
        let url = format!(
            "{}?code=upstream-code&state={}",
            self.redirect_uri,
            urlencode(&self.state)
        );
        browser.get(&url).await
    }
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Creates the IdP through `/api/v1/idps`; its id.
pub async fn create_idp(app: &TestApp, upstream: &Upstream, policy: Value) -> Result<String> {
    let token = app.api_token().await?;
    let reply = app
        .api_ssws(
            reqwest::Method::POST,
            "/api/v1/idps",
            &token,
            Some(&upstream.idp_body("Upstream", policy)),
        )
        .await?;
    anyhow::ensure!(reply.status == 200, "creating the IdP: {reply:?}");
    Ok(reply.json()?["id"].as_str().context("no id")?.to_owned())
}
