//! The console person page's "Send activation email" and "Reset password" (issue 20): CSRF,
//! a reset asks first, without SMTP the one-time link is shown with a copy button (and works),
//! with SMTP it is mailed and the page says so; an administrator cannot reset their own.

use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result, ensure};
use async_trait::async_trait;
use gatehouse_core::domain::UserStatus;
use gatehouse_core::services::mail::{MailError, MailTransport, OutgoingMail};
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::console::{admin_browser, input_value, page_with_csrf};
use crate::helpers::{Browser, hidden_input, spawn_app};
use crate::lockout::status_of;

backend_tests!(console_sends_activation_and_reset_links,);

const NEW_PASSWORD: &str = "Console-link-pass-1";

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

/// Opens a link page and sets `password` with the page's CSRF token.
async fn use_link(url: &str, password: &str) -> Result<StatusCode> {
    let browser = Browser::new()?;
    let page = browser.get(url).await?;
    ensure!(page.status == StatusCode::OK, "{page:?}");
    let csrf = hidden_input(&page.body, "csrf").context("no csrf field")?;
    let fields = [
        ("csrf", csrf.as_str()),
        ("password", password),
        ("confirm", password),
    ];
    Ok(browser.post_form(url, &fields).await?.status)
}

async fn console_sends_activation_and_reset_links(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let body = json!({"profile": {"firstName": "Sam", "lastName": "Staged",
        "email": "sam@example.com", "login": "sam@example.com"}});
    let created = app
        .api_ssws(
            Method::POST,
            "/api/v1/users?activate=false",
            &token,
            Some(&body),
        )
        .await?
        .json()?;
    let sam = created["id"].as_str().context("no id")?.to_owned();
    ensure!(status_of(&app, &sam).await? == UserStatus::Staged);

    let admin = admin_browser(&app).await?;
    let (page, csrf) =
        page_with_csrf(&app, &admin, &format!("/admin/user/profile/view/{sam}")).await?;
    ensure!(page.body.contains("id=\"send-activation\""), "{page:?}");
    ensure!(
        !page.body.contains("id=\"reset-password\""),
        "no reset for STAGED"
    );

    // Activation, no SMTP: without the CSRF token nothing happens; with it the link is shown.
    let url = format!("{}/admin/user/{sam}/links/activation", app.base);
    let forged = admin.post_form(&url, &[("csrf", "forged")]).await?;
    ensure!(forged.status == StatusCode::FORBIDDEN, "{forged:?}");
    ensure!(status_of(&app, &sam).await? == UserStatus::Staged);
    let shown = admin.post_form(&url, &[("csrf", csrf.as_str())]).await?;
    ensure!(shown.status == StatusCode::OK, "{shown:?}");
    ensure!(shown.body.contains("Email is not configured"), "{shown:?}");
    ensure!(
        shown.body.contains("data-copy=\"one-time-link-url\""),
        "no copy button"
    );
    let link = input_value(&shown.body, "one-time-link-url").context("no link shown")?;
    ensure!(
        link.starts_with(&format!("{}/welcome/", app.base)),
        "{link}"
    );
    ensure!(status_of(&app, &sam).await? == UserStatus::Provisioned);
    ensure!(use_link(&link, NEW_PASSWORD).await? == StatusCode::OK);
    ensure!(status_of(&app, &sam).await? == UserStatus::Active);

    // Reset: asked first, then RECOVERY and the link shown.
    let alice = app.alice.id.clone();
    let (page, csrf) =
        page_with_csrf(&app, &admin, &format!("/admin/user/profile/view/{alice}")).await?;
    ensure!(page.body.contains("id=\"reset-password\""), "{page:?}");
    ensure!(
        !page.body.contains("id=\"send-activation\""),
        "no activation for ACTIVE"
    );
    let url = format!("{}/admin/user/{alice}/links/reset_password", app.base);
    let ask = admin.post_form(&url, &[("csrf", csrf.as_str())]).await?;
    ensure!(ask.status == StatusCode::OK, "{ask:?}");
    ensure!(
        ask.body.contains("Reset this person&#x27;s password?")
            || ask.body.contains("Reset this person's password?")
            || ask.body.contains("Reset this person&#39;s password?"),
        "{ask:?}"
    );
    ensure!(status_of(&app, &alice).await? == UserStatus::Active);
    let confirmed = [("csrf", csrf.as_str()), ("confirm", "yes")];
    let reset = admin.post_form(&url, &confirmed).await?;
    ensure!(reset.status == StatusCode::OK, "{reset:?}");
    let link = input_value(&reset.body, "one-time-link-url").context("no link shown")?;
    ensure!(
        link.starts_with(&format!("{}/signin/reset-password/", app.base)),
        "{link}"
    );
    ensure!(status_of(&app, &alice).await? == UserStatus::Recovery);

    // With SMTP the link is mailed, not shown.
    let outbox = Arc::new(Outbox::default());
    app.provider.mail.install(outbox.clone());
    let mailed = admin.post_form(&url, &confirmed).await?;
    ensure!(mailed.status == StatusCode::SEE_OTHER, "{mailed:?}");
    ensure!(
        mailed
            .header("location")
            .is_some_and(|l| l.ends_with("notice=reset_sent")),
        "{mailed:?}"
    );
    let mut mails = Vec::new();
    for _ in 0..100 {
        mails = outbox.0.lock().map(|v| v.clone()).unwrap_or_default();
        if !mails.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    ensure!(
        mails.len() == 1 && mails[0].to == app.alice.email,
        "{mails:?}"
    );
    ensure!(
        mails[0].text.contains("/signin/reset-password/"),
        "{mails:?}"
    );
    // The link shown before was replaced by the mailed one.
    let old = Browser::new()?.get(&link).await?;
    ensure!(old.status != StatusCode::OK, "{old:?}");

    // An administrator cannot reset their own password here.
    let me = app
        .provider
        .store
        .find_user_by_login(crate::console::ADMIN)
        .await?
        .context("no admin")?;
    let (_, csrf) =
        page_with_csrf(&app, &admin, &format!("/admin/user/profile/view/{}", me.id)).await?;
    let own = format!("{}/admin/user/{}/links/reset_password", app.base, me.id);
    let refused = admin
        .post_form(&own, &[("csrf", csrf.as_str()), ("confirm", "yes")])
        .await?;
    ensure!(
        refused.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{refused:?}"
    );
    ensure!(status_of(&app, &me.id).await? == UserStatus::Active);
    Ok(())
}
