//! Service apps end to end: a client registered with an inline JWKS gets `client_credentials`
//! tokens with signed client assertions (as openmetadata-ingestion's Okta provider does), and
//! an org-server token with granted `okta.*` scopes calls `/api/v1` within those scopes.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client_keys::{ClientKey, JWT_BEARER, assertion_claims, sign_hs256, unsigned};
use crate::helpers::{Auth, Reply, Server, TestApp, jwt_parts, spawn_app, tamper_payload};

backend_tests!(
    client_credentials_with_private_key_jwt_on_the_default_server,
    assertion_replay_is_refused,
    concurrent_replays_of_one_assertion_have_one_winner,
    assertion_claims_and_algorithms_are_checked,
    ec_keys_and_client_secret_jwt_work,
    client_credentials_rules,
    org_token_with_granted_scope_reads_but_cannot_write,
    app_grants_api,
    assertions_authenticate_at_introspect_and_revoke,
);

/// The `default` server's default scope in these tests (seed 003 step 6: requests that name no
/// scope get it).
const SERVICE_DEFAULT_SCOPE: &str = "svc:default";

/// A service app registered through `/oauth2/v1/clients` with `key`'s pasted key pair; the
/// `default` server gets [`SERVICE_DEFAULT_SCOPE`] the first time.
pub(crate) async fn register_service_app(
    app: &TestApp,
    ssws: &str,
    key: &ClientKey,
) -> Result<String> {
    let scopes = app
        .api_ssws(
            Method::GET,
            "/api/v1/authorizationServers/default/scopes?q=svc",
            ssws,
            None,
        )
        .await?;
    if scopes.json()? == json!([]) {
        add_scope(app, ssws, SERVICE_DEFAULT_SCOPE, true).await?;
    }
    let jwk = key.private_jwk.clone().unwrap_or_else(|| key.jwk.clone());
    let client = app
        .register_client(
            ssws,
            &json!({
                "client_name": "OM-service-app",
                "grant_types": ["client_credentials"],
                "response_types": ["token"],
                "token_endpoint_auth_method": "private_key_jwt",
                "application_type": "service",
                "jwks": {"keys": [jwk]},
            }),
        )
        .await?;
    client["client_id"]
        .as_str()
        .map(str::to_owned)
        .context("no client_id")
}

/// Adds a scope to the `default` server (custom servers grant only the scopes they have).
async fn add_scope(app: &TestApp, ssws: &str, name: &str, default: bool) -> Result<()> {
    let reply = app
        .api_ssws(
            Method::POST,
            "/api/v1/authorizationServers/default/scopes",
            ssws,
            Some(&json!({"name": name, "default": default})),
        )
        .await?;
    ensure!(reply.status == 201, "add scope {name}: {reply:?}");
    Ok(())
}

fn assertion_form<'a>(assertion: &'a str, scope: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    form
}

async fn token_with(
    app: &TestApp,
    server: Server,
    assertion: &str,
    scope: Option<&str>,
) -> Result<Reply> {
    app.token(server, &assertion_form(assertion, scope), Auth::None)
        .await
}

fn now(app: &TestApp) -> i64 {
    use gatehouse_core::provider::Clock as _;
    app.clock.now()
}

