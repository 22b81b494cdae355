//! Sign-on policies enforced where sessions are opened or reused (issue 19): `DENY` rules on
//! the hosted sign-in, single sign-on, `/api/v1/authn` and the console (each logged as
//! `policy.evaluate_sign_on`), an app's 2FA rule stepping up a password-only session (with
//! the enrollment a person without a factor needs), `reauthenticateIn`, `acr_values`,
//! `max_age`, and "remember this device" (bounded, revoked by a factor reset).

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::services::mfa::totp;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Browser, PASSWORD, Reply, Server, TestApp, hidden_input, spawn_app};
use crate::mfa_totp::{
    code_claims, code_now, enroll_alice, id_token_amr, id_token_claims, password_then_factor_page,
};

backend_tests!(
    deny_rule_refuses_every_sign_in,
    app_access_policy_deny,
    app_2fa_steps_up_then_reauthenticates,
    acr_values_and_max_age,
    remembered_device_skips_the_factor_until_reset,
    device_activation_follows_the_app_policy,
);

async fn ok(app: &TestApp, token: &str, method: Method, path: &str, body: Value) -> Result<Value> {
    let r = app.api_ssws(method, path, token, Some(&body)).await?;
    ensure!(r.status == StatusCode::OK, "{path}: {r:?}");
    r.json()
}

/// A policy through `/api/v1/policies` with one rule; returns the policy's id.
async fn policy_with_rule(
    app: &TestApp,
    token: &str,
    policy: Value,
    rule: Value,
) -> Result<String> {
    let p = ok(app, token, Method::POST, "/api/v1/policies", policy).await?;
    let id = p["id"].as_str().context("policy id")?.to_owned();
    ok(
        app,
        token,
        Method::POST,
        &format!("/api/v1/policies/{id}/rules"),
        rule,
    )
    .await?;
    Ok(id)
}

/// An access policy with `rule`, assigned to the seeded web app.
async fn app_policy(app: &TestApp, token: &str, rule: Value) -> Result<String> {
    let body = json!({"type": "ACCESS_POLICY", "name": "web app"});
    let id = policy_with_rule(app, token, body, rule).await?;
    let path = format!("/api/v1/apps/{}/policies/{id}", app.web.app.id);
    let put = app.api_ssws(Method::PUT, &path, token, None).await?;
    ensure!(put.status == StatusCode::NO_CONTENT, "{put:?}");
    Ok(id)
}

async fn denials(app: &TestApp, token: &str) -> Result<Vec<Value>> {
    let path = "/api/v1/logs?filter=eventType%20eq%20%22policy.evaluate_sign_on%22&limit=100";
    let r = app.api_ssws(Method::GET, path, token, None).await?;
    ensure!(r.status == StatusCode::OK, "{r:?}");
    Ok(r.json()?.as_array().cloned().unwrap_or_default())
}

async fn console_sign_in(app: &TestApp, browser: &Browser, login: &str) -> Result<Reply> {
    let form = browser
        .get(&format!(
            "{}/login/login.htm?fromURI=/app/UserHome",
            app.base
        ))
        .await?;
    let csrf = hidden_input(&form.body, "csrf").context("csrf")?;
    browser
        .post_form(
            &format!("{}/login/login.htm", app.base),
            &[
                ("csrf", csrf.as_str()),
                ("fromURI", "/app/UserHome"),
                ("username", login),
                ("password", PASSWORD),
            ],
        )
        .await
}

