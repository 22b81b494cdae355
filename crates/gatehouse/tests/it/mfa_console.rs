//! Factors in the console (issue 19): the end user's security methods page (set up an
//! authenticator app with the password entered again, recovery codes shown once, regenerate,
//! remove) and the administrator's "Reset all factors" on a person's page.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::provider::Clock as _;
use gatehouse_core::services::mfa::{recovery_codes, totp};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;

use crate::console::{admin_browser, console_sign_in, page_with_csrf};
use crate::helpers::{Browser, PASSWORD, TestApp, hidden_input, spawn_app};

backend_tests!(end_user_sets_up_and_removes_totp, admin_resets_all_factors,);

const FACTORS: &str = "/enduser/settings/factors";

fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let at = html.find(start)? + start.len();
    let len = html[at..].find(end)?;
    Some(&html[at..at + len])
}

fn codes_on(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .filter_map(|s| s.split_once("</code>").map(|(c, _)| c.to_owned()))
        .collect()
}

async fn alice_console(app: &TestApp) -> Result<Browser> {
    let browser = Browser::new()?;
    let r = console_sign_in(app, &browser, &app.alice.login, "/app/UserHome").await?;
    ensure!(r.status == StatusCode::SEE_OTHER, "{r:?}");
    Ok(browser)
}

async fn end_user_sets_up_and_removes_totp(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let browser = alice_console(&app).await?;
    let (page, csrf) = page_with_csrf(&app, &browser, FACTORS).await?;
    ensure!(page.body.contains("id=\"no-factors\""), "{page:?}");
    let url = |p: &str| format!("{}{p}", app.base);
    // The password is asked again; a wrong one changes nothing.
    let r = browser
        .post_form(
            &url("/enduser/settings/factors/totp"),
            &[("csrf", csrf.as_str()), ("password", "wrong")],
        )
        .await?;
    ensure!(r.status == StatusCode::UNAUTHORIZED, "{r:?}");
    ensure!(
        app.provider
            .store
            .list_factors(&app.alice.id)
            .await?
            .is_empty()
    );
    // Without the CSRF token: refused.
    let r = browser
        .post_form(
            &url("/enduser/settings/factors/totp"),
            &[("password", PASSWORD)],
        )
        .await?;
    ensure!(r.status != StatusCode::OK, "{r:?}");
    // Set up: QR code and key, then the first code.
    let r = browser
        .post_form(
            &url("/enduser/settings/factors/totp"),
            &[("csrf", csrf.as_str()), ("password", PASSWORD)],
        )
        .await?;
    ensure!(
        r.status == StatusCode::OK && r.body.contains("<svg"),
        "{r:?}"
    );
    let secret = between(&r.body, "<code id=\"totp-secret\">", "</code>")
        .and_then(totp::from_base32)
        .context("secret")?;
    let factor_id = hidden_input(&r.body, "factor_id").context("factor_id")?;
    let code = totp::code_at(&secret, totp::step_at(app.clock.now()));
    let r = browser
        .post_form(
            &url("/enduser/settings/factors/totp/activate"),
            &[
                ("csrf", csrf.as_str()),
                ("factor_id", factor_id.as_str()),
                ("code", code.as_str()),
            ],
        )
        .await?;
    ensure!(r.status == StatusCode::OK, "{r:?}");
    let codes = codes_on(&r.body);
    ensure!(codes.len() == 10, "recovery codes shown once: {r:?}");
    let (page, _) = page_with_csrf(&app, &browser, FACTORS).await?;
    ensure!(
        page.body.contains("Authenticator app (TOTP)") && page.body.contains("10 unused"),
        "{page:?}"
    );
    ensure!(
        !page.body.contains(&codes[0]),
        "codes are never shown again"
    );
    // New codes replace the old ones.
    let r = browser
        .post_form(
            &url("/enduser/settings/factors/recovery"),
            &[("csrf", csrf.as_str()), ("password", PASSWORD)],
        )
        .await?;
    let fresh = codes_on(&r.body);
    ensure!(fresh.len() == 10 && fresh[0] != codes[0], "{r:?}");
    ensure!(!recovery_codes::spend(&app.provider, &app.alice.id, &codes[0]).await?);
    // Remove it (password again).
    let r = browser
        .post_form(
            &url(&format!("/enduser/settings/factors/{factor_id}/delete")),
            &[
                ("csrf", csrf.as_str()),
                ("password", PASSWORD),
                ("confirm", "yes"),
            ],
        )
        .await?;
    ensure!(r.status == StatusCode::SEE_OTHER, "{r:?}");
    ensure!(
        app.provider
            .store
            .list_factors(&app.alice.id)
            .await?
            .is_empty()
    );
    ensure!(recovery_codes::remaining(&app.provider, &app.alice.id).await? == 0);
    Ok(())
}

async fn admin_resets_all_factors(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let actor = gatehouse_core::audit::Actor::system();
    gatehouse_core::services::mfa::enroll_totp(&app.provider, &actor, &app.alice, "GOOGLE").await?;
    recovery_codes::regenerate(&app.provider, &actor, &app.alice).await?;
    let admin = admin_browser(&app).await?;
    let path = format!("/admin/user/profile/view/{}", app.alice.id);
    let (page, csrf) = page_with_csrf(&app, &admin, &path).await?;
    ensure!(page.body.contains("id=\"reset-factors\""), "{page:?}");
    let reset = format!("{}/admin/user/{}/factors/reset", app.base, app.alice.id);
    // Without the confirmation box: nothing happens.
    let r = admin.post_form(&reset, &[("csrf", csrf.as_str())]).await?;
    ensure!(r.status != StatusCode::SEE_OTHER, "{r:?}");
    ensure!(app.provider.store.list_factors(&app.alice.id).await?.len() == 1);
    let r = admin
        .post_form(&reset, &[("csrf", csrf.as_str()), ("confirm", "yes")])
        .await?;
    ensure!(r.status == StatusCode::SEE_OTHER, "{r:?}");
    ensure!(
        app.provider
            .store
            .list_factors(&app.alice.id)
            .await?
            .is_empty()
    );
    ensure!(recovery_codes::remaining(&app.provider, &app.alice.id).await? == 0);
    let token = app.api_token().await?;
    let logs = app
        .api_ssws(
            reqwest::Method::GET,
            "/api/v1/logs?filter=eventType%20eq%20%22user.mfa.factor.reset_all%22",
            &token,
            None,
        )
        .await?
        .json()?;
    ensure!(logs.as_array().is_some_and(|a| a.len() == 1), "{logs}");
    Ok(())
}
