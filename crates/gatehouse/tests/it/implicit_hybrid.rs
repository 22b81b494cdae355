//! Implicit and hybrid response types (OIDC Core §3.2, §3.3; OAuth 2.0 Multiple Response
//! Types; Form Post Response Mode) for an SPA set up as seed 003 says (Implicit (hybrid) with
//! the ID token and access token options), request objects refused, and the token endpoint's
//! order of checks for a code presented by the wrong client.

use anyhow::{Context as _, Result, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse_core::services::apps::assign_group_to_app;
use gatehouse_core::services::directory::find_group_by_id_or_name;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

use crate::helpers::{
    Auth, Authz, Browser, NONCE, PASSWORD, REDIRECT_URI, Reply, STATE, Server, TestApp, VERIFIER,
    hidden_input, jwt_parts, spawn_app,
};

backend_tests!(
    each_response_type_returns_what_it_names,
    front_channel_access_tokens_are_recorded,
    nonce_is_required_with_an_id_token,
    implicit_needs_the_apps_permission,
    query_mode_is_refused_for_tokens,
    form_post_and_post_message_carry_the_tokens,
    request_objects_are_refused_after_the_client_checks,
    code_from_the_wrong_client_is_refused_and_not_burned,
);

/// Seed 003's SPA through `/api/v1/apps`: Authorization Code, Refresh Token and Implicit
/// (hybrid) with both the ID token and access token options; `response_types` lists what the
/// options allow. Assigned to `Everyone`. Returns the client id.
async fn seed_003_spa(app: &TestApp, response_types: &[&str]) -> Result<String> {
    let token = app.api_token().await?;
    let body = json!({
        "name": "oidc_client",
        "label": "OpenMetadata",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "none"}},
        "settings": {"oauthClient": {
            "application_type": "browser",
            "grant_types": ["authorization_code", "refresh_token", "implicit"],
            "response_types": response_types,
            "redirect_uris": [REDIRECT_URI],
        }},
    });
    let reply = app
        .api_ssws(Method::POST, "/api/v1/apps", &token, Some(&body))
        .await?;
    ensure!(reply.status == StatusCode::OK, "create app: {reply:?}");
    let client_id = reply.json()?["credentials"]["oauthClient"]["client_id"]
        .as_str()
        .context("no client_id")?
        .to_owned();
    let created = app
        .provider
        .store
        .find_app_by_client_id(&client_id)
        .await?
        .context("app not stored")?;
    let everyone = find_group_by_id_or_name(&app.provider, "Everyone").await?;
    assign_group_to_app(&app.provider, &created, &everyone).await?;
    Ok(client_id)
}

/// `b64url(left half of SHA-256(value))`: `at_hash` and `c_hash` for RS256, computed here
/// independently of the server.
fn half_hash(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(value.as_bytes())[..16])
}

/// The parameters in the fragment of a redirect (and none in its query).
fn fragment_params(reply: &Reply) -> Result<HashMap<String, String>> {
    ensure!(
        reply.status == StatusCode::FOUND,
        "expected a redirect: {reply:?}"
    );
    let url = reply.location().context("no Location")?;
    ensure!(
        url.query().is_none(),
        "nothing may travel in the query: {url}"
    );
    let mut target = url.clone();
    target.set_fragment(None);
    ensure!(target.as_str() == REDIRECT_URI, "{url}");
    let fragment = url
        .fragment()
        .with_context(|| format!("no fragment: {url}"))?;
    Ok(url::form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect())
}

fn expect_fragment_error(reply: &Reply, code: &str) -> Result<()> {
    let p = fragment_params(reply)?;
    ensure!(
        p.get("error").map(String::as_str) == Some(code),
        "expected {code}: {p:?}"
    );
    ensure!(
        p.get("error_description").is_some_and(|d| !d.is_empty()),
        "{p:?}"
    );
    ensure!(p.get("state").map(String::as_str) == Some(STATE), "{p:?}");
    // Okta's error responses carry no `iss` (RFC 9207 is a server setting, off by default).
    ensure!(!p.contains_key("iss"), "{p:?}");
    for leak in ["code", "access_token", "id_token"] {
        ensure!(!p.contains_key(leak), "{leak} in an error: {p:?}");
    }
    Ok(())
}

/// A browser with alice signed in (through the hosted form, CSRF token and all) for `client_id`
/// on `server`; later requests are answered from the session.
async fn signed_in(app: &TestApp, server: Server, client_id: &str) -> Result<Browser> {
    let browser = Browser::new()?;
    let authz = Authz::new(&app.base, server, client_id).pkce();
    let callback = browser
        .sign_in(&authz.url(), &app.alice.login, PASSWORD)
        .await?;
    callback.code()?;
    Ok(browser)
}

