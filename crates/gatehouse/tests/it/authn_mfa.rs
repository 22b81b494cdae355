//! Okta's classic Authentication API with a second factor (issue 19): `POST /api/v1/authn`
//! answers `MFA_REQUIRED` (a person with a factor) or `MFA_ENROLL` (a policy requires one the
//! person lacks) with a `stateToken`; `/api/v1/authn/factors/{id}/verify`, `/api/v1/authn/factors`
//! and `.../lifecycle/activate` finish it with a `sessionToken` whose session carries the factor.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::services::mfa::totp;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Browser, PASSWORD, Reply, Server, TestApp, spawn_app};
use crate::mfa_totp::{code_now, enroll_alice};

backend_tests!(
    mfa_required_then_verify,
    mfa_enroll_when_a_policy_requires_it
);

async fn post(app: &TestApp, path: &str, body: Value) -> Result<Reply> {
    app.api(Method::POST, path, None, Some(&body)).await
}

async fn authn(app: &TestApp) -> Result<Value> {
    let r = post(
        app,
        "/api/v1/authn",
        json!({"username": app.alice.login, "password": PASSWORD}),
    )
    .await?;
    ensure!(r.status == StatusCode::OK, "{r:?}");
    r.json()
}

fn state_token(v: &Value) -> Result<String> {
    Ok(v["stateToken"].as_str().context("stateToken")?.to_owned())
}

/// The ID token's `amr` after `/authorize?sessionToken=` (which must not ask anything more).
async fn amr_from_session_token(app: &TestApp, session_token: &str) -> Result<Vec<String>> {
    let browser = Browser::new()?;
    let url = app
        .authz(Server::Org)
        .set("sessionToken", session_token)
        .url();
    let reply = browser.get(&url).await?;
    ensure!(
        reply.status == StatusCode::FOUND,
        "no second prompt: {reply:?}"
    );
    crate::mfa_totp::id_token_amr(app, &reply).await
}

async fn mfa_required_then_verify(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let (factor_id, secret) = enroll_alice(&app, &token).await?;
    let tx = authn(&app).await?;
    ensure!(tx["status"] == "MFA_REQUIRED", "{tx}");
    ensure!(tx.get("sessionToken").is_none(), "{tx}");
    ensure!(
        tx["_embedded"]["user"]["id"] == app.alice.id.as_str(),
        "{tx}"
    );
    let factor = &tx["_embedded"]["factors"][0];
    ensure!(factor["id"] == factor_id.as_str(), "{tx}");
    ensure!(factor["factorType"] == "token:software:totp", "{tx}");
    let verify = factor["_links"]["verify"]["href"]
        .as_str()
        .context("verify link")?;
    ensure!(
        verify == format!("{}/api/v1/authn/factors/{factor_id}/verify", app.base),
        "{verify}"
    );
    let path = format!("/api/v1/authn/factors/{factor_id}/verify");
    let st = state_token(&tx)?;

    // Wrong, and the activation's code replayed: 403 E0000068, each counted.
    let good = code_now(&app, &secret, 0);
    let wrong = format!("{:06}", (good.parse::<u32>()? + 1) % 1_000_000);
    for code in [wrong, code_now(&app, &secret, -1)] {
        let r = post(&app, &path, json!({"stateToken": st, "passCode": code})).await?;
        ensure!(r.status == StatusCode::FORBIDDEN, "{r:?}");
        ensure!(r.json()?["errorCode"] == "E0000068", "{r:?}");
    }
    // Each counted toward the lockout, as a failed factor check.
    let logs = app
        .api_ssws(
            Method::GET,
            "/api/v1/logs?filter=eventType%20eq%20%22user.authentication.auth_via_mfa%22&limit=100",
            &token,
            None,
        )
        .await?
        .json()?;
    let failures = logs
        .as_array()
        .context("logs")?
        .iter()
        .filter(|e| e["outcome"]["result"] == "FAILURE")
        .count();
    ensure!(failures == 2, "two failures counted: {logs}");
    // A made-up state token.
    let r = post(
        &app,
        &path,
        json!({"stateToken": "nope.nope", "passCode": good}),
    )
    .await?;
    ensure!(r.status == StatusCode::UNAUTHORIZED, "{r:?}");
    ensure!(r.json()?["errorCode"] == "E0000011", "{r:?}");

    let done = post(&app, &path, json!({"stateToken": st, "passCode": good})).await?;
    ensure!(done.status == StatusCode::OK, "{done:?}");
    let done = done.json()?;
    ensure!(done["status"] == "SUCCESS", "{done}");
    // The step completes once.
    let again = post(&app, &path, json!({"stateToken": st, "passCode": good})).await?;
    ensure!(again.status == StatusCode::UNAUTHORIZED, "{again:?}");
    let session_token = done["sessionToken"].as_str().context("sessionToken")?;
    let amr = amr_from_session_token(&app, session_token).await?;
    ensure!(amr == ["pwd", "otp", "mfa"], "{amr:?}");
    Ok(())
}

