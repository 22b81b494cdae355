//! Okta's classic Authentication API (`POST /api/v1/authn`), its single-use `sessionToken` at
//! `/authorize` and `/login/sessionCookieRedirect`, and just-in-time password migration of
//! users imported from another org (the source here is a second Gatehouse).

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::domain::UserStatus;
use gatehouse_core::services::import_users::{self, ImportedUser, Outcome};
use gatehouse_core::services::system_log::Actor;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Browser, PASSWORD, REDIRECT_URI, Reply, Server, TestApp, spawn_app, spawn_app_with,
};
use crate::lockout::status_of;

backend_tests!(
    authn_success_and_session_token_at_authorize,
    authn_refusals_look_alike_and_lock,
    session_cookie_redirect_sets_the_session_and_refuses_foreign_urls,
    imported_user_password_migrates_once,
    source_down_is_an_error_not_a_failure,
);

async fn authn(app: &TestApp, username: &str, password: &str) -> Result<Reply> {
    let body = json!({ "username": username, "password": password, "options": {} });
    app.api(Method::POST, "/api/v1/authn", None, Some(&body))
        .await
}

fn ensure_e0000004(reply: &Reply) -> Result<()> {
    ensure!(reply.status == StatusCode::UNAUTHORIZED, "{reply:?}");
    let body = reply.json()?;
    ensure!(body["errorCode"] == "E0000004", "{reply:?}");
    ensure!(body["errorSummary"] == "Authentication failed", "{reply:?}");
    ensure!(
        body["errorId"].is_string() && body["errorCauses"].is_array(),
        "{reply:?}"
    );
    Ok(())
}

fn session_token(reply: &Reply) -> Result<String> {
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    let body = reply.json()?;
    ensure!(body["status"] == "SUCCESS", "{body}");
    ensure!(
        body["expiresAt"].as_str().is_some_and(|s| s.ends_with('Z')),
        "{body}"
    );
    body["sessionToken"]
        .as_str()
        .map(str::to_owned)
        .context("no sessionToken")
}

async fn authn_success_and_session_token_at_authorize(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let reply = authn(&app, &app.alice.login, PASSWORD).await?;
    ensure!(
        reply.header("cache-control") == Some("no-store"),
        "{reply:?}"
    );
    let token = session_token(&reply)?;
    let user: Value = reply.json()?["_embedded"]["user"].clone();
    ensure!(user["id"] == app.alice.id.as_str(), "{user}");
    ensure!(user["profile"]["login"] == "alice@example.com", "{user}");
    ensure!(user["profile"]["firstName"] == "Alice", "{user}");
    ensure!(user["profile"]["lastName"] == "Liddell", "{user}");
    ensure!(user["profile"]["locale"].is_string(), "{user}");
    ensure!(user["profile"]["timeZone"].is_string(), "{user}");

    // A browser with no session: the token stands in for the sign-in form.
    for server in Server::ALL {
        let token = if matches!(server, Server::Org) {
            token.clone()
        } else {
            session_token(&authn(&app, &app.alice.login, PASSWORD).await?)?
        };
        let browser = Browser::new()?;
        let url = app.authz(server).set("sessionToken", &token).url();
        let callback = browser.authorize_redirect(&url).await?;
        ensure!(callback.target() == REDIRECT_URI, "{callback:?}");
        let reply = app
            .exchange(server, &callback.code()?, &[], app.basic())
            .await?;
        let tokens = crate::helpers::Tokens::from_reply(reply)?;
        let (_, claims) = crate::helpers::jwt_parts(tokens.id_token()?)?;
        ensure!(claims["sub"] == app.alice.id.as_str(), "{claims}");
        ensure!(claims["amr"] == json!(["pwd"]), "{claims}");
        // The token's session is the browser's now (its cookie came with the redirect): a
        // second authorize, without the token and with prompt=none, is silent single sign-on.
        let sso = app.authz(server).set("prompt", "none").url();
        let silent = browser.authorize_redirect(&sso).await?;
        ensure!(
            silent.target() == REDIRECT_URI && silent.code().is_ok(),
            "no single sign-on after a sessionToken: {silent:?}"
        );

        // Single use: the same token again is ignored and the sign-in form is shown.
        let again = Browser::new()?.get(&url).await?;
        ensure!(
            again.status == StatusCode::OK && again.login_form().is_some(),
            "{again:?}"
        );
        // With prompt=none a spent token is login_required, never a code.
        let none = app
            .authz(server)
            .set("sessionToken", &token)
            .set("prompt", "none")
            .url();
        Browser::new()?
            .authorize_redirect(&none)
            .await?
            .expect_error("login_required")?;
    }
    Ok(())
}