async fn client_credentials_with_private_key_jwt_on_the_default_server(
    backend: Backend,
) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let key = ClientKey::rsa("om-key")?;
    let client_id = register_service_app(&app, &ssws, &key).await?;
    let token_url = app.endpoint(Server::Default, "token");
    add_scope(&app, &ssws, "metadata:ingest", false).await?;

    // openmetadata-ingestion: no kid, parameters in the query string, empty body, no scope.
    let assertion = key.sign(&assertion_claims(&client_id, &token_url, now(&app)), false)?;
    let reply = app
        .token_via_query(
            &token_url,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &assertion),
            ],
        )
        .await?;
    ensure!(reply.status == 200, "{reply:?}");
    ensure!(reply.header("cache-control") == Some("no-store"));
    let body = reply.json()?;
    ensure!(body["token_type"] == "Bearer");
    ensure!(body["expires_in"].is_i64(), "expires_in must be a number");
    ensure!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let at = body["access_token"].as_str().context("no access_token")?;
    let claims = app.verify_jwt(Server::Default, at, "api://default").await?;
    ensure!(claims["sub"] == client_id.as_str() && claims["cid"] == client_id.as_str());
    ensure!(
        claims.get("uid").is_none(),
        "client_credentials tokens have no uid"
    );
    ensure!(
        claims["scp"] == json!([SERVICE_DEFAULT_SCOPE]),
        "default scopes: {claims}"
    );
    ensure!(claims["ver"] == 1 && claims["jti"].as_str().is_some_and(|j| j.starts_with("AT.")));
    let (header, _) = jwt_parts(at)?;
    ensure!(header["alg"] == "RS256" && header["kid"].is_string());

    // A form body with a kid and a custom scope works too.
    let assertion = key.sign(&assertion_claims(&client_id, &token_url, now(&app)), true)?;
    let reply = token_with(&app, Server::Default, &assertion, Some("metadata:ingest")).await?;
    ensure!(reply.status == 200, "{reply:?}");
    let at = reply.json()?["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access_token")?;
    let claims = app
        .verify_jwt(Server::Default, &at, "api://default")
        .await?;
    ensure!(claims["scp"] == json!(["metadata:ingest"]), "{claims}");
    ensure!(reply.json()?["scope"] == "metadata:ingest");
    Ok(())
}

async fn assertion_replay_is_refused(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let key = ClientKey::rsa("k")?;
    let client_id = register_service_app(&app, &ssws, &key).await?;
    let token_url = app.endpoint(Server::Default, "token");
    let assertion = key.sign(&assertion_claims(&client_id, &token_url, now(&app)), true)?;
    let first = token_with(&app, Server::Default, &assertion, None).await?;
    ensure!(first.status == 200, "{first:?}");
    let again = token_with(&app, Server::Default, &assertion, None).await?;
    ensure!(again.status == 401, "{again:?}");
    ensure!(again.oauth_error().as_deref() == Some("invalid_client"));
    ensure!(again.body.contains("already been used"), "{again:?}");
    // The jti is bound to the database, not to the server it was first used at.
    let org = token_with(&app, Server::Org, &assertion, None).await?;
    ensure!(org.status == 401, "{org:?}");
    // An assertion just past its exp (within the clock skew) is still good once, and only once:
    // its jti is remembered for as long as it is accepted.
    let mut claims = assertion_claims(&client_id, &token_url, now(&app));
    claims["exp"] = json!(now(&app) - 30);
    let late = key.sign(&claims, true)?;
    let first = token_with(&app, Server::Default, &late, None).await?;
    ensure!(first.status == 200, "{first:?}");
    let again = token_with(&app, Server::Default, &late, None).await?;
    ensure!(again.status == 401, "{again:?}");
    Ok(())
}

async fn concurrent_replays_of_one_assertion_have_one_winner(backend: Backend) -> Result<()> {
    let app = std::sync::Arc::new(spawn_app(backend).await?);
    let ssws = app.api_token().await?;
    let key = ClientKey::rsa("k")?;
    let client_id = register_service_app(&app, &ssws, &key).await?;
    let token_url = app.endpoint(Server::Default, "token");
    let assertion = key.sign(&assertion_claims(&client_id, &token_url, now(&app)), true)?;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, assertion) = (app.clone(), assertion.clone());
        tasks.push(tokio::spawn(async move {
            token_with(&app, Server::Default, &assertion, None)
                .await
                .map(|r| r.status.as_u16())
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await??);
    }
    statuses.sort_unstable();
    let wins = statuses.iter().filter(|s| **s == 200).count();
    ensure!(wins == 1, "exactly one success expected: {statuses:?}");
    ensure!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "{statuses:?}"
    );
    Ok(())
}

