use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

/// An Okta-style object id: a 3-character type prefix (`00u` user, `00g` group, `0oa` app,
/// `aus` authorization server) followed by 17 random alphanumerics, 20 characters in all.
pub fn okta_id(prefix: &str) -> String {
    let mut rng = rand::rng();
    let tail: String = (0..17).map(|_| rng.sample(Alphanumeric) as char).collect();
    format!("{prefix}{tail}")
}

/// `bytes` random bytes from the OS-seeded CSPRNG, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(buf.as_mut_slice());
    URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256, base64url without padding: how codes, refresh tokens, sessions and API tokens are
/// stored (they are high-entropy, so a fast hash is enough).
pub fn sha256_b64url(input: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(input.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_okta_shape() {
        let id = okta_id("00u");
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("00u"));
        assert_ne!(okta_id("00u"), okta_id("00u"));
    }

    #[test]
    fn tokens_are_url_safe_and_unique() {
        let t = random_token(32);
        assert_eq!(t.len(), 43);
        assert!(
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(t, random_token(32));
    }
}
