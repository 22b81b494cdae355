//! Activation and password-reset links (issue 20): Okta's `lifecycle/activate`,
//! `lifecycle/reset_password` and `credentials/forgot_password` with `sendEmail=false`, the
//! hosted pages the links open (CSRF, a refused password keeps the link), single use, expiry,
//! other sessions ended, and "Forgot password?" answering alike for known and unknown users
//! (mails caught by a transport installed in the engine).

use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result, ensure};
use async_trait::async_trait;
use gatehouse_core::domain::UserStatus;
use gatehouse_core::services::mail::{MailError, MailTransport, OutgoingMail};
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Browser, PASSWORD, Server, TestApp, hidden_input, spawn_app};
use crate::lockout::status_of;

backend_tests!(
    activation_link_sets_the_first_password_once,
    reset_link_expires_and_ends_other_sessions,
    forgot_password_answers_alike_and_mails_known_users,
);

const NEW_PASSWORD: &str = "Corr3ct-horse-battery";

/// Catches mails instead of sending them.
#[derive(Default)]
struct Outbox(Mutex<Vec<OutgoingMail>>);

#[async_trait]
impl MailTransport for Outbox {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        if let Ok(mut v) = self.0.lock() {
            v.push(mail.clone());
        }
        Ok(())
    }
}