async fn assertion_claims_and_algorithms_are_checked(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let key = ClientKey::rsa("k")?;
    let client_id = register_service_app(&app, &ssws, &key).await?;
    let token_url = app.endpoint(Server::Default, "token");
    let t = now(&app);
    let good = || assertion_claims(&client_id, &token_url, t);
    let with = |name: &str, value: Value| {
        let mut c = good();
        c[name] = value;
        c
    };
    let without = |name: &str| {
        let mut c = good();
        if let Some(map) = c.as_object_mut() {
            map.remove(name);
        }
        c
    };
    let foreign = ClientKey::rsa("k")?;
    let n = key.jwk["n"].as_str().unwrap_or_default().to_owned();
    let cases: Vec<(&str, String)> = vec![
        (
            "aud = issuer",
            key.sign(&with("aud", json!(app.issuer(Server::Default))), true)?,
        ),
        (
            "aud = the org token endpoint",
            key.sign(
                &with("aud", json!(app.endpoint(Server::Org, "token"))),
                true,
            )?,
        ),
        ("no aud", key.sign(&without("aud"), true)?),
        ("expired", key.sign(&with("exp", json!(t - 600)), true)?),
        (
            "exp too far ahead",
            key.sign(&with("exp", json!(t + 7200)), true)?,
        ),
        ("no exp", key.sign(&without("exp"), true)?),
        ("no jti", key.sign(&without("jti"), true)?),
        (
            "iat in the future",
            key.sign(&with("iat", json!(t + 600)), true)?,
        ),
        (
            "sub differs from iss",
            key.sign(&with("sub", json!("someone-else")), true)?,
        ),
        (
            "unknown kid",
            ClientKey::rsa("other-kid")?.sign(&good(), true)?,
        ),
        ("signed by a foreign key", foreign.sign(&good(), true)?),
        ("alg none", unsigned(&good())),
        (
            "HS256 keyed with the client's RSA public key",
            sign_hs256(&good(), n.as_bytes())?,
        ),
        (
            "HS256 keyed with the JWK JSON",
            sign_hs256(&good(), key.jwk.to_string().as_bytes())?,
        ),
        (
            "tampered payload",
            tamper_payload(&key.sign(&good(), true)?),
        ),
        ("not a JWT", "not-a-jwt".into()),
    ];
    for (what, assertion) in &cases {
        let reply = token_with(&app, Server::Default, assertion, None).await?;
        ensure!(
            reply.status == 401 && reply.oauth_error().as_deref() == Some("invalid_client"),
            "{what}: {reply:?}"
        );
    }
    // A wrong assertion type, or an assertion with a secret as well.
    let assertion = key.sign(&good(), true)?;
    let reply = app
        .token(
            Server::Default,
            &[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
                ),
                ("client_assertion", &assertion),
            ],
            Auth::None,
        )
        .await?;
    ensure!(
        reply.oauth_error().as_deref() == Some("invalid_client"),
        "{reply:?}"
    );
    let reply = app
        .token(
            Server::Default,
            &assertion_form(&assertion, None),
            Auth::Basic(&client_id, "secret"),
        )
        .await?;
    ensure!(
        reply.oauth_error().as_deref() == Some("invalid_request"),
        "{reply:?}"
    );
    // A client_id that is not the assertion's iss/sub.
    let reply = app
        .token(
            Server::Default,
            &assertion_form(&assertion, None),
            Auth::Public(app.client_id()),
        )
        .await?;
    ensure!(
        reply.oauth_error().as_deref() == Some("invalid_client"),
        "{reply:?}"
    );
    // The same, valid, assertion still works: none of the refusals consumed its jti.
    let reply = token_with(&app, Server::Default, &assertion, None).await?;
    ensure!(reply.status == 200, "{reply:?}");
    Ok(())
}

