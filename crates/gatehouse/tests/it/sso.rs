//! The sign-in session: single sign-on, `prompt`, `max_age`, the generic failure message, CSRF.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::provider::Clock as _;
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;

use crate::helpers::{
    Auth, Authz, Browser, Callback, GENERIC_LOGIN_FAILURE, LoginForm, NONCE, PASSWORD, Reply,
    STATE, Server, TestApp, Tokens, hidden_input, spawn_app,
};

backend_tests!(
    session_gives_single_sign_on_to_second_app,
    prompt_none_without_session_is_login_required,
    prompt_login_shows_the_form_again,
    max_age_forces_reauthentication,
    failed_sign_in_is_generic,
    csrf_mismatch_is_refused,
);

/// Exchanges a callback's code for the seeded app and returns the verified ID token claims.
async fn id_claims(
    app: &TestApp,
    server: Server,
    callback: &Callback,
) -> Result<serde_json::Value> {
    let tokens = Tokens::from_reply(
        app.exchange(server, &callback.code()?, &[], app.basic())
            .await?,
    )?;
    app.verify_jwt(server, tokens.id_token()?, app.client_id())
        .await
}

async fn session_gives_single_sign_on_to_second_app(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let second = app.create_web_app("Second App").await?;
    app.assign_everyone(&second).await?;
    let second_secret = second.client_secret.as_deref().unwrap_or_default();
    let (browser, first) = app.sign_in_with(&app.authz(Server::Default)).await?;
    let signed_in_at = app.clock.now();
    first.code()?;
    let session = browser
        .cookie(&app.base, "gh_sid")
        .context("no session cookie in the jar")?;
    app.clock.advance(60);
    for server in Server::ALL {
        // No form: straight back to the second app with a code, state and iss.
        let url = Authz::new(&app.base, server, &second.app.client_id).url();
        let callback = browser.authorize_redirect(&url).await?;
        assert_eq!(callback.target(), crate::helpers::REDIRECT_URI);
        assert_eq!(callback.param("state").as_deref(), Some(STATE));
        assert_eq!(callback.param("iss"), Some(app.issuer(server)));
        let tokens = Tokens::from_reply(
            app.exchange(
                server,
                &callback.code()?,
                &[],
                Auth::Basic(&second.app.client_id, second_secret),
            )
            .await?,
        )?;
        let claims = app
            .verify_jwt(server, tokens.id_token()?, &second.app.client_id)
            .await?;
        assert_eq!(claims["sub"], app.alice.id.as_str());
        assert_eq!(claims["aud"], second.app.client_id.as_str());
        assert_eq!(claims["nonce"], NONCE);
        assert_eq!(
            claims["auth_time"], signed_in_at,
            "the session's sign-in time"
        );
        assert_eq!(claims["iat"], signed_in_at + 60);
        // prompt=none succeeds silently with the session.
        let silent = browser
            .authorize_redirect(&app.authz(server).set("prompt", "none").url())
            .await?;
        let claims = id_claims(&app, server, &silent).await?;
        assert_eq!(claims["sub"], app.alice.id.as_str());
        assert_eq!(claims["auth_time"], signed_in_at);
    }
    // The session belongs to the cookie, not the browser: a bare client with it gets SSO ...
    let res = crate::helpers::http_client()?
        .get(app.authz(Server::Org).url())
        .header("cookie", format!("gh_sid={session}"))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::FOUND);
    // ... and a forged cookie gets the form.
    let res = crate::helpers::http_client()?
        .get(app.authz(Server::Org).url())
        .header("cookie", "gh_sid=forged-session-value")
        .send()
        .await?;
    let forged = Reply::read(res).await?;
    ensure!(forged.login_form().is_some(), "{forged:?}");
    Ok(())
}

