//! Keys outside any authorization server's key set: generated and used by their owner (an
//! upstream IdP's `private_key_jwt` key), with the same algorithms and JWS encoding as the
//! servers' keys.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Value, json};

use super::{KeyError, Signer, material};
use crate::domain::SigningAlg;

/// A new key pair: PKCS#8 DER of the private key, its RFC 7638 `kid` and public JWK.
pub struct DetachedKey {
    pub pkcs8: Vec<u8>,
    pub kid: String,
    pub jwk: Value,
}

/// Generates a key of `alg` (RSA generation takes ~100 ms: call it off the async runtime).
pub fn generate_detached(alg: SigningAlg) -> Result<DetachedKey, KeyError> {
    let new = material::generate(alg)?;
    Ok(DetachedKey {
        pkcs8: new.pkcs8,
        kid: new.kid,
        jwk: new.jwk,
    })
}

/// Signs `claims` as a compact JWS with header `{"alg","kid","typ":"JWT"}` with the PKCS#8 key
/// `pkcs8` of `alg`.
pub fn sign_detached<C: Serialize>(
    alg: SigningAlg,
    pkcs8: &[u8],
    kid: &str,
    claims: &C,
) -> Result<String, KeyError> {
    let signer = Signer::from_pkcs8(alg, pkcs8)?;
    let header = json!({"alg": alg.as_str(), "kid": kid, "typ": "JWT"});
    let mut out = URL_SAFE_NO_PAD.encode(header.to_string());
    out.push('.');
    let payload = serde_json::to_vec(claims).map_err(|_| KeyError::Signing)?;
    URL_SAFE_NO_PAD.encode_string(payload, &mut out);
    let sig = signer.sign(&aws_lc_rs::rand::SystemRandom::new(), out.as_bytes())?;
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(sig, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation, decode};

    use super::*;

    #[test]
    fn a_detached_signature_verifies_with_the_public_jwk() -> Result<(), Box<dyn std::error::Error>>
    {
        let key = generate_detached(SigningAlg::Rs256)?;
        let jwt = sign_detached(
            SigningAlg::Rs256,
            &key.pkcs8,
            &key.kid,
            &json!({"sub": "x"}),
        )?;
        let (Some(n), Some(e)) = (key.jwk["n"].as_str(), key.jwk["e"].as_str()) else {
            return Err("the JWK lacks n or e".into());
        };
        let decoding = DecodingKey::from_rsa_components(n, e)?;
        let mut validation = Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let data = decode::<Value>(&jwt, &decoding, &validation)?;
        assert_eq!(data.claims["sub"], "x");
        assert_eq!(data.header.kid.as_deref(), Some(key.kid.as_str()));
        assert!(key.jwk.get("d").is_none(), "the public JWK holds d");
        Ok(())
    }
}
