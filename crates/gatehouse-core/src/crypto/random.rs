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

/// The alphanumerics in ASCII order, so that a string of them sorts as the number it spells.
const SORTED_ALPHANUMERICS: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The clock's milliseconds since the epoch in 8 sortable base-62 digits (they last until
/// the year 8888).
fn push_time_digits(out: &mut String) {
    let mut ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let mut digits = [b'0'; 8];
    for digit in digits.iter_mut().rev() {
        *digit = SORTED_ALPHANUMERICS[(ms % 62) as usize];
        ms /= 62;
    }
    out.extend(digits.iter().map(|&d| char::from(d)));
}

/// [`okta_id`]'s shape for ids that key rows written on every token response (grants): the
/// first 8 of the 17 characters are the time, so later ids sort after earlier ones and the
/// indexes on them grow at their end (a commit dirties a page or two of each, not a random page
/// per row, as the System Log's version-7 uuids); 9 random alphanumerics (53 bits) follow, so
/// two ids clash only if made in the same millisecond, and then with odds of 1 in 10^16.
pub fn time_ordered_okta_id(prefix: &str) -> String {
    let mut rng = rand::rng();
    let mut id = String::with_capacity(prefix.len() + 17);
    id.push_str(prefix);
    push_time_digits(&mut id);
    id.extend((0..9).map(|_| rng.sample(Alphanumeric) as char));
    id
}

/// An access token's `jti`: `AT.` and 43 characters, as Okta's, of which the first 8 are the
/// time (see [`time_ordered_okta_id`]: the `access_tokens` key grows at its end) and the other
/// 35 are 26 random bytes, base64url.
pub fn access_token_jti() -> String {
    let mut jti = String::with_capacity(46);
    jti.push_str("AT.");
    push_time_digits(&mut jti);
    jti.push_str(&random_token(26));
    jti
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
    fn time_ordered_ids_keep_the_shape_and_sort_by_time() {
        let first = time_ordered_okta_id("oag");
        assert_eq!(first.len(), 20);
        assert!(first.starts_with("oag"));
        assert!(first.chars().all(|c| c.is_ascii_alphanumeric()));
        std::thread::sleep(std::time::Duration::from_millis(2));
        let later = time_ordered_okta_id("oag");
        assert!(later > first, "{later} should sort after {first}");
        assert_ne!(time_ordered_okta_id("oag"), time_ordered_okta_id("oag"));

        let jti = access_token_jti();
        assert_eq!(jti.len(), 46);
        assert!(jti.starts_with("AT."));
        assert!(
            jti[3..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(access_token_jti()[..11] > jti[..11]);
        assert_ne!(access_token_jti(), access_token_jti());
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
