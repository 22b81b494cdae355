//! Expired passwords (`lifecycle/expire_password`, the policy's `maxAgeDays`): the hosted
//! sign-in asks for a new one (CSRF, the policy) and goes on to the app; `/api/v1/authn`
//! answers `PASSWORD_EXPIRED` and takes `credentials/change_password`. Users imported with
//! Okta's `credentials.password.hash` (BCRYPT, SHA-256, PBKDF2) sign in and are rehashed to
//! argon2id. The dashboard's "Change password" page. The console's own sign-in
//! (`/login/login.htm`) offers the expired-password change too.

use anyhow::{Context as _, Result, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use gatehouse_core::domain::UserStatus;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::console::console_sign_in;
use crate::helpers::{Browser, PASSWORD, Reply, Server, TestApp, hidden_input, spawn_app};
use crate::lockout::status_of;
use crate::passwords::set_default_policy;

backend_tests!(
    expired_password_asks_for_a_new_one_on_the_hosted_page,
    authn_answers_password_expired_after_max_age,
    users_imported_with_hashes_sign_in_and_are_rehashed,
    dashboard_change_password_page,
    console_sign_in_asks_for_a_new_expired_password,
);

async fn authn(app: &TestApp, username: &str, password: &str) -> Result<Reply> {
    let body = json!({ "username": username, "password": password });
    app.api(Method::POST, "/api/v1/authn", None, Some(&body))
        .await
}

async fn expired_password_asks_for_a_new_one_on_the_hosted_page(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let t = app.api_token().await?;
    set_default_policy(&app, &t, json!({ "complexity": { "minLength": 12 } })).await?;
    let path = format!("/api/v1/users/{}/lifecycle/expire_password", app.alice.id);
    let r = app.api_ssws(Method::POST, &path, &t, None).await?;
    ensure!(
        r.status == StatusCode::OK && r.json()?["status"] == "PASSWORD_EXPIRED",
        "{r:?}"
    );

    let browser = Browser::new()?;
    let form = browser
        .open_login(&app.authz(Server::Default).url())
        .await?;
    // A wrong password is still the generic refusal (nothing learnt about the expiry).
    let wrong = browser
        .submit(&form, &app.alice.login, "wrong password")
        .await?;
    ensure!(wrong.status == StatusCode::UNAUTHORIZED, "{wrong:?}");
    let page = browser.submit(&form, &app.alice.login, PASSWORD).await?;
    ensure!(page.status == StatusCode::OK, "{page:?}");
    ensure!(page.body.contains("Your password has expired"), "{page:?}");
    ensure!(
        page.set_cookie("gh_sid").is_none(),
        "no session before the new password"
    );
    ensure!(page.body.contains("at least 12 characters"), "{page:?}");
    let state = hidden_input(&page.body, "stateToken").context("no stateToken")?;
    let tx = hidden_input(&page.body, "tx").context("no tx")?;
    let csrf = hidden_input(&page.body, "csrf").context("no csrf")?;
    let url = format!("{}/login/password-expired", app.base);
    let post = |new: &'static str, confirm: &'static str, csrf: String| {
        let (browser, url, tx, state) = (&browser, url.clone(), tx.clone(), state.clone());
        async move {
            browser
                .post_form(
                    &url,
                    &[
                        ("tx", tx.as_str()),
                        ("csrf", csrf.as_str()),
                        ("stateToken", state.as_str()),
                        ("newPassword", new),
                        ("confirmPassword", confirm),
                    ],
                )
                .await
        }
    };
    let short = post("too-short", "too-short", csrf.clone()).await?;
    ensure!(short.status == StatusCode::BAD_REQUEST, "{short:?}");
    ensure!(
        short.body.contains("Missing: at least 12 characters"),
        "{short:?}"
    );
    let mismatch = post("Long-enough-pass-1", "Long-enough-pass-2", csrf.clone()).await?;
    ensure!(mismatch.body.contains("do not match"), "{mismatch:?}");
    // Without the form's CSRF token nothing changes.
    let forged = post("Long-enough-pass-1", "Long-enough-pass-1", "forged".into()).await?;
    ensure!(forged.status != StatusCode::FOUND, "{forged:?}");
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::PasswordExpired);

    let done = post("Long-enough-pass-1", "Long-enough-pass-1", csrf.clone()).await?;
    ensure!(done.status == StatusCode::FOUND, "{done:?}");
    ensure!(
        done.set_cookie("gh_sid").is_some_and(|s| !s.is_empty()),
        "{done:?}"
    );
    let callback = done.location().context("no Location")?;
    ensure!(
        callback.as_str().starts_with(crate::helpers::REDIRECT_URI)
            && callback.query_pairs().any(|(k, _)| k == "code"),
        "{callback}"
    );
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::Active);
    // The state token served once: the password it was issued against is gone.
    let replay = post("Other-long-pass-2", "Other-long-pass-2", csrf).await?;
    ensure!(replay.status != StatusCode::FOUND, "{replay:?}");
    // The new password signs in directly.
    Browser::new()?
        .sign_in(
            &app.authz(Server::Default).url(),
            &app.alice.login,
            "Long-enough-pass-1",
        )
        .await?;
    Ok(())
}