async fn ec_keys_and_client_secret_jwt_work(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let token_url = app.endpoint(Server::Default, "token");
    add_scope(&app, &ssws, SERVICE_DEFAULT_SCOPE, true).await?;

    let ec = ClientKey::ec("ec-1")?;
    let rsa = ClientKey::rsa("rsa-1")?;
    let client = app
        .register_client(
            &ssws,
            &json!({
                "client_name": "two keys",
                "application_type": "service",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": {"keys": [ec.jwk, rsa.jwk]},
            }),
        )
        .await?;
    let client_id = client["client_id"].as_str().context("client_id")?;
    for (key, kid) in [(&ec, true), (&ec, false), (&rsa, true), (&rsa, false)] {
        let a = key.sign(&assertion_claims(client_id, &token_url, now(&app)), kid)?;
        let reply = token_with(&app, Server::Default, &a, None).await?;
        ensure!(reply.status == 200, "{:?} kid={kid}: {reply:?}", key.alg);
    }

    let client = app
        .register_secret_service_app(&ssws, "hmac client", "client_secret_jwt")
        .await?;
    let client_id = client["client_id"].as_str().context("client_id")?;
    let secret = client["client_secret"].as_str().context("client_secret")?;
    ensure!(client["client_secret_expires_at"] == 0);
    let a = sign_hs256(
        &assertion_claims(client_id, &token_url, now(&app)),
        secret.as_bytes(),
    )?;
    let reply = token_with(&app, Server::Default, &a, None).await?;
    ensure!(reply.status == 200, "{reply:?}");
    let wrong = sign_hs256(
        &assertion_claims(client_id, &token_url, now(&app)),
        b"not the secret",
    )?;
    let reply = token_with(&app, Server::Default, &wrong, None).await?;
    ensure!(
        reply.oauth_error().as_deref() == Some("invalid_client"),
        "{reply:?}"
    );
    // An RSA-signed assertion for an HMAC client is refused by the method's allow-list.
    let reply = token_with(
        &app,
        Server::Default,
        &rsa.sign(&assertion_claims(client_id, &token_url, now(&app)), true)?,
        None,
    )
    .await?;
    ensure!(
        reply.oauth_error().as_deref() == Some("invalid_client"),
        "{reply:?}"
    );
    // Its secret alone does not authenticate it either.
    let reply = app
        .token(
            Server::Default,
            &[("grant_type", "client_credentials")],
            Auth::Basic(client_id, secret),
        )
        .await?;
    ensure!(
        reply.oauth_error().as_deref() == Some("invalid_client"),
        "{reply:?}"
    );
    Ok(())
}

async fn client_credentials_rules(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let cc = [("grant_type", "client_credentials")];

    // The seeded web app lacks the grant type.
    let reply = app
        .token(
            Server::Default,
            &cc,
            Auth::Basic(app.client_id(), app.client_secret()),
        )
        .await?;
    ensure!(
        reply.oauth_error().as_deref() == Some("unauthorized_client"),
        "{reply:?}"
    );

    // A service app with a client secret works on the default server...
    let client = app
        .register_client(
            &ssws,
            &json!({
                "client_name": "secret service",
                "application_type": "service",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "client_secret_basic",
            }),
        )
        .await?;
    let id = client["client_id"].as_str().context("client_id")?;
    let secret = client["client_secret"].as_str().context("client_secret")?;
    add_scope(&app, &ssws, "a:b", false).await?;
    add_scope(&app, &ssws, "c", false).await?;
    let reply = app
        .token(
            Server::Default,
            &[("grant_type", "client_credentials"), ("scope", "a:b c")],
            Auth::Basic(id, secret),
        )
        .await?;
    ensure!(reply.status == 200, "{reply:?}");
    ensure!(reply.json()?["scope"] == "a:b c");
    // ...but never with OpenID Connect user scopes or okta.* scopes there.
    for scope in [
        "openid",
        "profile email",
        "offline_access",
        "okta.users.read",
    ] {
        let reply = app
            .token(
                Server::Default,
                &[("grant_type", "client_credentials"), ("scope", scope)],
                Auth::Basic(id, secret),
            )
            .await?;
        ensure!(
            reply.oauth_error().as_deref() == Some("invalid_scope"),
            "{scope}: {reply:?}"
        );
    }
    // The org server takes client_credentials only with private_key_jwt.
    let reply = app
        .token(
            Server::Org,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "okta.users.read"),
            ],
            Auth::Basic(id, secret),
        )
        .await?;
    ensure!(
        reply.oauth_error().as_deref() == Some("invalid_client"),
        "{reply:?}"
    );
    ensure!(reply.body.contains("private_key_jwt"), "{reply:?}");
    // A wrong secret.
    let reply = app
        .token(Server::Default, &cc, Auth::Basic(id, "wrong"))
        .await?;
    ensure!(reply.status == 401, "{reply:?}");
    Ok(())
}

