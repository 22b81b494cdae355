//! JWT client assertions (RFC 7523 §2.2, OIDC Core §9): `private_key_jwt`, verified with the
//! client's registered public keys, and `client_secret_jwt`, an HMAC keyed by its secret.
//!
//! The rules, in the order they are applied:
//! * `client_assertion_type` is `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`;
//! * the algorithm is on the allow-list of the client's method (RS256/384/512, PS256, ES256/384
//!   for `private_key_jwt`; HS256/384/512 for `client_secret_jwt`). `none` does not parse, and an
//!   HMAC over a public key is refused by the list before any key is looked at;
//! * the key: the JWK whose `kid` the header names, or, without `kid`, every key of the right
//!   type (openmetadata-ingestion signs without `kid`); a JWK's own `alg`, if any, must match;
//! * the signature; then `iss` = `sub` = client_id, `aud` = the token endpoint of the server
//!   called (or the endpoint itself, for introspection and revocation). Okta documents only the
//!   token URL, so the issuer is not accepted as an audience;
//! * `exp` required, in the future and at most [`MAX_LIFETIME`] (+ skew) ahead; `nbf`/`iat`,
//!   if present, not in the future;
//! * `jti` required and single-use: it is recorded in the database until `exp`, so a replay on
//!   any node fails.
//!
//! The keys are the client's inline `jwks` or, without one, the set published at its
//! `jwks_uri` (fetched and cached by [`crate::oauth2::remote_jwks`]; the caller passes it in).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::domain::{App, JwkSet, TokenEndpointAuthMethod};

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest an assertion may live (`exp` − now), as Okta allows.
pub const MAX_LIFETIME: i64 = 3600;
/// Tolerated clock difference between the client and us.
pub const CLOCK_SKEW: i64 = 60;
/// A client registers at most this many keys.
pub const MAX_KEYS: usize = 20;
const MAX_JTI_LEN: usize = 256;
const MIN_RSA_BITS: usize = 2048;

pub const PRIVATE_KEY_JWT_ALGS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
];
pub const CLIENT_SECRET_JWT_ALGS: &[Algorithm] =
    &[Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

/// The algorithm names advertised in discovery
/// (`token_endpoint_auth_signing_alg_values_supported`).
pub const SIGNING_ALG_NAMES: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384",
];

/// Why an assertion was refused. Callers answer `invalid_client` with [`Self::description`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("The client_assertion_type is invalid.")]
    WrongType,
    #[error("The client_assertion is not a well-formed JWT.")]
    Malformed,
    #[error("The client_assertion is signed with an algorithm this client may not use.")]
    Algorithm,
    #[error("No registered key of the client matches the client_assertion.")]
    NoKey,
    #[error("The client_assertion signature is invalid.")]
    Signature,
    #[error("The client_assertion `{0}` claim is missing or invalid.")]
    Claim(&'static str),
    #[error("The client_assertion has expired.")]
    Expired,
    #[error("The client_assertion expires too far in the future.")]
    TooLong,
    #[error("The client_assertion token has already been used.")]
    Replayed,
    #[error("The client's jwks_uri could not be used to verify the client_assertion.")]
    KeySetUnavailable,
}

/// What a verified assertion tells the caller: the `jti` to consume, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub jti: String,
    pub exp: i64,
}

/// The `iss`/`sub` of an assertion, read before verification to find the client. Nothing else
/// is trusted from an unverified token.
pub fn unverified_client_id(assertion: &str) -> Result<String, AssertionError> {
    let payload = assertion
        .split('.')
        .nth(1)
        .ok_or(AssertionError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| AssertionError::Malformed)?;
    let claims: Value = serde_json::from_slice(&bytes).map_err(|_| AssertionError::Malformed)?;
    let iss = claims["iss"].as_str().filter(|s| !s.is_empty());
    let sub = claims["sub"].as_str().filter(|s| !s.is_empty());
    match (iss, sub) {
        (Some(iss), Some(sub)) if iss == sub => Ok(iss.to_owned()),
        (None, _) => Err(AssertionError::Claim("iss")),
        _ => Err(AssertionError::Claim("sub")),
    }
}

