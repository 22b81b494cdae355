//! The kill switch (`DELETE /api/v1/users/{id}/sessions`, Okta's "clear user sessions") and
//! back-channel logout (OpenID Connect Back-Channel Logout 1.0): a receiver on 127.0.0.1 gets
//! a signed `logout_token` on sign-out and on the kill switch, and again after it first
//! refused one (the outbox retries).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result, bail, ensure};
use axum::extract::State;
use axum::http::StatusCode as AxumStatus;
use axum::routing::post;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Server, TestApp, jwt_parts, spawn_app, spawn_app_with};

backend_tests!(
    clear_sessions_with_oauth_tokens_ends_everything,
    clear_sessions_without_oauth_tokens_keeps_tokens,
    backchannel_logout_on_sign_out_and_clear,
    backchannel_logout_is_retried_after_a_refusal,
);

/// Whether the session cookie still signs in without a prompt.
async fn session_is_live(app: &TestApp, server: Server, session: &str) -> Result<bool> {
    let res = crate::helpers::http_client()?
        .get(app.authz(server).set("prompt", "none").url())
        .header("cookie", format!("gh_sid={session}"))
        .send()
        .await?;
    let location = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .context("no Location")?
        .to_owned();
    Ok(location.contains("code=") && !location.contains("error="))
}

/// Alice signed in on `server` with `offline_access`: (session cookie, tokens response).
async fn signed_in(app: &TestApp, server: Server) -> Result<(String, crate::helpers::Tokens)> {
    let (browser, callback) = app
        .sign_in_with(&app.authz(server).scope("openid offline_access"))
        .await?;
    let tokens = crate::helpers::Tokens::from_reply(
        app.exchange(server, &callback.code()?, &[], app.basic())
            .await?,
    )?;
    let session = browser
        .cookie(&app.base, "gh_sid")
        .context("no session cookie")?;
    Ok((session, tokens))
}

async fn clear(app: &TestApp, user_id: &str, oauth_tokens: bool) -> Result<()> {
    let token = app.api_token().await?;
    let path = format!("/api/v1/users/{user_id}/sessions?oauthTokens={oauth_tokens}");
    let reply = app.api_ssws(Method::DELETE, &path, &token, None).await?;
    ensure!(reply.status == StatusCode::NO_CONTENT, "{reply:?}");
    Ok(())
}

async fn clear_sessions_with_oauth_tokens_ends_everything(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let (session, tokens) = signed_in(&app, server).await?;
        let refresh = tokens.refresh_token.clone().context("no refresh token")?;
        ensure!(session_is_live(&app, server, &session).await?);
        ensure!(app.is_active(server, &tokens.access_token).await?);
        clear(&app, &app.alice.id, true).await?;
        ensure!(
            !session_is_live(&app, server, &session).await?,
            "{server:?}"
        );
        ensure!(
            !app.is_active(server, &tokens.access_token).await?,
            "{server:?}: the access token still introspects active"
        );
        app.refresh(server, &refresh, None, app.basic())
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
        // The user stays active: she signs in again and gets working tokens.
        let (_, again) = signed_in(&app, server).await?;
        ensure!(app.is_active(server, &again.access_token).await?);
    }
    // The System Log has Okta's event, with the administrator as actor.
    let token = app.api_token().await?;
    let logs = app
        .api_ssws(
            Method::GET,
            "/api/v1/logs?filter=eventType%20eq%20%22user.session.clear%22",
            &token,
            None,
        )
        .await?
        .json()?;
    let events = logs.as_array().context("logs")?;
    ensure!(events.len() == 2, "{logs}");
    ensure!(
        events[0]["target"][0]["id"] == app.alice.id.as_str(),
        "{logs}"
    );
    ensure!(
        events[0]["debugContext"]["debugData"]["oauthTokens"] == true,
        "{logs}"
    );
    // Unknown users are 404, and the endpoint needs a token.
    let reply = app
        .api_ssws(
            Method::DELETE,
            "/api/v1/users/nobody/sessions",
            &token,
            None,
        )
        .await?;
    ensure!(reply.status == StatusCode::NOT_FOUND, "{reply:?}");
    let path = format!("/api/v1/users/{}/sessions", app.alice.id);
    let reply = app.api(Method::DELETE, &path, None, None).await?;
    ensure!(reply.status == StatusCode::UNAUTHORIZED, "{reply:?}");
    Ok(())
}

