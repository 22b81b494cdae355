//! Issue 16's lower-severity findings, as an attacker would try them: made-up API tokens buying
//! fresh rate-limit budgets, unbounded `/authorize` parameters and anonymous transactions,
//! control characters in registration metadata, client-secret guessing, `secret_hash` as an
//! offline-guessable digest, and unbounded free-text profile fields.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::crypto::{random_token, sha256_b64url};
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Browser, REDIRECT_URI, Reply, Server, TestApp, http_client, spawn_app, spawn_app_with,
};

backend_tests!(
    made_up_api_tokens_spend_the_address_budget,
    over_long_authorize_parameters_are_refused,
    anonymous_login_transactions_are_budgeted_per_address,
    control_characters_in_registration_metadata_are_refused,
    client_secret_guessing_is_throttled_per_window,
    throttled_client_neither_refreshes_nor_exchanges_a_code,
    secret_hash_is_not_the_secrets_digest,
    over_long_free_text_is_refused,
);

/// A GET with this `Authorization` value.
async fn get_with(app: &TestApp, path: &str, authorization: &str) -> Result<Reply> {
    app.api(Method::GET, path, Some(authorization), None).await
}

async fn made_up_api_tokens_spend_the_address_budget(backend: Backend) -> Result<()> {
    const LIMIT: u32 = 10;
    let app = spawn_app_with(backend, |s| s.api_requests_per_minute = LIMIT).await?;
    let token = app.api_token().await?;

    // Every request carries a token of its own invention: together they get one budget.
    let mut statuses = Vec::new();
    for _ in 0..LIMIT + 5 {
        let reply = get_with(&app, "/api/v1/users", &format!("SSWS {}", random_token(24))).await?;
        statuses.push(reply.status.as_u16());
    }
    ensure!(
        statuses[..LIMIT as usize].iter().all(|s| *s == 401)
            && statuses[LIMIT as usize..].iter().all(|s| *s == 429),
        "made-up tokens: {statuses:?}"
    );
    // Made-up Bearer tokens and client registration count against the same address.
    let bearer = get_with(&app, "/api/v1/users", "Bearer a.b.c").await?;
    ensure!(bearer.status == StatusCode::TOO_MANY_REQUESTS, "{bearer:?}");
    let register = app
        .api(
            Method::POST,
            "/oauth2/v1/clients",
            Some(&format!("SSWS {}", random_token(24))),
            Some(&json!({"client_name": "x", "redirect_uris": [REDIRECT_URI]})),
        )
        .await?;
    ensure!(
        register.status == StatusCode::TOO_MANY_REQUESTS,
        "{register:?}"
    );
    // A real token still has its own budget.
    let real = get_with(&app, "/api/v1/users", &format!("SSWS {token}")).await?;
    ensure!(real.status == StatusCode::OK, "{real:?}");

    // No counter was made for a made-up token.
    let made_up = random_token(24);
    get_with(&app, "/api/v1/users", &format!("SSWS {made_up}")).await?;
    let window = app.provider.now() - app.provider.now().rem_euclid(60);
    let bucket = format!("api:{}", &sha256_b64url(&made_up)[..32]);
    ensure!(
        app.provider.store.rate_limit_hits(&bucket, window).await? == 0,
        "a counter per made-up token"
    );
    Ok(())
}