/// Verifies everything but `jti` uniqueness (the caller records the `jti` with the store).
/// `secret` is the client's secret in clear text, for `client_secret_jwt`.
pub fn verify(
    app: &App,
    assertion: &str,
    secret: Option<&[u8]>,
    audiences: &[String],
    now: i64,
) -> Result<VerifiedAssertion, AssertionError> {
    verify_with_jwks(
        app,
        app.settings.jwks.as_ref(),
        assertion,
        secret,
        audiences,
        now,
    )
}

/// The `kid` an assertion's header names, read to pick the key set to fetch.
pub fn unverified_kid(assertion: &str) -> Result<Option<String>, AssertionError> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| AssertionError::Malformed)?;
    Ok(header.kid)
}

/// [`verify`] with the `private_key_jwt` keys given (inline or fetched from `jwks_uri`).
pub fn verify_with_jwks(
    app: &App,
    jwks: Option<&JwkSet>,
    assertion: &str,
    secret: Option<&[u8]>,
    audiences: &[String],
    now: i64,
) -> Result<VerifiedAssertion, AssertionError> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| AssertionError::Malformed)?;
    let method = app.settings.token_endpoint_auth_method;
    let keys: Vec<DecodingKey> = match method {
        TokenEndpointAuthMethod::PrivateKeyJwt => {
            if !PRIVATE_KEY_JWT_ALGS.contains(&header.alg) {
                return Err(AssertionError::Algorithm);
            }
            let jwks = jwks.ok_or(AssertionError::NoKey)?;
            candidate_keys(jwks, header.alg, header.kid.as_deref())
        }
        TokenEndpointAuthMethod::ClientSecretJwt => {
            if !CLIENT_SECRET_JWT_ALGS.contains(&header.alg) {
                return Err(AssertionError::Algorithm);
            }
            let secret = secret.ok_or(AssertionError::NoKey)?;
            vec![DecodingKey::from_secret(secret)]
        }
        _ => return Err(AssertionError::Algorithm),
    };
    if keys.is_empty() {
        return Err(AssertionError::NoKey);
    }
    let mut validation = Validation::new(header.alg);
    // Time and audience are checked below, against the provider's clock and our endpoints.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = keys
        .iter()
        .find_map(|key| jsonwebtoken::decode::<Value>(assertion, key, &validation).ok())
        .map(|data| data.claims)
        .ok_or(AssertionError::Signature)?;

    let client_id = app.client_id.as_str();
    if claims["iss"].as_str() != Some(client_id) {
        return Err(AssertionError::Claim("iss"));
    }
    if claims["sub"].as_str() != Some(client_id) {
        return Err(AssertionError::Claim("sub"));
    }
    let aud_ok = match &claims["aud"] {
        Value::String(a) => audiences.contains(a),
        Value::Array(list) => list
            .iter()
            .any(|a| a.as_str().is_some_and(|a| audiences.iter().any(|x| x == a))),
        _ => false,
    };
    if !aud_ok {
        return Err(AssertionError::Claim("aud"));
    }
    let exp = claims["exp"].as_i64().ok_or(AssertionError::Claim("exp"))?;
    if exp <= now - CLOCK_SKEW {
        return Err(AssertionError::Expired);
    }
    if exp > now + MAX_LIFETIME + CLOCK_SKEW {
        return Err(AssertionError::TooLong);
    }
    for name in ["nbf", "iat"] {
        match &claims[name] {
            Value::Null => {}
            v => match v.as_i64() {
                Some(t) if t <= now + CLOCK_SKEW => {}
                _ => {
                    return Err(AssertionError::Claim(if name == "nbf" {
                        "nbf"
                    } else {
                        "iat"
                    }));
                }
            },
        }
    }
    let jti = claims["jti"]
        .as_str()
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN)
        .ok_or(AssertionError::Claim("jti"))?;
    Ok(VerifiedAssertion {
        jti: jti.to_owned(),
        exp,
    })
}

