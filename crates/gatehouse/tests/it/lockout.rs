//! Brute-force defences: Okta's password-policy lockout (LOCKED_OUT after N consecutive
//! failures, unlock by an admin or after a window) with one generic answer for every refusal,
//! and per-address limits on the sign-in form and the token endpoint that a spoofed
//! `X-Forwarded-For` cannot dodge.

use anyhow::{Result, ensure};
use gatehouse_core::domain::UserStatus;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};

use crate::helpers::{
    Browser, GENERIC_LOGIN_FAILURE, LoginForm, PASSWORD, Reply, Server, TestApp, http_client,
    spawn_app_with,
};

backend_tests!(
    locks_after_max_attempts_and_admin_unlocks,
    every_refusal_looks_the_same,
    unlocks_by_itself_after_the_window,
    zero_attempts_never_locks,
    sign_in_limit_per_address_ignores_spoofed_forwarded_for,
    trusted_proxy_forwarded_for_is_honoured,
    token_limit_per_address,
);

const ALICE: &str = "alice@example.com";

pub(crate) async fn status_of(app: &TestApp, user_id: &str) -> Result<UserStatus> {
    Ok(app
        .provider
        .store
        .find_user(user_id)
        .await?
        .map(|u| u.status)
        .unwrap_or(UserStatus::Deprovisioned))
}

async fn form(app: &TestApp, browser: &Browser) -> Result<LoginForm> {
    browser.open_login(&app.authz(Server::Org).url()).await
}

/// A refused sign-in: 401, the form again, the generic message.
fn ensure_refused(reply: &Reply) -> Result<()> {
    ensure!(reply.status == StatusCode::UNAUTHORIZED, "{reply:?}");
    ensure!(reply.body.contains(GENERIC_LOGIN_FAILURE), "{reply:?}");
    ensure!(reply.login_form().is_some(), "{reply:?}");
    Ok(())
}

async fn locks_after_max_attempts_and_admin_unlocks(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.security.lockout_max_attempts = 3).await?;
    let browser = Browser::new()?;
    let f = form(&app, &browser).await?;
    for _ in 0..2 {
        ensure_refused(&browser.submit(&f, ALICE, "wrong").await?)?;
    }
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::Active);
    ensure_refused(&browser.submit(&f, ALICE, "wrong").await?)?;
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::LockedOut);

    // Locked: the right password gets the same refusal, and the API shows LOCKED_OUT.
    ensure_refused(&browser.submit(&f, ALICE, PASSWORD).await?)?;
    let admin = app.create_admin("admin@example.com").await?;
    let token = gatehouse_core::services::api_tokens::create_api_token(
        &app.provider,
        &gatehouse_core::services::system_log::Actor::system(),
        "t",
        &admin,
    )
    .await?
    .value;
    let path = format!("/api/v1/users/{}", app.alice.id);
    let user = app.api_ssws(Method::GET, &path, &token, None).await?;
    ensure!(user.json()?["status"] == "LOCKED_OUT", "{user:?}");

    // The admin unlocks (Okta's lifecycle/unlock); the failures are forgiven.
    let unlock = app
        .api_ssws(
            Method::POST,
            &format!("{path}/lifecycle/unlock"),
            &token,
            None,
        )
        .await?;
    ensure!(unlock.status == StatusCode::OK, "{unlock:?}");
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::Active);
    for _ in 0..2 {
        ensure_refused(&browser.submit(&f, ALICE, "wrong").await?)?;
    }
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::Active);
    let ok = browser.submit(&f, ALICE, PASSWORD).await?;
    ensure!(ok.status == StatusCode::FOUND, "{ok:?}");

    // A success resets the counter: two more failures do not lock.
    let browser = Browser::new()?;
    let f = form(&app, &browser).await?;
    for _ in 0..2 {
        ensure_refused(&browser.submit(&f, ALICE, "wrong").await?)?;
    }
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::Active);

    // Unlocking someone who is not locked is a no-op.
    let again = app
        .api_ssws(
            Method::POST,
            &format!("{path}/lifecycle/unlock"),
            &token,
            None,
        )
        .await?;
    ensure!(again.status == StatusCode::OK, "{again:?}");
    Ok(())
}

