//! Single-page apps the way okta-auth-js drives them (seed 003, OpenMetadata): refresh-token
//! rotation with a grace period and reuse detection, the hidden-iframe `okta_post_message`
//! response, and CORS for the browser's XHRs.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Auth, Authz, Browser, REDIRECT_URI, Reply, STATE, Server, TestApp, Tokens, VERIFIER,
    http_client, spawn_app,
};

backend_tests!(
    rotation_returns_a_new_token_each_use,
    rotated_token_works_within_the_grace_period,
    reuse_after_the_grace_period_revokes_the_family,
    concurrent_refreshes_make_one_family,
    concurrent_refreshes_without_leeway_leave_no_live_pair,
    rotation_setting_in_the_apps_api,
    post_message_carries_the_code_to_the_parent,
    post_message_login_required_without_a_session,
    post_message_is_the_only_framable_page,
    cors_preflight_and_responses_for_spa_origins,
    cors_refuses_other_origins,
    trusted_origins_api_and_cors,
);

const INVALID_REFRESH: &str = "The refresh token is invalid or expired.";

/// A signed-in SPA user: PKCE code flow with `offline_access`, as okta-auth-js does.
async fn spa_tokens(app: &TestApp, server: Server, client_id: &str) -> Result<Tokens> {
    let authz = Authz::new(&app.base, server, client_id)
        .scope("openid profile email offline_access")
        .pkce();
    let (_, callback) = app.sign_in_with(&authz).await?;
    Tokens::from_reply(
        app.exchange(
            server,
            &callback.code()?,
            &[("code_verifier", VERIFIER)],
            Auth::Public(client_id),
        )
        .await?,
    )
}

/// okta-auth-js's refresh: `client_id` in the body, the token's scopes, no secret.
async fn spa_refresh(app: &TestApp, server: Server, client_id: &str, rt: &str) -> Result<Reply> {
    app.refresh(
        server,
        rt,
        Some("openid profile email offline_access"),
        Auth::Public(client_id),
    )
    .await
}

async fn active(app: &TestApp, server: Server, client_id: &str, token: &str) -> Result<bool> {
    let reply = app
        .post_form(
            server,
            "introspect",
            &[("token", token)],
            Auth::Public(client_id),
        )
        .await?;
    ensure!(reply.status == StatusCode::OK, "introspect: {reply:?}");
    reply.json()?["active"]
        .as_bool()
        .with_context(|| format!("no `active`: {reply:?}"))
}

fn expect_invalid_refresh(reply: &Reply) -> Result<()> {
    reply.expect_oauth_error(400, "invalid_grant")?;
    // okta-auth-js drops its stored refresh token only on this exact text.
    assert_eq!(reply.json()?["error_description"], INVALID_REFRESH);
    Ok(())
}

async fn rotation_returns_a_new_token_each_use(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = app.create_spa("OpenMetadata").await?;
    let id = spa.app.client_id.as_str();
    for server in Server::ALL {
        let first = spa_tokens(&app, server, id).await?;
        let rt0 = first.refresh_token.clone().context("no refresh token")?;
        let second = Tokens::from_reply(spa_refresh(&app, server, id, &rt0).await?)?;
        let rt1 = second.refresh_token.clone().context("no rotated token")?;
        ensure!(rt1 != rt0, "{server:?}: ROTATE must hand out a new token");
        // okta-auth-js replaces everything it stores with the refresh response.
        ensure!(second.id_token.is_some(), "no id_token on refresh");
        ensure!(active(&app, server, id, &rt1).await?);
        let third = Tokens::from_reply(spa_refresh(&app, server, id, &rt1).await?)?;
        let rt2 = third.refresh_token.context("no rotated token")?;
        ensure!(rt2 != rt1 && rt2 != rt0);
        ensure!(active(&app, server, id, &second.access_token).await?);
    }
    Ok(())
}