/// The client's keys that could have signed with `alg`: of the algorithm's type, and named by
/// the header's `kid` (keys registered without a `kid` always qualify); without a `kid`, every
/// key of the type.
pub(crate) fn candidate_keys(jwks: &JwkSet, alg: Algorithm, kid: Option<&str>) -> Vec<DecodingKey> {
    let kty = match alg {
        Algorithm::ES256 | Algorithm::ES384 => "EC",
        _ => "RSA",
    };
    jwks.keys
        .iter()
        .filter(|k| k.get("kty").and_then(Value::as_str) == Some(kty))
        .filter(|k| match (kid, k.get("kid").and_then(Value::as_str)) {
            // A `kid` selects the key of that id; a key registered without one stays a
            // candidate (RFC 7517 §4.5 makes `kid` a hint).
            (Some(kid), Some(key_kid)) => kid == key_kid,
            _ => true,
        })
        .filter(|k| match k.get("alg").and_then(Value::as_str) {
            Some(a) => alg_name(alg) == a,
            None => true,
        })
        .filter(|k| match (alg, k.get("crv").and_then(Value::as_str)) {
            (Algorithm::ES256, Some(c)) => c == "P-256",
            (Algorithm::ES384, Some(c)) => c == "P-384",
            _ => true,
        })
        .filter_map(|k| {
            let jwk: Jwk = serde_json::from_value(Value::Object(k.clone())).ok()?;
            DecodingKey::from_jwk(&jwk).ok()
        })
        .collect()
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
    }
}

/// Why a submitted JWK set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JwksError(pub String);

