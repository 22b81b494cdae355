//! New key material: RSA-2048, P-256 or Ed25519 key pairs, their public JWK and RFC 7638 `kid`.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::KeyError;
use crate::domain::SigningAlg;

/// The RFC 7638 thumbprint of a public JWK (its required members, in lexicographic order), used
/// as its `kid` (43 base64url characters, the same shape as Okta's).
fn thumbprint(canonical: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// A freshly generated key: PKCS#8 DER of the private key, the public JWK and its `kid`.
pub(super) struct NewKey {
    pub(super) pkcs8: Vec<u8>,
    pub(super) kid: String,
    pub(super) jwk: Value,
}

pub(super) fn generate(alg: SigningAlg) -> Result<NewKey, KeyError> {
    let gen_err = |_| KeyError::Generation;
    match alg {
        SigningAlg::Rs256 => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(gen_err)?;
            let pkcs8 = pair.as_der().map_err(gen_err)?.as_ref().to_vec();
            let public = pair.public_key();
            let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
            let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
            let kid = thumbprint(&format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#));
            let jwk =
                json!({"kty": "RSA", "alg": "RS256", "kid": kid, "use": "sig", "e": e, "n": n});
            Ok(NewKey { pkcs8, kid, jwk })
        }
        SigningAlg::Es256 => {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(gen_err)?;
            let pkcs8 = pair.to_pkcs8v1().map_err(gen_err)?.as_ref().to_vec();
            // The uncompressed point: 0x04 ‖ x ‖ y, 32 bytes each.
            let point = pair.public_key().as_ref();
            let (Some(x), Some(y)) = (point.get(1..33), point.get(33..65)) else {
                return Err(KeyError::Generation);
            };
            let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
            let kid = thumbprint(&format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#
            ));
            let jwk = json!({"kty": "EC", "alg": "ES256", "kid": kid, "use": "sig", "crv": "P-256", "x": x, "y": y});
            Ok(NewKey { pkcs8, kid, jwk })
        }
        SigningAlg::EdDsa => {
            let pair = Ed25519KeyPair::generate().map_err(gen_err)?;
            let pkcs8 = pair.to_pkcs8().map_err(gen_err)?.as_ref().to_vec();
            let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
            let kid = thumbprint(&format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#));
            let jwk = json!({"kty": "OKP", "alg": "EdDSA", "kid": kid, "use": "sig", "crv": "Ed25519", "x": x});
            Ok(NewKey { pkcs8, kid, jwk })
        }
    }
}