/// POSTs an authorize request for the seeded web app with `extra` parameters replacing the
/// usual ones (a form body: a 60 kB value does not fit in a URL).
async fn authorize_post(app: &TestApp, extra: &[(&str, &str)]) -> Result<Reply> {
    let mut form = vec![
        ("client_id", app.client_id().to_owned()),
        ("response_type", "code".to_owned()),
        ("redirect_uri", REDIRECT_URI.to_owned()),
        ("scope", "openid".to_owned()),
        ("state", "s-1".to_owned()),
        ("nonce", "n-1".to_owned()),
    ];
    for (k, v) in extra {
        form.retain(|(name, _)| name != k);
        form.push((k, (*v).to_owned()));
    }
    let res = http_client()?
        .post(Server::Default.endpoint(&app.base, "authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&form)?)
        .send()
        .await?;
    Reply::read(res).await
}

async fn over_long_authorize_parameters_are_refused(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let huge = "a".repeat(60 * 1024);
    // Real clients' values still work.
    let fine = authorize_post(&app, &[("state", &"s".repeat(1000))]).await?;
    ensure!(fine.login_form().is_some(), "{fine:?}");

    for field in ["state", "nonce", "login_hint", "scope", "code_challenge"] {
        let reply = authorize_post(&app, &[(field, &huge)]).await?;
        ensure!(reply.status == StatusCode::FOUND, "{field}: {reply:?}");
        let location = reply.location().context("location")?;
        let param = |name: &str| {
            location
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        ensure!(
            location.as_str().starts_with(REDIRECT_URI)
                && param("error").as_deref() == Some("invalid_request")
                && param("error_description").is_some_and(|d| d.contains(field))
                && location.as_str().len() < 2048,
            "{field}: {location}"
        );
        // The error carries the state only when it was not the offender.
        ensure!(
            param("state").as_deref() == (field != "state").then_some("s-1"),
            "{field}: {location}"
        );
    }
    // Before the redirect URI is trusted: an error page that does not echo the value.
    let long_uri = format!("{REDIRECT_URI}?{huge}");
    let page = authorize_post(&app, &[("redirect_uri", &long_uri)]).await?;
    ensure!(
        page.status == StatusCode::BAD_REQUEST
            && page.body.contains("invalid_request")
            && page.body.len() < 16 * 1024,
        "{:?}",
        page.status
    );
    Ok(())
}

async fn anonymous_login_transactions_are_budgeted_per_address(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    // The default budget is 100 a minute per address.
    let mut prompts = 0;
    let mut refused = None;
    for _ in 0..110 {
        let reply = authorize_post(&app, &[]).await?;
        if reply.login_form().is_some() {
            prompts += 1;
        } else {
            refused = Some(reply);
            break;
        }
    }
    ensure!(prompts == 100, "{prompts} prompts before a refusal");
    let refused = refused.context("never refused")?;
    let location = refused.location().context("a redirect")?;
    ensure!(
        refused.status == StatusCode::FOUND
            && location
                .query_pairs()
                .any(|(k, v)| k == "error" && v == "temporarily_unavailable"),
        "{refused:?}"
    );
    // Signed-in users are not anonymous; the next window has a fresh budget.
    app.clock.advance(60);
    let browser = Browser::new()?;
    browser
        .sign_in(
            &app.authz(Server::Default).url(),
            &app.alice.login,
            crate::helpers::PASSWORD,
        )
        .await?;
    Ok(())
}

async fn control_characters_in_registration_metadata_are_refused(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = format!("SSWS {}", app.api_token().await?);
    let base = json!({
        "client_name": "Registered",
        "redirect_uris": [REDIRECT_URI],
        "post_logout_redirect_uris": ["https://app.example.com/out"],
        "client_uri": "https://app.example.com",
        "initiate_login_uri": "https://app.example.com/login",
    });
    let cases: [(&str, Value, &str); 6] = [
        (
            "redirect_uris",
            json!(["https://app.example.com/c\u{0}b"]),
            "invalid_redirect_uri",
        ),
        (
            "post_logout_redirect_uris",
            json!(["https://app.example.com/o\u{0}ut"]),
            "invalid_redirect_uri",
        ),
        (
            "client_uri",
            json!("https://app.example.com/\u{0}"),
            "invalid_client_metadata",
        ),
        (
            "initiate_login_uri",
            json!("https://app.example.com/\u{0}login"),
            "invalid_client_metadata",
        ),
        ("client_name", json!("Bell\u{7}"), "invalid_client_metadata"),
        (
            "redirect_uris",
            json!(["https://app.example.com/c\u{1b}b"]),
            "invalid_redirect_uri",
        ),
    ];
    for (field, value, code) in cases {
        let mut body = base.clone();
        body[field] = value;
        let reply = app
            .api(Method::POST, "/oauth2/v1/clients", Some(&ssws), Some(&body))
            .await?;
        ensure!(
            reply.status == StatusCode::BAD_REQUEST && reply.oauth_error().as_deref() == Some(code),
            "{field}: {reply:?}"
        );
    }
    // The same rule at `/api/v1`: Okta's validation error naming the field.
    let reply = app
        .api(
            Method::POST,
            "/api/v1/groups",
            Some(&ssws),
            Some(&json!({"profile": {"name": "Esc\u{1b}ape"}})),
        )
        .await?;
    ensure!(
        reply.status == StatusCode::BAD_REQUEST && reply.json()?["errorCode"] == "E0000001",
        "{reply:?}"
    );
    // Line breaks and tabs stay allowed.
    let reply = app
        .api(
            Method::POST,
            "/api/v1/groups",
            Some(&ssws),
            Some(&json!({"profile": {"name": "Fine", "description": "two\nlines\tok"}})),
        )
        .await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    Ok(())
}

/// Introspection with `client_secret_basic`, from `address` (behind the trusted proxy).
async fn introspect_from(app: &TestApp, address: &str, id: &str, secret: &str) -> Result<Reply> {
    let res = http_client()?
        .post(Server::Default.endpoint(&app.base, "introspect"))
        .basic_auth(id, Some(secret))
        .header("x-forwarded-for", address)
        .form(&[("token", "x")])
        .send()
        .await?;
    Reply::read(res).await
}

const GUESSER: &str = "203.0.113.7";
const CLIENT_HOST: &str = "198.51.100.2";

async fn client_secret_guessing_is_throttled_per_window(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = gatehouse_web::parse_proxy("127.0.0.0/8")
            .into_iter()
            .collect();
    })
    .await?;
    let id = app.client_id().to_owned();
    let secret = app.client_secret().to_owned();
    let mut guesses = 0;
    let throttled = loop {
        let reply = introspect_from(&app, GUESSER, &id, &random_token(16)).await?;
        reply.expect_oauth_error(401, "invalid_client")?;
        if reply.header("retry-after").is_some() {
            break reply;
        }
        guesses += 1;
        ensure!(guesses <= 50, "50 wrong secrets and no throttling");
    };
    ensure!(guesses >= 10, "throttled after only {guesses} guesses");
    let retry: i64 = throttled.header("retry-after").unwrap_or("").parse()?;
    ensure!(retry > 0 && retry <= 300, "Retry-After {retry}");
    // Throttled, the right secret is refused too from the guessing address (otherwise the
    // guessing would go on), at every client-authenticated endpoint.
    introspect_from(&app, GUESSER, &id, &secret)
        .await?
        .expect_oauth_error(401, "invalid_client")?;
    for name in ["token", "revoke"] {
        let res = http_client()?
            .post(Server::Default.endpoint(&app.base, name))
            .basic_auth(&id, Some(&secret))
            .header("x-forwarded-for", GUESSER)
            .form(&[("grant_type", "client_credentials"), ("token", "x")])
            .send()
            .await?;
        Reply::read(res)
            .await?
            .expect_oauth_error(401, "invalid_client")
            .with_context(|| name.to_owned())?;
    }
    // The client's own host is not locked out by someone else's failures.
    let own = introspect_from(&app, CLIENT_HOST, &id, &secret).await?;
    ensure!(own.status == StatusCode::OK, "{own:?}");
    // The window passes: the guessing address may authenticate again.
    app.clock.advance(retry + 1);
    let reply = introspect_from(&app, GUESSER, &id, &secret).await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    Ok(())
}

/// A token request with `client_secret_basic`, from `address` (behind the trusted proxy).
async fn token_from(
    app: &TestApp,
    address: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> Result<Reply> {
    let res = http_client()?
        .post(Server::Default.endpoint(&app.base, "token"))
        .basic_auth(app.client_id(), Some(secret))
        .header("x-forwarded-for", address)
        .form(form)
        .send()
        .await?;
    Reply::read(res).await
}

/// The code exchange and the refresh read their code or token with the throttle's counters:
/// failed client authentications there still count, and past the limit the right secret is
/// refused before anything is spent (the code and the token still work from elsewhere).
async fn throttled_client_neither_refreshes_nor_exchanges_a_code(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = gatehouse_web::parse_proxy("127.0.0.0/8")
            .into_iter()
            .collect();
    })
    .await?;
    let secret = app.client_secret().to_owned();
    let tokens = app
        .sign_in_and_exchange(Server::Default, "openid offline_access")
        .await?;
    let refresh_token = tokens.refresh_token.context("no refresh token")?;
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.as_str()),
    ];
    let mut guesses = 0;
    let throttled = loop {
        let reply = token_from(&app, GUESSER, &random_token(16), &refresh).await?;
        reply.expect_oauth_error(401, "invalid_client")?;
        if reply.header("retry-after").is_some() {
            break reply;
        }
        guesses += 1;
        ensure!(
            guesses <= 50,
            "50 wrong secrets at the token endpoint and no throttling"
        );
    };
    ensure!(guesses >= 10, "throttled after only {guesses} guesses");
    let retry: i64 = throttled.header("retry-after").unwrap_or("").parse()?;
    ensure!(retry > 0 && retry <= 300, "Retry-After {retry}");
    // The right secret is refused too from the guessing address, for a refresh and for a
    // code exchange alike.
    let (_, callback) = app.sign_in_with(&app.authz(Server::Default)).await?;
    let code = callback.code()?;
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];
    for (name, form) in [("refresh", &refresh[..]), ("code exchange", &exchange[..])] {
        let reply = token_from(&app, GUESSER, &secret, form).await?;
        reply
            .expect_oauth_error(401, "invalid_client")
            .with_context(|| name.to_owned())?;
        ensure!(reply.header("retry-after").is_some(), "{name}: {reply:?}");
    }
    // Nothing was spent: the code and the refresh token still work from the client's host.
    for (name, form) in [("code exchange", &exchange[..]), ("refresh", &refresh[..])] {
        let reply = token_from(&app, CLIENT_HOST, &secret, form).await?;
        ensure!(reply.status == StatusCode::OK, "{name}: {reply:?}");
    }
    Ok(())
}

