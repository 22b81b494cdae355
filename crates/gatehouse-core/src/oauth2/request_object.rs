//! Request objects (OIDC Core §6): authorization request parameters in a JWT, passed by value
//! (`request`) or by reference (`request_uri`, fetched by the authorize pipeline).
//!
//! The rules, in order:
//! * a compact JWS (an encrypted object, five parts, is refused); no `crit` header;
//! * the algorithm: the client's registered `request_object_signing_alg` if it has one (so a
//!   client that registered RS256 never has an unsigned object accepted), else any of
//!   [`ALG_NAMES`]. `none` carries no signature and is no more trusted than the query string it
//!   replaces; a signed object is verified with the client's registered keys (`jwks`, or the set
//!   at its `jwks_uri`), the key picked by `kid` and type as for client assertions;
//! * the claims: `iss`, if present, is the client id; `aud`, if present, names this issuer;
//!   `exp`, if present, is not past and `nbf` not ahead (60 s skew); `client_id` and
//!   `response_type`, if present, equal the query's (§6.1: they must match); no nested
//!   `request` or `request_uri`;
//! * then the object's parameters replace the query's (§6.3.3), including `redirect_uri`, which
//!   is matched against the registered ones afterwards like any other.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::domain::{App, JwkSet};
use crate::oauth2::OAuthError;
use crate::oauth2::authorize::AuthorizeParams;
use crate::oauth2::client_assertion::{CLOCK_SKEW, candidate_keys};

/// The algorithms a request object may use (advertised as
/// `request_object_signing_alg_values_supported`).
pub const ALG_NAMES: &[&str] = &["none", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384"];

/// A request object larger than this is refused before it is decoded.
pub const MAX_LEN: usize = 64 * 1024;

fn refuse(message: impl Into<String>) -> OAuthError {
    OAuthError::InvalidRequestObject(message.into())
}

/// The JOSE header fields that decide how an object is verified, read before anything in it is
/// trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub alg: String,
    pub kid: Option<String>,
}

impl Header {
    pub fn is_unsigned(&self) -> bool {
        self.alg == "none"
    }
}

fn parts(jwt: &str) -> Result<[&str; 3], OAuthError> {
    if jwt.len() > MAX_LEN {
        return Err(refuse("The request object is too large."));
    }
    let parts: Vec<&str> = jwt.split('.').collect();
    match parts.as_slice() {
        [h, p, s] => Ok([h, p, s]),
        [_, _, _, _, _] => Err(refuse("Encrypted request objects are not supported.")),
        _ => Err(refuse("The request object is not a JWT.")),
    }
}

fn decode_json(part: &str) -> Result<Map<String, Value>, OAuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| refuse("The request object is not a JWT."))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(refuse("The request object is not a JWT.")),
    }
}

/// The header, and whether the client may use its algorithm at all.
pub fn header(app: &App, jwt: &str) -> Result<Header, OAuthError> {
    let [h, _, _] = parts(jwt.trim())?;
    let header = decode_json(h)?;
    if header.contains_key("crit") {
        return Err(refuse(
            "The request object has critical header parameters this server does not understand.",
        ));
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| refuse("The request object has no `alg`."))?
        .to_owned();
    if !ALG_NAMES.contains(&alg.as_str()) {
        return Err(refuse(format!(
            "The request object algorithm '{alg}' is not supported."
        )));
    }
    if let Some(registered) = &app.settings.request_object_signing_alg
        && *registered != alg
    {
        return Err(refuse(format!(
            "The request object must be signed with the client's registered algorithm {registered}."
        )));
    }
    let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
    Ok(Header { alg, kid })
}

/// Verifies the object (signature with `jwks` unless it is unsigned, then the claims) and
/// returns its claims. `query` is the request as it arrived, for the values that must match.
pub fn verify(
    app: &App,
    jwks: Option<&JwkSet>,
    jwt: &str,
    query: &AuthorizeParams,
    issuer: &str,
    now: i64,
) -> Result<Map<String, Value>, OAuthError> {
    let jwt = jwt.trim();
    let header = header(app, jwt)?;
    let [_, payload, signature] = parts(jwt)?;
    let claims = if header.is_unsigned() {
        if !signature.is_empty() {
            return Err(refuse(
                "An unsigned (`none`) request object has no signature.",
            ));
        }
        decode_json(payload)?
    } else {
        verify_signature(jwks, jwt, &header)?
    };
    check_claims(app, &claims, query, issuer, now)?;
    Ok(claims)
}