async fn authn_refusals_look_alike_and_lock(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.security.lockout_max_attempts = 2).await?;
    ensure_e0000004(&authn(&app, "nobody@example.com", PASSWORD).await?)?;
    let missing = app
        .api(
            Method::POST,
            "/api/v1/authn",
            None,
            Some(&json!({"username": "x"})),
        )
        .await?;
    ensure_e0000004(&missing)?;
    ensure_e0000004(&authn(&app, &app.alice.login, "wrong").await?)?;
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::Active);
    ensure_e0000004(&authn(&app, &app.alice.login, "wrong").await?)?;
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::LockedOut);
    // Locked: the right password is refused the same way.
    ensure_e0000004(&authn(&app, &app.alice.login, PASSWORD).await?)?;
    let malformed = app.api(Method::POST, "/api/v1/authn", None, None).await?;
    ensure!(malformed.status == StatusCode::BAD_REQUEST, "{malformed:?}");
    Ok(())
}

async fn session_cookie_redirect_sets_the_session_and_refuses_foreign_urls(
    backend: Backend,
) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = session_token(&authn(&app, &app.alice.login, PASSWORD).await?)?;
    let browser = Browser::new()?;
    let redirect = |to: &str, token: &str| {
        let q = serde_urlencoded::to_string([("token", token), ("redirectUrl", to)])
            .unwrap_or_default();
        format!("{}/login/sessionCookieRedirect?{q}", app.base)
    };
    // Foreign destinations are refused before the token is spent (no open redirect).
    for foreign in [
        "https://evil.example.com/",
        "//evil.example.com/",
        "javascript:alert(1)",
        "",
    ] {
        let reply = browser.get(&redirect(foreign, &token)).await?;
        ensure!(reply.status.is_client_error(), "{foreign}: {reply:?}");
        ensure!(reply.header("location").is_none(), "{foreign}: {reply:?}");
    }
    let home = format!("{}/app/UserHome", app.base);
    let reply = browser.get(&redirect(&home, &token)).await?;
    ensure!(reply.status == StatusCode::FOUND, "{reply:?}");
    ensure!(reply.header("location") == Some(home.as_str()), "{reply:?}");
    ensure!(reply.set_cookie("gh_sid").is_some(), "{reply:?}");
    // The cookie is a real session: single sign-on without the form.
    let callback = browser
        .authorize_redirect(&app.authz(Server::Org).url())
        .await?;
    ensure!(callback.code().is_ok(), "{callback:?}");
    // Spent.
    let reply = Browser::new()?.get(&redirect(&home, &token)).await?;
    ensure!(
        reply.status.is_client_error() && reply.header("location").is_none(),
        "{reply:?}"
    );

    // A trusted origin with the REDIRECT scope may be the destination.
    let api = app.api_token().await?;
    let origin = json!({"name": "portal", "origin": "https://portal.example.com",
        "scopes": [{"type": "REDIRECT"}]});
    let created = app
        .api_ssws(Method::POST, "/api/v1/trustedOrigins", &api, Some(&origin))
        .await?;
    ensure!(created.status.is_success(), "{created:?}");
    let token = session_token(&authn(&app, &app.alice.login, PASSWORD).await?)?;
    let portal = "https://portal.example.com/welcome";
    let reply = Browser::new()?.get(&redirect(portal, &token)).await?;
    ensure!(reply.status == StatusCode::FOUND, "{reply:?}");
    ensure!(reply.header("location") == Some(portal), "{reply:?}");
    Ok(())
}