async fn prompt_none_without_session_is_login_required(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let browser = Browser::new()?;
        let callback = browser
            .authorize_redirect(&app.authz(server).set("prompt", "none").url())
            .await?;
        callback.expect_error("login_required")?;
        // An expired session is no session.
        let (browser, _) = app.sign_in_with(&app.authz(server)).await?;
        app.clock.advance(2 * 3600 + 1);
        browser
            .authorize_redirect(&app.authz(server).set("prompt", "none").url())
            .await?
            .expect_error("login_required")?;
        // And without prompt=none the expired session means the form.
        browser.open_login(&app.authz(server).url()).await?;
    }
    Ok(())
}

async fn prompt_login_shows_the_form_again(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let (browser, first) = app.sign_in_with(&app.authz(server)).await?;
        let first_claims = id_claims(&app, server, &first).await?;
        let old_session = browser.cookie(&app.base, "gh_sid").context("no session")?;
        app.clock.advance(30);
        let url = app.authz(server).set("prompt", "login").url();
        let callback = browser.sign_in(&url, &app.alice.login, PASSWORD).await?;
        let claims = id_claims(&app, server, &callback).await?;
        assert_eq!(claims["sub"], first_claims["sub"]);
        assert_eq!(claims["auth_time"], app.clock.now(), "re-authenticated now");
        ensure!(
            claims["auth_time"].as_i64() > first_claims["auth_time"].as_i64(),
            "{claims} vs {first_claims}"
        );
        let new_session = browser.cookie(&app.base, "gh_sid").context("no session")?;
        assert_ne!(new_session, old_session, "a new session on sign-in");
        // prompt=consent (and select_account) are accepted alongside.
        let page = browser
            .get(&app.authz(server).set("prompt", "login consent").url())
            .await?;
        ensure!(page.login_form().is_some(), "{page:?}");
    }
    Ok(())
}

async fn max_age_forces_reauthentication(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for server in Server::ALL {
        let (browser, first) = app.sign_in_with(&app.authz(server)).await?;
        let signed_in_at = app.clock.now();
        id_claims(&app, server, &first).await?;
        app.clock.advance(120);

        // Fresh enough: single sign-on, with the original auth_time.
        let sso = browser
            .authorize_redirect(&app.authz(server).set("max_age", "600").url())
            .await?;
        assert_eq!(
            id_claims(&app, server, &sso).await?["auth_time"],
            signed_in_at
        );
        let exact = browser
            .authorize_redirect(&app.authz(server).set("max_age", "120").url())
            .await?;
        assert_eq!(
            id_claims(&app, server, &exact).await?["auth_time"],
            signed_in_at
        );

        // Too old: prompt=none cannot help ...
        browser
            .authorize_redirect(
                &app.authz(server)
                    .set("max_age", "60")
                    .set("prompt", "none")
                    .url(),
            )
            .await?
            .expect_error("login_required")?;
        // ... and otherwise the user signs in again, and auth_time moves.
        let url = app.authz(server).set("max_age", "60").url();
        let again = browser.sign_in(&url, &app.alice.login, PASSWORD).await?;
        let claims = id_claims(&app, server, &again).await?;
        assert_eq!(claims["auth_time"], signed_in_at + 120);
        // max_age=0 always asks.
        browser
            .open_login(&app.authz(server).set("max_age", "0").url())
            .await?;
    }
    Ok(())
}

/// The page with the per-transaction values and the echoed username blanked out.
fn normalized(page: &Reply, form: &LoginForm, username: &str) -> String {
    page.body
        .replace(&form.tx, "TX")
        .replace(&form.csrf, "CSRF")
        .replace(username, "USERNAME")
}