async fn clear_sessions_without_oauth_tokens_keeps_tokens(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let server = Server::Default;
    let (session, tokens) = signed_in(&app, server).await?;
    clear(&app, &app.alice.id, false).await?;
    ensure!(!session_is_live(&app, server, &session).await?);
    ensure!(app.is_active(server, &tokens.access_token).await?);
    let refresh = tokens.refresh_token.context("no refresh token")?;
    let reply = app.refresh(server, &refresh, None, app.basic()).await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    Ok(())
}

/// A back-channel logout receiver: records every `logout_token` it is sent; answers 500 to
/// the first `fail_first` requests.
#[derive(Clone)]
struct Receiver {
    tokens: Arc<Mutex<Vec<String>>>,
    fail_first: Arc<Mutex<usize>>,
    addr: SocketAddr,
}

impl Receiver {
    async fn start(fail_first: usize) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let receiver = Receiver {
            tokens: Arc::default(),
            fail_first: Arc::new(Mutex::new(fail_first)),
            addr: listener.local_addr()?,
        };
        let router = axum::Router::new()
            .route("/backchannel", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(receiver)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/backchannel", self.addr.port())
    }

    fn count(&self) -> usize {
        self.tokens.lock().map(|t| t.len()).unwrap_or_default()
    }

    /// Waits (up to 10 s) for the `n`-th token.
    async fn nth(&self, n: usize) -> Result<String> {
        for _ in 0..100 {
            if let Some(t) = self.tokens.lock().ok().and_then(|t| t.get(n - 1).cloned()) {
                return Ok(t);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("logout token #{n} never arrived ({} so far)", self.count())
    }
}

async fn receive(State(r): State<Receiver>, body: String) -> AxumStatus {
    let token = url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned());
    let Some(token) = token else {
        return AxumStatus::BAD_REQUEST;
    };
    if let Ok(mut left) = r.fail_first.lock()
        && *left > 0
    {
        *left -= 1;
        return AxumStatus::INTERNAL_SERVER_ERROR;
    }
    if let Ok(mut t) = r.tokens.lock() {
        t.push(token);
    }
    AxumStatus::OK
}

/// Registers the receiver as the seeded web app's `backchannel_logout_uri` through
/// `/api/v1/apps` (read, change, replace), and checks it reads back.
async fn register(app: &TestApp, receiver: &Receiver) -> Result<()> {
    let token = app.api_token().await?;
    let path = format!("/api/v1/apps/{}", app.web.app.id);
    let mut body = app
        .api_ssws(Method::GET, &path, &token, None)
        .await?
        .json()?;
    let client = &mut body["settings"]["oauthClient"];
    client["backchannel_logout_uri"] = Value::from(receiver.url());
    client["backchannel_logout_session_required"] = Value::from(true);
    let reply = app
        .api_ssws(Method::PUT, &path, &token, Some(&body))
        .await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    let back = reply.json()?;
    ensure!(
        back["settings"]["oauthClient"]["backchannel_logout_uri"] == receiver.url().as_str(),
        "{back}"
    );
    Ok(())
}

/// Verifies a logout token as an RP must (§2.6): signature, iss, aud, typ, events, no nonce,
/// and the `sid` of the ID token.
async fn check_logout_token(
    app: &TestApp,
    server: Server,
    token: &str,
    id_token: &str,
) -> Result<()> {
    let (header, _) = jwt_parts(token)?;
    ensure!(header["typ"] == "logout+jwt", "{header}");
    let claims = app.verify_jwt(server, token, app.client_id()).await?;
    let (_, id) = jwt_parts(id_token)?;
    ensure!(claims["sub"] == app.alice.id.as_str(), "{claims}");
    ensure!(
        claims["sid"] == id["sid"] && id["sid"].is_string(),
        "{claims} vs {id}"
    );
    ensure!(
        claims["events"]["http://schemas.openid.net/event/backchannel-logout"]
            == serde_json::json!({}),
        "{claims}"
    );
    ensure!(
        claims.get("nonce").is_none() && claims["jti"].is_string(),
        "{claims}"
    );
    let (iat, exp) = (claims["iat"].as_i64(), claims["exp"].as_i64());
    ensure!(
        matches!((iat, exp), (Some(i), Some(e)) if e > i && e - i <= 120),
        "{claims}"
    );
    Ok(())
}

async fn backchannel_logout_on_sign_out_and_clear(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.dev_jwks_uri_allow_loopback = true).await?;
    let receiver = Receiver::start(0).await?;
    register(&app, &receiver).await?;
    // Discovery says so.
    let config = app
        .get(&format!("{}/.well-known/openid-configuration", app.base))
        .await?
        .json()?;
    ensure!(config["backchannel_logout_supported"] == true, "{config}");
    ensure!(
        config["backchannel_logout_session_supported"] == true,
        "{config}"
    );
    let mut n = 0;
    for server in Server::ALL {
        // RP-initiated logout.
        let (session, tokens) = signed_in(&app, server).await?;
        let id_token = tokens.id_token()?.to_owned();
        let logout = reqwest::Url::parse_with_params(
            &app.endpoint(server, "logout"),
            &[("id_token_hint", id_token.as_str())],
        )?;
        let reply = crate::helpers::http_client()?
            .get(logout)
            .header("cookie", format!("gh_sid={session}"))
            .send()
            .await?;
        ensure!(reply.status().is_success(), "{reply:?}");
        n += 1;
        check_logout_token(&app, server, &receiver.nth(n).await?, &id_token).await?;
        // The kill switch.
        let (_, tokens) = signed_in(&app, server).await?;
        clear(&app, &app.alice.id, true).await?;
        n += 1;
        check_logout_token(&app, server, &receiver.nth(n).await?, tokens.id_token()?).await?;
    }
    // Each ended session is told once.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    ensure!(
        receiver.count() == n,
        "{} tokens for {n} sign-outs",
        receiver.count()
    );
    Ok(())
}