/// The page for an unknown login, a wrong password and a locked account is the same page
/// (but for the echoed username), so nobody learns which accounts exist or are locked.
async fn every_refusal_looks_the_same(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.security.lockout_max_attempts = 2).await?;
    let bob = app.create_user("bob@example.com").await?;
    let browser = Browser::new()?;
    let f = form(&app, &browser).await?;
    let page = |reply: &Reply, login: &str| reply.body.replace(login, "LOGIN");

    let unknown = browser.submit(&f, "nobody@example.com", PASSWORD).await?;
    ensure_refused(&unknown)?;
    let wrong = browser.submit(&f, ALICE, "wrong").await?;
    ensure_refused(&wrong)?;
    ensure!(page(&unknown, "nobody@example.com") == page(&wrong, ALICE));

    ensure_refused(&browser.submit(&f, "bob@example.com", "wrong").await?)?;
    ensure_refused(&browser.submit(&f, "bob@example.com", "wrong").await?)?;
    ensure!(status_of(&app, &bob.id).await? == UserStatus::LockedOut);
    let locked = browser.submit(&f, "bob@example.com", PASSWORD).await?;
    ensure_refused(&locked)?;
    ensure!(page(&locked, "bob@example.com") == page(&wrong, ALICE));
    ensure!(!locked.body.to_lowercase().contains("locked"), "{locked:?}");

    // Unknown logins cost an argon2 verification too: their median time is not far below a
    // wrong password's (a missing dummy verification would make it ~20x faster).
    let mut unknown_ms = Vec::new();
    let mut wrong_ms = Vec::new();
    for i in 0..5 {
        let t = std::time::Instant::now();
        browser
            .submit(&f, &format!("ghost{i}@example.com"), "x")
            .await?;
        unknown_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        // A known login (locked by now, which is verified all the same).
        let t = std::time::Instant::now();
        browser.submit(&f, ALICE, "x").await?;
        wrong_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    unknown_ms.sort_by(f64::total_cmp);
    wrong_ms.sort_by(f64::total_cmp);
    let (u, w) = (unknown_ms[2], wrong_ms[2]);
    ensure!(
        u * 3.0 > w,
        "unknown logins answer much faster ({u:.1} ms) than wrong passwords ({w:.1} ms)"
    );
    Ok(())
}

async fn unlocks_by_itself_after_the_window(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| {
        s.security.lockout_max_attempts = 2;
        s.security.lockout_auto_unlock_minutes = 15;
    })
    .await?;
    let browser = Browser::new()?;
    let f = form(&app, &browser).await?;
    ensure_refused(&browser.submit(&f, ALICE, "wrong").await?)?;
    ensure_refused(&browser.submit(&f, ALICE, "wrong").await?)?;
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::LockedOut);
    app.clock.advance(14 * 60);
    ensure_refused(&browser.submit(&f, ALICE, PASSWORD).await?)?;
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::LockedOut);
    app.clock.advance(61);
    let ok = browser.submit(&f, ALICE, PASSWORD).await?;
    ensure!(ok.status == StatusCode::FOUND, "{ok:?}");
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::Active);
    Ok(())
}

async fn zero_attempts_never_locks(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.security.lockout_max_attempts = 0).await?;
    let browser = Browser::new()?;
    let f = form(&app, &browser).await?;
    for _ in 0..12 {
        ensure_refused(&browser.submit(&f, ALICE, "wrong").await?)?;
    }
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::Active);
    let ok = browser.submit(&f, ALICE, PASSWORD).await?;
    ensure!(ok.status == StatusCode::FOUND, "{ok:?}");
    Ok(())
}

async fn post_login(browser: &Browser, f: &LoginForm, xff: Option<&str>) -> Result<Reply> {
    let mut req = browser.client.post(&f.action).form(&[
        ("tx", f.tx.as_str()),
        ("csrf", f.csrf.as_str()),
        ("username", "nobody@example.com"),
        ("password", "x"),
    ]);
    if let Some(x) = xff {
        req = req.header("x-forwarded-for", x);
    }
    Reply::read(req.send().await?).await
}

