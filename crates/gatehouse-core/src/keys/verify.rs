//! Verification of this server's own JWTs with public keys parsed once per key-set load.
//!
//! `jsonwebtoken` rebuilds the public key from its JWK members on every call (for RSA, a new
//! key and Montgomery context each time), copies it, and parses the header and the claims twice
//! each: on introspection and userinfo, which check a token per request, that was a sizeable
//! share of the CPU. The rules are the ones `jsonwebtoken` applied here: the key named by `kid`
//! decides the algorithm, `exp` (a non-negative integer) and `iss` are required, `exp` is checked
//! against the system clock without leeway unless the caller accepts expired tokens.

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{KeyError, TokenRejected};
use crate::domain::SigningAlg;

/// The parsed public key of a published JWK of algorithm `alg`.
pub(super) fn public_key(
    alg: SigningAlg,
    kid: &str,
    jwk: &Value,
) -> Result<ParsedPublicKey, KeyError> {
    let member = |name: &str| {
        jwk[name]
            .as_str()
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
            .ok_or_else(|| KeyError::Corrupt(format!("key {kid} lacks {name}")))
    };
    let rejected = |e: aws_lc_rs::error::KeyRejected| KeyError::Corrupt(format!("key {kid}: {e}"));
    match alg {
        SigningAlg::Rs256 => RsaPublicKeyComponents {
            n: member("n")?,
            e: member("e")?,
        }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .map_err(rejected),
        SigningAlg::Es256 => {
            // The uncompressed point: 0x04 ‖ x ‖ y.
            let mut point = vec![4u8];
            point.extend(member("x")?);
            point.extend(member("y")?);
            ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).map_err(rejected)
        }
        SigningAlg::EdDsa => ParsedPublicKey::new(&ED25519, member("x")?).map_err(rejected),
    }
}

/// The JOSE header members that matter here; others are ignored.
#[derive(Deserialize)]
pub(super) struct Header {
    pub(super) alg: String,
    pub(super) kid: Option<String>,
}

/// A compact JWS split into its parts, nothing verified yet.
pub(super) struct Compact<'a> {
    pub(super) header: Header,
    /// `header.payload`, what the signature covers.
    signed: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> Compact<'a> {
    pub(super) fn parse(token: &'a str) -> Result<Self, TokenRejected> {
        let (signed, signature) = token.rsplit_once('.').ok_or(TokenRejected::Malformed)?;
        let (header, payload) = signed.split_once('.').ok_or(TokenRejected::Malformed)?;
        let header = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| TokenRejected::Malformed)?;
        let header: Header =
            serde_json::from_slice(&header).map_err(|_| TokenRejected::Malformed)?;
        Ok(Self {
            header,
            signed,
            payload,
            signature,
        })
    }

    /// The claims, if `key` (of `alg`, which the header must name) signed them and they are
    /// valid (see the module docs).
    pub(super) fn verify(
        &self,
        alg: SigningAlg,
        key: &ParsedPublicKey,
        check_exp: bool,
    ) -> Result<Value, TokenRejected> {
        let invalid = |why: &str| TokenRejected::Invalid(why.to_owned());
        if self.header.alg != alg.as_str() {
            return Err(TokenRejected::Algorithm);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(self.signature)
            .map_err(|_| invalid("signature encoding"))?;
        key.verify_sig(self.signed.as_bytes(), &signature)
            .map_err(|_| invalid("InvalidSignature"))?;
        let payload = URL_SAFE_NO_PAD
            .decode(self.payload)
            .map_err(|_| invalid("payload encoding"))?;
        let claims: Value = serde_json::from_slice(&payload).map_err(|_| invalid("payload"))?;
        check_claims(&claims, check_exp)?;
        Ok(claims)
    }
}

/// Tokens one loaded key has verified, by the SHA-256 of the whole compact token, with their
/// claims: a resource server introspects the same token, and a client calls userinfo with it,
/// many times, and the signature check (RSA, ~20 µs) was the largest single cost of both.
///
/// It is the same check, not a weaker one: a token is remembered only once this key verified
/// it, and the same bytes under the same (immutable) key verify again. The memo lives with the
/// key's copy, so it is gone when the key set is reloaded (a key removed, rotated or changed
/// on any node; at the latest after the set's TTL). Only genuine tokens get in (a failure is
/// not remembered), so made-up tokens cannot fill it; it is bounded anyway. Expiry and `iss`
/// are checked again on every use, and whatever the caller checks after (the token's record,
/// its user) is untouched.
#[derive(Default)]
pub(super) struct VerifiedTokens(Mutex<HashMap<[u8; 32], Arc<Value>>>);

/// Tokens remembered per key, at most (then all are forgotten: a cheap bound, refilled by the
/// next verifications).
const MAX_VERIFIED: usize = 1024;