/// Imports the source's `login` into `target`, marked for migration from the source.
async fn import_from(source_base: &str, target: &TestApp, id: &str, login: &str) -> Result<()> {
    let user = ImportedUser {
        id: id.to_owned(),
        status: UserStatus::Active,
        login: login.to_owned(),
        email: login.to_owned(),
        first_name: "Bob".into(),
        last_name: "Builder".into(),
        display_name: None,
    };
    let (_, outcome) = import_users::upsert(
        &target.provider,
        &Actor::system(),
        user.clone(),
        source_base,
    )
    .await?;
    ensure!(outcome == Outcome::Created, "{outcome:?}");
    // Idempotent: the same record again changes nothing.
    let (_, again) =
        import_users::upsert(&target.provider, &Actor::system(), user, source_base).await?;
    ensure!(again == Outcome::Unchanged, "{again:?}");
    Ok(())
}

async fn imported_user_password_migrates_once(backend: Backend) -> Result<()> {
    let source = spawn_app(backend).await?;
    let bob = source.create_user("bob@example.com").await?;
    let target = spawn_app(backend).await?;
    import_from(&source.base, &target, &bob.id, &bob.login).await?;
    let stored = target
        .provider
        .store
        .find_user(&bob.id)
        .await?
        .context("bob")?;
    ensure!(stored.password_hash.is_none() && stored.status == UserStatus::Active);

    // A wrong password: the source refuses it, and so does the target.
    ensure_e0000004(&authn(&target, &bob.login, "wrong password").await?)?;
    ensure!(
        target
            .provider
            .store
            .password_migration_source(&bob.id)
            .await?
            .is_some()
    );

    // The right one through the hosted form: checked at the source, then stored here.
    let browser = Browser::new()?;
    let callback = browser
        .sign_in(&target.authz(Server::Org).url(), &bob.login, PASSWORD)
        .await?;
    ensure!(callback.code().is_ok(), "{callback:?}");
    let stored = target
        .provider
        .store
        .find_user(&bob.id)
        .await?
        .context("bob")?;
    ensure!(
        stored
            .password_hash
            .as_deref()
            .is_some_and(|h| h.starts_with("$argon2id$")),
        "{stored:?}"
    );
    ensure!(
        target
            .provider
            .store
            .password_migration_source(&bob.id)
            .await?
            .is_none()
    );

    // The source is never asked again: it can go away.
    drop(source);
    session_token(&authn(&target, &bob.login, PASSWORD).await?)?;
    ensure_e0000004(&authn(&target, &bob.login, "wrong password").await?)?;
    Ok(())
}

async fn source_down_is_an_error_not_a_failure(backend: Backend) -> Result<()> {
    let target = spawn_app_with(backend, |s| s.security.lockout_max_attempts = 1).await?;
    // Nothing listens on port 9 of the loopback interface.
    import_from(
        "http://127.0.0.1:9",
        &target,
        "00uDownSource01",
        "carol@example.com",
    )
    .await?;
    for _ in 0..3 {
        let reply = authn(&target, "carol@example.com", PASSWORD).await?;
        ensure!(reply.status == StatusCode::SERVICE_UNAVAILABLE, "{reply:?}");
        ensure!(reply.json()?["errorCode"] == "E0000009", "{reply:?}");
    }
    // With a budget of one failure, a counted attempt would have locked the account.
    ensure!(status_of(&target, "00uDownSource01").await? == UserStatus::Active);
    ensure!(
        target
            .provider
            .store
            .password_migration_source("00uDownSource01")
            .await?
            .is_some()
    );
    Ok(())
}
