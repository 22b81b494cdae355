//! Per-authorization-server signing algorithms: RS256 by default (Okta's), ES256 and EdDSA
//! selectable. Tokens are checked with verifiers that share no code with Gatehouse's signer:
//! the `openidconnect` crate (ring, p256, ed25519-dalek) for ID tokens and `jsonwebtoken`'s
//! JWK parsing for access tokens.

use anyhow::{Context as _, Result, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse_core::domain::{DEFAULT_AUTH_SERVER_ID, KeyStatus, ORG_AUTH_SERVER_ID, SigningAlg};
use gatehouse_core::services::auth_servers;
use gatehouse_store::test_support::Backend;
use openidconnect::core::{
    CoreClient, CoreIdTokenClaims, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType,
};
use openidconnect::{
    AccessTokenHash, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, RedirectUrl, Scope,
    TokenResponse as _,
};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::helpers::{
    Browser, HTTP_TIMEOUT, PASSWORD, REDIRECT_URI, Server, TestApp, Tokens, jwt_parts, spawn_app,
};

backend_tests!(
    rs256_is_the_default,
    es256_tokens_verify_against_the_published_jwks,
    eddsa_tokens_verify_against_the_published_jwks,
    switching_back_rotates_and_keeps_every_key_published,
    a_header_naming_another_algorithm_is_refused,
);

const SCOPE: &str = "openid profile email offline_access";

async fn discovery(app: &TestApp, server: Server) -> Result<Value> {
    let url = format!("{}/.well-known/openid-configuration", app.issuer(server));
    let reply = app.get(&url).await?;
    ensure!(reply.status == StatusCode::OK, "discovery: {reply:?}");
    reply.json()
}

fn algs_supported(doc: &Value) -> Vec<String> {
    doc["id_token_signing_alg_values_supported"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

async fn rs256_is_the_default(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    for (server, id) in [
        (Server::Org, ORG_AUTH_SERVER_ID),
        (Server::Default, DEFAULT_AUTH_SERVER_ID),
    ] {
        let record = app
            .provider
            .store
            .find_auth_server(id)
            .await?
            .context("no server")?;
        assert_eq!(record.signing_alg, SigningAlg::Rs256);
        assert_eq!(algs_supported(&discovery(&app, server).await?), ["RS256"]);
        let jwks = app.jwks(server).await?;
        for key in jwks["keys"].as_array().context("no keys")? {
            assert_eq!(key["kty"], "RSA", "{key}");
            assert_eq!(key["alg"], "RS256", "{key}");
        }
        let tokens = app.sign_in_and_exchange(server, SCOPE).await?;
        for token in [tokens.access_token.as_str(), tokens.id_token()?] {
            let (header, _) = jwt_parts(token)?;
            assert_eq!(header["alg"], "RS256");
        }
    }
    Ok(())
}

async fn es256_tokens_verify_against_the_published_jwks(backend: Backend) -> Result<()> {
    switch_and_verify(backend, SigningAlg::Es256).await
}

async fn eddsa_tokens_verify_against_the_published_jwks(backend: Backend) -> Result<()> {
    switch_and_verify(backend, SigningAlg::EdDsa).await
}

/// The RFC 7638 thumbprint of a JWK, computed here from its members.
fn thumbprint(jwk: &Value) -> Result<String> {
    let m = |name: &str| -> Result<&str> {
        jwk[name]
            .as_str()
            .with_context(|| format!("no {name} in {jwk}"))
    };
    let canonical = match m("kty")? {
        "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, m("e")?, m("n")?),
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            m("crv")?,
            m("x")?,
            m("y")?
        ),
        "OKP" => format!(r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#, m("crv")?, m("x")?),
        other => anyhow::bail!("unexpected kty {other}"),
    };
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// The JWK members each algorithm must publish, and nothing private.
fn check_jwk_shape(jwk: &Value, alg: SigningAlg) -> Result<()> {
    let len = |name: &str| -> usize {
        jwk[name]
            .as_str()
            .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .map_or(0, |b| b.len())
    };
    assert_eq!(jwk["alg"], alg.as_str(), "{jwk}");
    assert_eq!(jwk["use"], "sig", "{jwk}");
    match alg {
        SigningAlg::Rs256 => {
            assert_eq!(jwk["kty"], "RSA", "{jwk}");
            assert_eq!(len("n"), 256, "{jwk}");
        }
        SigningAlg::Es256 => {
            assert_eq!(jwk["kty"], "EC", "{jwk}");
            assert_eq!(jwk["crv"], "P-256", "{jwk}");
            assert_eq!((len("x"), len("y")), (32, 32), "{jwk}");
        }
        SigningAlg::EdDsa => {
            assert_eq!(jwk["kty"], "OKP", "{jwk}");
            assert_eq!(jwk["crv"], "Ed25519", "{jwk}");
            assert_eq!(len("x"), 32, "{jwk}");
            ensure!(jwk.get("y").is_none(), "{jwk}");
        }
    }
    ensure!(
        jwk.get("d").is_none(),
        "a private member is published: {jwk}"
    );
    assert_eq!(jwk["kid"].as_str(), Some(thumbprint(jwk)?.as_str()));
    Ok(())
}

/// Verifies a JWT with `jsonwebtoken`, from the JWK its `kid` names in the published set.
async fn verify_with_jwks(
    app: &TestApp,
    server: Server,
    token: &str,
    alg: SigningAlg,
    audience: &str,
) -> Result<Value> {
    let header = jsonwebtoken::decode_header(token)?;
    let kid = header.kid.context("no kid")?;
    let jwks = app.jwks(server).await?;
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid.as_str()))
        .with_context(|| format!("kid {kid} is not published"))?;
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone())?;
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk)?;
    let algorithm = match alg {
        SigningAlg::Rs256 => jsonwebtoken::Algorithm::RS256,
        SigningAlg::Es256 => jsonwebtoken::Algorithm::ES256,
        SigningAlg::EdDsa => jsonwebtoken::Algorithm::EdDSA,
    };
    let mut validation = jsonwebtoken::Validation::new(algorithm);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[app.issuer(server)]);
    Ok(jsonwebtoken::decode::<Value>(token, &key, &validation)?.claims)
}

