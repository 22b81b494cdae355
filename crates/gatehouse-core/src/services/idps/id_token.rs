//! Verifying an upstream's ID token (OIDC Core §3.1.3.7): the signature with a key from the
//! upstream's JWKS (fetched and cached by [`crate::oauth2::remote_jwks`], the SSRF rules of
//! client `jwks_uri`s), an asymmetric algorithm only, `iss` exactly the configured issuer,
//! `aud` containing our client id (and `azp` ours when there are several), `exp` in the
//! future and `iat` not ahead (both within the IdP's clock skew), and `nonce` exactly the one
//! this sign-in sent.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::crypto::constant_time_eq;
use crate::domain::IdpSettings;
use crate::oauth2::client_assertion::candidate_keys;
use crate::provider::Provider;

/// Algorithms an upstream may sign its ID tokens with (never `none` or an HMAC).
pub const ID_TOKEN_ALGS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// Why an ID token was refused (for the System Log; the person sees a generic message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    #[error("the ID token is not a well-formed JWT")]
    Malformed,
    #[error("the ID token is signed with an algorithm that is not accepted")]
    Algorithm,
    #[error("the upstream's keys could not be fetched: {0}")]
    Keys(String),
    #[error("no upstream key matches the ID token")]
    NoKey,
    #[error("the ID token signature is invalid")]
    Signature,
    #[error("the ID token's iss is not the IdP's issuer")]
    Issuer,
    #[error("the ID token's aud (or azp) is not this client")]
    Audience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token's iat is in the future")]
    IssuedInFuture,
    #[error("the ID token's nonce is missing or wrong")]
    Nonce,
}

/// The verified claims.
pub async fn verify(
    provider: &Provider,
    settings: &IdpSettings,
    id_token: &str,
    nonce: &str,
) -> Result<Map<String, Value>, IdTokenError> {
    let header = jsonwebtoken::decode_header(id_token).map_err(|_| IdTokenError::Malformed)?;
    if !ID_TOKEN_ALGS.contains(&header.alg) {
        return Err(IdTokenError::Algorithm);
    }
    // An unknown kid refetches the upstream's JWKS once (its keys rotated), at most once per
    // `UNKNOWN_KID_REFETCH_INTERVAL` per JWKS URL, so made-up kids cannot hammer the upstream.
    let jwks = provider
        .remote_jwks
        .keys(&settings.jwks_url, header.kid.as_deref())
        .await
        .map_err(|e| IdTokenError::Keys(e.to_string()))?;
    let claims = match verified(&jwks, &header, id_token) {
        // Without a kid a rotation shows only as a failed signature: refetch under that limit.
        Err(first) if header.kid.is_none() => {
            match provider
                .remote_jwks
                .refetch_limited(&settings.jwks_url)
                .await
            {
                Ok(Some(fresh)) => verified(&fresh, &header, id_token)?,
                _ => return Err(first),
            }
        }
        other => other?,
    };
    check_claims(&claims, settings, nonce, provider.now())?;
    Ok(claims)
}

/// The claims if a key of `jwks` verifies the signature.
fn verified(
    jwks: &crate::domain::JwkSet,
    header: &jsonwebtoken::Header,
    id_token: &str,
) -> Result<Map<String, Value>, IdTokenError> {
    let keys: Vec<DecodingKey> = candidate_keys(jwks, header.alg, header.kid.as_deref());
    if keys.is_empty() {
        return Err(IdTokenError::NoKey);
    }
    let mut validation = Validation::new(header.alg);
    // Checked by `check_claims`, against the provider's clock and the IdP's settings.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    keys.iter()
        .find_map(|key| jsonwebtoken::decode::<Map<String, Value>>(id_token, key, &validation).ok())
        .map(|data| data.claims)
        .ok_or(IdTokenError::Signature)
}

/// The claim checks after the signature (a function of its own for the unit tests).
pub fn check_claims(
    claims: &Map<String, Value>,
    settings: &IdpSettings,
    nonce: &str,
    now: i64,
) -> Result<(), IdTokenError> {
    if claims.get("iss").and_then(Value::as_str) != Some(settings.issuer.as_str()) {
        return Err(IdTokenError::Issuer);
    }
    let client_id = settings.client_id.as_str();
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&client_id) {
        return Err(IdTokenError::Audience);
    }
    let azp = claims.get("azp").and_then(Value::as_str);
    if (audiences.len() > 1 || azp.is_some()) && azp.is_some_and(|a| a != client_id) {
        return Err(IdTokenError::Audience);
    }
    if audiences.len() > 1 && azp.is_none() {
        return Err(IdTokenError::Audience);
    }
    let skew = settings.max_clock_skew;
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > now - skew => {}
        _ => return Err(IdTokenError::Expired),
    }
    if claims
        .get("iat")
        .and_then(Value::as_i64)
        .is_some_and(|iat| iat > now + skew)
    {
        return Err(IdTokenError::IssuedInFuture);
    }
    match claims.get("nonce").and_then(Value::as_str) {
        Some(n) if constant_time_eq(n.as_bytes(), nonce.as_bytes()) => Ok(()),
        _ => Err(IdTokenError::Nonce),
    }
}
