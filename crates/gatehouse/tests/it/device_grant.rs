//! RFC 8628, the device authorization grant, as Okta serves it: `/v1/device/authorize`, the
//! hosted `/activate` page (code, sign-in, approve or deny) and the token endpoint's
//! `authorization_pending`, `slow_down`, `access_denied`, `expired_token` and tokens.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::domain::{ApplicationType, TokenEndpointAuthMethod};
use gatehouse_core::services::apps::{CreatedApp, NewOidcApp, create_oidc_app};
use gatehouse_core::services::system_log::Actor;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::console::{admin_browser, page_with_csrf};
use crate::helpers::{
    Auth, Browser, PASSWORD, REDIRECT_URI, Reply, Server, TestApp, Tokens, hidden_input,
    http_client, jwt_parts, spawn_app,
};

const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

backend_tests!(
    device_flow_issues_tokens_once,
    polling_faster_than_the_interval_slows_down,
    one_of_ten_concurrent_polls_redeems,
    guessed_user_codes_are_throttled,
    denied_device_gets_access_denied,
    device_codes_expire,
    clients_without_the_grant_are_refused,
    policy_rules_must_allow_the_device_grant,
    apps_may_register_the_device_grant,
    console_app_form_offers_the_device_grant,
);

/// A public native app with the device grant (and refresh), assigned to Everyone.
pub(crate) async fn device_app(app: &TestApp) -> Result<CreatedApp> {
    let created = create_oidc_app(
        &app.provider,
        &Actor::system(),
        NewOidcApp {
            label: "Living Room TV".into(),
            application_type: ApplicationType::Native,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grant_types: vec![DEVICE_CODE.into(), "refresh_token".into()],
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::None),
            initiate_login_uri: None,
            login_mode: None,
        },
    )
    .await?;
    app.assign_everyone(&created).await?;
    Ok(created)
}

pub(crate) struct Started {
    pub device_code: String,
    pub user_code: String,
    body: Value,
}

pub(crate) async fn start(
    app: &TestApp,
    server: Server,
    client_id: &str,
    scope: &str,
) -> Result<Started> {
    let reply = app
        .post_form(
            server,
            "device/authorize",
            &[("scope", scope)],
            Auth::Public(client_id),
        )
        .await?;
    ensure!(
        reply.status == StatusCode::OK,
        "device/authorize: {reply:?}"
    );
    ensure!(
        reply.header("cache-control") == Some("no-store"),
        "{reply:?}"
    );
    let body = reply.json()?;
    let field = |k: &str| -> Result<String> {
        Ok(body[k]
            .as_str()
            .with_context(|| format!("no {k}: {body}"))?
            .to_owned())
    };
    Ok(Started {
        device_code: field("device_code")?,
        user_code: field("user_code")?,
        body: body.clone(),
    })
}

pub(crate) async fn poll(
    app: &TestApp,
    server: Server,
    client_id: &str,
    device_code: &str,
) -> Result<Reply> {
    app.token(
        server,
        &[("grant_type", DEVICE_CODE), ("device_code", device_code)],
        Auth::Public(client_id),
    )
    .await
}

/// A form on a page: its hidden CSRF field.
fn csrf(page: &Reply) -> Result<String> {
    hidden_input(&page.body, "csrf").with_context(|| format!("no csrf field: {page:?}"))
}