fn hybrid_authz(app: &TestApp, server: Server, client_id: &str, response_type: &str) -> Authz {
    let authz = Authz::new(&app.base, server, client_id).set("response_type", response_type);
    if response_type.split(' ').any(|p| p == "code") {
        authz.pkce()
    } else {
        authz
    }
}

/// Checks a front-channel response against OIDC Core's validation rules for its type; returns
/// the access token, if one came.
async fn check_front_channel_response(
    app: &TestApp,
    server: Server,
    client_id: &str,
    response_type: &str,
    p: &HashMap<String, String>,
) -> Result<Option<String>> {
    let wants = |part: &str| response_type.split(' ').any(|x| x == part);
    ensure!(p.get("state").map(String::as_str) == Some(STATE), "{p:?}");
    ensure!(
        p.get("iss").map(String::as_str) == Some(app.issuer(server).as_str()),
        "{p:?}"
    );
    ensure!(
        p.contains_key("code") == wants("code"),
        "{response_type}: {p:?}"
    );
    ensure!(
        p.contains_key("access_token") == wants("token"),
        "{response_type}: {p:?}"
    );
    ensure!(
        p.contains_key("id_token") == wants("id_token"),
        "{response_type}: {p:?}"
    );
    if let Some(at) = p.get("access_token") {
        ensure!(
            p.get("token_type").map(String::as_str) == Some("Bearer"),
            "{p:?}"
        );
        ensure!(
            p.get("expires_in").and_then(|e| e.parse::<i64>().ok()) == Some(3600),
            "{p:?}"
        );
        ensure!(
            p.get("scope").map(String::as_str) == Some("openid profile email"),
            "{p:?}"
        );
        let audience = match server {
            Server::Org => app.base.clone(),
            Server::Default => "api://default".to_owned(),
        };
        let claims = app.verify_jwt(server, at, &audience).await?;
        ensure!(claims["cid"] == client_id, "{claims}");
        ensure!(claims["uid"] == app.alice.id.as_str(), "{claims}");
    } else {
        ensure!(!p.contains_key("token_type"), "{p:?}");
    }
    if let Some(id_token) = p.get("id_token") {
        let claims = app.verify_jwt(server, id_token, client_id).await?;
        ensure!(claims["nonce"] == NONCE, "{claims}");
        ensure!(claims["sub"] == app.alice.id.as_str(), "{claims}");
        ensure!(claims["iss"] == app.issuer(server).as_str(), "{claims}");
        match p.get("access_token") {
            Some(at) => ensure!(claims["at_hash"] == half_hash(at).as_str(), "{claims}"),
            None => ensure!(claims.get("at_hash").is_none(), "{claims}"),
        }
        match p.get("code") {
            Some(code) => ensure!(claims["c_hash"] == half_hash(code).as_str(), "{claims}"),
            None => ensure!(claims.get("c_hash").is_none(), "{claims}"),
        }
    }
    if let Some(code) = p.get("code") {
        let reply = app
            .exchange(
                server,
                code,
                &[("code_verifier", VERIFIER)],
                Auth::Public(client_id),
            )
            .await?;
        ensure!(reply.status == StatusCode::OK, "code exchange: {reply:?}");
        let body = reply.json()?;
        let (_, id) = jwt_parts(body["id_token"].as_str().context("no id_token")?)?;
        // OIDC Core §3.3.3.6: the same user, and the nonce of the request.
        ensure!(
            id["sub"] == app.alice.id.as_str() && id["nonce"] == NONCE,
            "{id}"
        );
        ensure!(id.get("c_hash").is_none(), "{id}");
    }
    Ok(p.get("access_token").cloned())
}

