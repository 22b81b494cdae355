//! Password hashes imported from another system in Okta's `credentials.password.hash` shape
//! (`POST /api/v1/users`), kept in a PHC-like string until the first sign-in rehashes them
//! to argon2id:
//!
//! - `BCRYPT` (`workFactor`, `salt`, `value`): stored as bcrypt's own `$2a$NN$<salt><value>`.
//! - `SHA-1` / `SHA-256` / `SHA-512` (`salt`, `saltOrder` PREFIX|POSTFIX, `value`, Base64):
//!   `$okta-sha256$PREFIX$<salt>$<value>`; the digest of salt bytes and password bytes.
//! - `PBKDF2` (`digestAlgorithm` SHA1_HMAC|SHA256_HMAC|SHA512_HMAC, `iterations`, `salt`,
//!   `value`, Base64): `$okta-pbkdf2-sha256$<iterations>$<salt>$<value>`.
//!
//! Every comparison is constant-time.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest;

/// Okta's hash fields, as received.
#[derive(Debug, Clone, Default)]
pub struct OktaHash {
    pub algorithm: String,
    pub work_factor: Option<u32>,
    pub salt: Option<String>,
    pub salt_order: Option<String>,
    pub value: String,
    pub iterations: Option<u32>,
    pub digest_algorithm: Option<String>,
}

fn b64(field: &str, s: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(s.trim())
        .map_err(|_| format!("{field} must be Base64"))
}

/// Checks Okta's fields and returns the stored form; the error names what is wrong.
pub fn import(h: &OktaHash) -> Result<String, String> {
    let salt = || h.salt.as_deref().ok_or("salt is required".to_owned());
    match h.algorithm.to_ascii_uppercase().as_str() {
        "BCRYPT" => {
            let cost = h.work_factor.ok_or("workFactor is required")?;
            if !(4..=31).contains(&cost) {
                return Err("workFactor must be from 4 to 31".into());
            }
            let salt = salt()?;
            let bcrypt_b64 = |s: &str| {
                s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
            };
            if salt.len() != 22 || !bcrypt_b64(salt) {
                return Err("salt must be 22 characters of bcrypt's Base64".into());
            }
            if h.value.len() != 31 || !bcrypt_b64(&h.value) {
                return Err("value must be 31 characters of bcrypt's Base64".into());
            }
            Ok(format!("$2a${cost:02}${salt}{}", h.value))
        }
        alg @ ("SHA-1" | "SHA-256" | "SHA-512") => {
            let order = h
                .salt_order
                .as_deref()
                .unwrap_or("PREFIX")
                .to_ascii_uppercase();
            if order != "PREFIX" && order != "POSTFIX" {
                return Err("saltOrder must be PREFIX or POSTFIX".into());
            }
            let salt = salt()?;
            b64("salt", salt)?;
            let value = b64("value", &h.value)?;
            let (name, len) = match alg {
                "SHA-1" => ("sha1", 20),
                "SHA-256" => ("sha256", 32),
                _ => ("sha512", 64),
            };
            if value.len() != len {
                return Err(format!("value must be a {alg} digest"));
            }
            Ok(format!(
                "$okta-{name}${order}${}${}",
                salt.trim(),
                h.value.trim()
            ))
        }
        "PBKDF2" => {
            let digest = match h
                .digest_algorithm
                .as_deref()
                .unwrap_or("SHA256_HMAC")
                .to_ascii_uppercase()
                .as_str()
            {
                "SHA1_HMAC" => "sha1",
                "SHA256_HMAC" => "sha256",
                "SHA512_HMAC" => "sha512",
                _ => {
                    return Err(
                        "digestAlgorithm must be SHA1_HMAC, SHA256_HMAC or SHA512_HMAC".into(),
                    );
                }
            };
            let iterations = h.iterations.ok_or("iterations is required")?;
            if !(1..=10_000_000).contains(&iterations) {
                return Err("iterations must be from 1 to 10000000".into());
            }
            let salt = salt()?;
            b64("salt", salt)?;
            let value = b64("value", &h.value)?;
            if !(16..=128).contains(&value.len()) {
                return Err("value must be 16 to 128 bytes".into());
            }
            Ok(format!(
                "$okta-pbkdf2-{digest}${iterations}${}${}",
                salt.trim(),
                h.value.trim()
            ))
        }
        other => Err(format!(
            "algorithm '{other}' is not one of BCRYPT, SHA-1, SHA-256, SHA-512, PBKDF2"
        )),
    }
}