/// Plays the user at `/activate`: opens the page, enters the code, signs in on the hosted
/// form, and answers. Returns the final page.
pub(crate) async fn activate(app: &TestApp, user_code: &str, approve: bool) -> Result<Reply> {
    let browser = Browser::new()?;
    let url = format!("{}/activate", app.base);
    let page = browser.get(&url).await?;
    ensure!(page.status == StatusCode::OK, "{page:?}");
    let entered = browser
        .post_form(&url, &[("csrf", &csrf(&page)?), ("user_code", user_code)])
        .await?;
    ensure!(
        entered.status == StatusCode::SEE_OTHER,
        "code step: {entered:?}"
    );
    let to_login = entered
        .header("location")
        .context("no location")?
        .to_owned();
    ensure!(
        to_login.starts_with("/login/login.htm?fromURI="),
        "{to_login}"
    );
    let login = browser.get(&format!("{}{to_login}", app.base)).await?;
    ensure!(login.status == StatusCode::OK, "{login:?}");
    let from = hidden_input(&login.body, "fromURI").context("no fromURI")?;
    let signed_in = browser
        .post_form(
            &format!("{}/login/login.htm", app.base),
            &[
                ("fromURI", &from),
                ("csrf", &csrf(&login)?),
                ("username", &app.alice.login),
                ("password", PASSWORD),
            ],
        )
        .await?;
    ensure!(signed_in.status == StatusCode::SEE_OTHER, "{signed_in:?}");
    let back = signed_in
        .header("location")
        .context("no location")?
        .to_owned();
    ensure!(back.starts_with("/activate?user_code="), "{back}");
    let confirm = browser.get(&format!("{}{back}", app.base)).await?;
    ensure!(
        confirm.status == StatusCode::OK && confirm.body.contains("activate-approve"),
        "no confirmation: {confirm:?}"
    );
    ensure!(confirm.body.contains("Living Room TV"), "{confirm:?}");
    let decision = if approve { "approve" } else { "deny" };
    // Without the CSRF token the answer is refused.
    let forged = browser
        .post_form(&url, &[("user_code", user_code), ("decision", decision)])
        .await?;
    ensure!(forged.status == StatusCode::FORBIDDEN, "{forged:?}");
    browser
        .post_form(
            &url,
            &[
                ("csrf", &csrf(&confirm)?),
                ("user_code", user_code),
                ("decision", decision),
            ],
        )
        .await
}

async fn device_flow_issues_tokens_once(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let tv = device_app(&app).await?;
    let client = tv.app.client_id.as_str();
    let doc = app
        .get(&format!("{}/.well-known/openid-configuration", app.base))
        .await?
        .json()?;
    ensure!(
        doc["device_authorization_endpoint"]
            == json!(format!("{}/oauth2/v1/device/authorize", app.base)),
        "{doc}"
    );
    let s = start(&app, Server::Org, client, "openid profile offline_access").await?;
    ensure!(
        s.body["verification_uri"] == json!(format!("{}/activate", app.base))
            && s.body["verification_uri_complete"]
                == json!(format!("{}/activate?user_code={}", app.base, s.user_code))
            && s.body["expires_in"] == 600
            && s.body["interval"] == 5,
        "{}",
        s.body
    );
    let code = &s.user_code;
    ensure!(
        code.len() == 9
            && code.as_bytes()[4] == b'-'
            && code
                .chars()
                .filter(|c| *c != '-')
                .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{code}"
    );
    poll(&app, Server::Org, client, &s.device_code)
        .await?
        .expect_oauth_error(400, "authorization_pending")?;
    let done = activate(&app, &s.user_code, true).await?;
    ensure!(
        done.status == StatusCode::OK && done.body.contains("Device activated"),
        "{done:?}"
    );
    app.clock.advance(5);
    let tokens = Tokens::from_reply(poll(&app, Server::Org, client, &s.device_code).await?)?;
    let (_, id) = jwt_parts(tokens.id_token()?)?;
    ensure!(
        id["aud"] == client && id["sub"] == json!(app.alice.id),
        "{id}"
    );
    let refresh = tokens
        .refresh_token
        .clone()
        .context("offline_access gives a refresh token")?;
    // Redeemed once: the next poll gets nothing.
    app.clock.advance(5);
    poll(&app, Server::Org, client, &s.device_code)
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
    // The refresh token works for the public client.
    let refreshed = app
        .refresh(Server::Org, &refresh, None, Auth::Public(client))
        .await?;
    ensure!(refreshed.status == StatusCode::OK, "{refreshed:?}");
    // The used user code is no good at /activate any more.
    let browser = Browser::new()?;
    let url = format!("{}/activate", app.base);
    let page = browser.get(&url).await?;
    let again = browser
        .post_form(
            &url,
            &[("csrf", &csrf(&page)?), ("user_code", &s.user_code)],
        )
        .await?;
    ensure!(again.status == StatusCode::BAD_REQUEST, "{again:?}");
    Ok(())
}

