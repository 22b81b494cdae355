//! Okta's token shapes, checked with `jsonwebtoken` against the published JWKS.

use std::collections::BTreeSet;

use anyhow::Result;
use gatehouse_core::provider::Clock as _;
use gatehouse_store::test_support::Backend;
use serde_json::{Value, json};

use crate::helpers::{
    Auth, Browser, NONCE, PASSWORD, REDIRECT_URI, Server, Tokens, jwt_parts, s256, spawn_app,
};

backend_tests!(
    id_token_has_okta_claims,
    nonce_only_when_requested,
    default_server_access_token_shape,
    org_server_access_token_shape,
    token_response_shape,
);

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// Okta's `at_hash`: base64url of the left half of SHA-256 of the access token.
fn at_hash(access_token: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

async fn id_token_has_okta_claims(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let mut idps = Vec::new();
    for server in Server::ALL {
        let tokens = app
            .sign_in_and_exchange(server, "openid profile email")
            .await?;
        let id_token = tokens.id_token()?;
        let (header, _) = jwt_parts(id_token)?;
        assert_eq!(keys(&header), set(&["kid", "alg"]), "no typ: {header}");
        assert_eq!(header["alg"], "RS256");

        let claims = app.verify_jwt(server, id_token, app.client_id()).await?;
        assert_eq!(
            keys(&claims),
            set(&[
                "sub",
                "ver",
                "iss",
                "aud",
                "iat",
                "exp",
                "jti",
                "amr",
                "idp",
                "nonce",
                "auth_time",
                "at_hash",
                "name",
                "preferred_username",
                "email",
            ]),
            "{claims}"
        );
        let now = app.clock.now();
        assert_eq!(claims["sub"], app.alice.id.as_str());
        assert_eq!(claims["ver"], 1);
        assert_eq!(claims["iss"], app.issuer(server));
        assert_eq!(claims["aud"], app.client_id());
        assert_eq!(claims["iat"], now);
        assert_eq!(claims["exp"], now + 3600);
        assert!(
            claims["jti"].as_str().is_some_and(|j| j.starts_with("ID.")),
            "{claims}"
        );
        assert_eq!(claims["amr"], json!(["pwd"]));
        assert!(
            claims["idp"].as_str().is_some_and(|i| i.starts_with("00o")),
            "{claims}"
        );
        assert_eq!(claims["nonce"], NONCE);
        assert_eq!(claims["auth_time"], now);
        assert_eq!(claims["at_hash"], at_hash(&tokens.access_token));
        assert_eq!(claims["preferred_username"], app.alice.login.as_str());
        assert_eq!(claims["email"], app.alice.email.as_str());
        assert_eq!(claims["name"], "Alice Liddell");
        idps.push(claims["idp"].clone());
    }
    assert_eq!(idps[0], idps[1], "one org id for both servers");
    Ok(())
}

async fn nonce_only_when_requested(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let browser = Browser::new()?;
    let url = app
        .authz(Server::Default)
        .remove("nonce")
        .scope("openid")
        .url();
    let callback = browser.sign_in(&url, &app.alice.login, PASSWORD).await?;
    let tokens = Tokens::from_reply(
        app.token(
            Server::Default,
            &[
                ("grant_type", "authorization_code"),
                ("code", &callback.code()?),
                ("redirect_uri", REDIRECT_URI),
            ],
            Auth::Basic(app.client_id(), app.client_secret()),
        )
        .await?,
    )?;
    let claims = app
        .verify_jwt(Server::Default, tokens.id_token()?, app.client_id())
        .await?;
    assert!(
        claims.get("nonce").is_none(),
        "no nonce was requested: {claims}"
    );
    // Only `openid`: no profile or email claims either.
    for absent in ["name", "preferred_username", "email"] {
        assert!(claims.get(absent).is_none(), "{absent}: {claims}");
    }
    Ok(())
}

async fn default_server_access_token_shape(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let tokens = app
        .sign_in_and_exchange(Server::Default, "openid profile email")
        .await?;
    let (header, _) = jwt_parts(&tokens.access_token)?;
    assert_eq!(keys(&header), set(&["kid", "alg"]), "{header}");
    let claims = app
        .verify_jwt(Server::Default, &tokens.access_token, "api://default")
        .await?;
    assert_eq!(
        keys(&claims),
        set(&[
            "ver",
            "jti",
            "iss",
            "aud",
            "iat",
            "exp",
            "cid",
            "uid",
            "scp",
            "auth_time",
            "sub"
        ]),
        "{claims}"
    );
    let now = app.clock.now();
    assert_eq!(claims["ver"], 1);
    assert!(
        claims["jti"].as_str().is_some_and(|j| j.starts_with("AT.")),
        "{claims}"
    );
    assert_eq!(claims["iss"], app.issuer(Server::Default));
    assert_eq!(claims["aud"], "api://default");
    assert_eq!(claims["iat"], now);
    assert_eq!(claims["exp"], now + 3600);
    assert_eq!(claims["cid"], app.client_id());
    assert_eq!(claims["uid"], app.alice.id.as_str());
    assert_eq!(claims["scp"], json!(["openid", "profile", "email"]));
    assert_eq!(claims["sub"], app.alice.login.as_str(), "sub is the login");
    assert_eq!(claims["auth_time"], now);
    Ok(())
}

async fn org_server_access_token_shape(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let tokens = app
        .sign_in_and_exchange(Server::Org, "openid email")
        .await?;
    // The org server's tokens are for the org itself: aud = iss = the org URL.
    let claims = app
        .verify_jwt(Server::Org, &tokens.access_token, &app.base)
        .await?;
    assert_eq!(claims["iss"], app.base.as_str());
    assert_eq!(claims["aud"], app.base.as_str());
    assert_eq!(claims["scp"], json!(["openid", "email"]));
    assert_eq!(claims["sub"], app.alice.login.as_str());
    assert_eq!(claims["uid"], app.alice.id.as_str());
    // Each server signs with its own keys.
    let org_kid = jwt_parts(&tokens.access_token)?.0["kid"].clone();
    let default_keys = app.jwks(Server::Default).await?;
    assert!(
        !default_keys["keys"]
            .as_array()
            .is_some_and(|ks| ks.iter().any(|k| k["kid"] == org_kid)),
        "the org key must not be in default's JWKS"
    );
    Ok(())
}

async fn token_response_shape(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let browser = Browser::new()?;
    let url = app.authz(Server::Default).pkce().url();
    let callback = browser.sign_in(&url, &app.alice.login, PASSWORD).await?;
    assert_eq!(s256(crate::helpers::VERIFIER).len(), 43);
    let reply = app
        .token(
            Server::Default,
            &[
                ("grant_type", "authorization_code"),
                ("code", &callback.code()?),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", crate::helpers::VERIFIER),
            ],
            Auth::Basic(app.client_id(), app.client_secret()),
        )
        .await?;
    assert_eq!(reply.header("cache-control"), Some("no-store"), "{reply:?}");
    assert_eq!(reply.header("pragma"), Some("no-cache"), "{reply:?}");
    assert!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{reply:?}"
    );
    let tokens = Tokens::from_reply(reply)?;
    let body = &tokens.response;
    assert_eq!(
        keys(body),
        set(&[
            "token_type",
            "expires_in",
            "access_token",
            "scope",
            "id_token"
        ]),
        "no state, no refresh token without offline_access: {body}"
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "openid profile email");
    Ok(())
}