async fn each_response_type_returns_what_it_names(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = seed_003_spa(&app, &["code", "token", "id_token"]).await?;
    for server in Server::ALL {
        let browser = signed_in(&app, server, &spa).await?;
        let mut types = vec![
            "id_token",
            "id_token token",
            "token id_token",
            "code id_token",
            "code token",
            "code id_token token",
        ];
        if server == Server::Default {
            types.push("token");
        }
        for response_type in types {
            let reply = browser
                .get(&hybrid_authz(&app, server, &spa, response_type).url())
                .await?;
            let p = fragment_params(&reply).with_context(|| response_type.to_owned())?;
            check_front_channel_response(&app, server, &spa, response_type, &p)
                .await
                .with_context(|| format!("{server:?} {response_type}"))?;
        }
        // The first sign-in works with an implicit request too (the transaction keeps it).
        let fresh = Browser::new()?;
        let form = fresh
            .open_login(&hybrid_authz(&app, server, &spa, "id_token token").url())
            .await?;
        let reply = fresh.submit(&form, &app.alice.login, PASSWORD).await?;
        let p = fragment_params(&reply)?;
        check_front_channel_response(&app, server, &spa, "id_token token", &p).await?;
        // A bare `token` from the org server, as in Okta: not a supported response type.
        if server == Server::Org {
            let reply = browser
                .get(&hybrid_authz(&app, server, &spa, "token").url())
                .await?;
            expect_fragment_error(&reply, "unsupported_response_type")?;
        }
        for bad in ["id_token id_token", "id_token none", "token bogus"] {
            let reply = browser
                .get(&hybrid_authz(&app, server, &spa, bad).url())
                .await?;
            expect_fragment_error(&reply, "unsupported_response_type")
                .with_context(|| bad.to_owned())?;
        }
    }
    Ok(())
}

async fn front_channel_access_tokens_are_recorded(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = seed_003_spa(&app, &["code", "token", "id_token"]).await?;
    for server in Server::ALL {
        let browser = signed_in(&app, server, &spa).await?;
        let reply = browser
            .get(&hybrid_authz(&app, server, &spa, "id_token token").url())
            .await?;
        let p = fragment_params(&reply)?;
        let at = p.get("access_token").context("no access_token")?;
        let introspect = |token: String| {
            let app = &app;
            let spa = spa.clone();
            async move {
                let reply = app
                    .post_form(
                        server,
                        "introspect",
                        &[("token", &token)],
                        Auth::Public(&spa),
                    )
                    .await?;
                ensure!(reply.status == StatusCode::OK, "{reply:?}");
                reply.json()
            }
        };
        let body = introspect(at.clone()).await?;
        ensure!(body["active"] == true, "{body}");
        ensure!(body["client_id"] == spa.as_str(), "{body}");
        ensure!(body["uid"] == app.alice.id.as_str(), "{body}");
        let userinfo = app.userinfo(server, at).await?;
        ensure!(userinfo.status == StatusCode::OK, "{userinfo:?}");
        let revoked = app.revoke(server, at, Auth::Public(&spa)).await?;
        ensure!(revoked.status == StatusCode::OK, "{revoked:?}");
        let body = introspect(at.clone()).await?;
        ensure!(body["active"] == false, "revoked, yet {body}");
        let userinfo = app.userinfo(server, at).await?;
        ensure!(userinfo.status == StatusCode::UNAUTHORIZED, "{userinfo:?}");
    }
    Ok(())
}

async fn nonce_is_required_with_an_id_token(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = seed_003_spa(&app, &["code", "token", "id_token"]).await?;
    for server in Server::ALL {
        let browser = signed_in(&app, server, &spa).await?;
        for response_type in [
            "id_token",
            "id_token token",
            "code id_token",
            "code id_token token",
        ] {
            for authz in [
                hybrid_authz(&app, server, &spa, response_type).remove("nonce"),
                hybrid_authz(&app, server, &spa, response_type).set("nonce", ""),
            ] {
                let reply = browser.get(&authz.url()).await?;
                expect_fragment_error(&reply, "invalid_request")
                    .with_context(|| response_type.to_owned())?;
                let p = fragment_params(&reply)?;
                ensure!(p["error_description"].contains("nonce"), "{p:?}");
            }
        }
        // `openid` is needed for an ID token at all.
        let reply = browser
            .get(
                &hybrid_authz(&app, server, &spa, "id_token")
                    .scope("email")
                    .url(),
            )
            .await?;
        let p = fragment_params(&reply)?;
        ensure!(
            p.get("error").map(String::as_str) == Some("invalid_scope"),
            "{p:?}"
        );
        // No ID token at the authorize endpoint: no nonce needed (OIDC Core §3.3.2.11).
        let reply = browser
            .get(
                &hybrid_authz(&app, server, &spa, "code token")
                    .remove("nonce")
                    .url(),
            )
            .await?;
        let p = fragment_params(&reply)?;
        ensure!(
            p.contains_key("code") && p.contains_key("access_token"),
            "{p:?}"
        );
    }
    Ok(())
}

