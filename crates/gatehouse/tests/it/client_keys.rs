//! Client-side key material for the service-app tests: RSA and EC keys generated here, their
//! public JWKs, signed client assertions, SSWS tokens, and a raw client for
//! `/oauth2/v1/clients` and `/api/v1`.

use anyhow::{Context as _, Result, anyhow};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, http_client};

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client's signing key: the private half stays here, the JWK goes to the server.
pub struct ClientKey {
    pub alg: Algorithm,
    pub kid: String,
    encoding: EncodingKey,
    /// The public JWK (with `kid`).
    pub jwk: Value,
    /// For RSA: the JWK with the private members too, as mkjwk.org prints a "key pair set".
    pub private_jwk: Option<Value>,
}

fn pem(der: &[u8]) -> String {
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(der)
    )
}

impl ClientKey {
    pub fn rsa(kid: &str) -> Result<Self> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| anyhow!("RSA keygen"))?;
        let der = pair.as_der().map_err(|_| anyhow!("RSA export"))?;
        let encoding = EncodingKey::from_rsa_pem(pem(der.as_ref()).as_bytes())?;
        let public = pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        let jwk = json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "e": e, "n": n});
        // Stand-ins for the private members: the server must drop them, whatever their value.
        let mut private_jwk = jwk.clone();
        for m in ["d", "p", "q", "dp", "dq", "qi"] {
            private_jwk[m] = json!(URL_SAFE_NO_PAD.encode(format!("private-{m}")));
        }
        Ok(Self {
            alg: Algorithm::RS256,
            kid: kid.to_owned(),
            encoding,
            jwk,
            private_jwk: Some(private_jwk),
        })
    }

    pub fn ec(kid: &str) -> Result<Self> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| anyhow!("EC keygen"))?;
        let der = pair.to_pkcs8v1().map_err(|_| anyhow!("EC export"))?;
        let encoding = EncodingKey::from_ec_pem(pem(der.as_ref()).as_bytes())?;
        let point = pair.public_key().as_ref();
        let (x, y) = (&point[1..33], &point[33..65]);
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
        });
        Ok(Self {
            alg: Algorithm::ES256,
            kid: kid.to_owned(),
            encoding,
            jwk,
            private_jwk: None,
        })
    }

    /// Signs `claims`; `with_kid` puts this key's `kid` in the header (openmetadata-ingestion
    /// does not).
    pub fn sign(&self, claims: &Value, with_kid: bool) -> Result<String> {
        let mut header = Header::new(self.alg);
        if with_kid {
            header.kid = Some(self.kid.clone());
        }
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }
}

/// The claims of a valid assertion: `iss` = `sub` = client_id, `aud`, an hour of life (as
/// openmetadata-ingestion's okta SDK signs), a fresh `jti`.
pub fn assertion_claims(client_id: &str, aud: &str, now: i64) -> Value {
    json!({
        "iss": client_id, "sub": client_id, "aud": aud,
        "iat": now, "exp": now + 3600, "jti": uuid_like(),
    })
}

pub fn uuid_like() -> String {
    gatehouse_core::crypto::random_token(16)
}

/// An HMAC-signed JWT (client_secret_jwt, or key confusion when `secret` is a public key).
pub fn sign_hs256(claims: &Value, secret: &[u8]) -> Result<String> {
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )?)
}

/// `alg: none`.
pub fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

impl TestApp {
    /// `POST /oauth2/v1/clients` with an SSWS token; the created client's JSON.
    pub async fn register_client(&self, ssws: &str, metadata: &Value) -> Result<Value> {
        let reply = self
            .api(
                reqwest::Method::POST,
                "/oauth2/v1/clients",
                Some(&format!("SSWS {ssws}")),
                Some(metadata),
            )
            .await?;
        anyhow::ensure!(reply.status.as_u16() == 201, "register: {reply:?}");
        reply.json()
    }

    /// A service app (`client_credentials` only) registered through `/oauth2/v1/clients` with
    /// a generated secret, used the `auth_method` way; the created client's JSON.
    pub async fn register_secret_service_app(
        &self,
        ssws: &str,
        name: &str,
        auth_method: &str,
    ) -> Result<Value> {
        self.register_client(
            ssws,
            &json!({
                "client_name": name,
                "application_type": "service",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": auth_method,
            }),
        )
        .await
    }

    /// The token endpoint called the way openmetadata-ingestion's okta SDK does: every
    /// parameter in the query string of a POST with an empty body, no Authorization header.
    pub async fn token_via_query(&self, token_url: &str, params: &[(&str, &str)]) -> Result<Reply> {
        let query = serde_urlencoded::to_string(params)?;
        let res = http_client()?
            .post(format!("{token_url}?{query}"))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("content-length", "0")
            .send()
            .await
            .context("token request")?;
        Reply::read(res).await
    }
}