/// Private members that are dropped from a submitted key (RFC 7517/7518: RSA and EC private
/// parts, and the symmetric `k`).
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Validates a client's JWK set and keeps only public members.
///
/// Okta's guides (and OpenMetadata's) tell users to paste a generated *key pair* set, so
/// private members (`d p q dp dq qi oth k`) are **stripped**, not refused. Only RSA (≥ 2048
/// bits) and EC P-256/P-384 signing keys are accepted; `kid`s must be unique; a key's `alg`,
/// if given, must be one a `private_key_jwt` client may use, and `use`, if given, `sig`.
pub fn sanitize_jwks(value: &Value) -> Result<JwkSet, JwksError> {
    let err = |m: &str| JwksError(m.to_owned());
    let keys = value
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| err("must be an object with a 'keys' array"))?;
    if keys.is_empty() {
        return Err(err("must contain at least one key"));
    }
    if keys.len() > MAX_KEYS {
        return Err(JwksError(format!("must contain at most {MAX_KEYS} keys")));
    }
    let mut out: Vec<Map<String, Value>> = Vec::with_capacity(keys.len());
    for key in keys {
        let key = key
            .as_object()
            .ok_or_else(|| err("every key must be a JSON object"))?;
        let mut public = key.clone();
        for m in PRIVATE_MEMBERS {
            public.remove(*m);
        }
        let text = |name: &str| public.get(name).and_then(Value::as_str);
        match text("kty") {
            Some("RSA") => {
                let n = text("n").ok_or_else(|| err("an RSA key needs 'n' and 'e'"))?;
                text("e").ok_or_else(|| err("an RSA key needs 'n' and 'e'"))?;
                let modulus = URL_SAFE_NO_PAD
                    .decode(n)
                    .map_err(|_| err("an RSA key's 'n' is not base64url"))?;
                let bits = modulus.iter().skip_while(|b| **b == 0).count() * 8;
                if bits < MIN_RSA_BITS {
                    return Err(JwksError(format!(
                        "RSA keys must have at least {MIN_RSA_BITS} bits"
                    )));
                }
            }
            Some("EC") => {
                if !matches!(text("crv"), Some("P-256" | "P-384")) {
                    return Err(err("EC keys must be on P-256 or P-384"));
                }
                if text("x").is_none() || text("y").is_none() {
                    return Err(err("an EC key needs 'x' and 'y'"));
                }
            }
            Some("oct") => return Err(err("symmetric ('oct') keys are not accepted")),
            _ => return Err(err("only RSA and EC keys are accepted")),
        }
        if let Some(alg) = public.get("alg") {
            let ok = alg
                .as_str()
                .is_some_and(|a| PRIVATE_KEY_JWT_ALGS.iter().any(|x| alg_name(*x) == a));
            if !ok {
                return Err(err(
                    "a key's 'alg' must be RS256, RS384, RS512, PS256, ES256 or ES384",
                ));
            }
        }
        if public.get("use").is_some_and(|u| u.as_str() != Some("sig")) {
            return Err(err("a key's 'use' must be 'sig'"));
        }
        if let Some(kid) = public.get("kid") {
            let kid = kid
                .as_str()
                .ok_or_else(|| err("a key's 'kid' must be a string"))?;
            if out
                .iter()
                .any(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
            {
                return Err(JwksError(format!("the kid '{kid}' appears twice")));
            }
        }
        let jwk: Jwk = serde_json::from_value(Value::Object(public.clone()))
            .map_err(|e| JwksError(format!("a key is not a valid JWK: {e}")))?;
        DecodingKey::from_jwk(&jwk).map_err(|e| JwksError(format!("a key is unusable: {e}")))?;
        out.push(public);
    }
    Ok(JwkSet { keys: out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rsa_n(bits: usize) -> String {
        let mut n = vec![0xc5u8; bits / 8];
        n[bits / 8 - 1] = 0x01;
        URL_SAFE_NO_PAD.encode(n)
    }

    #[test]
    fn private_members_are_stripped() -> Result<(), JwksError> {
        let set = sanitize_jwks(&json!({"keys": [{
            "kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "e": "AQAB", "n": rsa_n(2048),
            "d": "secret", "p": "x", "q": "x", "dp": "x", "dq": "x", "qi": "x"
        }]}))?;
        let key = &set.keys[0];
        for m in PRIVATE_MEMBERS {
            assert!(!key.contains_key(*m), "{m} kept");
        }
        assert_eq!(key.get("kid"), Some(&json!("k1")));
        Ok(())
    }

    #[test]
    fn bad_sets_are_refused() {
        for bad in [
            json!({}),
            json!({"keys": []}),
            json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}),
            json!({"keys": [{"kty": "RSA", "e": "AQAB", "n": rsa_n(1024)}]}),
            json!({"keys": [{"kty": "RSA", "e": "AQAB", "n": rsa_n(2048), "alg": "HS256"}]}),
            json!({"keys": [{"kty": "RSA", "e": "AQAB", "n": rsa_n(2048), "use": "enc"}]}),
            json!({"keys": [{"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}]}),
            json!({"keys": [
                {"kty": "RSA", "kid": "a", "e": "AQAB", "n": rsa_n(2048)},
                {"kty": "RSA", "kid": "a", "e": "AQAB", "n": rsa_n(3072)}
            ]}),
        ] {
            assert!(sanitize_jwks(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unverified_client_id_needs_matching_iss_and_sub() {
        let token = |claims: Value| {
            format!(
                "eyJhbGciOiJSUzI1NiJ9.{}.sig",
                URL_SAFE_NO_PAD.encode(claims.to_string())
            )
        };
        assert_eq!(
            unverified_client_id(&token(json!({"iss": "c", "sub": "c"}))),
            Ok("c".into())
        );
        assert!(unverified_client_id(&token(json!({"iss": "c", "sub": "d"}))).is_err());
        assert!(unverified_client_id(&token(json!({"sub": "c"}))).is_err());
        assert!(unverified_client_id("garbage").is_err());
    }
}