async fn polling_faster_than_the_interval_slows_down(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let tv = device_app(&app).await?;
    let client = tv.app.client_id.as_str();
    let s = start(&app, Server::Org, client, "openid").await?;
    poll(&app, Server::Org, client, &s.device_code)
        .await?
        .expect_oauth_error(400, "authorization_pending")?;
    app.clock.advance(2);
    poll(&app, Server::Org, client, &s.device_code)
        .await?
        .expect_oauth_error(400, "slow_down")?;
    // The interval grew to 10 seconds: 5 later is still too fast, 10 later is not.
    app.clock.advance(5);
    poll(&app, Server::Org, client, &s.device_code)
        .await?
        .expect_oauth_error(400, "slow_down")?;
    app.clock.advance(15);
    poll(&app, Server::Org, client, &s.device_code)
        .await?
        .expect_oauth_error(400, "authorization_pending")?;
    Ok(())
}

async fn one_of_ten_concurrent_polls_redeems(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let tv = device_app(&app).await?;
    let client = tv.app.client_id.clone();
    let s = start(&app, Server::Org, &client, "openid offline_access").await?;
    let done = activate(&app, &s.user_code, true).await?;
    ensure!(done.status == StatusCode::OK, "{done:?}");
    app.clock.advance(5);
    let url = app.endpoint(Server::Org, "token");
    let mut polls = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (url, client, code) = (url.clone(), client.clone(), s.device_code.clone());
        polls.spawn(async move {
            let form = [
                ("grant_type", DEVICE_CODE),
                ("client_id", client.as_str()),
                ("device_code", code.as_str()),
            ];
            Reply::read(http_client()?.post(url).form(&form).send().await?).await
        });
    }
    let mut ok = 0;
    while let Some(reply) = polls.join_next().await {
        let reply = reply??;
        if reply.status == StatusCode::OK {
            ok += 1;
        } else {
            let code = reply.oauth_error().unwrap_or_default();
            ensure!(
                reply.status == StatusCode::BAD_REQUEST
                    && (code == "slow_down" || code == "invalid_grant"),
                "{reply:?}"
            );
        }
    }
    ensure!(ok == 1, "{ok} polls got tokens");
    Ok(())
}

async fn guessed_user_codes_are_throttled(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let tv = device_app(&app).await?;
    let s = start(&app, Server::Org, &tv.app.client_id, "openid").await?;
    let browser = Browser::new()?;
    let url = format!("{}/activate", app.base);
    for guess in [
        "BCDF-GHJK",
        "XXXX-XXXX",
        "not a code",
        "BCDFGHJKL",
        "ZZZZ-ZZZZ",
    ] {
        let page = browser.get(&url).await?;
        let reply = browser
            .post_form(&url, &[("csrf", &csrf(&page)?), ("user_code", guess)])
            .await?;
        ensure!(
            reply.status == StatusCode::BAD_REQUEST,
            "{guess}: {reply:?}"
        );
        ensure!(reply.body.contains("activate-error"), "{reply:?}");
    }
    // The budget is spent: even the right code is refused from this address for now.
    let page = browser.get(&url).await?;
    let reply = browser
        .post_form(
            &url,
            &[("csrf", &csrf(&page)?), ("user_code", &s.user_code)],
        )
        .await?;
    ensure!(reply.status == StatusCode::TOO_MANY_REQUESTS, "{reply:?}");
    ensure!(reply.header("retry-after").is_some(), "{reply:?}");
    // A forged form (no CSRF cookie/field pair) is refused before any lookup.
    let forged = Browser::new()?
        .post_form(&url, &[("csrf", "made-up"), ("user_code", &s.user_code)])
        .await?;
    ensure!(forged.status == StatusCode::FORBIDDEN, "{forged:?}");
    Ok(())
}

async fn denied_device_gets_access_denied(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let tv = device_app(&app).await?;
    let client = tv.app.client_id.as_str();
    let s = start(&app, Server::Org, client, "openid").await?;
    let done = activate(&app, &s.user_code, false).await?;
    ensure!(
        done.status == StatusCode::OK && done.body.contains("Device not activated"),
        "{done:?}"
    );
    app.clock.advance(5);
    poll(&app, Server::Org, client, &s.device_code)
        .await?
        .expect_oauth_error(400, "access_denied")?;
    Ok(())
}