async fn rotated_token_works_within_the_grace_period(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = app.create_spa("OpenMetadata").await?;
    let id = spa.app.client_id.as_str();
    let server = Server::Default;
    let rt0 = spa_tokens(&app, server, id)
        .await?
        .refresh_token
        .context("no refresh token")?;
    let rt1 = Tokens::from_reply(spa_refresh(&app, server, id, &rt0).await?)?
        .refresh_token
        .context("no rotated token")?;
    // A second tab (or a lost response) presents the old token 29 s later: leeway 30.
    app.clock.advance(29);
    let retry = Tokens::from_reply(spa_refresh(&app, server, id, &rt0).await?)?;
    let rt_retry = retry
        .refresh_token
        .context("no token within the grace period")?;
    ensure!(
        rt_retry != rt0 && rt_retry != rt1,
        "a fresh pair, not a copy"
    );
    // Both successors stay usable: they are one family.
    ensure!(active(&app, server, id, &rt1).await?);
    ensure!(active(&app, server, id, &rt_retry).await?);
    Tokens::from_reply(spa_refresh(&app, server, id, &rt1).await?)?;
    Ok(())
}

async fn reuse_after_the_grace_period_revokes_the_family(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = app.create_spa("OpenMetadata").await?;
    let id = spa.app.client_id.as_str();
    for server in Server::ALL {
        let first = spa_tokens(&app, server, id).await?;
        let rt0 = first.refresh_token.clone().context("no refresh token")?;
        let second = Tokens::from_reply(spa_refresh(&app, server, id, &rt0).await?)?;
        let rt1 = second.refresh_token.clone().context("no rotated token")?;
        ensure!(
            active(&app, server, id, &rt0).await?,
            "within its leeway the rotated token is live"
        );
        app.clock.advance(30);
        ensure!(
            !active(&app, server, id, &rt0).await?,
            "past its leeway the rotated token is not live"
        );
        // The thief (or a stale tab) replays rt0 after the leeway.
        expect_invalid_refresh(&spa_refresh(&app, server, id, &rt0).await?)?;
        // The whole grant is gone: the live refresh token, every access token.
        for token in [&rt1, &second.access_token, &first.access_token] {
            ensure!(
                !active(&app, server, id, token).await?,
                "{server:?}: still active after reuse"
            );
        }
        expect_invalid_refresh(&spa_refresh(&app, server, id, &rt1).await?)?;
        app.userinfo(server, &second.access_token)
            .await?
            .expect_oauth_error(401, "invalid_token")?;
    }
    Ok(())
}

async fn concurrent_refreshes_make_one_family(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = app.create_spa("OpenMetadata").await?;
    let id = spa.app.client_id.as_str();
    let server = Server::Default;
    let rt0 = spa_tokens(&app, server, id)
        .await?
        .refresh_token
        .context("no refresh token")?;
    let (a, b) = tokio::join!(
        spa_refresh(&app, server, id, &rt0),
        spa_refresh(&app, server, id, &rt0)
    );
    // Within the leeway both get a pair (the grace rule), and they are siblings of one grant.
    let a = Tokens::from_reply(a?)?;
    let b = Tokens::from_reply(b?)?;
    let (ra, rb) = (
        a.refresh_token.context("no token")?,
        b.refresh_token.context("no token")?,
    );
    ensure!(ra != rb && ra != rt0 && rb != rt0);
    app.clock.advance(31);
    expect_invalid_refresh(&spa_refresh(&app, server, id, &rt0).await?)?;
    for token in [&ra, &rb, &a.access_token, &b.access_token] {
        ensure!(
            !active(&app, server, id, token).await?,
            "reuse must revoke both branches: one family"
        );
    }
    Ok(())
}