/// A code flow driven by the `openidconnect` crate: discovery, JWKS, ID token signature,
/// claims and `at_hash` (SHA-512 for EdDSA), then userinfo. Returns the access token.
async fn rp_flow(app: &TestApp, server: Server, alg: SigningAlg) -> Result<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HTTP_TIMEOUT)
        .build()?;
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(app.issuer(server))?, &http)
        .await
        .context("discovery")?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(app.client_id().to_owned()),
        Some(ClientSecret::new(app.client_secret().to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.to_owned())?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _csrf, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .add_scope(Scope::new("profile".into()))
        .url();
    let callback = Browser::new()?
        .sign_in(url.as_str(), &app.alice.login, PASSWORD)
        .await?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(callback.code()?))?
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .context("code exchange")?;
    let id_token = tokens.id_token().context("no ID token")?;
    let expected = match alg {
        SigningAlg::Rs256 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        SigningAlg::Es256 => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        SigningAlg::EdDsa => CoreJwsSigningAlgorithm::EdDsa,
    };
    let id_verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![expected.clone()]);
    let claims: &CoreIdTokenClaims = id_token.claims(&id_verifier, &nonce)?;
    assert_eq!(claims.subject().as_str(), app.alice.id);
    assert_eq!(id_token.signing_alg()?, &expected);
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg()?,
        id_token.signing_key(&id_verifier)?,
    )?;
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    let info: openidconnect::core::CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )?
        .request_async(&http)
        .await
        .context("userinfo")?;
    assert_eq!(info.subject().as_str(), app.alice.id);
    Ok(tokens.access_token().secret().clone())
}

async fn switch_and_verify(backend: Backend, alg: SigningAlg) -> Result<()> {
    let app = spawn_app(backend).await?;
    let server = Server::Default;
    // Tokens issued before the change, signed RS256.
    let before = app.sign_in_and_exchange(server, SCOPE).await?;
    let old_kid = jsonwebtoken::decode_header(&before.access_token)?
        .kid
        .context("no kid")?;

    let key = auth_servers::set_signing_alg(&app.provider, DEFAULT_AUTH_SERVER_ID, alg).await?;
    assert_eq!(key.alg, alg.as_str());
    assert_eq!(key.status, KeyStatus::Active);
    assert_ne!(key.kid, old_kid);
    let record = app
        .provider
        .store
        .find_auth_server(DEFAULT_AUTH_SERVER_ID)
        .await?
        .context("no server")?;
    assert_eq!(record.signing_alg, alg);

    // The new key is published first, the RS256 one stays; both have the right members.
    let jwks = app.jwks(server).await?;
    let keys = jwks["keys"].as_array().context("no keys")?;
    assert_eq!(keys.len(), 2, "{jwks}");
    assert_eq!(keys[0]["kid"].as_str(), Some(key.kid.as_str()));
    check_jwk_shape(&keys[0], alg)?;
    assert_eq!(keys[1]["kid"].as_str(), Some(old_kid.as_str()));
    check_jwk_shape(&keys[1], SigningAlg::Rs256)?;
    // Discovery names the new algorithm first, and RS256 for the tokens still live.
    assert_eq!(
        algs_supported(&discovery(&app, server).await?),
        [alg.as_str(), "RS256"]
    );
    // The org server is untouched.
    assert_eq!(
        algs_supported(&discovery(&app, Server::Org).await?),
        ["RS256"]
    );

    // An independent relying party signs in with the new algorithm.
    let rp_access_token = rp_flow(&app, server, alg).await?;
    let (header, _) = jwt_parts(&rp_access_token)?;
    assert_eq!(header["alg"], alg.as_str());

    // Our own token path: both tokens in the new algorithm, verified against the JWKS.
    let after = app.sign_in_and_exchange(server, SCOPE).await?;
    for token in [after.access_token.as_str(), after.id_token()?] {
        let (header, _) = jwt_parts(token)?;
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(header["kid"].as_str(), Some(key.kid.as_str()));
    }
    let at = verify_with_jwks(&app, server, &after.access_token, alg, "api://default").await?;
    assert_eq!(at["cid"], app.client_id());
    let id = verify_with_jwks(&app, server, after.id_token()?, alg, app.client_id()).await?;
    assert_eq!(id["sub"], app.alice.id.as_str());

    // userinfo and introspection verify our tokens of either algorithm.
    for token in [&after.access_token, &before.access_token] {
        let reply = app.userinfo(server, token).await?;
        ensure!(reply.status == StatusCode::OK, "userinfo: {reply:?}");
        assert_eq!(reply.json()?["sub"], app.alice.id.as_str());
        assert_eq!(app.introspect(server, token).await?["active"], true);
    }
    // Tokens issued before the change still verify against the published keys.
    verify_with_jwks(
        &app,
        server,
        before.id_token()?,
        SigningAlg::Rs256,
        app.client_id(),
    )
    .await?;
    app.verify_jwt(server, &before.access_token, "api://default")
        .await?;

    // A refresh token from before the change gets tokens of the new algorithm.
    let refreshed = Tokens::from_reply(
        app.refresh(
            server,
            before
                .refresh_token
                .as_deref()
                .context("no refresh token")?,
            None,
            app.basic(),
        )
        .await?,
    )?;
    let (header, _) = jwt_parts(refreshed.id_token()?)?;
    assert_eq!(header["alg"], alg.as_str());
    verify_with_jwks(&app, server, &refreshed.access_token, alg, "api://default").await?;
    Ok(())
}

