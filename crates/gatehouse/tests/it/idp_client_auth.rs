//! `client_secret_jwt` towards an upstream's token endpoint (OIDC Core §9, RFC 7523): chosen
//! through `/api/v1/idps`, the token request carries an HS256 assertion made with the client
//! secret (iss and sub the client id, aud the token endpoint, a new jti each time, a minute of
//! life) and never the secret itself.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use serde_json::{Map, Value, json};

use crate::helpers::{Browser, Server, spawn_app_with};
use crate::idp_upstream::{SentUpstream, UPSTREAM_CLIENT_ID, UPSTREAM_SECRET, Upstream};

backend_tests!(idp_client_secret_jwt_signs_with_the_secret);

async fn idp_client_secret_jwt_signs_with_the_secret(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.dev_jwks_uri_allow_loopback = true).await?;
    let upstream = Upstream::start().await?;
    let token = app.api_token().await?;
    let mut body = upstream.idp_body("Hashed", json!({}));
    body["gatehouse"]["tokenEndpointAuthMethod"] = json!("client_secret_jwt");
    let created = app
        .api_ssws(reqwest::Method::POST, "/api/v1/idps", &token, Some(&body))
        .await?;
    ensure!(created.status == 200, "creating the IdP: {created:?}");
    let created = created.json()?;
    let client = &created["protocol"]["credentials"]["client"];
    ensure!(
        client["token_endpoint_auth_method"] == "client_secret_jwt",
        "{client}"
    );
    ensure!(
        client.get("client_secret").is_none(),
        "the secret is shown: {client}"
    );
    let idp = created["id"].as_str().context("no id")?.to_owned();

    let mut jtis = Vec::new();
    for _ in 0..2 {
        let browser = Browser::new()?;
        let url = app.authz(Server::Default).set("idp", &idp).url();
        let sent = SentUpstream::from_reply(&browser.get(&url).await?)?;
        let claims = upstream.claims(
            "up-carol",
            &sent.nonce,
            json!({"email": "carol@upstream.example", "email_verified": true,
                   "given_name": "Carol", "family_name": "Cook"}),
        );
        upstream.answer_with(upstream.key.sign(&claims, true)?);
        let back = sent.come_back(&browser).await?;
        ensure!(back.status == 302, "sign-in: {back:?}");
        let form: std::collections::HashMap<String, String> = upstream
            .token_requests
            .lock()
            .map(|r| r.last().cloned().unwrap_or_default())
            .unwrap_or_default()
            .into_iter()
            .collect();
        ensure!(!form.contains_key("client_secret"), "secret sent: {form:?}");
        ensure!(
            form.get("client_assertion_type").map(String::as_str)
                == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            "{form:?}"
        );
        let assertion = form.get("client_assertion").context("no assertion")?;
        let header = jsonwebtoken::decode_header(assertion)?;
        ensure!(header.alg == jsonwebtoken::Algorithm::HS256, "{header:?}");
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_audience(&[format!("{}/token", upstream.issuer())]);
        let verified = jsonwebtoken::decode::<Map<String, Value>>(
            assertion,
            &jsonwebtoken::DecodingKey::from_secret(UPSTREAM_SECRET.as_bytes()),
            &validation,
        )
        .context("the assertion does not verify with the client secret")?
        .claims;
        ensure!(verified["iss"] == UPSTREAM_CLIENT_ID && verified["sub"] == UPSTREAM_CLIENT_ID);
        let life = verified["exp"].as_i64().unwrap_or(0) - verified["iat"].as_i64().unwrap_or(0);
        ensure!(life == 60, "lifetime {life}");
        jtis.push(verified["jti"].as_str().unwrap_or_default().to_owned());
    }
    ensure!(
        jtis[0].len() >= 20 && jtis[0] != jtis[1],
        "jti not unique: {jtis:?}"
    );
    Ok(())
}