impl Outbox {
    fn mails(&self) -> Vec<OutgoingMail> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// Opens a link page and submits `password` (twice) with the page's CSRF token.
async fn set_password(browser: &Browser, url: &str, password: &str) -> Result<StatusCode> {
    let page = browser.get(url).await?;
    ensure!(page.status == StatusCode::OK, "{page:?}");
    let csrf = hidden_input(&page.body, "csrf").context("no csrf field")?;
    let reply = browser
        .post_form(
            url,
            &[
                ("csrf", &csrf),
                ("password", password),
                ("confirm", password),
            ],
        )
        .await?;
    Ok(reply.status)
}

async fn authn_ok(app: &TestApp, login: &str, password: &str) -> Result<bool> {
    let body = json!({ "username": login, "password": password });
    let reply = app
        .api(Method::POST, "/api/v1/authn", None, Some(&body))
        .await?;
    Ok(reply.status == StatusCode::OK)
}

async fn activation_link_sets_the_first_password_once(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let body = json!({"profile": {"firstName": "Nia", "lastName": "New",
        "login": "nia@example.com", "email": "nia@example.com"}});
    let created = app
        .api_ssws(
            Method::POST,
            "/api/v1/users?activate=false",
            &token,
            Some(&body),
        )
        .await?;
    ensure!(created.status == StatusCode::OK, "{created:?}");
    let id = created.json()?["id"].as_str().context("id")?.to_owned();
    ensure!(created.json()?["status"] == "STAGED", "{created:?}");

    let path = format!("/api/v1/users/{id}/lifecycle/activate?sendEmail=false");
    let reply = app.api_ssws(Method::POST, &path, &token, None).await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    let body = reply.json()?;
    let url = body["activationUrl"]
        .as_str()
        .context("activationUrl")?
        .to_owned();
    let activation_token = body["activationToken"]
        .as_str()
        .context("activationToken")?;
    ensure!(
        url == format!("{}/welcome/{activation_token}", app.base),
        "{body}"
    );
    ensure!(status_of(&app, &id).await? == UserStatus::Provisioned);

    // Only a hash is stored.
    let raw = app
        .provider
        .store
        .find_user_link(
            activation_token,
            gatehouse_core::store::LinkPurpose::Activation,
            app.provider.now(),
        )
        .await?;
    ensure!(raw.is_none(), "the raw token found a stored link");

    let browser = Browser::new()?;
    // No CSRF token: refused, the link stays.
    let reply = browser
        .post_form(
            &url,
            &[("password", NEW_PASSWORD), ("confirm", NEW_PASSWORD)],
        )
        .await?;
    ensure!(reply.status == StatusCode::FORBIDDEN, "{reply:?}");
    // Too short: refused with the policy's words, the link stays.
    ensure!(set_password(&browser, &url, "short").await? == StatusCode::UNPROCESSABLE_ENTITY);
    ensure!(status_of(&app, &id).await? == UserStatus::Provisioned);
    ensure!(set_password(&browser, &url, NEW_PASSWORD).await? == StatusCode::OK);
    ensure!(status_of(&app, &id).await? == UserStatus::Active);
    ensure!(authn_ok(&app, "nia@example.com", NEW_PASSWORD).await?);

    // Single use.
    let again = browser.get(&url).await?;
    ensure!(again.status == StatusCode::GONE, "{again:?}");
    // The API reports it as Okta does: activated.
    let user = app
        .api_ssws(Method::GET, &format!("/api/v1/users/{id}"), &token, None)
        .await?;
    ensure!(user.json()?["status"] == "ACTIVE", "{user:?}");
    ensure!(user.json()?["activated"].is_string(), "{user:?}");
    Ok(())
}

async fn reset_link_expires_and_ends_other_sessions(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let alice = app.alice.id.clone();
    let tokens = app
        .sign_in_and_exchange(Server::Default, "openid offline_access")
        .await?;
    ensure!(app.is_active(Server::Default, &tokens.access_token).await?);

    let path = format!("/api/v1/users/{alice}/lifecycle/reset_password?sendEmail=false");
    let reply = app.api_ssws(Method::POST, &path, &token, None).await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    let first = reply.json()?["resetPasswordUrl"]
        .as_str()
        .context("resetPasswordUrl")?
        .to_owned();
    ensure!(first.starts_with(&format!("{}/signin/reset-password/", app.base)));
    ensure!(status_of(&app, &alice).await? == UserStatus::Recovery);
    // In RECOVERY the old password no longer signs in.
    ensure!(!authn_ok(&app, &app.alice.login, PASSWORD).await?);

    // An hour later the link has expired.
    app.clock.advance(3601);
    ensure!(Browser::new()?.get(&first).await?.status == StatusCode::GONE);

    // A new one (forgot_password keeps the status) replaces any older one.
    let path = format!("/api/v1/users/{alice}/credentials/forgot_password?sendEmail=false");
    let second = app.api_ssws(Method::POST, &path, &token, None).await?;
    let second = second.json()?["resetPasswordUrl"]
        .as_str()
        .context("resetPasswordUrl")?
        .to_owned();
    let third = app.api_ssws(Method::POST, &path, &token, None).await?;
    let third = third.json()?["resetPasswordUrl"]
        .as_str()
        .context("resetPasswordUrl")?
        .to_owned();
    ensure!(Browser::new()?.get(&second).await?.status == StatusCode::GONE);
    let browser = Browser::new()?;
    ensure!(set_password(&browser, &third, NEW_PASSWORD).await? == StatusCode::OK);
    ensure!(status_of(&app, &alice).await? == UserStatus::Active);
    ensure!(authn_ok(&app, &app.alice.login, NEW_PASSWORD).await?);
    ensure!(!authn_ok(&app, &app.alice.login, PASSWORD).await?);
    // The sessions and tokens from before the reset are over.
    ensure!(!app.is_active(Server::Default, &tokens.access_token).await?);
    ensure!(Browser::new()?.get(&third).await?.status == StatusCode::GONE);

    // A locked-out user who resets their password is unlocked.
    app.provider
        .store
        .lock_user(&alice, app.provider.now())
        .await?;
    ensure!(status_of(&app, &alice).await? == UserStatus::LockedOut);
    let locked = app.api_ssws(Method::POST, &path, &token, None).await?;
    let locked = locked.json()?["resetPasswordUrl"]
        .as_str()
        .context("resetPasswordUrl")?
        .to_owned();
    ensure!(set_password(&Browser::new()?, &locked, "Th1rd-new-password").await? == StatusCode::OK);
    ensure!(status_of(&app, &alice).await? == UserStatus::Active);
    ensure!(authn_ok(&app, &app.alice.login, "Th1rd-new-password").await?);
    Ok(())
}

async fn forgot(browser: &Browser, app: &TestApp, username: &str) -> Result<(StatusCode, String)> {
    let url = format!("{}/signin/forgot-password", app.base);
    let page = browser.get(&url).await?;
    ensure!(page.status == StatusCode::OK, "{page:?}");
    let csrf = hidden_input(&page.body, "csrf").context("no csrf field")?;
    let reply = browser
        .post_form(&url, &[("csrf", &csrf), ("username", username)])
        .await?;
    Ok((reply.status, reply.body))
}

async fn wait_for_mails(outbox: &Outbox, n: usize) -> Vec<OutgoingMail> {
    for _ in 0..100 {
        if outbox.mails().len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    outbox.mails()
}

async fn forgot_password_answers_alike_and_mails_known_users(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let outbox = Arc::new(Outbox::default());
    app.provider.mail.install(outbox.clone());
    let browser = Browser::new()?;

    let login_page = browser
        .get(&format!("{}/login/login.htm", app.base))
        .await?;
    ensure!(
        login_page.body.contains("/signin/forgot-password"),
        "no Forgot password? link"
    );

    let known = forgot(&browser, &app, &app.alice.login).await?;
    let unknown = forgot(&browser, &app, "nobody@example.com").await?;
    ensure!(
        known.0 == StatusCode::OK && known == unknown,
        "{known:?} vs {unknown:?}"
    );
    // By email address too.
    let by_email = forgot(&browser, &app, &app.alice.email).await?;
    ensure!(by_email == known);

    let mails = wait_for_mails(&outbox, 2).await;
    ensure!(mails.len() == 2, "{mails:?}");
    ensure!(mails.iter().all(|m| m.to == app.alice.email), "{mails:?}");
    // The mail carries the link; the newest one works, and the status is unchanged meanwhile.
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::Active);
    let link = mails[1]
        .text
        .split_whitespace()
        .find(|w| w.contains("/signin/reset-password/"))
        .context("no link in the mail")?
        .to_owned();
    ensure!(
        mails[1].html.contains(&link),
        "the HTML part lacks the link"
    );
    ensure!(set_password(&Browser::new()?, &link, NEW_PASSWORD).await? == StatusCode::OK);

    // Per user, a handful of mails an hour; more requests get the same answer and no mail.
    for _ in 0..6 {
        ensure!(forgot(&browser, &app, &app.alice.login).await? == known);
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let count = outbox.mails().len();
    ensure!(count == 5, "{count} mails");

    // Without the form's CSRF token: refused.
    let reply = Browser::new()?
        .post_form(
            &format!("{}/signin/forgot-password", app.base),
            &[("username", app.alice.login.as_str())],
        )
        .await?;
    ensure!(reply.status == StatusCode::FORBIDDEN, "{reply:?}");
    Ok(())
}