/// Grants `scope` to the client's app through the API; the grant's JSON.
pub(crate) async fn grant(
    app: &TestApp,
    ssws: &str,
    client_id: &str,
    scope: &str,
) -> Result<Value> {
    let reply = app
        .api(
            Method::POST,
            &format!("/api/v1/apps/{client_id}/grants"),
            Some(&format!("SSWS {ssws}")),
            Some(&json!({"issuer": app.base, "scopeId": scope})),
        )
        .await?;
    ensure!(reply.status == 201, "grant {scope}: {reply:?}");
    reply.json()
}

pub(crate) async fn org_token(
    app: &TestApp,
    key: &ClientKey,
    client_id: &str,
    scope: &str,
) -> Result<Reply> {
    let url = app.endpoint(Server::Org, "token");
    let a = key.sign(&assertion_claims(client_id, &url, now(app)), true)?;
    token_with(app, Server::Org, &a, Some(scope)).await
}

async fn org_token_with_granted_scope_reads_but_cannot_write(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let key = ClientKey::rsa("k")?;
    let client_id = register_service_app(&app, &ssws, &key).await?;
    let bearer = |t: &str| format!("Bearer {t}");

    // Nothing granted yet.
    let reply = org_token(&app, &key, &client_id, "okta.users.read").await?;
    ensure!(
        reply.oauth_error().as_deref() == Some("invalid_scope"),
        "{reply:?}"
    );
    let g = grant(&app, &ssws, &client_id, "okta.users.read").await?;
    let reply = org_token(&app, &key, &client_id, "okta.users.manage").await?;
    ensure!(
        reply.oauth_error().as_deref() == Some("invalid_scope"),
        "{reply:?}"
    );
    let reply = org_token(&app, &key, &client_id, "").await?;
    ensure!(
        reply.oauth_error().as_deref() == Some("invalid_scope"),
        "{reply:?}"
    );

    let reply = org_token(&app, &key, &client_id, "okta.users.read").await?;
    ensure!(reply.status == 200, "{reply:?}");
    let at = reply.json()?["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access_token")?;
    let claims = app.verify_jwt(Server::Org, &at, &app.base).await?;
    ensure!(claims["scp"] == json!(["okta.users.read"]) && claims["sub"] == client_id.as_str());

    let reply = app
        .api(Method::GET, "/api/v1/users", Some(&bearer(&at)), None)
        .await?;
    ensure!(reply.status == 200, "{reply:?}");
    ensure!(reply.body.contains(&app.alice.login), "{reply:?}");
    let reply = app
        .api(
            Method::GET,
            &format!("/api/v1/users/{}", app.alice.id),
            Some(&bearer(&at)),
            None,
        )
        .await?;
    ensure!(reply.status == 200, "{reply:?}");
    // No user behind a service token.
    let reply = app
        .api(Method::GET, "/api/v1/users/me", Some(&bearer(&at)), None)
        .await?;
    ensure!(reply.status == 404, "{reply:?}");

    let new_user = json!({"profile": {"firstName": "Eve", "lastName": "E", "email": "eve@example.com", "login": "eve@example.com"}});
    let reply = app
        .api(
            Method::POST,
            "/api/v1/users",
            Some(&bearer(&at)),
            Some(&new_user),
        )
        .await?;
    ensure!(reply.status == 403, "{reply:?}");
    ensure!(reply.json()?["errorCode"] == "E0000006");
    let reply = app
        .api(Method::GET, "/api/v1/groups", Some(&bearer(&at)), None)
        .await?;
    ensure!(
        reply.status == 403 && reply.json()?["errorCode"] == "E0000006",
        "{reply:?}"
    );
    let reply = app
        .api(Method::GET, "/oauth2/v1/clients", Some(&bearer(&at)), None)
        .await?;
    ensure!(reply.status == 403, "{reply:?}");

    // Tampered, foreign-issuer (default server) and garbage tokens are 401 E0000011.
    let default_at = {
        let url = app.endpoint(Server::Default, "token");
        let a = key.sign(&assertion_claims(&client_id, &url, now(&app)), true)?;
        let r = token_with(&app, Server::Default, &a, Some("x")).await?;
        r.json()?["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    for (what, token) in [
        ("tampered", tamper_payload(&at)),
        ("default-server token", default_at),
        ("garbage", "abc".to_owned()),
    ] {
        let reply = app
            .api(Method::GET, "/api/v1/users", Some(&bearer(&token)), None)
            .await?;
        ensure!(reply.status == 401, "{what}: {reply:?}");
        ensure!(
            reply.json()?["errorCode"] == "E0000011",
            "{what}: {reply:?}"
        );
    }

    // An expired token: issued two hours ago by the server's clock.
    app.clock.advance(-7200);
    let reply = org_token(&app, &key, &client_id, "okta.users.read").await?;
    app.clock.advance(7200);
    ensure!(reply.status == 200, "{reply:?}");
    let old = reply.json()?["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let reply = app
        .api(Method::GET, "/api/v1/users", Some(&bearer(&old)), None)
        .await?;
    ensure!(
        reply.status == 401 && reply.json()?["errorCode"] == "E0000011",
        "{reply:?}"
    );

    // Granting manage lets a new token create users; revoking read takes effect at once.
    grant(&app, &ssws, &client_id, "okta.users.manage").await?;
    let reply = org_token(&app, &key, &client_id, "okta.users.read okta.users.manage").await?;
    let both = reply.json()?["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let reply = app
        .api(
            Method::POST,
            "/api/v1/users?activate=false",
            Some(&bearer(&both)),
            Some(&new_user),
        )
        .await?;
    ensure!(reply.status == 200, "{reply:?}");
    let gid = g["id"].as_str().context("grant id")?;
    let reply = app
        .api(
            Method::DELETE,
            &format!("/api/v1/apps/{client_id}/grants/{gid}"),
            Some(&format!("SSWS {ssws}")),
            None,
        )
        .await?;
    ensure!(reply.status == 204, "{reply:?}");
    let reply = app
        .api(Method::GET, "/api/v1/users", Some(&bearer(&at)), None)
        .await?;
    ensure!(reply.status == 403, "revoked grant: {reply:?}");

    // okta.apps.manage does not let a service app grant itself more scopes.
    grant(&app, &ssws, &client_id, "okta.apps.manage").await?;
    let reply = org_token(&app, &key, &client_id, "okta.apps.manage").await?;
    let apps = reply.json()?["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let reply = app
        .api(
            Method::POST,
            &format!("/api/v1/apps/{client_id}/grants"),
            Some(&bearer(&apps)),
            Some(&json!({"issuer": app.base, "scopeId": "okta.users.read"})),
        )
        .await?;
    ensure!(
        reply.status == 403 && reply.json()?["errorCode"] == "E0000006",
        "{reply:?}"
    );
    let reply = app
        .api(
            Method::GET,
            &format!("/api/v1/apps/{client_id}/grants"),
            Some(&bearer(&apps)),
            None,
        )
        .await?;
    ensure!(reply.status == 200, "{reply:?}");
    Ok(())
}

async fn app_grants_api(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let auth = format!("SSWS {ssws}");
    let key = ClientKey::rsa("k")?;
    let client_id = register_service_app(&app, &ssws, &key).await?;
    let path = format!("/api/v1/apps/{client_id}/grants");

    let g = grant(&app, &ssws, &client_id, "okta.users.read").await?;
    ensure!(
        g["id"].as_str().is_some_and(|i| i.starts_with("oag")),
        "{g}"
    );
    ensure!(g["scopeId"] == "okta.users.read" && g["issuer"] == app.base.as_str());
    ensure!(
        g["status"] == "ACTIVE" && g["source"] == "ADMIN" && g["clientId"] == client_id.as_str()
    );
    ensure!(g["createdBy"]["id"] == app.api_admin().await?.id.as_str());
    ensure!(g["_embedded"]["scope"]["id"] == "okta.users.read");
    grant(&app, &ssws, &client_id, "okta.clients.read").await?;

    let list = app.api(Method::GET, &path, Some(&auth), None).await?;
    ensure!(list.status == 200, "{list:?}");
    ensure!(list.json()?.as_array().map(Vec::len) == Some(2), "{list:?}");
    let gid = g["id"].as_str().unwrap_or_default();
    let one = app
        .api(Method::GET, &format!("{path}/{gid}"), Some(&auth), None)
        .await?;
    ensure!(
        one.status == 200 && one.json()?["scopeId"] == "okta.users.read",
        "{one:?}"
    );

    for (body, what) in [
        (
            json!({"issuer": app.base, "scopeId": "okta.users.read"}),
            "duplicate",
        ),
        (
            json!({"issuer": app.base, "scopeId": "okta.nothing"}),
            "unknown scope",
        ),
        (
            json!({"issuer": "https://evil.example", "scopeId": "okta.groups.read"}),
            "wrong issuer",
        ),
        (json!({"issuer": app.base}), "no scopeId"),
    ] {
        let reply = app
            .api(Method::POST, &path, Some(&auth), Some(&body))
            .await?;
        ensure!(
            reply.status == 400 && reply.json()?["errorCode"] == "E0000001",
            "{what}: {reply:?}"
        );
    }
    let reply = app
        .api(
            Method::POST,
            "/api/v1/apps/0oanope/grants",
            Some(&auth),
            Some(&json!({"issuer": app.base, "scopeId": "okta.users.read"})),
        )
        .await?;
    ensure!(
        reply.status == 404 && reply.json()?["errorCode"] == "E0000007",
        "{reply:?}"
    );
    let reply = app
        .api(Method::GET, &format!("{path}/oagnope"), Some(&auth), None)
        .await?;
    ensure!(reply.status == 404, "{reply:?}");
    let reply = app.api(Method::GET, &path, None, None).await?;
    ensure!(
        reply.status == 401 && reply.json()?["errorCode"] == "E0000011",
        "{reply:?}"
    );

    let reply = app
        .api(Method::DELETE, &format!("{path}/{gid}"), Some(&auth), None)
        .await?;
    ensure!(reply.status == 204, "{reply:?}");
    let reply = app
        .api(Method::DELETE, &format!("{path}/{gid}"), Some(&auth), None)
        .await?;
    ensure!(reply.status == 404, "{reply:?}");
    let list = app.api(Method::GET, &path, Some(&auth), None).await?;
    ensure!(list.json()?.as_array().map(Vec::len) == Some(1), "{list:?}");
    Ok(())
}

async fn assertions_authenticate_at_introspect_and_revoke(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let key = ClientKey::rsa("k")?;
    let client_id = register_service_app(&app, &ssws, &key).await?;
    let token_url = app.endpoint(Server::Default, "token");
    let a = key.sign(&assertion_claims(&client_id, &token_url, now(&app)), true)?;
    let at = token_with(&app, Server::Default, &a, None).await?.json()?["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access_token")?;

    // aud may be the token endpoint or the endpoint itself.
    for aud in [
        token_url.clone(),
        app.endpoint(Server::Default, "introspect"),
    ] {
        let a = key.sign(&assertion_claims(&client_id, &aud, now(&app)), true)?;
        let reply = app
            .post_form(
                Server::Default,
                "introspect",
                &[
                    ("token", at.as_str()),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", &a),
                ],
                Auth::None,
            )
            .await?;
        ensure!(reply.status == 200, "{reply:?}");
        let body = reply.json()?;
        ensure!(
            body["active"] == true && body["client_id"] == client_id.as_str(),
            "{body}"
        );
    }
    // An assertion meant for the revoke endpoint is not good at introspect.
    let a = key.sign(
        &assertion_claims(
            &client_id,
            &app.endpoint(Server::Default, "revoke"),
            now(&app),
        ),
        true,
    )?;
    let reply = app
        .post_form(
            Server::Default,
            "introspect",
            &[
                ("token", at.as_str()),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &a),
            ],
            Auth::None,
        )
        .await?;
    ensure!(reply.status == 401, "{reply:?}");
    // ...but is at revoke.
    let reply = app
        .post_form(
            Server::Default,
            "revoke",
            &[
                ("token", at.as_str()),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &a),
            ],
            Auth::None,
        )
        .await?;
    ensure!(reply.status == 200, "{reply:?}");
    let a = key.sign(&assertion_claims(&client_id, &token_url, now(&app)), true)?;
    let reply = app
        .post_form(
            Server::Default,
            "introspect",
            &[
                ("token", at.as_str()),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &a),
            ],
            Auth::None,
        )
        .await?;
    ensure!(reply.json()?["active"] == false, "revoked: {reply:?}");
    Ok(())
}