async fn deny_rule_refuses_every_sign_in(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let bob = app.create_user("bob@example.com").await?;
    // A session opened before the rule existed.
    let (before, _) = app.sign_in_with(&app.authz(Server::Org)).await?;
    let blocked = app.create_group_with("Blocked", &[&app.alice]).await?;
    policy_with_rule(
        &app,
        &token,
        json!({"type": "OKTA_SIGN_ON", "name": "Blocked",
               "conditions": {"people": {"groups": {"include": [blocked.id]}}}}),
        json!({"type": "SIGN_ON", "name": "Deny", "actions": {"signon": {"access": "DENY"}}}),
    )
    .await?;

    // The hosted sign-in: the right password, then access_denied back to the app, no session.
    let browser = Browser::new()?;
    let form = browser.open_login(&app.authz(Server::Org).url()).await?;
    let reply = browser.submit(&form, &app.alice.login, PASSWORD).await?;
    ensure!(reply.status == StatusCode::FOUND, "{reply:?}");
    ensure!(reply.set_cookie("gh_sid").is_none(), "{reply:?}");
    let callback = crate::helpers::Callback {
        url: reply.location().context("Location")?,
    };
    callback.expect_error("access_denied")?;

    // Single sign-on with the earlier session: refused too.
    let sso = before
        .authorize_redirect(&app.authz(Server::Org).url())
        .await?;
    sso.expect_error("access_denied")?;

    // Okta's classic authn: the wrong-password answer, no sessionToken.
    let authn = app
        .api(
            Method::POST,
            "/api/v1/authn",
            None,
            Some(&json!({"username": app.alice.login, "password": PASSWORD})),
        )
        .await?;
    ensure!(authn.status == StatusCode::UNAUTHORIZED, "{authn:?}");
    ensure!(authn.json()?["errorCode"] == "E0000004", "{authn:?}");

    // The console's sign-in page says why.
    let page = console_sign_in(&app, &Browser::new()?, &app.alice.login).await?;
    ensure!(page.status == StatusCode::FORBIDDEN, "{page:?}");
    ensure!(page.body.contains("Policy evaluation failed"), "{page:?}");
    ensure!(page.set_cookie("gh_sid").is_none(), "{page:?}");

    // Each refusal is in the System Log, with the policy's decision.
    let events = denials(&app, &token).await?;
    ensure!(events.len() == 4, "{events:?}");
    for e in &events {
        ensure!(e["outcome"]["result"] == "DENY", "{e}");
        ensure!(e["actor"]["id"] == app.alice.id.as_str(), "{e}");
    }

    // Someone outside the group signs in as before.
    let other = Browser::new()?;
    let cb = other
        .sign_in(&app.authz(Server::Org).url(), &bob.login, PASSWORD)
        .await?;
    cb.code()?;
    Ok(())
}

async fn app_access_policy_deny(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    app_policy(
        &app,
        &token,
        json!({"type": "ACCESS_POLICY", "name": "No one",
               "actions": {"appSignOn": {"access": "DENY"}}}),
    )
    .await?;
    let browser = Browser::new()?;
    let form = browser.open_login(&app.authz(Server::Org).url()).await?;
    let reply = browser.submit(&form, &app.alice.login, PASSWORD).await?;
    let callback = crate::helpers::Callback {
        url: reply.location().context("Location")?,
    };
    callback.expect_error("access_denied")?;
    // The app's policy does not apply to the org's own pages.
    let page = console_sign_in(&app, &Browser::new()?, &app.alice.login).await?;
    ensure!(page.status == StatusCode::SEE_OTHER, "{page:?}");
    ensure!(denials(&app, &token).await?.len() == 1);
    Ok(())
}

/// On the enrollment page: reads the key, answers with its current code, continues past the
/// recovery codes; returns the redirect and the key.
async fn enroll_on_page(
    app: &TestApp,
    browser: &Browser,
    page: &Reply,
) -> Result<(Reply, Vec<u8>)> {
    ensure!(
        page.body.contains("Set up two-step verification"),
        "{page:?}"
    );
    let start = page.body.find("id=\"totp-secret\">").context("no key")? + 17;
    let end = start + page.body[start..].find('<').context("key end")?;
    let secret = totp::from_base32(&page.body[start..end]).context("base32 key")?;
    let pending = hidden_input(&page.body, "pending").context("pending")?;
    let csrf = hidden_input(&page.body, "csrf").context("csrf")?;
    let url = format!("{}/login/factor", app.base);
    let code = code_now(app, &secret, 0);
    let codes = browser
        .post_form(
            &url,
            &[
                ("pending", &pending),
                ("csrf", &csrf),
                ("action", "enroll"),
                ("code", &code),
            ],
        )
        .await?;
    ensure!(codes.status == StatusCode::OK, "{codes:?}");
    let done = browser
        .post_form(
            &url,
            &[
                ("pending", &pending),
                ("csrf", &csrf),
                ("action", "continue"),
            ],
        )
        .await?;
    ensure!(done.status == StatusCode::FOUND, "{done:?}");
    Ok((done, secret))
}