async fn authn_answers_password_expired_after_max_age(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let t = app.api_token().await?;
    set_default_policy(&app, &t, json!({ "age": { "maxAgeDays": 30 } })).await?;
    let fresh = authn(&app, &app.alice.login, PASSWORD).await?;
    ensure!(fresh.json()?["status"] == "SUCCESS", "{fresh:?}");
    app.clock.advance(31 * 86_400);
    let r = authn(&app, &app.alice.login, PASSWORD).await?;
    ensure!(r.status == StatusCode::OK, "{r:?}");
    let body = r.json()?;
    ensure!(body["status"] == "PASSWORD_EXPIRED", "{body}");
    ensure!(body["sessionToken"].is_null(), "{body}");
    ensure!(
        body["_embedded"]["policy"]["complexity"]["minLength"] == 8,
        "{body}"
    );
    ensure!(body["_links"]["next"]["name"] == "changePassword", "{body}");
    let state = body["stateToken"].as_str().context("stateToken")?;
    let wrong = authn(&app, &app.alice.login, "wrong password").await?;
    ensure!(wrong.status == StatusCode::UNAUTHORIZED, "{wrong:?}");

    let change =
        |new: &str| json!({ "stateToken": state, "oldPassword": PASSWORD, "newPassword": new });
    let url = "/api/v1/authn/credentials/change_password";
    let weak = app
        .api(Method::POST, url, None, Some(&change("short")))
        .await?;
    ensure!(weak.status == StatusCode::FORBIDDEN, "{weak:?}");
    ensure!(weak.json()?["errorCode"] == "E0000080", "{weak:?}");
    let bad_state = json!({ "stateToken": "v1.bogus", "newPassword": "Brand-new-pass-1" });
    let bogus = app.api(Method::POST, url, None, Some(&bad_state)).await?;
    ensure!(bogus.status == StatusCode::UNAUTHORIZED, "{bogus:?}");
    let ok = app
        .api(Method::POST, url, None, Some(&change("Brand-new-pass-1")))
        .await?;
    ensure!(ok.status == StatusCode::OK, "{ok:?}");
    let body = ok.json()?;
    ensure!(
        body["status"] == "SUCCESS" && body["sessionToken"].is_string(),
        "{body}"
    );
    let again = app
        .api(Method::POST, url, None, Some(&change("Another-pass-2")))
        .await?;
    ensure!(again.status == StatusCode::UNAUTHORIZED, "{again:?}");
    let next = authn(&app, &app.alice.login, "Brand-new-pass-1").await?;
    ensure!(next.json()?["status"] == "SUCCESS", "{next:?}");
    Ok(())
}

async fn import(app: &TestApp, t: &str, login: &str, hash: Value) -> Result<Value> {
    let body = json!({
        "profile": { "firstName": "Ada", "lastName": "Lovelace", "email": login, "login": login },
        "credentials": { "password": { "hash": hash } },
    });
    let r = app
        .api_ssws(Method::POST, "/api/v1/users?activate=true", t, Some(&body))
        .await?;
    ensure!(r.status == StatusCode::OK, "{login}: {r:?}");
    r.json()
}

async fn stored_hash(app: &TestApp, login: &str) -> Result<String> {
    app.provider
        .store
        .find_user_by_login(login)
        .await?
        .and_then(|u| u.password_hash)
        .context("no hash")
}