async fn concurrent_refreshes_without_leeway_leave_no_live_pair(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let created = app
        .api_ssws(
            reqwest::Method::POST,
            "/api/v1/apps",
            &token,
            Some(&spa_body(json!({"rotation_type": "ROTATE", "leeway": 0}))),
        )
        .await?;
    ensure!(created.status == StatusCode::OK, "{created:?}");
    let id = created.json()?["credentials"]["oauthClient"]["client_id"]
        .as_str()
        .context("no client_id")?
        .to_owned();
    let app_id = created.json()?["id"].as_str().context("no id")?.to_owned();
    let everyone = app
        .api_ssws(
            reqwest::Method::GET,
            "/api/v1/groups?q=Everyone",
            &token,
            None,
        )
        .await?
        .json()?[0]["id"]
        .as_str()
        .context("no Everyone")?
        .to_owned();
    let assigned = app
        .api_ssws(
            reqwest::Method::PUT,
            &format!("/api/v1/apps/{app_id}/groups/{everyone}"),
            &token,
            Some(&json!({})),
        )
        .await?;
    ensure!(assigned.status == StatusCode::OK, "{assigned:?}");
    let server = Server::Default;
    for _ in 0..3 {
        let rt0 = spa_tokens(&app, server, &id)
            .await?
            .refresh_token
            .context("no refresh token")?;
        let (a, b) = tokio::join!(
            spa_refresh(&app, server, &id, &rt0),
            spa_refresh(&app, server, &id, &rt0)
        );
        let (a, b) = (a?, b?);
        let winners: Vec<&Reply> = [&a, &b]
            .into_iter()
            .filter(|r| r.status == StatusCode::OK)
            .collect();
        ensure!(winners.len() <= 1, "no grace with leeway 0: {a:?} {b:?}");
        // Either one clean rotation, or a detected reuse that revoked everything; never two
        // live refresh tokens.
        let mut live = 0;
        for r in &winners {
            let rt = Tokens::from_reply(Reply {
                status: r.status,
                headers: r.headers.clone(),
                body: r.body.clone(),
            })?
            .refresh_token
            .context("no token")?;
            if active(&app, server, &id, &rt).await? {
                live += 1;
            }
        }
        ensure!(live <= 1);
        ensure!(!active(&app, server, &id, &rt0).await?);
    }
    Ok(())
}

fn spa_body(refresh_token: Value) -> Value {
    json!({
        "name": "oidc_client",
        "label": "OpenMetadata",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "none"}},
        "settings": {"oauthClient": {
            "application_type": "browser",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "redirect_uris": [REDIRECT_URI],
            "refresh_token": refresh_token,
        }}
    })
}

async fn rotation_setting_in_the_apps_api(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let post = |body: Value| {
        let app = &app;
        let token = &token;
        async move {
            app.api_ssws(reqwest::Method::POST, "/api/v1/apps", token, Some(&body))
                .await
        }
    };
    // Okta's defaults: browser apps ROTATE with leeway 30.
    let mut body = spa_body(json!(null));
    if let Some(o) = body["settings"]["oauthClient"].as_object_mut() {
        o.remove("refresh_token");
    }
    let spa = post(body).await?;
    ensure!(spa.status == StatusCode::OK, "{spa:?}");
    let spa = spa.json()?;
    assert_eq!(
        spa["settings"]["oauthClient"]["refresh_token"],
        json!({"rotation_type": "ROTATE", "leeway": 30})
    );
    // Web apps: STATIC.
    let web = post(json!({
        "name": "oidc_client", "label": "Web",
        "settings": {"oauthClient": {
            "application_type": "web",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [REDIRECT_URI]}}
    }))
    .await?
    .json()?;
    assert_eq!(
        web["settings"]["oauthClient"]["refresh_token"]["rotation_type"],
        "STATIC"
    );
    // Chosen values round-trip through create, get and replace.
    let chosen = post(spa_body(json!({"rotation_type": "STATIC", "leeway": 12})))
        .await?
        .json()?;
    assert_eq!(
        chosen["settings"]["oauthClient"]["refresh_token"],
        json!({"rotation_type": "STATIC", "leeway": 12})
    );
    let app_id = chosen["id"].as_str().context("no id")?;
    let got = app
        .api_ssws(
            reqwest::Method::GET,
            &format!("/api/v1/apps/{app_id}"),
            &token,
            None,
        )
        .await?
        .json()?;
    assert_eq!(
        got["settings"]["oauthClient"]["refresh_token"],
        chosen["settings"]["oauthClient"]["refresh_token"]
    );
    let replaced = app
        .api_ssws(
            reqwest::Method::PUT,
            &format!("/api/v1/apps/{app_id}"),
            &token,
            Some(&spa_body(json!({"rotation_type": "ROTATE", "leeway": 60}))),
        )
        .await?;
    ensure!(replaced.status == StatusCode::OK, "{replaced:?}");
    assert_eq!(
        replaced.json()?["settings"]["oauthClient"]["refresh_token"],
        json!({"rotation_type": "ROTATE", "leeway": 60})
    );
    // Okta's bounds and spelling.
    for bad in [
        json!({"rotation_type": "ROTATE", "leeway": 61}),
        json!({"rotation_type": "ROTATE", "leeway": -1}),
        json!({"rotation_type": "SOMETIMES"}),
        json!({"leeway": "30"}),
        json!("ROTATE"),
    ] {
        let reply = post(spa_body(bad.clone())).await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {reply:?}");
        assert_eq!(reply.json()?["errorCode"], "E0000001", "{bad}");
    }
    Ok(())
}

