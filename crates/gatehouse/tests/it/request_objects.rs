//! Request objects (OIDC Core §6) by value and by reference, and `sector_identifier_uri` at
//! registration: what is processed, and what is refused (with nothing from a refused object
//! used, and nothing fetched that should not be).

use anyhow::{Context as _, Result, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse_store::test_support::Backend;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client_keys::ClientKey;
use crate::helpers::{
    Auth, Browser, DocumentServer, PASSWORD, REDIRECT_URI, Server, TestApp, jwt_parts, spawn_app,
    spawn_app_with, unsigned_token,
};

backend_tests!(
    signed_request_objects_are_verified_and_win,
    request_uri_must_be_registered_and_is_fetched_safely,
    sector_identifier_uri_must_list_every_redirect_uri,
);

/// Registers a code-flow web client through DCR with `extra` metadata, assigned to Everyone;
/// returns its id and secret.
async fn register_with_secret(app: &TestApp, ssws: &str, extra: Value) -> Result<(String, String)> {
    let reply = register_reply(app, ssws, extra).await?;
    ensure!(reply.status.as_u16() == 201, "register: {reply:?}");
    let body = reply.json()?;
    let id = body["client_id"].as_str().context("client_id")?.to_owned();
    let secret = body["client_secret"]
        .as_str()
        .context("client_secret")?
        .to_owned();
    let registered = app
        .provider
        .store
        .find_app_by_client_id(&id)
        .await?
        .context("app")?;
    let everyone =
        gatehouse_core::services::directory::find_group_by_id_or_name(&app.provider, "Everyone")
            .await?;
    gatehouse_core::services::apps::assign_group_to_app(&app.provider, &registered, &everyone)
        .await?;
    Ok((id, secret))
}

async fn register(app: &TestApp, ssws: &str, extra: Value) -> Result<String> {
    Ok(register_with_secret(app, ssws, extra).await?.0)
}

async fn register_reply(app: &TestApp, ssws: &str, extra: Value) -> Result<crate::helpers::Reply> {
    let mut body = json!({
        "client_name": "request objects", "application_type": "web",
        "redirect_uris": [REDIRECT_URI], "response_types": ["code"],
        "grant_types": ["authorization_code"], "token_endpoint_auth_method": "client_secret_basic",
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    app.api_ssws(Method::POST, "/oauth2/v1/clients", ssws, Some(&body))
        .await
}

async fn expect_refused(app: &TestApp, ssws: &str, extra: Value, what: &str) -> Result<String> {
    let reply = register_reply(app, ssws, extra).await?;
    ensure!(reply.status.as_u16() == 400, "{what}: {reply:?}");
    ensure!(
        reply.oauth_error().as_deref() == Some("invalid_client_metadata"),
        "{what}: {reply:?}"
    );
    Ok(reply.json()?["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// The request as an object: everything the pipeline uses, `state` and `nonce` its own.
fn object_claims(app: &TestApp, client_id: &str) -> Value {
    json!({
        "iss": client_id, "aud": app.issuer(Server::Default), "client_id": client_id,
        "response_type": "code", "redirect_uri": REDIRECT_URI, "scope": "openid",
        "state": "object-state", "nonce": "object-nonce",
        "exp": gatehouse_core::provider::Clock::now(&*app.clock) + 300,
    })
}

fn with(claims: &Value, key: &str, value: Value) -> Value {
    let mut c = claims.clone();
    c[key] = value;
    c
}

/// The query a client sends with its object: what OAuth 2.0 requires, and a `redirect_uri` and
/// `state` that the object's must replace.
fn query(app: &TestApp, client_id: &str) -> crate::helpers::Authz {
    crate::helpers::Authz::new(&app.base, Server::Default, client_id).scope("openid")
}

async fn expect_object_refused(
    app: &TestApp,
    client_id: &str,
    param: &str,
    value: &str,
    code: &str,
    what: &str,
) -> Result<()> {
    let callback = Browser::new()?
        .authorize_redirect(&query(app, client_id).set(param, value).url())
        .await
        .with_context(|| what.to_owned())?;
    // `expect_error` also checks that the query's state came back: nothing of the object won.
    callback.expect_error(code).with_context(|| what.to_owned())
}

async fn signed_request_objects_are_verified_and_win(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let rsa = ClientKey::rsa("rsa-1")?;
    let ec = ClientKey::ec("ec-1")?;
    let keys = json!({"keys": [rsa.jwk, ec.jwk]});
    let (client, secret) = register_with_secret(&app, &ssws, json!({"jwks": keys})).await?;
    let claims = object_claims(&app, &client);

    // RS256 and ES256 objects are processed: the object's redirect_uri replaces the query's
    // unregistered one, its state and nonce win.
    for key in [&rsa, &ec] {
        let object = key.sign(&claims, true)?;
        let authz = query(&app, &client)
            .set("redirect_uri", "https://evil.example.com/cb")
            .set("request", &object);
        let callback = Browser::new()?
            .sign_in(&authz.url(), &app.alice.login, PASSWORD)
            .await?;
        ensure!(callback.target() == REDIRECT_URI, "{}", callback.url);
        ensure!(
            callback.param("state").as_deref() == Some("object-state"),
            "{}",
            callback.url
        );
        // The code is bound to the object's nonce (and redirect URI).
        let tokens = app
            .exchange(
                Server::Default,
                &callback.code()?,
                &[],
                Auth::Basic(&client, &secret),
            )
            .await?;
        ensure!(tokens.status.as_u16() == 200, "{tokens:?}");
        let id_token = tokens.json()?["id_token"]
            .as_str()
            .context("id_token")?
            .to_owned();
        let (_, id_claims) = jwt_parts(&id_token)?;
        ensure!(id_claims["nonce"] == "object-nonce", "{id_claims}");
    }

    let valid = rsa.sign(&claims, true)?;
    let tampered = {
        let parts: Vec<&str> = valid.split('.').collect();
        let payload = URL_SAFE_NO_PAD.encode(with(&claims, "state", json!("tampered")).to_string());
        format!("{}.{payload}.{}", parts[0], parts[2])
    };
    let refused = [
        ("a tampered payload", tampered),
        (
            "another client's client_id",
            rsa.sign(&with(&claims, "client_id", json!("0oaSomeoneElse")), true)?,
        ),
        (
            "a response_type that differs from the query's",
            rsa.sign(
                &with(&claims, "response_type", json!("code id_token")),
                true,
            )?,
        ),
        (
            "an audience that is not this issuer",
            rsa.sign(
                &with(&claims, "aud", json!("https://other.example.com")),
                true,
            )?,
        ),
        (
            "an expired object",
            rsa.sign(&with(&claims, "exp", json!(1_000_000)), true)?,
        ),
        (
            "a key the client did not register",
            ClientKey::rsa("rsa-1")?.sign(&claims, true)?,
        ),
        ("not a JWT", "not-a-jwt".to_owned()),
    ];
    for (what, object) in &refused {
        expect_object_refused(
            &app,
            &client,
            "request",
            object,
            "invalid_request_object",
            what,
        )
        .await?;
    }

    // A client that registered RS256 gets no unsigned (or ES256) object accepted.
    let strict = register(
        &app,
        &ssws,
        json!({"jwks": keys, "request_object_signing_alg": "RS256"}),
    )
    .await?;
    let strict_claims = object_claims(&app, &strict);
    for (what, object) in [
        ("alg none", unsigned_token("", &strict_claims)),
        ("ES256", ec.sign(&strict_claims, true)?),
    ] {
        expect_object_refused(
            &app,
            &strict,
            "request",
            &object,
            "invalid_request_object",
            what,
        )
        .await?;
    }
    let form = Browser::new()?
        .open_login(
            &query(&app, &strict)
                .set("request", &rsa.sign(&strict_claims, true)?)
                .url(),
        )
        .await;
    ensure!(form.is_ok(), "RS256 refused for an RS256 client: {form:?}");
    // Unknown algorithms are refused at registration.
    expect_refused(
        &app,
        &ssws,
        json!({"request_object_signing_alg": "HS256"}),
        "HS256",
    )
    .await?;
    Ok(())
}

async fn request_uri_must_be_registered_and_is_fetched_safely(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.dev_jwks_uri_allow_loopback = true).await?;
    let ssws = app.api_token().await?;
    let docs = DocumentServer::start().await?;
    let request_uri = docs.url("/objects/1.jwt");
    let missing_uri = docs.url("/objects/missing.jwt");
    let client = register(
        &app,
        &ssws,
        json!({"request_uris": [format!("{request_uri}#hash"), missing_uri]}),
    )
    .await?;
    docs.publish(
        "/objects/1.jwt",
        "application/oauth-authz-req+jwt",
        &unsigned_token("", &object_claims(&app, &client)),
    );
    // Registered: fetched (without the fragment) and processed.
    let callback = Browser::new()?
        .sign_in(
            &query(&app, &client).set("request_uri", &request_uri).url(),
            &app.alice.login,
            PASSWORD,
        )
        .await?;
    ensure!(
        callback.param("state").as_deref() == Some("object-state"),
        "{}",
        callback.url
    );
    ensure!(docs.hits() == 1, "fetched {} times", docs.hits());
    // Not registered: refused without a fetch.
    expect_object_refused(
        &app,
        &client,
        "request_uri",
        &docs.url("/objects/2.jwt"),
        "invalid_request_uri",
        "an unregistered request_uri",
    )
    .await?;
    ensure!(docs.hits() == 1, "an unregistered request_uri was fetched");
    // Registered, but nothing there.
    expect_object_refused(
        &app,
        &client,
        "request_uri",
        &missing_uri,
        "invalid_request_uri",
        "a request_uri answering 404",
    )
    .await?;
    // A client with no request_uris: not supported for it.
    expect_object_refused(
        &app,
        app.client_id(),
        "request_uri",
        &request_uri,
        "request_uri_not_supported",
        "a client that registered none",
    )
    .await?;
    // Private, metadata and plain-http addresses are refused at registration.
    for uri in [
        "https://10.0.0.1/r.jwt",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00::1]/r.jwt",
        "http://rp.example.com/r.jwt",
        "ftp://rp.example.com/r.jwt",
    ] {
        expect_refused(&app, &ssws, json!({"request_uris": [uri]}), uri).await?;
    }
    let hits = docs.hits();

    // Without the development setting, loopback is as private as the rest.
    let strict = spawn_app(backend).await?;
    let strict_ssws = strict.api_token().await?;
    for uri in [request_uri.clone(), request_uri.replace("http:", "https:")] {
        expect_refused(&strict, &strict_ssws, json!({"request_uris": [uri]}), &uri).await?;
    }
    ensure!(docs.hits() == hits, "a refused request_uri was fetched");
    Ok(())
}

async fn sector_identifier_uri_must_list_every_redirect_uri(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.dev_jwks_uri_allow_loopback = true).await?;
    let ssws = app.api_token().await?;
    let docs = DocumentServer::start().await?;
    let second = format!("{REDIRECT_URI}2");
    let sector = docs.publish(
        "/sector.json",
        "application/json",
        &json!([REDIRECT_URI, "https://app.example.com/other"]).to_string(),
    );
    let reply = register_reply(&app, &ssws, json!({"sector_identifier_uri": sector})).await?;
    ensure!(reply.status.as_u16() == 201, "{reply:?}");
    let client = reply.json()?;
    ensure!(
        client["sector_identifier_uri"] == sector.as_str(),
        "{client}"
    );
    ensure!(client["subject_type"] == "public", "{client}");
    ensure!(docs.hits() == 1, "fetched {} times", docs.hits());

    let description = expect_refused(
        &app,
        &ssws,
        json!({"sector_identifier_uri": sector, "redirect_uris": [REDIRECT_URI, second]}),
        "a redirect URI the sector does not list",
    )
    .await?;
    ensure!(description.contains(&second), "{description}");
    let object = docs.publish(
        "/object.json",
        "application/json",
        r#"{"redirect_uris": []}"#,
    );
    let numbers = docs.publish("/numbers.json", "application/json", "[1, 2]");
    for (what, extra) in [
        (
            "a document that is not an array",
            json!({"sector_identifier_uri": object}),
        ),
        (
            "an array of non-strings",
            json!({"sector_identifier_uri": numbers}),
        ),
        (
            "a sector answering 404",
            json!({"sector_identifier_uri": docs.url("/missing.json")}),
        ),
        (
            "pairwise subjects",
            json!({"sector_identifier_uri": sector, "subject_type": "pairwise"}),
        ),
    ] {
        expect_refused(&app, &ssws, extra, what).await?;
    }
    // An update is checked the same way.
    let id = client["client_id"].as_str().context("client_id")?;
    let reply = app
        .api_ssws(
            Method::PUT,
            &format!("/oauth2/v1/clients/{id}"),
            &ssws,
            Some(&json!({
                "client_name": "request objects", "application_type": "web",
                "redirect_uris": [REDIRECT_URI, second], "response_types": ["code"],
                "grant_types": ["authorization_code"], "sector_identifier_uri": sector,
            })),
        )
        .await?;
    ensure!(reply.status.as_u16() == 400, "{reply:?}");
    let hits = docs.hits();
    for uri in [
        "https://10.0.0.1/sector.json",
        "https://169.254.169.254/latest/meta-data/",
        "http://rp.example.com/sector.json",
    ] {
        expect_refused(&app, &ssws, json!({"sector_identifier_uri": uri}), uri).await?;
    }
    ensure!(docs.hits() == hits);
    Ok(())
}
