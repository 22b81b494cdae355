//! `private_key_jwt` to an upstream's token endpoint (RFC 7523 §2.2, OpenID Connect Core §9):
//! each IdP has a key of its own, generated when the method is first chosen and sealed at rest
//! like the servers' signing keys. Its public half is shown by the API and the console (to
//! register upstream) and served as a JWKS at [`jwks_path`] (for upstreams that fetch it).
//! And `client_secret_jwt` (the same claims, HS256 with the client secret: [`secret_assertion`]).

use serde_json::{Value, json};

use crate::crypto::random_token;
use crate::domain::{Idp, IdpClientKey, IdpSettings, SigningAlg, UpstreamAuthMethod};
use crate::keys::{KeyError, generate_detached, sign_detached};
use crate::provider::Provider;

/// RS256: the one algorithm every upstream accepts for client assertions (Okta, Entra,
/// Google, oidc-provider).
const ALG: SigningAlg = SigningAlg::Rs256;
/// RFC 7523 §2.2's `client_assertion_type`.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// A client assertion is good for this long: it is made for one token request.
const ASSERTION_LIFETIME_SECS: i64 = 300;
/// A `client_secret_jwt` assertion's life: the secret is shared, so keep a captured one short.
const SECRET_ASSERTION_LIFETIME_SECS: i64 = 60;

fn key_context(idp_id: &str) -> String {
    format!("idp-client-key:{idp_id}")
}

/// The public JWKS of an IdP's client key, at `<origin>` + this.
pub fn jwks_path(idp_id: &str) -> String {
    format!("/oauth2/v1/idps/{idp_id}/keys")
}

/// Gives `settings` a client key if its method is `private_key_jwt` and it has none yet (a
/// key once made is kept, so what the administrator registered upstream stays valid).
pub async fn ensure_key(
    provider: &Provider,
    idp_id: &str,
    settings: &mut IdpSettings,
) -> Result<(), KeyError> {
    if settings.token_auth_method != UpstreamAuthMethod::PrivateKeyJwt
        || settings.client_key.is_some()
    {
        return Ok(());
    }
    // RSA generation takes ~100 ms: off the async runtime.
    let new = tokio::task::spawn_blocking(|| generate_detached(ALG))
        .await
        .map_err(|_| KeyError::Generation)??;
    settings.client_key = Some(IdpClientKey {
        kid: new.kid,
        alg: ALG.as_str().into(),
        public_jwk: new.jwk.to_string(),
        private_key_sealed: provider.secrets.seal(&key_context(idp_id), &new.pkcs8),
    });
    Ok(())
}

/// The IdP's client public keys as a JWKS (empty when it has no key).
pub fn public_jwks(idp: &Idp) -> Value {
    let keys: Vec<Value> = idp
        .settings
        .client_key
        .iter()
        .filter_map(|k| serde_json::from_str(&k.public_jwk).ok())
        .collect();
    json!({ "keys": keys })
}

/// A client assertion for one request to the IdP's token endpoint: `iss` and `sub` the client
/// id, `aud` the token endpoint, a fresh `jti`, valid for five minutes.
pub fn client_assertion(provider: &Provider, idp: &Idp) -> Result<String, String> {
    let key = idp
        .settings
        .client_key
        .as_ref()
        .ok_or("the IdP has no client key for private_key_jwt")?;
    let alg = SigningAlg::parse(&key.alg).ok_or("the IdP's client key has an unknown alg")?;
    let pkcs8 = provider
        .secrets
        .open(&key_context(&idp.id), &key.private_key_sealed)
        .map_err(|_| "the IdP's client key cannot be opened")?;
    let claims = assertion_claims(provider, idp, ASSERTION_LIFETIME_SECS);
    sign_detached(alg, &pkcs8, &key.kid, &claims).map_err(|e| e.to_string())
}

/// The RFC 7523 claims of an assertion to the IdP's token endpoint: `iss` and `sub` the client
/// id, `aud` the token endpoint, a fresh `jti` (upstreams refuse a replayed one).
fn assertion_claims(provider: &Provider, idp: &Idp, lifetime: i64) -> Value {
    let now = provider.now();
    let s = &idp.settings;
    json!({
        "iss": s.client_id,
        "sub": s.client_id,
        "aud": s.token_url,
        "jti": random_token(24),
        "iat": now,
        "exp": now + lifetime,
    })
}

/// A `client_secret_jwt` assertion (OpenID Connect Core §9): the claims of
/// [`client_assertion`], signed HS256 with the IdP's client secret, valid for a minute.
pub fn secret_assertion(provider: &Provider, idp: &Idp, secret: &str) -> Result<String, String> {
    if secret.is_empty() {
        return Err("the IdP has no client secret for client_secret_jwt".into());
    }
    let claims = assertion_claims(provider, idp, SECRET_ASSERTION_LIFETIME_SECS);
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| format!("client_secret_jwt: {e}"))
}