async fn implicit_needs_the_apps_permission(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    // Only "Allow ID Token with implicit grant type" ticked.
    let id_only = seed_003_spa(&app, &["code", "id_token"]).await?;
    for server in Server::ALL {
        // The seeded web app has no implicit grant at all.
        let browser = signed_in(&app, server, app.client_id()).await?;
        for response_type in ["id_token", "id_token token", "code id_token", "code token"] {
            let reply = browser
                .get(&app.authz(server).set("response_type", response_type).url())
                .await?;
            expect_fragment_error(&reply, "unauthorized_client")
                .with_context(|| response_type.to_owned())?;
        }
        let browser = signed_in(&app, server, &id_only).await?;
        for response_type in ["id_token token", "code token", "code id_token token"] {
            let reply = browser
                .get(&hybrid_authz(&app, server, &id_only, response_type).url())
                .await?;
            expect_fragment_error(&reply, "unauthorized_client")
                .with_context(|| response_type.to_owned())?;
        }
        for response_type in ["id_token", "code id_token"] {
            let reply = browser
                .get(&hybrid_authz(&app, server, &id_only, response_type).url())
                .await?;
            let p = fragment_params(&reply)?;
            check_front_channel_response(&app, server, &id_only, response_type, &p).await?;
        }
    }
    Ok(())
}

async fn query_mode_is_refused_for_tokens(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = seed_003_spa(&app, &["code", "token", "id_token"]).await?;
    for server in Server::ALL {
        let browser = signed_in(&app, server, &spa).await?;
        for response_type in ["id_token", "id_token token", "code id_token", "code token"] {
            let reply = browser
                .get(
                    &hybrid_authz(&app, server, &spa, response_type)
                        .set("response_mode", "query")
                        .url(),
                )
                .await?;
            // The error goes back in the fragment: tokens never travel in a query string,
            // and the client listens on the fragment for this response type.
            expect_fragment_error(&reply, "invalid_request")
                .with_context(|| response_type.to_owned())?;
        }
        // The code flow keeps `query` (its default) and accepts `fragment`.
        let reply = browser
            .get(
                &hybrid_authz(&app, server, &spa, "code")
                    .set("response_mode", "fragment")
                    .url(),
            )
            .await?;
        ensure!(fragment_params(&reply)?.contains_key("code"), "{reply:?}");
        let reply = browser
            .get(&hybrid_authz(&app, server, &spa, "code").url())
            .await?;
        let location = reply.location().context("no Location")?;
        ensure!(location.fragment().is_none(), "{location}");
        ensure!(
            location.query_pairs().any(|(k, _)| k == "code"),
            "{location}"
        );
    }
    Ok(())
}