async fn users_imported_with_hashes_sign_in_and_are_rehashed(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let t = app.api_token().await?;
    // Hashes as another system made them (the imported password needs no policy check).
    let secret = "imported secret";
    let full = bcrypt::hash_with_salt(secret, 6, *b"sixteen bytes!!!")?
        .format_for_version(bcrypt::Version::TwoB);
    let bcrypt_hash = json!({ "algorithm": "BCRYPT", "workFactor": 6,
                              "salt": &full[7..29], "value": &full[29..] });
    let salt = b"NaCl-salt";
    let sha = sha2::Sha256::digest([&salt[..], secret.as_bytes()].concat());
    let sha_hash = json!({ "algorithm": "SHA-256", "salt": STANDARD.encode(salt),
                           "saltOrder": "PREFIX", "value": STANDARD.encode(sha) });
    let mut derived = [0u8; 32];
    pbkdf2_sha256(secret.as_bytes(), salt, 1000, &mut derived);
    let pbkdf2_hash = json!({ "algorithm": "PBKDF2", "digestAlgorithm": "SHA256_HMAC",
                              "iterationCount": 1000, "salt": STANDARD.encode(salt),
                              "value": STANDARD.encode(derived) });
    for (login, hash) in [
        ("bcrypt.user@example.com", bcrypt_hash),
        ("sha.user@example.com", sha_hash),
        ("pbkdf2.user@example.com", pbkdf2_hash),
    ] {
        let user = import(&app, &t, login, hash).await?;
        ensure!(user["status"] == "ACTIVE", "{user}");
        ensure!(
            !stored_hash(&app, login).await?.starts_with("$argon2"),
            "{login}"
        );
        let wrong = authn(&app, login, "not the secret").await?;
        ensure!(
            wrong.status == StatusCode::UNAUTHORIZED,
            "{login}: {wrong:?}"
        );
        let ok = authn(&app, login, secret).await?;
        ensure!(ok.json()?["status"] == "SUCCESS", "{login}: {ok:?}");
        ensure!(
            stored_hash(&app, login).await?.starts_with("$argon2id$"),
            "{login}"
        );
        let again = authn(&app, login, secret).await?;
        ensure!(again.json()?["status"] == "SUCCESS", "{login}: {again:?}");
    }
    let bad = json!({ "profile": { "firstName": "X", "lastName": "Y", "email": "x@example.com",
                                   "login": "x@example.com" },
                      "credentials": { "password": { "hash": { "algorithm": "MD4", "value": "x" } } } });
    let r = app
        .api_ssws(Method::POST, "/api/v1/users", &t, Some(&bad))
        .await?;
    ensure!(r.status == StatusCode::BAD_REQUEST, "{r:?}");
    Ok(())
}