fn ensure_limited_page(reply: &Reply) -> Result<()> {
    ensure!(reply.status == StatusCode::TOO_MANY_REQUESTS, "{reply:?}");
    ensure!(
        reply
            .header("retry-after")
            .and_then(|v| v.parse::<i64>().ok())
            .is_some_and(|s| (1..=60).contains(&s)),
        "{reply:?}"
    );
    ensure!(
        reply.body.contains("Too many sign-in attempts"),
        "{reply:?}"
    );
    Ok(())
}

async fn sign_in_limit_per_address_ignores_spoofed_forwarded_for(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| {
        s.security.signin_requests_per_minute_per_ip = 3;
    })
    .await?;
    let browser = Browser::new()?;
    let f = form(&app, &browser).await?;
    for i in 0..3 {
        // Every attempt claims another address; the peer (127.0.0.1) is not a trusted proxy.
        let reply = post_login(&browser, &f, Some(&format!("198.51.100.{i}"))).await?;
        ensure!(reply.status == StatusCode::UNAUTHORIZED, "{reply:?}");
    }
    ensure_limited_page(&post_login(&browser, &f, Some("198.51.100.77")).await?)?;
    ensure_limited_page(&post_login(&browser, &f, None).await?)?;
    // The next window has a fresh budget.
    app.clock.advance(60);
    let reply = post_login(&browser, &f, None).await?;
    ensure!(reply.status == StatusCode::UNAUTHORIZED, "{reply:?}");
    Ok(())
}

async fn trusted_proxy_forwarded_for_is_honoured(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| {
        s.security.signin_requests_per_minute_per_ip = 2;
        s.trusted_proxies = gatehouse_web::parse_proxy("127.0.0.0/8")
            .into_iter()
            .collect();
    })
    .await?;
    let browser = Browser::new()?;
    let f = form(&app, &browser).await?;
    for _ in 0..2 {
        let reply = post_login(&browser, &f, Some("203.0.113.1")).await?;
        ensure!(reply.status == StatusCode::UNAUTHORIZED, "{reply:?}");
    }
    ensure_limited_page(&post_login(&browser, &f, Some("203.0.113.1")).await?)?;
    // A forged hop to the left of the real client changes nothing: the rightmost untrusted
    // hop is the client.
    ensure_limited_page(&post_login(&browser, &f, Some("10.9.9.9, 203.0.113.1")).await?)?;
    // Another client behind the same proxy has its own budget.
    let other = post_login(&browser, &f, Some("203.0.113.2")).await?;
    ensure!(other.status == StatusCode::UNAUTHORIZED, "{other:?}");
    Ok(())
}

async fn token_limit_per_address(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.security.token_requests_per_minute_per_ip = 2).await?;
    let token = |xff: &'static str| {
        let req = http_client().map(|c| {
            c.post(app.endpoint(Server::Default, "token"))
                .header("x-forwarded-for", xff)
                .form(&[("grant_type", "client_credentials"), ("client_id", "nope")])
        });
        async move { Reply::read(req?.send().await?).await }
    };
    for _ in 0..2 {
        let reply = token("192.0.2.1").await?;
        ensure!(reply.status == StatusCode::UNAUTHORIZED, "{reply:?}");
    }
    let refused = token("192.0.2.2").await?;
    ensure!(
        refused.status == StatusCode::TOO_MANY_REQUESTS,
        "{refused:?}"
    );
    ensure!(
        refused.json()?["error"] == "temporarily_unavailable",
        "{refused:?}"
    );
    ensure!(
        refused.json()?["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    ensure!(refused.header("retry-after").is_some(), "{refused:?}");
    ensure!(
        refused.header("cache-control") == Some("no-store"),
        "{refused:?}"
    );
    // The org server's endpoint shares the address's budget.
    let org = http_client()?
        .post(app.endpoint(Server::Org, "token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    ensure!(org.status() == StatusCode::TOO_MANY_REQUESTS);
    Ok(())
}