async fn app_2fa_steps_up_then_reauthenticates(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    // A password-only session, then the app's policy asks for 2FA, every 30 minutes.
    let (browser, first) = app.sign_in_with(&app.authz(Server::Org)).await?;
    first.code()?;
    app_policy(
        &app,
        &token,
        json!({"type": "ACCESS_POLICY", "name": "2FA",
               "actions": {"appSignOn": {"access": "ALLOW", "verificationMethod":
                   {"factorMode": "2FA", "reauthenticateIn": "PT30M"}}}}),
    )
    .await?;
    // Step-up: no password again; alice has no factor, so she enrolls one.
    let page = browser.get(&app.authz(Server::Org).url()).await?;
    ensure!(
        page.status == StatusCode::OK && page.login_form().is_none(),
        "{page:?}"
    );
    let (done, _) = enroll_on_page(&app, &browser, &page).await?;
    ensure!(
        done.set_cookie("gh_sid").is_none(),
        "the same session: {done:?}"
    );
    let amr = id_token_amr(&app, &done).await?;
    ensure!(amr == ["pwd", "otp", "mfa"], "{amr:?}");
    // Within the interval the session is reused.
    app.clock.advance(20 * 60);
    browser
        .authorize_redirect(&app.authz(Server::Org).url())
        .await?
        .code()?;
    // Past it: the password again (and prompt=none says login_required).
    app.clock.advance(11 * 60);
    let again = browser.get(&app.authz(Server::Org).url()).await?;
    ensure!(again.login_form().is_some(), "{again:?}");
    let none = browser
        .authorize_redirect(&app.authz(Server::Org).set("prompt", "none").url())
        .await?;
    none.expect_error("login_required")?;
    Ok(())
}

async fn acr_values_and_max_age(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let (browser, _) = app.sign_in_with(&app.authz(Server::Org)).await?;
    let authz = || app.authz(Server::Org);
    // One factor asked for: this password-only session is stepped up (enrollment first).
    let two = browser
        .get(&authz().set("acr_values", "urn:okta:loa:2fa:any").url())
        .await?;
    ensure!(two.status == StatusCode::OK, "{two:?}");
    ensure!(two.body.contains("Set up two-step verification"), "{two:?}");
    // One factor is enough: single sign-on, and the ID token says what was met (Okta's
    // `acr`): the password alone.
    for acr in ["urn:okta:loa:1fa:any", "urn:okta:loa:2fa:any:ifpossible"] {
        let callback = browser
            .authorize_redirect(&authz().set("acr_values", acr).url())
            .await?;
        let claims = code_claims(&app, &callback.code()?).await?;
        ensure!(claims["acr"] == "urn:okta:loa:1fa:pwd", "{acr}: {claims}");
    }
    // Not asked for (or only in another vocabulary) and no second factor: no `acr`, as Okta.
    for request in [authz(), authz().set("acr_values", "1 2")] {
        let callback = browser.authorize_redirect(&request.url()).await?;
        let claims = code_claims(&app, &callback.code()?).await?;
        ensure!(claims.get("acr").is_none(), "{claims}");
    }
    // max_age: a session older than it signs in again; a younger one is reused.
    app.clock.advance(120);
    let old = browser.get(&authz().set("max_age", "60").url()).await?;
    ensure!(old.login_form().is_some(), "{old:?}");
    browser
        .authorize_redirect(&authz().set("max_age", "600").url())
        .await?
        .code()?;
    // Both: a fresh password, then the factor.
    let form = browser
        .open_login(
            &authz()
                .set("max_age", "60")
                .set("acr_values", "urn:okta:loa:2fa:any")
                .url(),
        )
        .await?;
    let page = browser.submit(&form, &app.alice.login, PASSWORD).await?;
    let (done, _) = enroll_on_page(&app, &browser, &page).await?;
    let claims = id_token_claims(&app, &done).await?;
    let amr = claims["amr"].as_array().context("amr")?;
    ensure!(
        amr.contains(&json!("otp")) && amr.contains(&json!("mfa")),
        "{claims}"
    );
    ensure!(claims["acr"] == "urn:okta:loa:2fa:any", "{claims}");
    // The factor was given, so even a request without acr_values gets `acr` (single sign-on
    // on the stepped-up session).
    let sso = browser.authorize_redirect(&authz().url()).await?;
    let claims = code_claims(&app, &sso.code()?).await?;
    ensure!(claims["acr"] == "urn:okta:loa:2fa:any", "{claims}");
    Ok(())
}