async fn device_codes_expire(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let tv = device_app(&app).await?;
    let client = tv.app.client_id.as_str();
    let s = start(&app, Server::Org, client, "openid").await?;
    app.clock.advance(601);
    poll(&app, Server::Org, client, &s.device_code)
        .await?
        .expect_oauth_error(400, "expired_token")?;
    let browser = Browser::new()?;
    let url = format!("{}/activate", app.base);
    let page = browser.get(&url).await?;
    let reply = browser
        .post_form(
            &url,
            &[("csrf", &csrf(&page)?), ("user_code", &s.user_code)],
        )
        .await?;
    ensure!(reply.status == StatusCode::BAD_REQUEST, "{reply:?}");
    // An approved code that expires before it is redeemed yields nothing either.
    let s = start(&app, Server::Org, client, "openid").await?;
    activate(&app, &s.user_code, true).await?;
    app.clock.advance(601);
    poll(&app, Server::Org, client, &s.device_code)
        .await?
        .expect_oauth_error(400, "expired_token")?;
    Ok(())
}

async fn clients_without_the_grant_are_refused(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    // The seeded web app has authorization_code and refresh_token only.
    app.post_form(
        Server::Org,
        "device/authorize",
        &[("scope", "openid")],
        app.basic(),
    )
    .await?
    .expect_oauth_error(400, "unauthorized_client")?;
    let tv = device_app(&app).await?;
    let s = start(&app, Server::Org, &tv.app.client_id, "openid").await?;
    app.token(
        Server::Org,
        &[("grant_type", DEVICE_CODE), ("device_code", &s.device_code)],
        app.basic(),
    )
    .await?
    .expect_oauth_error(400, "unauthorized_client")?;
    // Another client that has the grant cannot poll this client's code.
    let other = device_app(&app).await?;
    poll(&app, Server::Org, &other.app.client_id, &s.device_code)
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
    // Bad scopes and a wrong secret.
    app.post_form(
        Server::Org,
        "device/authorize",
        &[("scope", "openid nonsense")],
        Auth::Public(&tv.app.client_id),
    )
    .await?
    .expect_oauth_error(400, "invalid_scope")?;
    app.post_form(
        Server::Org,
        "device/authorize",
        &[("scope", "openid")],
        Auth::Basic(app.client_id(), "wrong secret"),
    )
    .await?
    .expect_oauth_error(401, "invalid_client")?;
    Ok(())
}

async fn policy_rules_must_allow_the_device_grant(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let tv = device_app(&app).await?;
    let client = tv.app.client_id.as_str();
    // The default server's default rule allows authorization_code and client_credentials only.
    let s = start(&app, Server::Default, client, "openid").await?;
    let refused = activate(&app, &s.user_code, true).await?;
    ensure!(refused.status == StatusCode::FORBIDDEN, "{refused:?}");
    app.clock.advance(5);
    poll(&app, Server::Default, client, &s.device_code)
        .await?
        .expect_oauth_error(400, "access_denied")?;

    let ssws = app.api_token().await?;
    let base = "/api/v1/authorizationServers/default/policies";
    let policies = app.api_ssws(Method::GET, base, &ssws, None).await?.json()?;
    let pid = policies[0]["id"].as_str().context("policy id")?;
    let rules = app
        .api_ssws(Method::GET, &format!("{base}/{pid}/rules"), &ssws, None)
        .await?
        .json()?;
    let rid = rules[0]["id"].as_str().context("rule id")?;
    let rule = json!({
        "type": "RESOURCE_ACCESS", "name": "Default Policy Rule", "priority": 1,
        "conditions": {
            "people": {"users": {"include": [], "exclude": []}, "groups": {"include": ["EVERYONE"], "exclude": []}},
            "grantTypes": {"include": [DEVICE_CODE]},
            "scopes": {"include": ["*"]},
        },
        "actions": {"token": {"accessTokenLifetimeMinutes": 60, "refreshTokenLifetimeMinutes": 0, "refreshTokenWindowMinutes": 10080}},
    });
    let put = app
        .api_ssws(
            Method::PUT,
            &format!("{base}/{pid}/rules/{rid}"),
            &ssws,
            Some(&rule),
        )
        .await?;
    ensure!(put.status == StatusCode::OK, "{put:?}");

    let s = start(&app, Server::Default, client, "openid offline_access").await?;
    let done = activate(&app, &s.user_code, true).await?;
    ensure!(done.status == StatusCode::OK, "{done:?}");
    app.clock.advance(5);
    let tokens = Tokens::from_reply(poll(&app, Server::Default, client, &s.device_code).await?)?;
    let (_, at) = jwt_parts(&tokens.access_token)?;
    ensure!(at["iss"] == json!(app.issuer(Server::Default)), "{at}");
    // The rule allows only the device grant: its refreshes are decided as the device grant
    // (a code exchange's refreshes stay decided as authorization_code, refused here).
    let refresh = tokens
        .refresh_token
        .context("offline_access gives a refresh token")?;
    let refreshed = app
        .refresh(Server::Default, &refresh, None, Auth::Public(client))
        .await?;
    ensure!(refreshed.status == StatusCode::OK, "{refreshed:?}");
    Ok(())
}

