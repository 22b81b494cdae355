//! Okta-style dynamic client registration (`/oauth2/v1/clients`, RFC 7591) over raw HTTP.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client_keys::{ClientKey, JWT_BEARER, assertion_claims};
use crate::helpers::{Auth, Server, spawn_app};

backend_tests!(
    service_app_registration_round_trip,
    confidential_web_client_gets_a_secret_that_works,
    registration_validation_errors,
    registration_needs_an_api_token,
    discovery_advertises_client_credentials_and_jwt_auth,
);

async fn service_app_registration_round_trip(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    app.add_default_scope("svc:default").await?;
    let ssws = app.api_token().await?;
    let auth = format!("SSWS {ssws}");
    let key = ClientKey::rsa("om-kid")?;
    // What OpenMetadata's guide sends, with the key *pair* pasted as it says.
    let private = key.private_jwk.clone().context("rsa pair")?;
    let client = app
        .register_client(
            &ssws,
            &json!({
                "client_name": "OM-service-app-postman-4",
                "grant_types": ["client_credentials"],
                "response_types": ["token"],
                "token_endpoint_auth_method": "private_key_jwt",
                "application_type": "service",
                "jwks": {"keys": [private]},
                "logo_uri": "https://om.example/logo.png",
            }),
        )
        .await?;
    let id = client["client_id"]
        .as_str()
        .context("client_id")?
        .to_owned();
    ensure!(id.starts_with("0oa") && id.len() == 20, "{client}");
    ensure!(client["client_id_issued_at"].is_i64(), "{client}");
    ensure!(
        client.get("client_secret").is_none(),
        "private_key_jwt gets no secret: {client}"
    );
    ensure!(client["client_name"] == "OM-service-app-postman-4");
    ensure!(client["application_type"] == "service");
    ensure!(client["grant_types"] == json!(["client_credentials"]));
    ensure!(client["response_types"] == json!(["token"]));
    ensure!(client["token_endpoint_auth_method"] == "private_key_jwt");
    // Only the public members were kept.
    let stored = &client["jwks"]["keys"][0];
    ensure!(
        stored["kid"] == "om-kid" && stored["n"] == key.jwk["n"] && stored["e"] == key.jwk["e"]
    );
    for m in ["d", "p", "q", "dp", "dq", "qi"] {
        ensure!(stored.get(m).is_none(), "{m} was stored: {client}");
    }

    let got = app
        .api(
            Method::GET,
            &format!("/oauth2/v1/clients/{id}"),
            Some(&auth),
            None,
        )
        .await?;
    ensure!(got.status == 200, "{got:?}");
    ensure!(got.json()?["jwks"] == client["jwks"], "{got:?}");
    ensure!(!got.body.contains("\"d\""), "{got:?}");

    let list = app
        .api(
            Method::GET,
            "/oauth2/v1/clients?limit=200",
            Some(&auth),
            None,
        )
        .await?;
    ensure!(list.status == 200, "{list:?}");
    let ids: Vec<String> = list
        .json()?
        .as_array()
        .context("array")?
        .iter()
        .filter_map(|c| c["client_id"].as_str().map(str::to_owned))
        .collect();
    ensure!(
        ids.contains(&id) && ids.contains(&app.client_id().to_owned()),
        "{ids:?}"
    );
    let q = app
        .api(
            Method::GET,
            "/oauth2/v1/clients?q=om-serv",
            Some(&auth),
            None,
        )
        .await?;
    ensure!(q.json()?.as_array().map(Vec::len) == Some(1), "{q:?}");

    // It is the same kind of app as the CLI makes: visible to the OAuth endpoints at once.
    let token_url = app.endpoint(Server::Default, "token");
    let a = key.sign(&assertion_claims(&id, &token_url, app_now(&app)), false)?;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", a.as_str()),
    ];
    let reply = app.token(Server::Default, &form, Auth::None).await?;
    ensure!(reply.status == 200, "{reply:?}");

    // PUT replaces the metadata; the application type stays.
    let new_key = ClientKey::rsa("rotated")?;
    let put = app
        .api(
            Method::PUT,
            &format!("/oauth2/v1/clients/{id}"),
            Some(&auth),
            Some(&json!({
                "client_name": "renamed",
                "application_type": "service",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": {"keys": [new_key.jwk]},
            })),
        )
        .await?;
    ensure!(put.status == 200, "{put:?}");
    ensure!(put.json()?["client_name"] == "renamed" && put.json()?["client_id"] == id.as_str());
    let a = key.sign(&assertion_claims(&id, &token_url, app_now(&app)), false)?;
    let reply = app
        .token(
            Server::Default,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &a),
            ],
            Auth::None,
        )
        .await?;
    ensure!(reply.status == 401, "the old key must be gone: {reply:?}");
    let put = app
        .api(
            Method::PUT,
            &format!("/oauth2/v1/clients/{id}"),
            Some(&auth),
            Some(&json!({"client_name": "x", "application_type": "web", "redirect_uris": ["https://a.example/cb"]})),
        )
        .await?;
    ensure!(
        put.status == 400 && put.json()?["error"] == "invalid_client_metadata",
        "{put:?}"
    );

    let del = app
        .api(
            Method::DELETE,
            &format!("/oauth2/v1/clients/{id}"),
            Some(&auth),
            None,
        )
        .await?;
    ensure!(del.status == 204, "{del:?}");
    let got = app
        .api(
            Method::GET,
            &format!("/oauth2/v1/clients/{id}"),
            Some(&auth),
            None,
        )
        .await?;
    ensure!(
        got.status == 404 && got.json()?["errorCode"] == "E0000007",
        "{got:?}"
    );
    let a = new_key.sign(&assertion_claims(&id, &token_url, app_now(&app)), false)?;
    let reply = app
        .token(
            Server::Default,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &a),
            ],
            Auth::None,
        )
        .await?;
    ensure!(
        reply.oauth_error().as_deref() == Some("invalid_client"),
        "{reply:?}"
    );
    Ok(())
}