async fn switching_back_rotates_and_keeps_every_key_published(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let id = ORG_AUTH_SERVER_ID;
    let p = &app.provider;
    let es = auth_servers::set_signing_alg(p, id, SigningAlg::Es256).await?;
    // Setting the same algorithm again does not rotate.
    let same = auth_servers::set_signing_alg(p, id, SigningAlg::Es256).await?;
    assert_eq!(same.kid, es.kid);
    let ed = auth_servers::set_signing_alg(p, id, SigningAlg::EdDsa).await?;
    let rs = auth_servers::set_signing_alg(p, id, SigningAlg::Rs256).await?;
    assert_eq!(rs.alg, "RS256");
    let keys = auth_servers::keys(p, id).await?;
    let summary: Vec<(&str, KeyStatus)> = keys.iter().map(|k| (k.alg.as_str(), k.status)).collect();
    assert_eq!(
        summary,
        [
            ("RS256", KeyStatus::Active),
            ("EdDSA", KeyStatus::Expired),
            ("ES256", KeyStatus::Expired),
            ("RS256", KeyStatus::Expired),
        ]
    );
    assert_eq!(keys[1].kid, ed.kid);
    let jwks = app.jwks(Server::Org).await?;
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(4), "{jwks}");
    assert_eq!(
        algs_supported(&discovery(&app, Server::Org).await?),
        ["RS256", "EdDSA", "ES256"]
    );
    let tokens = app.sign_in_and_exchange(Server::Org, SCOPE).await?;
    let (header, _) = jwt_parts(tokens.id_token()?)?;
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"].as_str(), Some(rs.kid.as_str()));
    // A manual rotation keeps the algorithm.
    let rotated = auth_servers::rotate_key(p, id).await?;
    assert_eq!(rotated.alg, "RS256");
    assert_ne!(rotated.kid, rs.kid);
    ensure!(
        auth_servers::set_signing_alg(p, "nope", SigningAlg::Es256)
            .await
            .is_err()
    );
    Ok(())
}

/// The key a `kid` names decides the algorithm: a token whose header claims another one (even
/// one the server also publishes) is refused.
async fn a_header_naming_another_algorithm_is_refused(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let server = Server::Default;
    auth_servers::set_signing_alg(&app.provider, DEFAULT_AUTH_SERVER_ID, SigningAlg::Es256).await?;
    let tokens = app.sign_in_and_exchange(server, SCOPE).await?;
    let (header, _) = jwt_parts(&tokens.access_token)?;
    let reply = app.userinfo(server, &tokens.access_token).await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    for alg in ["EdDSA", "RS256", "HS256", "none"] {
        let mut forged = header.clone();
        forged["alg"] = alg.into();
        let rest = tokens
            .access_token
            .split_once('.')
            .map(|(_, r)| r)
            .context("not a JWS")?;
        let token = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(forged.to_string()));
        let reply = app.userinfo(server, &token).await?;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{alg}: {reply:?}");
        assert_eq!(app.introspect(server, &token).await?["active"], false);
    }
    Ok(())
}