/// The `okta_post_message` page's message: the JSON object literal in its script.
fn posted_message(page: &Reply) -> Result<Value> {
    let start = page.body.find("var data = ").context("no message")? + "var data = ".len();
    let rest = &page.body[start..];
    let end = rest.find(";\n").context("unterminated message")?;
    Ok(serde_json::from_str(&rest[..end])?)
}

fn posted_origin(page: &Reply) -> Option<String> {
    let start = page.body.find("var origin = ")? + "var origin = ".len();
    let rest = &page.body[start..];
    let end = rest.find(";\n")?;
    serde_json::from_str(&rest[..end]).ok()
}

fn expect_post_message_page(page: &Reply) -> Result<()> {
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    ensure!(
        page.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{page:?}"
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    ensure!(
        page.header("x-frame-options").is_none(),
        "X-Frame-Options would forbid the iframe: {page:?}"
    );
    let csp = page.header("content-security-policy").unwrap_or_default();
    ensure!(
        csp.contains("frame-ancestors https://app.example.com;"),
        "only the client's origin may frame it: {csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .context("no script nonce in the CSP")?;
    ensure!(
        page.body.contains(&format!("<script nonce=\"{nonce}\">")),
        "{page:?}"
    );
    assert_eq!(
        posted_origin(page).as_deref(),
        Some("https://app.example.com")
    );
    Ok(())
}

async fn post_message_carries_the_code_to_the_parent(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = app.create_spa("OpenMetadata").await?;
    let id = spa.app.client_id.as_str();
    for server in Server::ALL {
        let (browser, _) = app
            .sign_in_with(&Authz::new(&app.base, server, id).pkce())
            .await?;
        // okta-auth-js `getWithoutPrompt`: the hidden iframe.
        let silent = Authz::new(&app.base, server, id)
            .scope("openid profile email")
            .pkce()
            .set("prompt", "none")
            .set("response_mode", "okta_post_message");
        let page = browser.get(&silent.url()).await?;
        expect_post_message_page(&page)?;
        let message = posted_message(&page)?;
        assert_eq!(message["state"], STATE, "{message}");
        ensure!(message.get("error").is_none(), "{message}");
        ensure!(message.get("iss").is_none(), "Okta posts {{code, state}}");
        let code = message["code"].as_str().context("no code")?;
        let tokens = Tokens::from_reply(
            app.exchange(
                server,
                code,
                &[("code_verifier", VERIFIER)],
                Auth::Public(id),
            )
            .await?,
        )?;
        ensure!(tokens.id_token.is_some());
    }
    Ok(())
}

async fn post_message_login_required_without_a_session(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = app.create_spa("OpenMetadata").await?;
    let id = spa.app.client_id.as_str();
    for server in Server::ALL {
        let silent = Authz::new(&app.base, server, id)
            .pkce()
            .set("prompt", "none")
            .set("response_mode", "okta_post_message");
        let page = Browser::new()?.get(&silent.url()).await?;
        expect_post_message_page(&page)?;
        let message = posted_message(&page)?;
        assert_eq!(message["error"], "login_required", "{message}");
        assert_eq!(message["state"], STATE);
        // okta-auth-js raises an OAuthError only when the description is there too.
        ensure!(
            message["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{message}"
        );
    }
    Ok(())
}

async fn post_message_is_the_only_framable_page(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = app.create_spa("OpenMetadata").await?;
    let id = spa.app.client_id.as_str();
    let client = http_client()?;
    let frame_denied = |r: &Reply| {
        r.header("content-security-policy")
            .is_some_and(|c| c.contains("frame-ancestors 'none'"))
            && r.header("x-frame-options") == Some("DENY")
    };
    // The sign-in page, even when asked for with okta_post_message.
    let login = Browser::new()?
        .get(
            &Authz::new(&app.base, Server::Default, id)
                .pkce()
                .set("response_mode", "okta_post_message")
                .url(),
        )
        .await?;
    ensure!(login.login_form().is_some(), "{login:?}");
    ensure!(frame_denied(&login), "{login:?}");
    // An unregistered redirect URI: an error page, never a message to that origin.
    let bad = Browser::new()?
        .get(
            &Authz::new(&app.base, Server::Default, id)
                .pkce()
                .set("prompt", "none")
                .set("response_mode", "okta_post_message")
                .set("redirect_uri", "https://evil.example/cb")
                .url(),
        )
        .await?;
    ensure!(bad.status == StatusCode::BAD_REQUEST, "{bad:?}");
    ensure!(frame_denied(&bad), "{bad:?}");
    ensure!(!bad.body.contains("postMessage"), "{bad:?}");
    // Other pages.
    let home = Reply::read(client.get(format!("{}/", app.base)).send().await?).await?;
    ensure!(
        home.header("x-frame-options") == Some("DENY")
            || home
                .header("content-security-policy")
                .is_some_and(|c| c.contains("frame-ancestors 'none'")),
        "{home:?}"
    );
    Ok(())
}

const SPA_ORIGIN: &str = "https://app.example.com";

async fn preflight(app: &TestApp, url: &str, origin: &str, method: &str) -> Result<Reply> {
    let res = http_client()?
        .request(reqwest::Method::OPTIONS, url)
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header(
            "access-control-request-headers",
            "accept,content-type,x-okta-user-agent-extended,authorization",
        )
        .send()
        .await?;
    let _ = app;
    Reply::read(res).await
}

/// Every endpoint okta-auth-js calls with `fetch`, with the method it uses.
fn cors_endpoints(app: &TestApp) -> Vec<(String, &'static str)> {
    let mut out = vec![
        (
            format!("{}/.well-known/openid-configuration", app.base),
            "GET",
        ),
        (format!("{}/api/v1/sessions/me", app.base), "DELETE"),
        (format!("{}/api/v1/sessions/me", app.base), "GET"),
    ];
    for server in Server::ALL {
        out.push((
            format!("{}/.well-known/openid-configuration", app.issuer(server)),
            "GET",
        ));
        for (name, method) in [
            ("token", "POST"),
            ("keys", "GET"),
            ("userinfo", "GET"),
            ("revoke", "POST"),
            ("introspect", "POST"),
        ] {
            out.push((app.endpoint(server, name), method));
        }
    }
    out
}

fn expect_cors_allowed(reply: &Reply, origin: &str) -> Result<()> {
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some(origin),
        "{reply:?}"
    );
    assert_eq!(
        reply.header("access-control-allow-credentials"),
        Some("true")
    );
    ensure!(
        reply
            .headers
            .get_all("vary")
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.contains("Origin"))),
        "no Vary: Origin: {reply:?}"
    );
    Ok(())
}