impl VerifiedTokens {
    fn get(&self, digest: &[u8; 32]) -> Option<Arc<Value>> {
        self.0.lock().ok()?.get(digest).cloned()
    }

    fn insert(&self, digest: [u8; 32], claims: Arc<Value>) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= MAX_VERIFIED {
                m.clear();
            }
            m.insert(digest, claims);
        }
    }
}

impl Compact<'_> {
    /// [`Compact::verify`], remembering what `key` verified in `memo` (see [`VerifiedTokens`]).
    pub(super) fn verify_remembered(
        &self,
        alg: SigningAlg,
        key: &ParsedPublicKey,
        memo: &VerifiedTokens,
        check_exp: bool,
    ) -> Result<Value, TokenRejected> {
        if self.header.alg != alg.as_str() {
            return Err(TokenRejected::Algorithm);
        }
        let mut hasher = Sha256::new();
        hasher.update(self.signed.as_bytes());
        hasher.update(b".");
        hasher.update(self.signature.as_bytes());
        let digest: [u8; 32] = hasher.finalize().into();
        if let Some(claims) = memo.get(&digest) {
            check_claims(&claims, check_exp)?;
            return Ok(Value::clone(&claims));
        }
        // Remembered whether or not it has expired: expiry is checked at every use.
        let claims = self.verify(alg, key, false)?;
        memo.insert(digest, Arc::new(claims.clone()));
        check_claims(&claims, check_exp)?;
        Ok(claims)
    }
}

/// The claims' own rules: `exp` a non-negative integer (in the future unless `check_exp` is
/// off) and `iss` a string or strings.
fn check_claims(claims: &Value, check_exp: bool) -> Result<(), TokenRejected> {
    let invalid = |why: &str| TokenRejected::Invalid(why.to_owned());
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid("exp missing"))?;
    let iss_ok = match claims.get("iss") {
        Some(Value::String(_)) => true,
        Some(Value::Array(all)) => all.iter().all(Value::is_string),
        _ => false,
    };
    if !iss_ok {
        return Err(invalid("iss missing"));
    }
    if check_exp && exp < now() {
        return Err(invalid("ExpiredSignature"));
    }
    Ok(())
}