fn app_now(app: &crate::helpers::TestApp) -> i64 {
    use gatehouse_core::provider::Clock as _;
    app.clock.now()
}

async fn confidential_web_client_gets_a_secret_that_works(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let client = app
        .register_client(
            &ssws,
            &json!({
                "client_name": "NetBox",
                "application_type": "web",
                "redirect_uris": ["https://netbox.example.com/oauth/complete/okta-openidconnect/"],
                "post_logout_redirect_uris": ["https://netbox.example.com/oauth/disconnect/okta-openidconnect/"],
                "initiate_login_uri": "https://netbox.example.com/oauth/login/okta-openidconnect/",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_post",
            }),
        )
        .await?;
    let id = client["client_id"].as_str().context("client_id")?;
    let secret = client["client_secret"].as_str().context("client_secret")?;
    ensure!(
        secret.len() >= 14 && secret.len() <= 100,
        "Okta's SDKs want 14-100 characters"
    );
    ensure!(client["client_secret_expires_at"] == 0);
    ensure!(
        client["initiate_login_uri"]
            == "https://netbox.example.com/oauth/login/okta-openidconnect/"
    );
    ensure!(
        client["post_logout_redirect_uris"][0]
            == "https://netbox.example.com/oauth/disconnect/okta-openidconnect/"
    );
    let reply = app
        .post_form(
            Server::Default,
            "introspect",
            &[("token", "nope")],
            Auth::Post(id, secret),
        )
        .await?;
    ensure!(
        reply.status == 200 && reply.json()?["active"] == false,
        "{reply:?}"
    );
    // lifecycle/newSecret: a new secret, shown once; the old one stops working.
    let rotated = app
        .api(
            Method::POST,
            &format!("/oauth2/v1/clients/{id}/lifecycle/newSecret"),
            Some(&format!("SSWS {ssws}")),
            None,
        )
        .await?;
    ensure!(rotated.status == 200, "{rotated:?}");
    let new_secret = rotated.json()?["client_secret"]
        .as_str()
        .map(str::to_owned)
        .context("no new client_secret")?;
    ensure!(new_secret != secret);
    let reply = app
        .post_form(
            Server::Default,
            "introspect",
            &[("token", "nope")],
            Auth::Post(id, secret),
        )
        .await?;
    ensure!(reply.status == 401, "the old secret must fail: {reply:?}");
    let reply = app
        .post_form(
            Server::Default,
            "introspect",
            &[("token", "nope")],
            Auth::Post(id, &new_secret),
        )
        .await?;
    ensure!(reply.status == 200, "{reply:?}");
    // GET never shows the secret again.
    let got = app
        .api(
            Method::GET,
            &format!("/oauth2/v1/clients/{id}"),
            Some(&format!("SSWS {ssws}")),
            None,
        )
        .await?;
    ensure!(got.json()?.get("client_secret").is_none(), "{got:?}");

    // A public SPA gets no secret.
    let spa = app
        .register_client(
            &ssws,
            &json!({"client_name": "spa", "application_type": "browser", "redirect_uris": ["http://localhost:8585/callback"],
                    "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "none"}),
        )
        .await?;
    ensure!(
        spa.get("client_secret").is_none() && spa["token_endpoint_auth_method"] == "none",
        "{spa}"
    );
    let spa_id = spa["client_id"].as_str().context("client_id")?;
    let reply = app
        .api(
            Method::POST,
            &format!("/oauth2/v1/clients/{spa_id}/lifecycle/newSecret"),
            Some(&format!("SSWS {ssws}")),
            None,
        )
        .await?;
    ensure!(
        reply.status == 400 && reply.json()?["error"] == "invalid_client_metadata",
        "{reply:?}"
    );
    Ok(())
}

async fn registration_validation_errors(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let auth = format!("SSWS {ssws}");
    let web = |extra: Value| {
        let mut body = json!({
            "client_name": "x", "application_type": "web",
            "redirect_uris": ["https://app.example/cb"], "grant_types": ["authorization_code"],
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        body
    };
    let rsa = ClientKey::rsa("k")?;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "no client_name",
            json!({"application_type": "web", "redirect_uris": ["https://a.example/cb"]}),
            "invalid_client_metadata",
        ),
        (
            "blank client_name",
            web(json!({"client_name": "  "})),
            "invalid_client_metadata",
        ),
        (
            "javascript: redirect",
            web(json!({"redirect_uris": ["javascript:alert(1)"]})),
            "invalid_redirect_uri",
        ),
        (
            "JaVaScRiPt: redirect",
            web(json!({"redirect_uris": ["JaVaScRiPt:alert(1)"]})),
            "invalid_redirect_uri",
        ),
        (
            "data: redirect",
            web(json!({"redirect_uris": ["data:text/html,<script>x</script>"]})),
            "invalid_redirect_uri",
        ),
        (
            "vbscript: redirect",
            web(json!({"redirect_uris": ["vbscript:msgbox"]})),
            "invalid_redirect_uri",
        ),
        (
            "file: redirect",
            web(json!({"redirect_uris": ["file:///etc/passwd"]})),
            "invalid_redirect_uri",
        ),
        (
            "fragment",
            web(json!({"redirect_uris": ["https://app.example/cb#frag"]})),
            "invalid_redirect_uri",
        ),
        (
            "relative",
            web(json!({"redirect_uris": ["/cb"]})),
            "invalid_redirect_uri",
        ),
        (
            "javascript: logout",
            web(json!({"post_logout_redirect_uris": ["javascript:alert(1)"]})),
            "invalid_redirect_uri",
        ),
        (
            "javascript: initiate_login_uri",
            web(json!({"initiate_login_uri": "javascript:alert(1)"})),
            "invalid_client_metadata",
        ),
        (
            "no redirect for code",
            web(json!({"redirect_uris": []})),
            "invalid_redirect_uri",
        ),
        (
            "bad application_type",
            web(json!({"application_type": "robot"})),
            "invalid_client_metadata",
        ),
        (
            "bad auth method",
            web(json!({"token_endpoint_auth_method": "magic"})),
            "invalid_client_metadata",
        ),
        (
            "bad grant",
            web(json!({"grant_types": ["authorization_code", "urn:x"]})),
            "invalid_client_metadata",
        ),
        (
            "bad response type",
            web(json!({"response_types": ["code", "evil"]})),
            "invalid_client_metadata",
        ),
        (
            "wrong type",
            web(json!({"redirect_uris": "https://a.example/cb"})),
            "invalid_client_metadata",
        ),
        (
            "service with authorization_code",
            json!({"client_name": "s", "application_type": "service", "grant_types": ["authorization_code"], "redirect_uris": ["https://a.example/cb"]}),
            "invalid_client_metadata",
        ),
        (
            "service with none",
            json!({"client_name": "s", "application_type": "service", "token_endpoint_auth_method": "none"}),
            "invalid_client_metadata",
        ),
        (
            "spa with a secret",
            json!({"client_name": "s", "application_type": "browser", "redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "client_secret_basic"}),
            "invalid_client_metadata",
        ),
        (
            "private_key_jwt without jwks",
            json!({"client_name": "s", "application_type": "service", "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
        (
            "jwks_uri over http",
            json!({"client_name": "s", "application_type": "service", "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [rsa.jwk]}, "jwks_uri": "http://127.0.0.1/jwks"}),
            "invalid_client_metadata",
        ),
        (
            "symmetric key in jwks",
            json!({"client_name": "s", "application_type": "service", "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}),
            "invalid_client_metadata",
        ),
        (
            "jwks not a set",
            json!({"client_name": "s", "application_type": "service", "token_endpoint_auth_method": "private_key_jwt", "jwks": [rsa.jwk]}),
            "invalid_client_metadata",
        ),
        (
            "not an object",
            json!(["client_name"]),
            "invalid_client_metadata",
        ),
    ];
    for (what, body, code) in &cases {
        let reply = app
            .api(Method::POST, "/oauth2/v1/clients", Some(&auth), Some(body))
            .await?;
        ensure!(reply.status == 400, "{what}: {reply:?}");
        let err = reply.json()?;
        ensure!(err["error"] == *code, "{what}: {err}");
        ensure!(
            err["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{what}: {err}"
        );
    }
    let reply = app
        .api(Method::POST, "/oauth2/v1/clients", Some(&auth), None)
        .await?;
    ensure!(
        reply.status == 400 && reply.json()?["error"] == "invalid_client_metadata",
        "{reply:?}"
    );
    let missing = app
        .api(Method::GET, "/oauth2/v1/clients/0oanope", Some(&auth), None)
        .await?;
    ensure!(missing.status == 404, "{missing:?}");
    let missing = app
        .api(
            Method::PUT,
            "/oauth2/v1/clients/0oanope",
            Some(&auth),
            Some(&web(json!({}))),
        )
        .await?;
    ensure!(missing.status == 404, "{missing:?}");
    Ok(())
}

async fn registration_needs_an_api_token(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let body = json!({"client_name": "x", "application_type": "service"});
    for auth in [
        None,
        Some("SSWS not-a-token"),
        Some("Bearer abc"),
        Some("Basic YTpi"),
    ] {
        let reply = app
            .api(Method::POST, "/oauth2/v1/clients", auth, Some(&body))
            .await?;
        ensure!(reply.status == 401, "{auth:?}: {reply:?}");
        ensure!(
            reply.json()?["errorCode"] == "E0000011",
            "{auth:?}: {reply:?}"
        );
    }
    let reply = app
        .api(Method::GET, "/oauth2/v1/clients", None, None)
        .await?;
    ensure!(reply.status == 401, "{reply:?}");
    Ok(())
}

async fn discovery_advertises_client_credentials_and_jwt_auth(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for url in [
        format!("{}/.well-known/openid-configuration", app.base),
        format!(
            "{}/oauth2/default/.well-known/openid-configuration",
            app.base
        ),
        format!(
            "{}/oauth2/default/.well-known/oauth-authorization-server",
            app.base
        ),
    ] {
        let doc = app.get(&url).await?.json()?;
        let has = |field: &str, value: &str| {
            doc[field]
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == value))
        };
        ensure!(
            has("grant_types_supported", "client_credentials"),
            "{url}: {doc}"
        );
        for m in [
            "private_key_jwt",
            "client_secret_jwt",
            "client_secret_basic",
            "none",
        ] {
            ensure!(
                has("token_endpoint_auth_methods_supported", m),
                "{url}: {m}"
            );
            ensure!(
                has("introspection_endpoint_auth_methods_supported", m),
                "{url}: {m}"
            );
        }
        for alg in ["RS256", "ES256", "HS256", "PS256"] {
            ensure!(
                has("token_endpoint_auth_signing_alg_values_supported", alg),
                "{url}: {alg}"
            );
        }
        ensure!(!has(
            "token_endpoint_auth_signing_alg_values_supported",
            "none"
        ));
        ensure!(doc["registration_endpoint"] == format!("{}/oauth2/v1/clients", app.base));
    }
    Ok(())
}