async fn cors_preflight_and_responses_for_spa_origins(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = app.create_spa("OpenMetadata").await?;
    let id = spa.app.client_id.as_str();
    for (url, method) in cors_endpoints(&app) {
        let reply = preflight(&app, &url, SPA_ORIGIN, method).await?;
        ensure!(
            reply.status == StatusCode::NO_CONTENT,
            "{method} {url}: {reply:?}"
        );
        expect_cors_allowed(&reply, SPA_ORIGIN)?;
        let methods = reply
            .header("access-control-allow-methods")
            .unwrap_or_default();
        ensure!(methods.contains(method), "{url}: {methods}");
        let headers = reply
            .header("access-control-allow-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        for h in [
            "accept",
            "content-type",
            "authorization",
            "x-okta-user-agent-extended",
        ] {
            ensure!(headers.contains(h), "{url}: {h} not allowed: {headers}");
        }
    }
    // Actual responses, successes and errors alike, carry the origin.
    let client = http_client()?;
    for server in Server::ALL {
        let keys = Reply::read(
            client
                .get(app.endpoint(server, "keys"))
                .header("origin", SPA_ORIGIN)
                .send()
                .await?,
        )
        .await?;
        assert_eq!(keys.status, StatusCode::OK);
        expect_cors_allowed(&keys, SPA_ORIGIN)?;
        let bad = Reply::read(
            client
                .post(app.endpoint(server, "token"))
                .header("origin", SPA_ORIGIN)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", "nope"),
                    ("client_id", id),
                ])
                .send()
                .await?,
        )
        .await?;
        bad.expect_oauth_error(400, "invalid_grant")?;
        expect_cors_allowed(&bad, SPA_ORIGIN)?;
        let userinfo = Reply::read(
            client
                .get(app.endpoint(server, "userinfo"))
                .header("origin", SPA_ORIGIN)
                .bearer_auth("not-a-token")
                .send()
                .await?,
        )
        .await?;
        assert_eq!(userinfo.status, StatusCode::UNAUTHORIZED);
        expect_cors_allowed(&userinfo, SPA_ORIGIN)?;
        ensure!(
            userinfo
                .header("access-control-expose-headers")
                .is_some_and(|h| h.contains("WWW-Authenticate")),
            "{userinfo:?}"
        );
    }
    // okta-auth-js's closeSession: DELETE with credentials and no session is Okta's 404.
    let gone = Reply::read(
        client
            .delete(format!("{}/api/v1/sessions/me", app.base))
            .header("origin", SPA_ORIGIN)
            .send()
            .await?,
    )
    .await?;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{gone:?}");
    expect_cors_allowed(&gone, SPA_ORIGIN)?;
    // The authorize endpoint is navigated to, never fetched: no CORS there.
    let authorize = preflight(
        &app,
        &app.endpoint(Server::Default, "authorize"),
        SPA_ORIGIN,
        "GET",
    )
    .await?;
    ensure!(
        authorize.header("access-control-allow-origin").is_none(),
        "{authorize:?}"
    );
    Ok(())
}

