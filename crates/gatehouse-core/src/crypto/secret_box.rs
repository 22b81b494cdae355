//! Encryption at rest for signing keys and client secrets: AES-256-GCM under a key that comes
//! from the config or environment (or is generated into the data directory on first start).

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::Rng as _;

const VERSION_PREFIX: &str = "v1.";

#[derive(Debug, thiserror::Error)]
pub enum SecretBoxError {
    #[error("the encryption key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value does not open with this encryption key")]
    WrongKey,
}

pub struct SecretBox {
    key: LessSafeKey,
    /// For [`SecretBox::fingerprint`]: derived from the encryption key, never the key itself.
    fingerprint_key: hmac::Key,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// A new random key, base64 (standard alphabet), for writing to the key file.
    pub fn generate_key() -> String {
        let mut key = [0u8; 32];
        rand::rng().fill(&mut key);
        STANDARD.encode(key)
    }

    pub fn from_base64(key_b64: &str) -> Result<Self, SecretBoxError> {
        let raw = STANDARD
            .decode(key_b64.trim())
            .map_err(|_| SecretBoxError::BadKey)?;
        let unbound = UnboundKey::new(&AES_256_GCM, &raw).map_err(|_| SecretBoxError::BadKey)?;
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &raw),
            b"gatehouse fingerprint key v1",
        );
        Ok(Self {
            key: LessSafeKey::new(unbound),
            fingerprint_key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        })
    }

    /// A keyed fingerprint of a secret (HMAC-SHA256 under a key derived from this box's key,
    /// base64url): it identifies a value to whoever holds the value, but without the server's
    /// key nobody can test guesses against it offline, as they could against a plain hash.
    pub fn fingerprint(&self, context: &str, value: &[u8]) -> String {
        let mut ctx = hmac::Context::with_key(&self.fingerprint_key);
        ctx.update(context.as_bytes());
        ctx.update(&[0]);
        ctx.update(value);
        URL_SAFE_NO_PAD.encode(ctx.sign().as_ref())
    }

    /// `v1.` + base64url(nonce ‖ ciphertext ‖ tag). `context` is bound as associated data so a
    /// sealed value cannot be moved to another column or record.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill(&mut nonce);
        let mut buf = plaintext.to_vec();
        // Sealing with a valid key and a fresh nonce cannot fail; an error would mean a bug in
        // aws-lc, and an empty value is then detected on open.
        if self
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .is_err()
        {
            buf.clear();
        }
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        format!("{VERSION_PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, SecretBoxError> {
        let body = sealed
            .strip_prefix(VERSION_PREFIX)
            .ok_or(SecretBoxError::Malformed)?;
        let raw = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SecretBoxError::Malformed)?;
        if raw.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SecretBoxError::Malformed);
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretBoxError::Malformed)?;
        let mut buf = ct.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| SecretBoxError::WrongKey)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_roundtrip_and_binding() -> Result<(), SecretBoxError> {
        let b = SecretBox::from_base64(&SecretBox::generate_key())?;
        let sealed = b.seal("app:1", b"s3cret");
        assert_eq!(b.open("app:1", &sealed)?, b"s3cret");
        assert!(matches!(
            b.open("app:2", &sealed),
            Err(SecretBoxError::WrongKey)
        ));
        let other = SecretBox::from_base64(&SecretBox::generate_key())?;
        assert!(matches!(
            other.open("app:1", &sealed),
            Err(SecretBoxError::WrongKey)
        ));
        assert!(matches!(
            b.open("app:1", "garbage"),
            Err(SecretBoxError::Malformed)
        ));
        Ok(())
    }
}