async fn failed_sign_in_is_generic(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let url = app.authz(Server::Default).url();
    let mut pages = Vec::new();
    for (username, password) in [
        (app.alice.login.as_str(), "wrong password"),
        ("nobody@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
        (app.alice.login.as_str(), ""),
    ] {
        let browser = Browser::new()?;
        let form = browser.open_login(&url).await?;
        let page = browser.submit(&form, username, password).await?;
        assert_eq!(
            page.status,
            StatusCode::UNAUTHORIZED,
            "{username}: {page:?}"
        );
        ensure!(page.header("location").is_none(), "{page:?}");
        ensure!(page.set_cookie("gh_sid").is_none(), "no session: {page:?}");
        ensure!(page.body.contains(GENERIC_LOGIN_FAILURE), "{page:?}");
        for telltale in [
            "password is incorrect",
            "not found",
            "no such user",
            "unknown user",
        ] {
            ensure!(
                !page.body.to_lowercase().contains(telltale),
                "{telltale}: {page:?}"
            );
        }
        // The form comes back for another try in the same transaction.
        let retry = page.login_form().context("no form to retry")?;
        assert_eq!(retry.tx, form.tx);
        // The username field is filled in again with what was typed, whoever it names.
        assert_eq!(
            hidden_input(&page.body, "username").as_deref(),
            Some(username)
        );
        pages.push((
            normalized(&page, &form, username),
            page.header("content-type").map(str::to_owned),
        ));
        // And the right password then works.
        let done = browser.submit(&retry, &app.alice.login, PASSWORD).await?;
        assert_eq!(done.status, StatusCode::FOUND, "{done:?}");
        ensure!(done.set_cookie("gh_sid").is_some_and(|s| !s.is_empty()));
    }
    for (i, page) in pages.iter().enumerate().skip(1) {
        assert_eq!(
            page, &pages[0],
            "failure page {i} differs from the first: the pages reveal which accounts exist"
        );
    }
    Ok(())
}

/// Posts the sign-in form with alice's credentials and the given transaction and CSRF values.
async fn submit(
    b: &Browser,
    form: &LoginForm,
    app: &TestApp,
    tx: &str,
    csrf: &str,
) -> Result<Reply> {
    b.post_form(
        &form.action,
        &[
            ("tx", tx),
            ("csrf", csrf),
            ("username", app.alice.login.as_str()),
            ("password", PASSWORD),
        ],
    )
    .await
}

async fn csrf_mismatch_is_refused(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let url = app.authz(Server::Default).url();
    let browser = Browser::new()?;
    let form = browser.open_login(&url).await?;
    let other = Browser::new()?;
    let other_form = other.open_login(&url).await?;
    let attempts = [
        // The form field does not match the cookie.
        (&browser, form.tx.clone(), format!("{}x", form.csrf)),
        (&browser, form.tx.clone(), String::new()),
        // Another transaction's CSRF token.
        (&browser, form.tx.clone(), other_form.csrf.clone()),
        // An unknown transaction.
        (
            &browser,
            "no-such-transaction".to_owned(),
            form.csrf.clone(),
        ),
    ];
    for (b, tx, csrf) in attempts {
        let reply = submit(b, &form, &app, &tx, &csrf).await?;
        reply.assert_error_page("invalid_request");
        ensure!(reply.set_cookie("gh_sid").is_none(), "{reply:?}");
    }
    // A cross-site post: the right fields but no gh_csrf cookie (another browser).
    let attacker = Browser::new()?;
    let reply = submit(&attacker, &form, &app, &form.tx, &form.csrf).await?;
    reply.assert_error_page("invalid_request");
    ensure!(reply.set_cookie("gh_sid").is_none(), "{reply:?}");
    ensure!(attacker.cookie(&app.base, "gh_sid").is_none());
    // The genuine submission still succeeds.
    let reply = submit(&browser, &form, &app, &form.tx, &form.csrf).await?;
    assert_eq!(reply.status, StatusCode::FOUND, "{reply:?}");
    let callback = Callback {
        url: reply.location().context("no Location")?,
    };
    id_claims(&app, Server::Default, &callback).await?;
    // A transaction is used once.
    let replay = submit(&browser, &form, &app, &form.tx, &form.csrf).await?;
    replay.assert_error_page("invalid_request");
    Ok(())
}