async fn cors_refuses_other_origins(backend: Backend) -> Result<()> {
    // Only the confidential web app is registered: its redirect origin is no CORS origin.
    let app = spawn_app(backend).await?;
    let client = http_client()?;
    for origin in [SPA_ORIGIN, "https://evil.example", "null"] {
        for (url, method) in cors_endpoints(&app) {
            let reply = preflight(&app, &url, origin, method).await?;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{origin} {url}");
            ensure!(
                reply.header("access-control-allow-origin").is_none(),
                "{reply:?}"
            );
        }
        let keys = Reply::read(
            client
                .get(app.endpoint(Server::Default, "keys"))
                .header("origin", origin)
                .send()
                .await?,
        )
        .await?;
        assert_eq!(keys.status, StatusCode::OK);
        ensure!(
            keys.header("access-control-allow-origin").is_none()
                && keys.header("access-control-allow-credentials").is_none(),
            "{keys:?}"
        );
    }
    // A SPA elsewhere does not open the door for its neighbours.
    let spa = app.create_spa("OpenMetadata").await?;
    let token_url = app.endpoint(Server::Default, "token");
    let reply = preflight(&app, &token_url, "https://app.example.com:8443", "POST").await?;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // The node's copy of the SPA origins follows app changes at once: the new SPA's origin,
    // refused (and cached) above, is allowed now, and refused again once the app is inactive.
    let reply = preflight(&app, &token_url, SPA_ORIGIN, "POST").await?;
    ensure!(reply.status == StatusCode::NO_CONTENT, "{reply:?}");
    gatehouse_core::services::apps::set_status(
        &app.provider,
        &gatehouse_core::services::system_log::Actor::system(),
        spa.app,
        gatehouse_core::domain::AppStatus::Inactive,
    )
    .await?;
    let reply = preflight(&app, &token_url, SPA_ORIGIN, "POST").await?;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
    Ok(())
}