/// Whether `stored` is an imported hash (anything that is not argon2).
pub fn is_imported(stored: &str) -> bool {
    stored.starts_with("$2") || stored.starts_with("$okta-")
}

/// Verifies `password` against an imported hash (blocking: run it off the runtime). A
/// malformed stored hash verifies nothing.
pub fn verify(password: &str, stored: &str) -> bool {
    if stored.starts_with("$2") {
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    let parts: Vec<&str> = stored.split('$').collect();
    let [_, kind, param, salt, value] = parts.as_slice() else {
        return false;
    };
    let (Ok(salt), Ok(expected)) = (STANDARD.decode(salt), STANDARD.decode(value)) else {
        return false;
    };
    let pw = password.as_bytes();
    let got: Vec<u8> = match *kind {
        "okta-sha1" | "okta-sha256" | "okta-sha512" => {
            let input: Vec<u8> = if *param == "POSTFIX" {
                [pw, &salt].concat()
            } else {
                [&salt, pw].concat()
            };
            match *kind {
                "okta-sha1" => sha1::Sha1::digest(&input).to_vec(),
                "okta-sha256" => sha2::Sha256::digest(&input).to_vec(),
                _ => sha2::Sha512::digest(&input).to_vec(),
            }
        }
        "okta-pbkdf2-sha1" | "okta-pbkdf2-sha256" | "okta-pbkdf2-sha512" => {
            let Ok(rounds) = param.parse::<u32>() else {
                return false;
            };
            let mut out = vec![0u8; expected.len()];
            match *kind {
                "okta-pbkdf2-sha1" => {
                    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(pw, &salt, rounds, &mut out)
                }
                "okta-pbkdf2-sha256" => {
                    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw, &salt, rounds, &mut out)
                }
                _ => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(pw, &salt, rounds, &mut out),
            }
            out
        }
        _ => return false,
    };
    super::constant_time_eq(&got, &expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn okta(alg: &str) -> OktaHash {
        OktaHash {
            algorithm: alg.into(),
            ..Default::default()
        }
    }

    #[test]
    fn bcrypt_from_its_parts() -> Result<(), Box<dyn std::error::Error>> {
        let full = bcrypt::hash_with_salt("s3cret-pass", 4, *b"0123456789abcdef")?
            .format_for_version(bcrypt::Version::TwoB);
        // "$2b$04$" + 22 salt + 31 value
        let h = OktaHash {
            work_factor: Some(4),
            salt: Some(full[7..29].into()),
            value: full[29..].into(),
            ..okta("BCRYPT")
        };
        let stored = import(&h)?;
        assert!(verify("s3cret-pass", &stored));
        assert!(!verify("s3cret-pasS", &stored));
        Ok(())
    }

    #[test]
    fn salted_sha_both_orders_and_pbkdf2() -> Result<(), String> {
        let salt = b"pepper";
        for (order, input) in [
            ("PREFIX", b"pepperpw1".to_vec()),
            ("POSTFIX", b"pw1pepper".to_vec()),
        ] {
            let h = OktaHash {
                salt: Some(STANDARD.encode(salt)),
                salt_order: Some(order.into()),
                value: STANDARD.encode(sha2::Sha256::digest(&input)),
                ..okta("SHA-256")
            };
            let stored = import(&h)?;
            assert!(verify("pw1", &stored), "{order}");
            assert!(!verify("pw2", &stored));
        }
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(b"pw1", salt, 1000, &mut out);
        let h = OktaHash {
            salt: Some(STANDARD.encode(salt)),
            iterations: Some(1000),
            digest_algorithm: Some("SHA512_HMAC".into()),
            value: STANDARD.encode(out),
            ..okta("PBKDF2")
        };
        let stored = import(&h)?;
        assert!(verify("pw1", &stored));
        assert!(!verify("pw2", &stored));
        assert!(import(&okta("MD4")).is_err());
        Ok(())
    }
}
