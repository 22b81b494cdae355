//! Forward auth for reverse proxies: `/forward-auth/v1/verify`, `/signin`, `/signout`.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::domain::{AppStatus, TrustedOriginScope};
use gatehouse_core::services::apps::{assign_user, set_status};
use gatehouse_core::services::groups::add_group_member;
use gatehouse_core::services::system_log::Actor;
use gatehouse_core::services::trusted_origins::{self, TrustedOriginSpec};
use gatehouse_core::services::users::{Lifecycle, lifecycle};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;

use crate::helpers::{Browser, PASSWORD, Reply, TestApp, hidden_input, spawn_app};

backend_tests!(
    verify_answers_identity_headers_for_a_session,
    verify_restricts_to_the_apps_assigned_users,
    signin_returns_only_to_protected_origins,
    signout_and_deactivation_end_access
);

const PROTECTED: &str = "https://netbox.example.com";

fn verify_url(app: &TestApp, query: &str) -> String {
    format!("{}/forward-auth/v1/verify{query}", app.base)
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Follows the forward-auth sign-in through the hosted form; returns the final redirect.
async fn sign_in(app: &TestApp, browser: &Browser, login: &str, rd: &str) -> Result<Reply> {
    let start = browser
        .get(&format!(
            "{}/forward-auth/v1/signin?rd={}",
            app.base,
            urlencode(rd)
        ))
        .await?;
    ensure!(start.status == StatusCode::FOUND, "{start:?}");
    let to_form = start.header("location").context("no location")?.to_owned();
    ensure!(to_form.contains("/login/login.htm?fromURI="), "{to_form}");
    let page = browser.get(&to_form).await?;
    ensure!(page.status == StatusCode::OK, "{page:?}");
    let csrf = hidden_input(&page.body, "csrf").context("no csrf input")?;
    let from = hidden_input(&page.body, "fromURI").context("no fromURI input")?;
    let posted = browser
        .post_form(
            &format!("{}/login/login.htm", app.base),
            &[
                ("csrf", &csrf),
                ("fromURI", &from),
                ("username", login),
                ("password", PASSWORD),
            ],
        )
        .await?;
    ensure!(posted.status == StatusCode::SEE_OTHER, "{posted:?}");
    let back = posted.header("location").context("no location")?;
    ensure!(back.starts_with("/forward-auth/v1/signin?rd="), "{back}");
    browser.get(&format!("{}{back}", app.base)).await
}

async fn trust_redirects_from(app: &TestApp, origin: &str) -> Result<()> {
    trusted_origins::create(
        &app.provider,
        TrustedOriginSpec {
            name: "NetBox".into(),
            origin: origin.into(),
            scopes: vec![TrustedOriginScope::Redirect],
        },
        None,
    )
    .await?;
    Ok(())
}

async fn verify_answers_identity_headers_for_a_session(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    trust_redirects_from(&app, PROTECTED).await?;
    let browser = Browser::new()?;
    let anonymous = browser.get(&verify_url(&app, "")).await?;
    ensure!(
        anonymous.status == StatusCode::UNAUTHORIZED,
        "{anonymous:?}"
    );
    ensure!(anonymous.header("remote-user").is_none(), "{anonymous:?}");

    let ops = app.create_group_with("netbox-ops", &[&app.alice]).await?;
    let back = sign_in(
        &app,
        &browser,
        &app.alice.login,
        &format!("{PROTECTED}/dcim/"),
    )
    .await?;
    ensure!(back.status == StatusCode::FOUND, "{back:?}");
    ensure!(
        back.header("location") == Some("https://netbox.example.com/dcim/"),
        "{back:?}"
    );

    let ok = browser.get(&verify_url(&app, "")).await?;
    ensure!(ok.status == StatusCode::OK, "{ok:?}");
    ensure!(
        ok.header("remote-user") == Some("alice@example.com"),
        "{ok:?}"
    );
    ensure!(
        ok.header("remote-email") == Some("alice.liddell@example.com"),
        "{ok:?}"
    );
    ensure!(ok.header("remote-name") == Some("Alice Liddell"), "{ok:?}");
    ensure!(ok.header("remote-groups") == Some("netbox-ops"), "{ok:?}");
    ensure!(
        ok.header("remote-user-email") == Some("alice.liddell@example.com")
            && ok.header("remote-user-first-name") == Some("Alice")
            && ok.header("remote-user-last-name") == Some("Liddell")
            && ok.header("remote-user-group") == Some("netbox-ops"),
        "{ok:?}"
    );
    ensure!(ok.header("cache-control") == Some("no-store"), "{ok:?}");

    // nginx's auth_request asks with the original request's method.
    let posted = Reply::read(browser.client.post(verify_url(&app, "")).send().await?).await?;
    ensure!(
        posted.status == StatusCode::OK
            && posted.header("remote-user") == Some("alice@example.com"),
        "{posted:?}"
    );

    // A group change shows on the very next request.
    let admins = app.create_group_with("netbox-admins", &[]).await?;
    add_group_member(&app.provider, &Actor::system(), &admins, &app.alice).await?;
    let again = browser.get(&verify_url(&app, "")).await?;
    ensure!(
        again.header("remote-groups") == Some("netbox-admins,netbox-ops"),
        "{again:?}"
    );
    ensure!(
        again.header("remote-user-group") == Some("netbox-admins|netbox-ops"),
        "{again:?}"
    );
    let _ = ops;

    // Header names and the group separator are the proxy's choice.
    let prefixed = browser
        .get(&verify_url(&app, "?prefix=X-&group_separator=;"))
        .await?;
    ensure!(
        prefixed.header("x-remote-user") == Some("alice@example.com")
            && prefixed.header("x-remote-user-group") == Some("netbox-admins;netbox-ops")
            && prefixed.header("remote-user").is_none(),
        "{prefixed:?}"
    );
    let bad = browser.get(&verify_url(&app, "?prefix=X%0D%0A")).await?;
    ensure!(bad.status == StatusCode::BAD_REQUEST, "{bad:?}");
    Ok(())
}

async fn verify_restricts_to_the_apps_assigned_users(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    trust_redirects_from(&app, PROTECTED).await?;
    let netbox = app.create_web_app("NetBox").await?;
    let query = format!("?app={}", netbox.app.client_id);
    let browser = Browser::new()?;
    sign_in(&app, &browser, &app.alice.login, PROTECTED).await?;

    let refused = browser.get(&verify_url(&app, &query)).await?;
    ensure!(refused.status == StatusCode::FORBIDDEN, "{refused:?}");
    ensure!(refused.header("remote-user").is_none(), "{refused:?}");
    let unknown = browser.get(&verify_url(&app, "?app=0oanope")).await?;
    ensure!(unknown.status == StatusCode::FORBIDDEN, "{unknown:?}");

    assign_user(&app.provider, &Actor::system(), &netbox.app, &app.alice).await?;
    let allowed = browser.get(&verify_url(&app, &query)).await?;
    ensure!(allowed.status == StatusCode::OK, "{allowed:?}");
    ensure!(
        allowed.header("remote-user") == Some("alice@example.com"),
        "{allowed:?}"
    );

    set_status(
        &app.provider,
        &Actor::system(),
        netbox.app.clone(),
        AppStatus::Inactive,
    )
    .await?;
    let inactive = browser.get(&verify_url(&app, &query)).await?;
    ensure!(inactive.status == StatusCode::FORBIDDEN, "{inactive:?}");

    // A signed-out browser asked with redirect=true (Traefik, Caddy) goes to the sign-in.
    let anonymous = Browser::new()?;
    let res = anonymous
        .client
        .get(verify_url(&app, "?redirect=true"))
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-Host", "netbox.example.com")
        .header("X-Forwarded-Uri", "/ipam/?q=1")
        .send()
        .await?;
    let to_signin = Reply::read(res).await?;
    ensure!(to_signin.status == StatusCode::FOUND, "{to_signin:?}");
    let location = to_signin.header("location").unwrap_or_default();
    ensure!(
        location
            == format!(
                "{}/forward-auth/v1/signin?rd=https%3A%2F%2Fnetbox.example.com%2Fipam%2F%3Fq%3D1",
                app.base
            ),
        "{location}"
    );
    Ok(())
}

async fn signin_returns_only_to_protected_origins(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    trust_redirects_from(&app, PROTECTED).await?;
    let browser = Browser::new()?;
    for bad in [
        "https://evil.example/",
        "//evil.example/",
        "https://netbox.example.com.evil.example/",
        "https://user@netbox.example.com/",
        "javascript:alert(1)",
        "",
    ] {
        let r = browser
            .get(&format!(
                "{}/forward-auth/v1/signin?rd={}",
                app.base,
                urlencode(bad)
            ))
            .await?;
        ensure!(r.status == StatusCode::BAD_REQUEST, "{bad}: {r:?}");
        ensure!(r.header("location").is_none(), "{bad}: {r:?}");
    }
    // A trusted origin without the REDIRECT scope does not count.
    trusted_origins::create(
        &app.provider,
        TrustedOriginSpec {
            name: "CORS only".into(),
            origin: "https://spa.example.com".into(),
            scopes: vec![TrustedOriginScope::Cors],
        },
        None,
    )
    .await?;
    let cors_only = browser
        .get(&format!(
            "{}/forward-auth/v1/signin?rd={}",
            app.base,
            urlencode("https://spa.example.com/")
        ))
        .await?;
    ensure!(cors_only.status == StatusCode::BAD_REQUEST, "{cors_only:?}");
    // The origin of an app's redirect URI is protected when the app is named.
    let named = browser
        .get(&format!(
            "{}/forward-auth/v1/signin?rd={}&app={}",
            app.base,
            urlencode("https://app.example.com/x"),
            app.web.app.client_id
        ))
        .await?;
    ensure!(named.status == StatusCode::FOUND, "{named:?}");
    Ok(())
}

async fn signout_and_deactivation_end_access(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    trust_redirects_from(&app, PROTECTED).await?;
    let browser = Browser::new()?;
    sign_in(&app, &browser, &app.alice.login, PROTECTED).await?;
    ensure!(browser.get(&verify_url(&app, "")).await?.status == StatusCode::OK);
    let out = browser
        .get(&format!(
            "{}/forward-auth/v1/signout?rd={}",
            app.base,
            urlencode(PROTECTED)
        ))
        .await?;
    ensure!(out.status == StatusCode::FOUND, "{out:?}");
    ensure!(out.header("location") == Some(PROTECTED), "{out:?}");
    let after = browser.get(&verify_url(&app, "")).await?;
    ensure!(after.status == StatusCode::UNAUTHORIZED, "{after:?}");

    // A deactivated user's live session no longer passes.
    let bob = app.create_user("bob@example.com").await?;
    let bobs = Browser::new()?;
    sign_in(&app, &bobs, &bob.login, PROTECTED).await?;
    ensure!(bobs.get(&verify_url(&app, "")).await?.status == StatusCode::OK);
    lifecycle(&app.provider, &Actor::system(), bob, Lifecycle::Deactivate).await?;
    let gone = bobs.get(&verify_url(&app, "")).await?;
    ensure!(gone.status == StatusCode::UNAUTHORIZED, "{gone:?}");

    // An expired session does not pass either.
    sign_in(&app, &browser, &app.alice.login, PROTECTED).await?;
    ensure!(browser.get(&verify_url(&app, "")).await?.status == StatusCode::OK);
    app.clock.advance(60 * 60 * 24 * 30);
    let expired = browser.get(&verify_url(&app, "")).await?;
    ensure!(expired.status == StatusCode::UNAUTHORIZED, "{expired:?}");
    Ok(())
}