async fn trusted_origins_api_and_cors(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let origin = "http://localhost:8585";
    let token_url = app.endpoint(Server::Default, "token");
    ensure!(preflight(&app, &token_url, origin, "POST").await?.status == StatusCode::FORBIDDEN);

    let body = json!({
        "name": "OpenMetadata",
        "origin": "HTTP://LOCALHOST:8585",
        "scopes": [{"type": "CORS"}, {"type": "REDIRECT"}]
    });
    let created = app
        .api_ssws(
            reqwest::Method::POST,
            "/api/v1/trustedOrigins",
            &token,
            Some(&body),
        )
        .await?;
    ensure!(created.status == StatusCode::OK, "{created:?}");
    let t = created.json()?;
    let id = t["id"].as_str().context("no id")?.to_owned();
    ensure!(id.starts_with("tos"), "{t}");
    assert_eq!(t["origin"], origin, "stored canonical");
    assert_eq!(t["name"], "OpenMetadata");
    assert_eq!(t["status"], "ACTIVE");
    assert_eq!(t["scopes"], json!([{"type": "CORS"}, {"type": "REDIRECT"}]));
    assert_eq!(t["createdBy"], app.api_admin().await?.id.as_str());
    ensure!(t["_links"]["deactivate"]["href"].is_string(), "{t}");
    let reply = preflight(&app, &token_url, origin, "POST").await?;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{reply:?}");
    expect_cors_allowed(&reply, origin)?;

    // Okta's rules: one record per origin, bare origins, known scopes.
    for (bad, field) in [
        (body.clone(), "origin"),
        (
            json!({"name": "x", "origin": "https://a.example/path", "scopes": [{"type": "CORS"}]}),
            "origin",
        ),
        (
            json!({"name": "x", "origin": "https://a.example", "scopes": [{"type": "SOMETIMES"}]}),
            "scopes",
        ),
        (
            json!({"name": "x", "origin": "https://a.example", "scopes": []}),
            "scopes",
        ),
        (
            json!({"origin": "https://a.example", "scopes": [{"type": "CORS"}]}),
            "name",
        ),
    ] {
        let reply = app
            .api_ssws(
                reqwest::Method::POST,
                "/api/v1/trustedOrigins",
                &token,
                Some(&bad),
            )
            .await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {reply:?}");
        let e = reply.json()?;
        assert_eq!(e["errorCode"], "E0000001", "{e}");
        ensure!(
            e["errorCauses"][0]["errorSummary"]
                .as_str()
                .is_some_and(|s| s.contains(field)),
            "{field}: {e}"
        );
    }

    // Get, list, replace (REDIRECT only: no CORS), deactivate/activate, delete.
    let path = format!("/api/v1/trustedOrigins/{id}");
    let got = app
        .api_ssws(reqwest::Method::GET, &path, &token, None)
        .await?;
    assert_eq!(got.json()?["id"], id.as_str());
    let list = app
        .api_ssws(
            reqwest::Method::GET,
            "/api/v1/trustedOrigins?limit=1",
            &token,
            None,
        )
        .await?;
    assert_eq!(list.json()?.as_array().map(Vec::len), Some(1));
    let replaced = app
        .api_ssws(
            reqwest::Method::PUT,
            &path,
            &token,
            Some(&json!({"name": "OM", "origin": origin, "scopes": [{"type": "REDIRECT"}]})),
        )
        .await?;
    ensure!(replaced.status == StatusCode::OK, "{replaced:?}");
    assert_eq!(replaced.json()?["scopes"], json!([{"type": "REDIRECT"}]));
    ensure!(preflight(&app, &token_url, origin, "POST").await?.status == StatusCode::FORBIDDEN);
    app.api_ssws(
        reqwest::Method::PUT,
        &path,
        &token,
        Some(&json!({"name": "OM", "origin": origin, "scopes": [{"type": "CORS"}]})),
    )
    .await?;
    ensure!(preflight(&app, &token_url, origin, "POST").await?.status == StatusCode::NO_CONTENT);
    let off = app
        .api_ssws(
            reqwest::Method::POST,
            &format!("{path}/lifecycle/deactivate"),
            &token,
            None,
        )
        .await?;
    assert_eq!(off.json()?["status"], "INACTIVE", "{off:?}");
    ensure!(preflight(&app, &token_url, origin, "POST").await?.status == StatusCode::FORBIDDEN);
    let on = app
        .api_ssws(
            reqwest::Method::POST,
            &format!("{path}/lifecycle/activate"),
            &token,
            None,
        )
        .await?;
    assert_eq!(on.json()?["status"], "ACTIVE");
    ensure!(preflight(&app, &token_url, origin, "POST").await?.status == StatusCode::NO_CONTENT);
    let deleted = app
        .api_ssws(reqwest::Method::DELETE, &path, &token, None)
        .await?;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let missing = app
        .api_ssws(reqwest::Method::GET, &path, &token, None)
        .await?;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()?["errorCode"], "E0000007");
    ensure!(preflight(&app, &token_url, origin, "POST").await?.status == StatusCode::FORBIDDEN);
    // SSWS only.
    let anonymous = Reply::read(
        http_client()?
            .get(format!("{}/api/v1/trustedOrigins", app.base))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    Ok(())
}
