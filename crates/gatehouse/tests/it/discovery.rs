//! The discovery documents and the JWKS, for the org server and `default`, with Okta's paths.

use std::collections::BTreeSet;

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Server, TestApp, spawn_app};

backend_tests!(
    org_openid_configuration,
    default_openid_configuration,
    default_oauth_authorization_server,
    discovery_client_id_and_unknown_server,
    jwks_shape_and_separate_keys,
);

async fn document(app: &TestApp, path: &str) -> Result<Value> {
    let reply = app.get(&format!("{}{path}", app.base)).await?;
    ensure!(reply.status == StatusCode::OK, "{path}: {reply:?}");
    ensure!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{path}: {reply:?}"
    );
    reply.json()
}

fn strings(v: &Value) -> Result<BTreeSet<String>> {
    v.as_array()
        .with_context(|| format!("not an array: {v}"))?
        .iter()
        .map(|s| {
            s.as_str()
                .map(str::to_owned)
                .with_context(|| format!("not a string: {s}"))
        })
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// What both servers' `openid-configuration` (and, minus the OIDC parts, the RFC 8414 document)
/// must say.
fn check_common(app: &TestApp, server: Server, doc: &Value) -> Result<()> {
    let issuer = app.issuer(server);
    assert_eq!(doc["issuer"], issuer.as_str(), "{doc}");
    for (field, name) in [
        ("authorization_endpoint", "authorize"),
        ("token_endpoint", "token"),
        ("jwks_uri", "keys"),
        ("introspection_endpoint", "introspect"),
        ("revocation_endpoint", "revoke"),
        ("end_session_endpoint", "logout"),
    ] {
        assert_eq!(doc[field], app.endpoint(server, name).as_str(), "{field}");
    }
    // Dynamic client registration is org-level only in Okta.
    assert_eq!(
        doc["registration_endpoint"],
        format!("{}/oauth2/v1/clients", app.base).as_str()
    );
    // Okta's list: the code flow, implicit and hybrid; a bare `token` on custom servers only.
    let mut response_types = vec![
        "code",
        "id_token",
        "code id_token",
        "code token",
        "id_token token",
        "code id_token token",
    ];
    if server == Server::Default {
        response_types.push("token");
    }
    assert_eq!(
        strings(&doc["response_types_supported"])?,
        set(&response_types)
    );
    assert_eq!(
        strings(&doc["response_modes_supported"])?,
        set(&["query", "fragment", "form_post", "okta_post_message"])
    );
    assert_eq!(
        strings(&doc["grant_types_supported"])?,
        set(&[
            "authorization_code",
            "implicit",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:device_code"
        ])
    );
    assert_eq!(strings(&doc["subject_types_supported"])?, set(&["public"]));
    let scopes = strings(&doc["scopes_supported"])?;
    for scope in [
        "openid",
        "profile",
        "email",
        "address",
        "phone",
        "offline_access",
        "groups",
    ] {
        ensure!(scopes.contains(scope), "{scope} missing from {scopes:?}");
    }
    let methods = set(&[
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
        "none",
    ]);
    for field in [
        "token_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
    ] {
        assert_eq!(strings(&doc[field])?, methods, "{field}");
    }
    // okta-auth-js refuses PKCE unless S256 is listed.
    assert_eq!(
        strings(&doc["code_challenge_methods_supported"])?,
        set(&["S256"])
    );
    // Off by default (as Okta, which sends no `iss` on error responses): RFC 9207 is a setting.
    assert_eq!(doc["authorization_response_iss_parameter_supported"], false);
    assert_eq!(doc["request_parameter_supported"], true);
    // Okta's loa values, the ones `acr` may carry.
    assert_eq!(
        strings(&doc["acr_values_supported"])?,
        set(&[
            "urn:okta:loa:1fa:any",
            "urn:okta:loa:1fa:pwd",
            "urn:okta:loa:2fa:any",
            "urn:okta:loa:2fa:any:ifpossible"
        ])
    );
    assert_eq!(doc["request_uri_parameter_supported"], true);
    assert_eq!(doc["require_request_uri_registration"], true);
    assert_eq!(
        strings(&doc["request_object_signing_alg_values_supported"])?,
        set(&["none", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384"])
    );
    Ok(())
}

fn check_oidc(doc: &Value) -> Result<()> {
    assert_eq!(
        strings(&doc["id_token_signing_alg_values_supported"])?,
        set(&["RS256"])
    );
    let claims = strings(&doc["claims_supported"])?;
    for claim in [
        "iss",
        "ver",
        "sub",
        "aud",
        "iat",
        "exp",
        "jti",
        "auth_time",
        "amr",
        "idp",
        "nonce",
        "name",
        "preferred_username",
        "given_name",
        "family_name",
        "email",
        "email_verified",
        "at_hash",
    ] {
        ensure!(claims.contains(claim), "{claim} missing from {claims:?}");
    }
    Ok(())
}

async fn org_openid_configuration(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let doc = document(&app, "/.well-known/openid-configuration").await?;
    check_common(&app, Server::Org, &doc)?;
    check_oidc(&doc)?;
    assert_eq!(
        doc["issuer"],
        app.base.as_str(),
        "no path, no trailing slash"
    );
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{}/oauth2/v1/authorize", app.base).as_str()
    );
    assert_eq!(
        doc["userinfo_endpoint"],
        format!("{}/oauth2/v1/userinfo", app.base).as_str()
    );
    Ok(())
}

async fn default_openid_configuration(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let doc = document(&app, "/oauth2/default/.well-known/openid-configuration").await?;
    check_common(&app, Server::Default, &doc)?;
    check_oidc(&doc)?;
    assert_eq!(
        doc["issuer"],
        format!("{}/oauth2/default", app.base).as_str()
    );
    assert_eq!(
        doc["token_endpoint"],
        format!("{}/oauth2/default/v1/token", app.base).as_str()
    );
    assert_eq!(
        doc["userinfo_endpoint"],
        format!("{}/oauth2/default/v1/userinfo", app.base).as_str()
    );
    // The issuer is where its own discovery document lives (OIDC Discovery §4.3).
    let prefix = format!(
        "{}/.well-known/openid-configuration",
        app.issuer(Server::Default)
    );
    assert_eq!(document(&app, &prefix[app.base.len()..]).await?, doc);
    Ok(())
}

async fn default_oauth_authorization_server(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let doc = document(
        &app,
        "/oauth2/default/.well-known/oauth-authorization-server",
    )
    .await?;
    check_common(&app, Server::Default, &doc)?;
    // RFC 8414 metadata: no OIDC-only fields; access-token claims.
    for absent in ["userinfo_endpoint", "id_token_signing_alg_values_supported"] {
        ensure!(doc.get(absent).is_none(), "{absent} in {doc}");
    }
    assert_eq!(
        strings(&doc["claims_supported"])?,
        set(&[
            "ver", "jti", "iss", "aud", "iat", "exp", "cid", "uid", "scp", "sub"
        ])
    );
    Ok(())
}

async fn discovery_client_id_and_unknown_server(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for path in [
        "/.well-known/openid-configuration",
        "/oauth2/default/.well-known/openid-configuration",
        "/oauth2/default/.well-known/oauth-authorization-server",
    ] {
        // A known client_id is accepted (apps' issuer mode may depend on it) ...
        let known = app
            .get(&format!("{}{path}?client_id={}", app.base, app.client_id()))
            .await?;
        assert_eq!(known.status, StatusCode::OK, "{path}: {known:?}");
        // ... an unknown one gets Okta's 400.
        let unknown = app
            .get(&format!("{}{path}?client_id=0oaNOPE", app.base))
            .await?;
        assert_eq!(
            unknown.status,
            StatusCode::BAD_REQUEST,
            "{path}: {unknown:?}"
        );
        assert_eq!(
            unknown.json()?["errorCode"],
            "invalid_client",
            "{unknown:?}"
        );
    }
    let missing = app
        .get(&format!(
            "{}/oauth2/nosuchserver/.well-known/openid-configuration",
            app.base
        ))
        .await?;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{missing:?}");
    assert_eq!(missing.json()?["errorCode"], "E0000007");
    Ok(())
}

async fn jwks_shape_and_separate_keys(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let mut kids_per_server = Vec::new();
    for server in Server::ALL {
        let discovery_path = match server {
            Server::Org => "/.well-known/openid-configuration".to_owned(),
            Server::Default => "/oauth2/default/.well-known/openid-configuration".to_owned(),
        };
        let doc = document(&app, &discovery_path).await?;
        let jwks_uri = doc["jwks_uri"].as_str().context("no jwks_uri")?;
        let reply = app.get(jwks_uri).await?;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert!(
            reply
                .header("cache-control")
                .is_some_and(|c| c.contains("max-age")),
            "keys are cacheable: {reply:?}"
        );
        let jwks = reply.json()?;
        assert_eq!(jwks, app.jwks(server).await?);
        let keys = jwks["keys"].as_array().context("no keys array")?;
        ensure!(!keys.is_empty(), "{server:?} publishes no key");
        let mut kids = BTreeSet::new();
        for key in keys {
            assert_eq!(key["kty"], "RSA", "{key}");
            assert_eq!(key["alg"], "RS256", "{key}");
            assert_eq!(key["use"], "sig", "{key}");
            assert_eq!(key["e"], "AQAB", "{key}");
            let n = key["n"].as_str().context("no n")?;
            ensure!(n.len() >= 342, "at least 2048-bit modulus: {key}");
            let kid = key["kid"].as_str().filter(|k| !k.is_empty());
            let kid = kid.with_context(|| format!("no kid: {key}"))?;
            ensure!(kids.insert(kid.to_owned()), "duplicate kid {kid}");
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                ensure!(
                    key.get(private).is_none(),
                    "private part {private} in {key}"
                );
            }
        }
        kids_per_server.push(kids);
    }
    ensure!(
        kids_per_server[0].is_disjoint(&kids_per_server[1]),
        "org and default must not share keys: {kids_per_server:?}"
    );
    assert_ne!(app.issuer(Server::Org), app.issuer(Server::Default));
    // And the tokens each server signs name a key of its own JWKS only.
    for (i, server) in Server::ALL.into_iter().enumerate() {
        let tokens = app.sign_in_and_exchange(server, "openid").await?;
        let (header, claims) = crate::helpers::jwt_parts(tokens.id_token()?)?;
        let kid = header["kid"].as_str().context("no kid")?;
        ensure!(kids_per_server[i].contains(kid), "{server:?}: {header}");
        ensure!(
            !kids_per_server[1 - i].contains(kid),
            "{server:?}: {header}"
        );
        assert_eq!(claims["iss"], json!(app.issuer(server)));
    }
    Ok(())
}
