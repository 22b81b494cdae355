//! A passkey as the second step of a sign-in, with the software authenticator: the factor
//! page offers it, the begin call's options and CSRF, an answer from another origin refused
//! and counted, the ceremony used once, the session's `amr`, and a counter that did not move.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Browser, Reply, TestApp, hidden_input, spawn_app};
use crate::webauthn::{dashboard, data_attr, enroll, named_base, post_json, sign_in_at};
use crate::webauthn_soft::SoftKey;

backend_tests!(
    passkey_completes_the_sign_in_with_hwk_and_user,
    passkey_answers_are_checked_and_counted,
    passkey_with_a_stale_counter_is_refused,
);

/// Alice with `key` enrolled, signing in again in a new browser: the factor page.
async fn factor_page(app: &TestApp, base: &str) -> Result<(Browser, Reply)> {
    let browser = Browser::new()?;
    let page = sign_in_at(&browser, base, &app.alice.login, "/enduser/settings").await?;
    ensure!(
        page.status == StatusCode::OK,
        "expected the factor page: {page:?}"
    );
    ensure!(
        page.body.contains("data-passkey-signin"),
        "no passkey offered: {page:?}"
    );
    let csp = page.header("content-security-policy").unwrap_or_default();
    ensure!(
        csp.contains("script-src 'nonce-") && csp.contains("connect-src 'self'"),
        "CSP: {csp}"
    );
    Ok((browser, page))
}

struct Step {
    pending: String,
    csrf: String,
}

fn step_of(page: &Reply) -> Result<Step> {
    Ok(Step {
        pending: hidden_input(&page.body, "pending").context("pending")?,
        csrf: data_attr(&page.body, "csrf").context("data-csrf")?,
    })
}

async fn call(
    browser: &Browser,
    base: &str,
    what: &str,
    step: &Step,
    extra: Value,
) -> Result<Reply> {
    let mut body = json!({"pending": step.pending});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    post_json(
        browser,
        &format!("{base}/login/mfa/webauthn/{what}"),
        Some(&step.csrf),
        &body,
    )
    .await
}

async fn begin(browser: &Browser, base: &str, step: &Step) -> Result<Value> {
    let r = call(browser, base, "begin", step, json!({})).await?;
    ensure!(r.status == StatusCode::OK, "{r:?}");
    r.json()
}

async fn finish(browser: &Browser, base: &str, step: &Step, answer: &Value) -> Result<Reply> {
    call(browser, base, "finish", step, json!({"credential": answer})).await
}

/// Submits the factor page's "continue" after a verified passkey.
async fn continue_sign_in(browser: &Browser, base: &str, step: &Step) -> Result<Reply> {
    browser
        .post_form(
            &format!("{base}/login/factor"),
            &[
                ("pending", step.pending.as_str()),
                ("csrf", step.csrf.as_str()),
                ("action", "continue"),
            ],
        )
        .await
}

async fn enrolled(app: &TestApp, base: &str) -> Result<SoftKey> {
    let (browser, csrf) = dashboard(app, base).await?;
    let key = SoftKey::new()?;
    enroll(&browser, base, &csrf, &key).await?;
    Ok(key)
}

async fn passkey_completes_the_sign_in_with_hwk_and_user(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let base = named_base(&app);
    // Two authenticators: one that verifies the person (PIN, biometrics), one that does not.
    let (dash, csrf) = dashboard(&app, &base).await?;
    let mut key = SoftKey::new()?;
    enroll(&dash, &base, &csrf, &key).await?;
    let mut plain = SoftKey::new()?;
    plain.user_verified = false;
    enroll(&dash, &base, &csrf, &plain).await?;
    let (browser, page) = factor_page(&app, &base).await?;
    let step = step_of(&page)?;

    let options = begin(&browser, &base, &step).await?;
    let pk = &options["publicKey"];
    ensure!(pk["rpId"] == "localhost", "{options}");
    ensure!(pk["userVerification"] == "preferred", "{options}");
    ensure!(
        pk["allowCredentials"].as_array().is_some_and(|a| a
            .iter()
            .any(|c| c["id"] == key.credential_id_b64().as_str())),
        "{options}"
    );
    let done = finish(
        &browser,
        &base,
        &step,
        &key.assert(&options, &base, "localhost")?,
    )
    .await?;
    ensure!(done.status == StatusCode::OK, "{done:?}");
    ensure!(done.json()?["userVerified"] == true, "{done:?}");

    let signed_in = continue_sign_in(&browser, &base, &step).await?;
    ensure!(signed_in.status == StatusCode::SEE_OTHER, "{signed_in:?}");
    let me = browser
        .get(&format!("{base}/api/v1/sessions/me"))
        .await?
        .json()?;
    ensure!(me["amr"] == json!(["pwd", "hwk", "mfa", "user"]), "{me}");

    // Without user verification the amr does not claim it.
    let (browser, page) = factor_page(&app, &base).await?;
    let step = step_of(&page)?;
    let options = begin(&browser, &base, &step).await?;
    let done = finish(
        &browser,
        &base,
        &step,
        &plain.assert(&options, &base, "localhost")?,
    )
    .await?;
    ensure!(done.status == StatusCode::OK, "{done:?}");
    continue_sign_in(&browser, &base, &step).await?;
    let me = browser
        .get(&format!("{base}/api/v1/sessions/me"))
        .await?
        .json()?;
    ensure!(me["amr"] == json!(["pwd", "hwk", "mfa"]), "{me}");

    // An authenticator enrolled with user verification must keep doing it.
    key.user_verified = false;
    let (browser, page) = factor_page(&app, &base).await?;
    let step = step_of(&page)?;
    let options = begin(&browser, &base, &step).await?;
    let done = finish(
        &browser,
        &base,
        &step,
        &key.assert(&options, &base, "localhost")?,
    )
    .await?;
    ensure!(done.status == StatusCode::FORBIDDEN, "{done:?}");
    Ok(())
}