/// The fields of the auto-submitting `form_post` page, after checking its shape and headers.
fn form_post_fields(page: &Reply, names: &[&str]) -> Result<HashMap<String, String>> {
    ensure!(page.status == StatusCode::OK, "{page:?}");
    ensure!(page.header("cache-control") == Some("no-store"), "{page:?}");
    let csp = page.header("content-security-policy").unwrap_or_default();
    ensure!(
        csp.contains("'nonce-") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    ensure!(
        page.body.contains(&format!("action=\"{REDIRECT_URI}\""))
            && page.body.contains("method=\"post\""),
        "{page:?}"
    );
    let mut out = HashMap::new();
    for name in names {
        if let Some(v) = hidden_input(&page.body, name) {
            out.insert((*name).to_owned(), v);
        }
    }
    Ok(out)
}

async fn form_post_and_post_message_carry_the_tokens(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = seed_003_spa(&app, &["code", "token", "id_token"]).await?;
    let names = [
        "code",
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "id_token",
        "state",
        "iss",
        "error",
        "error_description",
    ];
    for server in Server::ALL {
        let browser = signed_in(&app, server, &spa).await?;
        for response_type in [
            "code",
            "id_token",
            "id_token token",
            "code id_token",
            "code id_token token",
        ] {
            let page = browser
                .get(
                    &hybrid_authz(&app, server, &spa, response_type)
                        .set("response_mode", "form_post")
                        .url(),
                )
                .await?;
            ensure!(page.header("location").is_none(), "{page:?}");
            let fields = form_post_fields(&page, &names)?;
            check_front_channel_response(&app, server, &spa, response_type, &fields)
                .await
                .with_context(|| format!("form_post {response_type}"))?;
        }
        // Errors are posted too.
        let page = browser
            .get(
                &hybrid_authz(&app, server, &spa, "id_token")
                    .remove("nonce")
                    .set("response_mode", "form_post")
                    .url(),
            )
            .await?;
        let fields = form_post_fields(&page, &names)?;
        ensure!(
            fields.get("error").map(String::as_str) == Some("invalid_request"),
            "{fields:?}"
        );
        ensure!(!fields.contains_key("id_token"), "{fields:?}");

        // okta_post_message: the implicit message okta-auth-js expects.
        let page = browser
            .get(
                &hybrid_authz(&app, server, &spa, "id_token token")
                    .set("response_mode", "okta_post_message")
                    .url(),
            )
            .await?;
        ensure!(page.status == StatusCode::OK, "{page:?}");
        let start = page.body.find("var data = ").context("no message")? + "var data = ".len();
        let end = start
            + page.body[start..]
                .find(";\n")
                .context("unterminated message")?;
        let message: Value = serde_json::from_str(&page.body[start..end])?;
        let p: HashMap<String, String> = message
            .as_object()
            .context("not an object")?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        ensure!(!p.contains_key("iss"), "Okta's message has no iss: {p:?}");
        let mut with_iss = p.clone();
        with_iss.insert("iss".into(), app.issuer(server));
        check_front_channel_response(&app, server, &spa, "id_token token", &with_iss).await?;
    }
    Ok(())
}

async fn request_objects_are_refused_after_the_client_checks(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = seed_003_spa(&app, &["code", "token", "id_token"]).await?;
    let browser = Browser::new()?;
    // An unsigned object naming another client: refused (valid ones are processed, see the
    // `request_objects` tests), and the error goes back to the client.
    let jwt = "eyJhbGciOiJub25lIn0.eyJjbGllbnRfaWQiOiJzb21lb25lLWVsc2UifQ.";
    for server in Server::ALL {
        for (param, value, code) in [
            ("request", jwt, "invalid_request_object"),
            (
                "request_uri",
                "https://app.example.com/request.jwt",
                "request_uri_not_supported",
            ),
            (
                "request_uri",
                "urn:ietf:params:oauth:request_uri:abc",
                "request_uri_not_supported",
            ),
        ] {
            // The code flow: back in the query, before any sign-in.
            let callback = browser
                .authorize_redirect(&app.authz(server).set(param, value).url())
                .await?;
            callback.expect_error(code)?;
            // Implicit: back in the fragment.
            let reply = browser
                .get(
                    &hybrid_authz(&app, server, &spa, "id_token")
                        .set(param, value)
                        .url(),
                )
                .await?;
            expect_fragment_error(&reply, code)?;
            // Unknown client or unregistered redirect URI: an error page, never a redirect.
            let page = browser
                .get(
                    &app.authz(server)
                        .set(param, value)
                        .set("redirect_uri", "https://evil.example.com/cb")
                        .url(),
                )
                .await?;
            page.assert_error_page("invalid_request");
            let page = browser
                .get(
                    &app.authz(server)
                        .set(param, value)
                        .set("client_id", "0oaNOPE")
                        .url(),
                )
                .await?;
            page.assert_error_page("invalid_client");
        }
    }
    let doc = app
        .get(&format!("{}/.well-known/openid-configuration", app.base))
        .await?
        .json()?;
    ensure!(doc["request_parameter_supported"] == true, "{doc}");
    ensure!(doc["require_request_uri_registration"] == true, "{doc}");
    Ok(())
}

async fn code_from_the_wrong_client_is_refused_and_not_burned(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let other = app.create_web_app("Other").await?;
    app.assign_everyone(&other).await?;
    let other_secret = other.client_secret.clone().unwrap_or_default();
    let other_auth = Auth::Basic(&other.app.client_id, &other_secret);
    for server in Server::ALL {
        let (_, callback) = app.sign_in_with(&app.authz(server)).await?;
        let code = callback.code()?;
        // Another (authenticated) client presents the code.
        app.exchange(server, &code, &[], other_auth)
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
        // The right client with another redirect URI.
        app.token(
            server,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://app.example.com/other"),
            ],
            app.basic(),
        )
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
        // Neither burned the code, nor made the real exchange a replay.
        let reply = app.exchange(server, &code, &[], app.basic()).await?;
        ensure!(
            reply.status == StatusCode::OK,
            "the code was burned: {reply:?}"
        );
        let at = reply.json()?["access_token"]
            .as_str()
            .context("no access_token")?
            .to_owned();
        ensure!(app.is_active(server, &at).await?, "fresh token inactive");
        // A wrong client replaying the used code revokes nothing of the real client's...
        app.exchange(server, &code, &[], other_auth)
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
        ensure!(
            app.is_active(server, &at).await?,
            "another client's replay revoked the grant"
        );
        // ...while the real client's own replay does (RFC 6749 §4.1.2).
        app.exchange(server, &code, &[], app.basic())
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
        ensure!(!app.is_active(server, &at).await?, "replay did not revoke");
        // A wrong client is refused even before a code was used, on an unknown code too.
        app.exchange(server, "not-a-code", &[], other_auth)
            .await?
            .expect_oauth_error(400, "invalid_grant")?;
    }
    Ok(())
}