/// Seconds since the epoch by the system clock (as `jsonwebtoken` checks `exp`).
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use serde_json::json;

    use super::super::{Signer, material};
    use super::*;

    fn token(signer: &Signer, header: &Value, claims: &Value) -> String {
        let mut out = URL_SAFE_NO_PAD.encode(header.to_string());
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(claims.to_string(), &mut out);
        let sig = signer.sign(&SystemRandom::new(), out.as_bytes());
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(sig.unwrap_or_default(), &mut out);
        out
    }

    fn check(token: &str, alg: SigningAlg, key: &ParsedPublicKey) -> Result<Value, TokenRejected> {
        Compact::parse(token)?.verify(alg, key, true)
    }

    #[test]
    fn own_tokens_verify_and_tampered_ones_do_not() -> Result<(), KeyError> {
        let later = now() + 300;
        for alg in [SigningAlg::Rs256, SigningAlg::Es256, SigningAlg::EdDsa] {
            let new = material::generate(alg)?;
            let signer = Signer::from_pkcs8(alg, &new.pkcs8)?;
            let key = public_key(alg, &new.kid, &new.jwk)?;
            let header = json!({"kid": new.kid, "alg": alg.as_str()});
            let claims = json!({"iss": "https://i", "exp": later, "jti": "AT.1"});
            let good = token(&signer, &header, &claims);
            let parsed = Compact::parse(&good).map_err(|e| KeyError::Corrupt(e.to_string()))?;
            assert_eq!(parsed.header.kid.as_deref(), Some(new.kid.as_str()));
            assert_eq!(
                check(&good, alg, &key).ok(),
                Some(claims.clone()),
                "{alg:?}"
            );

            // Another algorithm named in the header, or `none`.
            for other in ["none", "HS256", "RS256", "ES256", "EdDSA"] {
                if other == alg.as_str() {
                    continue;
                }
                let h = json!({"kid": new.kid, "alg": other});
                let t = token(&signer, &h, &claims);
                assert!(matches!(
                    check(&t, alg, &key),
                    Err(TokenRejected::Algorithm)
                ));
            }
            // Claims changed after signing.
            let (head, rest) = good.split_once('.').unwrap_or_default();
            let sig = rest.rsplit_once('.').unwrap_or_default().1;
            let forged = format!(
                "{head}.{}.{sig}",
                URL_SAFE_NO_PAD.encode(json!({"iss": "https://i", "exp": later + 1}).to_string())
            );
            assert!(check(&forged, alg, &key).is_err());
            // Signature dropped or truncated.
            assert!(
                check(
                    &format!("{head}.{}.", rest.split('.').next().unwrap_or("")),
                    alg,
                    &key
                )
                .is_err()
            );
            assert!(check(&good[..good.len() - 2], alg, &key).is_err());
            // Expired (accepted only when the caller ignores expiry), exp or iss missing.
            let expired = token(&signer, &header, &json!({"iss": "https://i", "exp": 1000}));
            assert!(check(&expired, alg, &key).is_err());
            let parsed = Compact::parse(&expired).map_err(|e| KeyError::Corrupt(e.to_string()))?;
            assert!(parsed.verify(alg, &key, false).is_ok());
            for claims in [
                json!({"iss": "https://i"}),
                json!({"iss": "https://i", "exp": -5}),
                json!({"iss": "https://i", "exp": "9999999999"}),
                json!({"exp": later}),
                json!({"iss": 5, "exp": later}),
            ] {
                let t = token(&signer, &header, &claims);
                let parsed = Compact::parse(&t).map_err(|e| KeyError::Corrupt(e.to_string()))?;
                assert!(parsed.verify(alg, &key, false).is_err(), "{claims}");
            }
            // Another key of the same algorithm.
            let stranger = material::generate(alg)?;
            let other_key = public_key(alg, &stranger.kid, &stranger.jwk)?;
            assert!(check(&good, alg, &other_key).is_err());
        }
        for bad in ["", "a.b", "!!.a.b", "e30.e30.", "a.b.c.d"] {
            assert!(Compact::parse(bad).is_err() || check_any(bad));
        }
        Ok(())
    }

    #[test]
    fn remembered_tokens_are_checked_as_fresh_ones() -> Result<(), KeyError> {
        let alg = SigningAlg::EdDsa;
        let new = material::generate(alg)?;
        let signer = Signer::from_pkcs8(alg, &new.pkcs8)?;
        let key = public_key(alg, &new.kid, &new.jwk)?;
        let memo = VerifiedTokens::default();
        let header = json!({"kid": new.kid, "alg": alg.as_str()});
        let claims = json!({"iss": "https://i", "exp": now() + 300, "jti": "AT.1"});
        let good = token(&signer, &header, &claims);
        let remembered = |t: &str, check_exp| {
            Compact::parse(t).and_then(|c| c.verify_remembered(alg, &key, &memo, check_exp))
        };
        for _ in 0..3 {
            assert_eq!(remembered(&good, true).ok(), Some(claims.clone()));
        }
        // Another signature or other claims with a remembered token's other parts: refused.
        let (head, rest) = good.split_once('.').unwrap_or_default();
        let (payload, sig) = rest.split_once('.').unwrap_or_default();
        let other = json!({"iss": "https://i", "exp": now() + 301, "jti": "AT.1"});
        let forged = format!("{head}.{}.{sig}", URL_SAFE_NO_PAD.encode(other.to_string()));
        assert!(remembered(&forged, true).is_err());
        assert!(remembered(&format!("{head}.{payload}.{}", &sig[1..]), true).is_err());
        // Another algorithm named in the header.
        let other_alg = format!(
            "{}.{payload}.{sig}",
            URL_SAFE_NO_PAD.encode(json!({"kid": new.kid, "alg": "ES256"}).to_string())
        );
        assert!(matches!(
            remembered(&other_alg, true),
            Err(TokenRejected::Algorithm)
        ));
        // An expired token, remembered while accepted with expiry ignored, is still expired.
        let expired = token(&signer, &header, &json!({"iss": "https://i", "exp": 1000}));
        assert!(remembered(&expired, false).is_ok());
        assert!(remembered(&expired, true).is_err());
        assert!(remembered(&expired, false).is_ok());
        // Bounded: past the limit all is forgotten, and tokens verify again.
        for i in 0..(MAX_VERIFIED + 5) {
            let c = json!({"iss": "https://i", "exp": now() + 300, "jti": format!("AT.{i}")});
            assert!(remembered(&token(&signer, &header, &c), true).is_ok());
        }
        assert!(memo.0.lock().map(|m| m.len()).unwrap_or(usize::MAX) <= MAX_VERIFIED);
        assert_eq!(remembered(&good, true).ok(), Some(claims));
        Ok(())
    }

    /// A malformed token that parses still fails verification with any key.
    fn check_any(token: &str) -> bool {
        let Ok(new) = material::generate(SigningAlg::EdDsa) else {
            return false;
        };
        let Ok(key) = public_key(SigningAlg::EdDsa, &new.kid, &new.jwk) else {
            return false;
        };
        check(token, SigningAlg::EdDsa, &key).is_err()
    }
}