async fn secret_hash_is_not_the_secrets_digest(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let path = format!("/api/v1/apps/{}/credentials/secrets", app.web.app.id);
    let listed = app.api_ssws(Method::GET, &path, &token, None).await?;
    ensure!(listed.status == StatusCode::OK, "{listed:?}");
    let hash = listed.json()?[0]["secret_hash"]
        .as_str()
        .context("secret_hash")?
        .to_owned();
    ensure!(
        hash.len() >= 32 && hash != sha256_b64url(app.client_secret()),
        "secret_hash is the secret's plain SHA-256"
    );
    // Stable, so an administrator can still tell secrets apart.
    let again = app.api_ssws(Method::GET, &path, &token, None).await?;
    ensure!(again.json()?[0]["secret_hash"] == hash.as_str());
    Ok(())
}

async fn over_long_free_text_is_refused(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let long = "d".repeat(60 * 1024);
    let create = json!({"profile": {
        "login": "long@example.com", "email": "long@example.com",
        "firstName": "Long", "lastName": "Name", "displayName": long,
    }});
    let reply = app
        .api_ssws(Method::POST, "/api/v1/users", &token, Some(&create))
        .await?;
    ensure!(
        reply.status == StatusCode::BAD_REQUEST && reply.json()?["errorCode"] == "E0000001",
        "{:?}",
        reply.status
    );
    ensure!(reply.body.contains("displayName"), "{reply:?}");
    // An update is held to the same rule; a sane name passes.
    let path = format!("/api/v1/users/{}", app.alice.id);
    let update = |name: &str| json!({"profile": {"displayName": name}});
    let reply = app
        .api_ssws(Method::POST, &path, &token, Some(&update(&long)))
        .await?;
    ensure!(
        reply.status == StatusCode::BAD_REQUEST && reply.json()?["errorCode"] == "E0000001",
        "{:?}",
        reply.status
    );
    let reply = app
        .api_ssws(
            Method::POST,
            &path,
            &token,
            Some(&update(&"d".repeat(1024))),
        )
        .await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    // Names and descriptions an administrator gives are bounded too.
    let server = json!({
        "name": "Long", "description": "x".repeat(10_000), "audiences": ["api://long"],
    });
    let reply = app
        .api_ssws(
            Method::POST,
            "/api/v1/authorizationServers",
            &token,
            Some(&server),
        )
        .await?;
    ensure!(
        reply.status == StatusCode::BAD_REQUEST && reply.body.contains("description"),
        "{:?}",
        reply.status
    );
    Ok(())
}