async fn apps_may_register_the_device_grant(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let body = |kind: &str, method: &str| {
        json!({
            "name": "oidc_client", "label": "Device", "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": method}},
            "settings": {"oauthClient": {"application_type": kind, "grant_types": [DEVICE_CODE]}},
        })
    };
    let native = app
        .api_ssws(
            Method::POST,
            "/api/v1/apps",
            &ssws,
            Some(&body("native", "none")),
        )
        .await?;
    ensure!(native.status == StatusCode::OK, "{native:?}");
    ensure!(
        native.json()?["settings"]["oauthClient"]["grant_types"] == json!([DEVICE_CODE]),
        "{native:?}"
    );
    let browser = app
        .api_ssws(
            Method::POST,
            "/api/v1/apps",
            &ssws,
            Some(&body("browser", "none")),
        )
        .await?;
    ensure!(browser.status == StatusCode::BAD_REQUEST, "{browser:?}");
    // Dynamic client registration takes it too.
    let dcr = app
        .api(
            Method::POST,
            "/oauth2/v1/clients",
            Some(&format!("SSWS {ssws}")),
            Some(&json!({
                "client_name": "Kiosk", "application_type": "native",
                "token_endpoint_auth_method": "none", "grant_types": [DEVICE_CODE],
            })),
        )
        .await?;
    ensure!(dcr.status == StatusCode::CREATED, "{dcr:?}");
    Ok(())
}

async fn console_app_form_offers_the_device_grant(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let admin = admin_browser(&app).await?;
    let id = app.web.app.id.clone();
    let path = format!("/admin/app/oidc_client/instance/{id}/");
    let (page, csrf) = page_with_csrf(&app, &admin, &path).await?;
    ensure!(
        page.body.contains("name=\"grant_device_code\"")
            && page.body.contains("Device Authorization"),
        "the web app's General tab has no device grant box"
    );
    let save = |csrf: String, device: bool| {
        let admin = &admin;
        let url = format!("{}{path}general", app.base);
        async move {
            let mut form = vec![
                ("csrf", csrf.as_str()),
                ("label", "Web App"),
                ("grant_authorization_code", "1"),
                ("redirect_uris", REDIRECT_URI),
                ("login_mode", "DISABLED"),
            ];
            if device {
                form.push(("grant_device_code", "1"));
            }
            admin.post_form(&url, &form).await
        }
    };
    let saved = save(csrf, true).await?;
    ensure!(saved.status == StatusCode::SEE_OTHER, "{saved:?}");
    let stored = app.provider.store.find_app(&id).await?.context("app")?;
    ensure!(
        stored.settings.grant_types == ["authorization_code", DEVICE_CODE],
        "{:?}",
        stored.settings.grant_types
    );
    let (_, csrf) = page_with_csrf(&app, &admin, &path).await?;
    let saved = save(csrf, false).await?;
    ensure!(saved.status == StatusCode::SEE_OTHER, "{saved:?}");
    let stored = app.provider.store.find_app(&id).await?.context("app")?;
    ensure!(
        stored.settings.grant_types == ["authorization_code"],
        "{:?}",
        stored.settings.grant_types
    );
    Ok(())
}