fn verify_signature(
    jwks: Option<&JwkSet>,
    jwt: &str,
    header: &Header,
) -> Result<Map<String, Value>, OAuthError> {
    let alg: Algorithm = header
        .alg
        .parse()
        .map_err(|_| refuse("The request object algorithm is not supported."))?;
    let keys: Vec<DecodingKey> = jwks
        .map(|set| candidate_keys(set, alg, header.kid.as_deref()))
        .unwrap_or_default();
    if keys.is_empty() {
        return Err(refuse(
            "No registered key of the client matches the request object.",
        ));
    }
    let mut validation = Validation::new(alg);
    // Time and audience are checked below against the provider's clock and this issuer.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    keys.iter()
        .find_map(|key| jsonwebtoken::decode::<Map<String, Value>>(jwt, key, &validation).ok())
        .map(|data| data.claims)
        .ok_or_else(|| refuse("The request object signature is invalid."))
}

fn check_claims(
    app: &App,
    claims: &Map<String, Value>,
    query: &AuthorizeParams,
    issuer: &str,
    now: i64,
) -> Result<(), OAuthError> {
    if let Some(iss) = claims.get("iss")
        && iss.as_str() != Some(app.client_id.as_str())
    {
        return Err(refuse("The request object `iss` is not the client_id."));
    }
    if let Some(aud) = claims.get("aud") {
        let names_us = match aud {
            Value::String(a) => a == issuer,
            Value::Array(list) => list.iter().any(|a| a.as_str() == Some(issuer)),
            _ => false,
        };
        if !names_us {
            return Err(refuse(
                "The request object `aud` does not name this issuer.",
            ));
        }
    }
    if let Some(exp) = claims.get("exp") {
        match exp.as_i64() {
            Some(exp) if exp > now - CLOCK_SKEW => {}
            Some(_) => return Err(refuse("The request object has expired.")),
            None => return Err(refuse("The request object `exp` is not a number.")),
        }
    }
    if let Some(nbf) = claims.get("nbf") {
        match nbf.as_i64() {
            Some(nbf) if nbf <= now + CLOCK_SKEW => {}
            _ => return Err(refuse("The request object is not valid yet.")),
        }
    }
    for name in ["request", "request_uri"] {
        if claims.contains_key(name) {
            return Err(refuse(format!(
                "A request object must not contain `{name}`."
            )));
        }
    }
    for (name, sent) in [
        ("client_id", &query.client_id),
        ("response_type", &query.response_type),
    ] {
        if let (Some(inside), Some(sent)) = (claims.get(name), sent)
            && inside.as_str() != Some(sent.as_str())
        {
            return Err(refuse(format!(
                "The request object `{name}` does not match the `{name}` parameter."
            )));
        }
    }
    Ok(())
}

/// `params` with the object's parameters in place of the query's (OIDC Core §6.3.3). Members
/// Gatehouse does not use are ignored, as unknown query parameters are.
pub fn apply(
    claims: &Map<String, Value>,
    params: &AuthorizeParams,
) -> Result<AuthorizeParams, OAuthError> {
    let mut out = params.clone();
    let slots: [(&str, &mut Option<String>); 13] = [
        ("client_id", &mut out.client_id),
        ("redirect_uri", &mut out.redirect_uri),
        ("response_type", &mut out.response_type),
        ("response_mode", &mut out.response_mode),
        ("scope", &mut out.scope),
        ("state", &mut out.state),
        ("nonce", &mut out.nonce),
        ("code_challenge", &mut out.code_challenge),
        ("code_challenge_method", &mut out.code_challenge_method),
        ("prompt", &mut out.prompt),
        ("max_age", &mut out.max_age),
        ("login_hint", &mut out.login_hint),
        ("id_token_hint", &mut out.id_token_hint),
    ];
    for (name, slot) in slots {
        match claims.get(name) {
            None => {}
            Some(Value::String(v)) => *slot = Some(v.clone()),
            // `max_age` is a number in JSON (§6.1); the pipeline parses the query's text form.
            Some(Value::Number(n)) if name == "max_age" => *slot = Some(n.to_string()),
            Some(_) => {
                return Err(refuse(format!(
                    "The request object `{name}` must be a string."
                )));
            }
        }
    }
    out.request = None;
    out.request_uri = None;
    Ok(out)
}