/// Signs in with password and code on a fresh browser, ticking "remember this device";
/// returns the device cookie.
async fn sign_in_remembering(app: &TestApp, secret: &[u8]) -> Result<String> {
    let browser = Browser::new()?;
    let page = password_then_factor_page(app, &browser).await?;
    // `rememberDeviceByDefault`: the box starts checked.
    ensure!(
        page.body
            .contains("id=\"remember-device\" checked> Remember this device"),
        "{page:?}"
    );
    let field = |n| hidden_input(&page.body, n).context("hidden field");
    let (pending, csrf, factor) = (field("pending")?, field("csrf")?, field("factor_id")?);
    let code = code_now(app, secret, 0);
    let done = browser
        .post_form(
            &format!("{}/login/factor", app.base),
            &[
                ("pending", pending.as_str()),
                ("csrf", &csrf),
                ("action", "totp"),
                ("factor_id", &factor),
                ("code", &code),
                ("remember", "1"),
            ],
        )
        .await?;
    ensure!(done.status == StatusCode::FOUND, "{done:?}");
    app.clock.advance(totp::STEP_SECONDS);
    done.set_cookie("gh_device")
        .filter(|c| !c.is_empty())
        .with_context(|| format!("no gh_device cookie: {done:?}"))
}

/// A fresh browser carrying only `device`: whether the password alone signs alice in.
async fn remembered(app: &TestApp, device: &str) -> Result<bool> {
    let browser = Browser::new()?;
    let url = reqwest::Url::parse(&app.base)?;
    browser
        .jar
        .add_cookie_str(&format!("gh_device={device}; Path=/"), &url);
    let form = browser.open_login(&app.authz(Server::Org).url()).await?;
    let reply = browser.submit(&form, &app.alice.login, PASSWORD).await?;
    match reply.status {
        StatusCode::FOUND => Ok(true),
        StatusCode::OK if reply.body.contains("Verify it") => Ok(false),
        _ => anyhow::bail!("neither signed in nor asked for a factor: {reply:?}"),
    }
}

async fn remembered_device_skips_the_factor_until_reset(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let (factor_id, secret) = enroll_alice(&app, &token).await?;
    // Everyone: a factor, once per device for an hour.
    policy_with_rule(
        &app,
        &token,
        json!({"type": "OKTA_SIGN_ON", "name": "MFA per device"}),
        json!({"type": "SIGN_ON", "name": "MFA", "actions": {"signon": {"access": "ALLOW",
            "requireFactor": true, "factorPromptMode": "DEVICE", "factorLifetime": 60,
            "rememberDeviceByDefault": true}}}),
    )
    .await?;
    let device = sign_in_remembering(&app, &secret).await?;
    ensure!(remembered(&app, &device).await?, "the remembered device");
    ensure!(!remembered(&app, "garbage").await?, "a made-up cookie");
    let forged = format!(
        "{}.{}",
        app.alice.id,
        device.rsplit_once('.').context("mac")?.1
    );
    ensure!(
        !remembered(&app, &forged).await?,
        "a cookie with its time cut off"
    );
    // The lifetime is the policy's: an hour later the factor is asked again.
    app.clock.advance(61 * 60);
    ensure!(!remembered(&app, &device).await?, "past factorLifetime");

    // A factor reset forgets every remembered device.
    let device = sign_in_remembering(&app, &secret).await?;
    ensure!(remembered(&app, &device).await?);
    let path = format!("/api/v1/users/{}/factors/{factor_id}", app.alice.id);
    let reset = app.api_ssws(Method::DELETE, &path, &token, None).await?;
    ensure!(reset.status == StatusCode::NO_CONTENT, "{reset:?}");
    enroll_alice(&app, &token).await?;
    ensure!(!remembered(&app, &device).await?, "after the reset");
    Ok(())
}

async fn device_activation_follows_the_app_policy(backend: Backend) -> Result<()> {
    use crate::device_grant::{activate, device_app, poll, start};
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let tv = device_app(&app).await?;
    let client = tv.app.client_id.as_str();
    let body = json!({"type": "ACCESS_POLICY", "name": "TV"});
    let rule = json!({"type": "ACCESS_POLICY", "name": "No TV",
        "actions": {"appSignOn": {"access": "DENY"}}});
    let id = policy_with_rule(&app, &token, body, rule).await?;
    let path = format!("/api/v1/apps/{}/policies/{id}", tv.app.id);
    let put = app.api_ssws(Method::PUT, &path, &token, None).await?;
    ensure!(put.status == StatusCode::NO_CONTENT, "{put:?}");
    let s = start(&app, Server::Org, client, "openid").await?;
    let done = activate(&app, &s.user_code, true).await?;
    ensure!(
        done.body.contains("Policy evaluation failed"),
        "the approval is refused: {done:?}"
    );
    app.clock.advance(5);
    poll(&app, Server::Org, client, &s.device_code)
        .await?
        .expect_oauth_error(400, "access_denied")?;
    ensure!(denials(&app, &token).await?.len() == 1);
    Ok(())
}
