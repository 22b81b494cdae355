//! One-time recovery codes: ten at a time, shown once, kept only as keyed fingerprints
//! ([`crate::crypto::SecretBox::fingerprint`]), each spent by one conditional `UPDATE`.
//! A sign-in with one is `amr: ["pwd", "mfa"]` (RFC 8176 has no value for recovery codes).

use rand::Rng as _;

use crate::audit::{Actor, Entity};
use crate::domain::User;
use crate::provider::Provider;
use crate::store::StoreError;

/// Codes per set.
pub const COUNT: usize = 10;
/// Characters per code (shown as two groups of five): 10 characters from a 32-letter alphabet
/// are 50 bits, far beyond what the lockout lets anyone guess.
const LENGTH: usize = 10;
/// Lower-case letters and digits without the look-alikes 0/o, 1/l/i.
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// System Log event type of a new set of codes.
pub const EVENT_REGENERATE: &str = "user.mfa.factor.update";

fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn fingerprint(provider: &Provider, user_id: &str, code: &str) -> String {
    provider.secrets.fingerprint(
        &format!("recovery-code:{user_id}"),
        normalize(code).as_bytes(),
    )
}

fn new_code() -> String {
    let mut rng = rand::rng();
    let raw: String = (0..LENGTH)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("{}-{}", &raw[..LENGTH / 2], &raw[LENGTH / 2..])
}

/// Replaces the user's recovery codes with a new set and returns it: the only time the codes
/// exist in clear.
pub async fn regenerate(
    provider: &Provider,
    actor: &Actor,
    user: &User,
) -> Result<Vec<String>, StoreError> {
    let codes: Vec<String> = (0..COUNT).map(|_| new_code()).collect();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| fingerprint(provider, &user.id, c))
        .collect();
    provider
        .store
        .replace_recovery_codes(&user.id, &hashes, provider.now())
        .await?;
    actor
        .record(
            provider,
            EVENT_REGENERATE,
            "Generate MFA recovery codes",
            vec![Entity::user(user)],
        )
        .await;
    Ok(codes)
}

/// Spends `code` if it is one of the user's unused codes; true for exactly one caller.
pub async fn spend(provider: &Provider, user_id: &str, code: &str) -> Result<bool, StoreError> {
    if normalize(code).len() != LENGTH {
        return Ok(false);
    }
    provider
        .store
        .spend_recovery_code(
            user_id,
            &fingerprint(provider, user_id, code),
            provider.now(),
        )
        .await
}

/// How many unused codes the user has left.
pub async fn remaining(provider: &Provider, user_id: &str) -> Result<u64, StoreError> {
    provider.store.count_recovery_codes(user_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_their_shape_and_normalize() {
        let c = new_code();
        assert_eq!(c.len(), LENGTH + 1);
        assert_eq!(&c[5..6], "-");
        assert_eq!(normalize(&c.to_uppercase()), normalize(&c));
        assert_eq!(normalize(" abcde-fghjk "), "abcdefghjk");
        assert_ne!(new_code(), new_code());
    }
}