async fn mfa_enroll_when_a_policy_requires_it(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let p = app
        .api_ssws(
            Method::POST,
            "/api/v1/policies",
            &token,
            Some(&json!({"type": "OKTA_SIGN_ON", "name": "Everyone MFA"})),
        )
        .await?
        .json()?;
    let pid = p["id"].as_str().context("policy id")?;
    let rule = json!({"type": "SIGN_ON", "name": "MFA",
        "actions": {"signon": {"access": "ALLOW", "requireFactor": true, "factorPromptMode": "ALWAYS"}}});
    let r = app
        .api_ssws(
            Method::POST,
            &format!("/api/v1/policies/{pid}/rules"),
            &token,
            Some(&rule),
        )
        .await?;
    ensure!(r.status == StatusCode::OK, "{r:?}");

    let tx = authn(&app).await?;
    ensure!(tx["status"] == "MFA_ENROLL", "{tx}");
    let offer = &tx["_embedded"]["factors"][0];
    ensure!(
        offer["factorType"] == "token:software:totp" && offer["status"] == "NOT_SETUP",
        "{tx}"
    );
    let enroll = offer["_links"]["enroll"]["href"]
        .as_str()
        .context("enroll link")?;
    ensure!(
        enroll == format!("{}/api/v1/authn/factors", app.base),
        "{enroll}"
    );
    let st = state_token(&tx)?;
    let r = post(
        &app,
        "/api/v1/authn/factors",
        json!({"stateToken": st, "factorType": "token:software:totp", "provider": "GOOGLE"}),
    )
    .await?;
    ensure!(r.status == StatusCode::OK, "{r:?}");
    let activation = r.json()?;
    ensure!(
        activation["status"] == "MFA_ENROLL_ACTIVATE",
        "{activation}"
    );
    let secret = activation["_embedded"]["factor"]["_embedded"]["activation"]["sharedSecret"]
        .as_str()
        .and_then(totp::from_base32)
        .context("sharedSecret")?;
    let next = activation["_links"]["next"]["href"]
        .as_str()
        .context("next")?;
    let next = next.strip_prefix(&app.base).context("same origin")?;
    let wrong = post(&app, next, json!({"stateToken": st, "passCode": "000000"})).await?;
    ensure!(wrong.status == StatusCode::FORBIDDEN, "{wrong:?}");
    let done = post(
        &app,
        next,
        json!({"stateToken": st, "passCode": code_now(&app, &secret, 0)}),
    )
    .await?;
    ensure!(done.status == StatusCode::OK, "{done:?}");
    let done = done.json()?;
    ensure!(done["status"] == "SUCCESS", "{done}");
    // sessionCookieRedirect accepts this token: its session has the factor.
    let session_token = done["sessionToken"].as_str().context("sessionToken")?;
    let home = format!("{}/app/UserHome", app.base);
    let q = serde_urlencoded::to_string([("token", session_token), ("redirectUrl", &home)])?;
    let browser = Browser::new()?;
    let reply = browser
        .get(&format!("{}/login/sessionCookieRedirect?{q}", app.base))
        .await?;
    ensure!(reply.status == StatusCode::FOUND, "{reply:?}");
    let me = browser
        .get(&format!("{}/api/v1/sessions/me", app.base))
        .await?
        .json()?;
    ensure!(me["amr"] == json!(["pwd", "otp", "mfa"]), "{me}");
    Ok(())
}
