//! Okta's issuer modes with a public URL and two custom domains: ORG_URL always issues from the
//! public URL, CUSTOM_URL from the (first) custom domain, DYNAMIC from the configured host the
//! request came in on. Discovery, the `issuer` of `/api/v1/authorizationServers`, the tokens'
//! `iss`, introspection and the client assertion's `aud` all agree; a Host that is not
//! configured (or an `X-Forwarded-Host` from an untrusted peer) never picks the issuer.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client_keys::{ClientKey, JWT_BEARER, assertion_claims};
use crate::helpers::{LOGOUT_URI, Reply, TestApp, http_client, jwt_parts, spawn_app_with};
use crate::service_apps::register_service_app;

backend_tests!(
    issuer_modes_in_discovery_tokens_and_checks,
    custom_url_servers_and_the_org_server,
);

const ORG: &str = "https://org.example.test";
const ID: &str = "https://id.example.test";
const LOGIN: &str = "https://login.example.test";
const DEFAULT_AS: &str = "/api/v1/authorizationServers/default";

async fn spawn(backend: Backend) -> Result<TestApp> {
    spawn_app_with(backend, |s| {
        s.public_url = Some(ORG.into());
        s.custom_domains = vec![ID.into(), LOGIN.into()];
    })
    .await
}

/// The Host headers a request is sent with (`None`: reqwest's own, `127.0.0.1:<port>`) and the
/// origin DYNAMIC must pick for each.
const HOSTS: &[(Option<&str>, &str)] = &[
    (None, ORG),
    (Some("id.example.test"), ID),
    (Some("LOGIN.example.test"), LOGIN),
    (Some("evil.example.test"), ORG),
    (Some("org.example.test.evil.example"), ORG),
];

/// A request to the test server at `path` with `host` as its Host header.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    host: Option<&str>,
    form: Option<&[(&str, &str)]>,
) -> Result<Reply> {
    let mut req = http_client()?.request(method, format!("{}{path}", app.base));
    if let Some(h) = host {
        req = req.header("host", h);
    }
    if let Some(f) = form {
        req = req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(f)?);
    }
    Reply::read(req.send().await?).await
}

async fn discovery(app: &TestApp, prefix: &str, host: Option<&str>) -> Result<Value> {
    let reply = send(
        app,
        Method::GET,
        &format!("{prefix}/.well-known/openid-configuration"),
        host,
        None,
    )
    .await?;
    ensure!(reply.status == 200, "{host:?}: {reply:?}");
    reply.json()
}

fn now(app: &TestApp) -> i64 {
    use gatehouse_core::provider::Clock as _;
    app.clock.now()
}

/// `client_credentials` at `/oauth2/default/v1/token` through `host`, with an assertion for `aud`.
async fn token_through(
    app: &TestApp,
    key: &ClientKey,
    client_id: &str,
    host: Option<&str>,
    aud: &str,
) -> Result<Reply> {
    let assertion = key.sign(&assertion_claims(client_id, aud, now(app)), true)?;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion.as_str()),
    ];
    send(
        app,
        Method::POST,
        "/oauth2/default/v1/token",
        host,
        Some(&form),
    )
    .await
}

/// Whether `/oauth2/default/v1/introspect` through `host` says `token` is active (the client
/// authenticates with an assertion for that host's token endpoint, `token_endpoint`).
async fn active_through(
    app: &TestApp,
    key: &ClientKey,
    client_id: &str,
    host: Option<&str>,
    token_endpoint: &str,
    token: &str,
) -> Result<bool> {
    let assertion = key.sign(&assertion_claims(client_id, token_endpoint, now(app)), true)?;
    let form = [
        ("token", token),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion.as_str()),
    ];
    let reply = send(
        app,
        Method::POST,
        "/oauth2/default/v1/introspect",
        host,
        Some(&form),
    )
    .await?;
    ensure!(
        reply.status == 200,
        "introspect through {host:?}: {reply:?}"
    );
    reply.json()?["active"]
        .as_bool()
        .context("no `active` in the introspection")
}