/// PBKDF2-HMAC-SHA256 (RFC 8018), written out so the test does not share the server's crate.
fn pbkdf2_sha256(password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8; 32]) {
    let hmac = |key: &[u8], msg: &[u8]| -> [u8; 32] {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            k[..32].copy_from_slice(&sha2::Sha256::digest(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
        let inner = sha2::Sha256::digest([pad(0x36), msg.to_vec()].concat());
        sha2::Sha256::digest([pad(0x5c), inner.to_vec()].concat()).into()
    };
    let mut u = hmac(password, &[salt, &1u32.to_be_bytes()].concat());
    *out = u;
    for _ in 1..rounds {
        u = hmac(password, &u);
        for (o, x) in out.iter_mut().zip(u) {
            *o ^= x;
        }
    }
}

async fn dashboard_change_password_page(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let other = Browser::new()?;
    other
        .sign_in(
            &app.authz(Server::Default).url(),
            &app.alice.login,
            PASSWORD,
        )
        .await?;
    let browser = Browser::new()?;
    let signed_in = console_sign_in(&app, &browser, &app.alice.login, "/app/UserHome").await?;
    ensure!(signed_in.status == StatusCode::SEE_OTHER, "{signed_in:?}");
    let settings = browser
        .get(&format!("{}/enduser/settings", app.base))
        .await?;
    ensure!(
        settings.body.contains("/enduser/settings/password"),
        "{settings:?}"
    );
    let url = format!("{}/enduser/settings/password", app.base);
    let page = browser.get(&url).await?;
    ensure!(page.status == StatusCode::OK, "{page:?}");
    ensure!(
        page.body
            .contains("Password requirements: at least 8 characters"),
        "{page:?}"
    );
    let csrf = hidden_input(&page.body, "csrf").context("no csrf")?;
    let submit = |csrf: String, old: &'static str, new: &'static str| {
        let (browser, url) = (&browser, url.clone());
        async move {
            browser
                .post_form(
                    &url,
                    &[
                        ("csrf", csrf.as_str()),
                        ("oldPassword", old),
                        ("newPassword", new),
                        ("confirmPassword", new),
                    ],
                )
                .await
        }
    };
    let forged = submit("forged".into(), PASSWORD, "Dashboard-pass-1").await?;
    ensure!(forged.status == StatusCode::FORBIDDEN, "{forged:?}");
    let wrong = submit(csrf.clone(), "not it", "Dashboard-pass-1").await?;
    ensure!(wrong.status == StatusCode::BAD_REQUEST, "{wrong:?}");
    ensure!(
        wrong.body.contains("current password is not correct"),
        "{wrong:?}"
    );
    let short = submit(csrf.clone(), PASSWORD, "short").await?;
    ensure!(
        short.body.contains("Missing: at least 8 characters"),
        "{short:?}"
    );
    let done = submit(csrf, PASSWORD, "Dashboard-pass-1").await?;
    ensure!(done.status == StatusCode::SEE_OTHER, "{done:?}");
    // This browser goes on in a new session; the other one was signed out.
    let after = browser
        .get(&format!(
            "{}/enduser/settings/password?notice=changed",
            app.base
        ))
        .await?;
    ensure!(
        after.status == StatusCode::OK && after.body.contains("password-changed"),
        "{after:?}"
    );
    let elsewhere = other.get(&app.authz(Server::Default).url()).await?;
    ensure!(elsewhere.login_form().is_some(), "{elsewhere:?}");
    let ok = authn(&app, &app.alice.login, "Dashboard-pass-1").await?;
    ensure!(ok.json()?["status"] == "SUCCESS", "{ok:?}");
    Ok(())
}

async fn console_sign_in_asks_for_a_new_expired_password(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let t = app.api_token().await?;
    set_default_policy(&app, &t, json!({ "complexity": { "minLength": 12 } })).await?;
    let path = format!("/api/v1/users/{}/lifecycle/expire_password", app.alice.id);
    let r = app.api_ssws(Method::POST, &path, &t, None).await?;
    ensure!(r.status == StatusCode::OK, "{r:?}");

    let browser = Browser::new()?;
    let page = console_sign_in(&app, &browser, &app.alice.login, "/app/UserHome").await?;
    ensure!(page.status == StatusCode::OK, "{page:?}");
    ensure!(page.body.contains("Your password has expired"), "{page:?}");
    ensure!(page.body.contains("at least 12 characters"), "{page:?}");
    ensure!(page.set_cookie("gh_sid").is_none(), "no session yet");
    let state = hidden_input(&page.body, "stateToken").context("no stateToken")?;
    let csrf = hidden_input(&page.body, "csrf").context("no csrf")?;
    ensure!(
        hidden_input(&page.body, "fromURI").as_deref() == Some("/app/UserHome"),
        "{page:?}"
    );
    let url = format!("{}/login/signin/password-expired", app.base);
    let post = |new: &'static str, csrf: String| {
        let (browser, url, state) = (&browser, url.clone(), state.clone());
        async move {
            browser
                .post_form(
                    &url,
                    &[
                        ("csrf", csrf.as_str()),
                        ("fromURI", "/app/UserHome"),
                        ("stateToken", state.as_str()),
                        ("newPassword", new),
                        ("confirmPassword", new),
                    ],
                )
                .await
        }
    };
    let forged = post("Console-long-pass-1", "forged".into()).await?;
    ensure!(forged.status == StatusCode::FORBIDDEN, "{forged:?}");
    let short = post("too-short", csrf.clone()).await?;
    ensure!(short.status == StatusCode::BAD_REQUEST, "{short:?}");
    ensure!(
        short.body.contains("Missing: at least 12 characters"),
        "{short:?}"
    );
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::PasswordExpired);
    let done = post("Console-long-pass-1", csrf.clone()).await?;
    ensure!(done.status == StatusCode::SEE_OTHER, "{done:?}");
    ensure!(
        done.set_cookie("gh_sid").is_some_and(|s| !s.is_empty()),
        "{done:?}"
    );
    ensure!(
        done.header("location")
            .is_some_and(|l| l.ends_with("/app/UserHome")),
        "{done:?}"
    );
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::Active);
    // The state token served once (the sign-in cleared the form's CSRF cookie, so fetch a fresh
    // form first: the refusal must come from the spent state token, not from the CSRF check).
    let form = browser
        .get(&format!(
            "{}/login/login.htm?fromURI=/app/UserHome",
            app.base
        ))
        .await?;
    let fresh = hidden_input(&form.body, "csrf").context("no csrf on the sign-in form")?;
    let replay = post("Console-long-pass-2", fresh).await?;
    ensure!(replay.status == StatusCode::UNAUTHORIZED, "{replay:?}");
    let ok = authn(&app, &app.alice.login, "Console-long-pass-1").await?;
    ensure!(ok.json()?["status"] == "SUCCESS", "{ok:?}");
    Ok(())
}