async fn backchannel_logout_is_retried_after_a_refusal(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.dev_jwks_uri_allow_loopback = true).await?;
    let receiver = Receiver::start(1).await?;
    register(&app, &receiver).await?;
    let server = Server::Org;
    let (_, tokens) = signed_in(&app, server).await?;
    // A sign-out through the session API (the dashboard's), by deactivation's path: suspend.
    let token = app.api_token().await?;
    let path = format!("/api/v1/users/{}/lifecycle/suspend", app.alice.id);
    let reply = app.api_ssws(Method::POST, &path, &token, None).await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    // The first attempt is refused; the next one is due 5 s later (by the server's clock).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    ensure!(receiver.count() == 0);
    app.clock.advance(10);
    check_logout_token(&app, server, &receiver.nth(1).await?, tokens.id_token()?).await?;
    // The success is logged after the app has answered, so the receiver may see the token first.
    let mut outcomes = Vec::new();
    let mut logs = Value::Null;
    for _ in 0..50 {
        logs = app
            .api_ssws(
                Method::GET,
                "/api/v1/logs?filter=eventType%20eq%20%22app.oauth2.backchannel_logout%22",
                &token,
                None,
            )
            .await?
            .json()?;
        outcomes = logs
            .as_array()
            .context("logs")?
            .iter()
            .filter_map(|e| e["outcome"]["result"].as_str().map(str::to_owned))
            .collect();
        if outcomes.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(outcomes == ["FAILURE", "SUCCESS"], "{logs}");
    Ok(())
}