async fn issuer_modes_in_discovery_tokens_and_checks(backend: Backend) -> Result<()> {
    let app = spawn(backend).await?;
    let ssws = app.api_token().await?;
    let key = ClientKey::rsa("issuer-modes")?;
    let client_id = register_service_app(&app, &ssws, &key).await?;
    let mut default = app
        .api_ssws(Method::GET, DEFAULT_AS, &ssws, None)
        .await?
        .json()?;

    for mode in ["ORG_URL", "CUSTOM_URL", "DYNAMIC"] {
        default["issuerMode"] = json!(mode);
        let put = app
            .api_ssws(Method::PUT, DEFAULT_AS, &ssws, Some(&default))
            .await?;
        ensure!(put.status == 200, "{mode}: {put:?}");
        let expected = |dynamic: &str| {
            let origin = match mode {
                "ORG_URL" => ORG,
                "CUSTOM_URL" => ID,
                _ => dynamic,
            };
            format!("{origin}/oauth2/default")
        };
        // The management API's view is the one of a request to the public URL.
        ensure!(
            put.json()?["issuer"] == expected(ORG).as_str(),
            "{mode}: {put:?}"
        );

        for &(host, dynamic) in HOSTS {
            let issuer = expected(dynamic);
            let doc = discovery(&app, "/oauth2/default", host).await?;
            ensure!(doc["issuer"] == issuer.as_str(), "{mode} {host:?}: {doc}");
            for (field, name) in [("token_endpoint", "token"), ("jwks_uri", "keys")] {
                ensure!(
                    doc[field] == format!("{issuer}/v1/{name}").as_str(),
                    "{mode} {host:?} {field}: {doc}"
                );
            }
            let token_endpoint = format!("{issuer}/v1/token");

            // The token's iss is the discovered issuer.
            let reply = token_through(&app, &key, &client_id, host, &token_endpoint).await?;
            ensure!(reply.status == 200, "{mode} {host:?}: {reply:?}");
            let at = reply.json()?["access_token"]
                .as_str()
                .map(str::to_owned)
                .context("no access_token")?;
            let (_, claims) = jwt_parts(&at)?;
            ensure!(
                claims["iss"] == issuer.as_str(),
                "{mode} {host:?}: {claims}"
            );
            ensure!(
                active_through(&app, &key, &client_id, host, &token_endpoint, &at).await?,
                "{mode} {host:?}: its own token is not active"
            );

            // An assertion for the token endpoint at the host it was sent to, when that is not
            // the discovered one, is refused.
            let sent_to = format!(
                "https://{}/oauth2/default/v1/token",
                host.unwrap_or("127.0.0.1")
            );
            if !sent_to.eq_ignore_ascii_case(&token_endpoint) {
                let refused = token_through(&app, &key, &client_id, host, &sent_to).await?;
                refused.expect_oauth_error(401, "invalid_client")?;
            }
        }
    }

    // DYNAMIC: a token issued through one custom domain is not one of the other's.
    let id_token_endpoint = format!("{ID}/oauth2/default/v1/token");
    let login_token_endpoint = format!("{LOGIN}/oauth2/default/v1/token");
    let from_id = token_through(
        &app,
        &key,
        &client_id,
        Some("id.example.test"),
        &id_token_endpoint,
    )
    .await?
    .json()?["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access_token")?;
    ensure!(
        !active_through(
            &app,
            &key,
            &client_id,
            Some("login.example.test"),
            &login_token_endpoint,
            &from_id,
        )
        .await?,
        "a token of {ID} is active at {LOGIN}"
    );

    // id_token_hint: an ID token of the server's own key is honoured only through the host
    // whose issuer it names.
    let id_token = app
        .provider
        .keys
        .sign(
            "default",
            &json!({
                "iss": format!("{ID}/oauth2/default"), "aud": app.client_id(),
                "sub": app.alice.id, "iat": now(&app), "exp": now(&app) + 3600,
            }),
        )
        .await?;
    for (host, honoured) in [("id.example.test", true), ("login.example.test", false)] {
        let query = serde_urlencoded::to_string([
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", LOGOUT_URI),
        ])?;
        let reply = send(
            &app,
            Method::GET,
            &format!("/oauth2/default/v1/logout?{query}"),
            Some(host),
            None,
        )
        .await?;
        let redirected = reply
            .location()
            .is_some_and(|l| l.as_str().starts_with(LOGOUT_URI));
        ensure!(
            redirected == honoured,
            "id_token_hint through {host}: {reply:?}"
        );
    }

    // X-Forwarded-Host counts only from a trusted proxy (none is configured here).
    let reply = http_client()?
        .get(format!(
            "{}/oauth2/default/.well-known/openid-configuration",
            app.base
        ))
        .header("x-forwarded-host", "id.example.test")
        .send()
        .await?;
    let doc = Reply::read(reply).await?.json()?;
    ensure!(
        doc["issuer"] == format!("{ORG}/oauth2/default").as_str(),
        "{doc}"
    );
    Ok(())
}

async fn custom_url_servers_and_the_org_server(backend: Backend) -> Result<()> {
    let app = spawn(backend).await?;
    let ssws = app.api_token().await?;
    // With a custom domain configured, CUSTOM_URL is accepted, and issues from it.
    let created = app
        .api_ssws(
            Method::POST,
            "/api/v1/authorizationServers",
            &ssws,
            Some(&json!({"name": "Payments", "audiences": ["api://pay"], "issuerMode": "CUSTOM_URL"})),
        )
        .await?;
    ensure!(created.status == 201, "{created:?}");
    let created = created.json()?;
    let id = created["id"].as_str().context("no id")?;
    let issuer = format!("{ID}/oauth2/{id}");
    ensure!(created["issuer"] == issuer.as_str(), "{created}");
    for &(host, _) in HOSTS {
        let doc = discovery(&app, &format!("/oauth2/{id}"), host).await?;
        ensure!(doc["issuer"] == issuer.as_str(), "{host:?}: {doc}");
        ensure!(
            doc["authorization_endpoint"] == format!("{issuer}/v1/authorize").as_str(),
            "{doc}"
        );
    }

    // The org server is DYNAMIC: its issuer follows the configured host, never a forged one.
    for &(host, dynamic) in HOSTS {
        let doc = discovery(&app, "", host).await?;
        ensure!(doc["issuer"] == dynamic, "{host:?}: {doc}");
        ensure!(
            doc["token_endpoint"] == format!("{dynamic}/oauth2/v1/token").as_str(),
            "{doc}"
        );
    }
    Ok(())
}