async fn passkey_answers_are_checked_and_counted(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let base = named_base(&app);
    let mut key = enrolled(&app, &base).await?;
    let (browser, page) = factor_page(&app, &base).await?;
    let step = step_of(&page)?;

    // CSRF: no token, a wrong one, and a form body are refused before anything happens.
    let no_csrf = post_json(
        &browser,
        &format!("{base}/login/mfa/webauthn/begin"),
        None,
        &json!({"pending": step.pending}),
    )
    .await?;
    ensure!(no_csrf.status == StatusCode::FORBIDDEN, "{no_csrf:?}");
    let forged = Step {
        pending: step.pending.clone(),
        csrf: "forged".into(),
    };
    let wrong = call(&browser, &base, "begin", &forged, json!({})).await?;
    ensure!(wrong.status == StatusCode::FORBIDDEN, "{wrong:?}");
    // Another browser (without the sign-in's cookie) with the right values: refused.
    let stranger = call(&Browser::new()?, &base, "begin", &step, json!({})).await?;
    ensure!(stranger.status == StatusCode::FORBIDDEN, "{stranger:?}");

    // An answer made for another origin: refused, counted, and the ceremony is spent.
    let options = begin(&browser, &base, &step).await?;
    let phished = key.assert(&options, "http://localhost.evil.example", "localhost")?;
    let refused = finish(&browser, &base, &step, &phished).await?;
    ensure!(refused.status == StatusCode::FORBIDDEN, "{refused:?}");
    let right = key.assert(&options, &base, "localhost")?;
    let spent = finish(&browser, &base, &step, &right).await?;
    ensure!(
        spent.status == StatusCode::FORBIDDEN || spent.status == StatusCode::BAD_REQUEST,
        "{spent:?}"
    );
    // An answer signed for another RP id is refused too.
    let options = begin(&browser, &base, &step).await?;
    let other_rp = key.assert(&options, &base, "evil.example")?;
    let refused = finish(&browser, &base, &step, &other_rp).await?;
    ensure!(refused.status == StatusCode::FORBIDDEN, "{refused:?}");

    // The System Log has the failures; the right answer still works on a new ceremony.
    let failures = app
        .provider
        .store
        .record_signin_failure(&app.alice.id, app.provider.now())
        .await?;
    ensure!(failures >= 4, "failures counted: {}", failures - 1);
    app.provider
        .store
        .reset_signin_failures(&app.alice.id)
        .await?;
    let options = begin(&browser, &base, &step).await?;
    let done = finish(
        &browser,
        &base,
        &step,
        &key.assert(&options, &base, "localhost")?,
    )
    .await?;
    ensure!(done.status == StatusCode::OK, "{done:?}");
    // Verified: the step now only continues; another begin is refused.
    let after = call(&browser, &base, "begin", &step, json!({})).await?;
    ensure!(after.status == StatusCode::FORBIDDEN, "{after:?}");
    Ok(())
}

async fn passkey_with_a_stale_counter_is_refused(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let base = named_base(&app);
    let mut key = enrolled(&app, &base).await?;
    let (browser, page) = factor_page(&app, &base).await?;
    let step = step_of(&page)?;
    let options = begin(&browser, &base, &step).await?;
    let done = finish(
        &browser,
        &base,
        &step,
        &key.assert(&options, &base, "localhost")?,
    )
    .await?;
    ensure!(done.status == StatusCode::OK, "{done:?}");

    // A clone of the authenticator answers with the counter already used.
    let (browser, page) = factor_page(&app, &base).await?;
    let step = step_of(&page)?;
    let options = begin(&browser, &base, &step).await?;
    let cloned = key.assert_with_counter(&options, &base, "localhost", key.counter)?;
    let refused = finish(&browser, &base, &step, &cloned).await?;
    ensure!(refused.status == StatusCode::FORBIDDEN, "{refused:?}");
    // The real one, counting on, still signs in.
    let options = begin(&browser, &base, &step).await?;
    let done = finish(
        &browser,
        &base,
        &step,
        &key.assert(&options, &base, "localhost")?,
    )
    .await?;
    ensure!(done.status == StatusCode::OK, "{done:?}");
    let stored = app.provider.store.list_factors(&app.alice.id).await?;
    ensure!(
        stored.first().and_then(|f| f.last_used_step) == Some(i64::from(key.counter)),
        "{stored:?}"
    );
    Ok(())
}
