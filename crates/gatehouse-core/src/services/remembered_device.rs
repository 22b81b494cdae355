//! "Remember this device" (issue 19): after a factor on a sign-in whose sign-on rule asks
//! with `factorPromptMode: DEVICE`, the browser may keep a cookie that skips the factor for
//! the same person for the rule's `factorLifetime`.
//!
//! The cookie is `<userId>.<issued>.<mac>`: `mac` is a keyed fingerprint
//! ([`crate::crypto::SecretBox::fingerprint`], HMAC-SHA-256 under the encryption key) of the
//! user id, the issue time and the ids of the user's active factors. Nothing is stored, so
//! every node checks it alike, and it stops working:
//! * when the *current* policy's lifetime has passed since `issued` (a shorter lifetime
//!   applies at once), or the policy no longer offers it;
//! * when the person's factors change (reset, removed, a new one enrolled): the factor ids
//!   are in the MAC;
//! * with another encryption key.

use crate::crypto::constant_time_eq;
use crate::domain::{Factor, User};
use crate::provider::Provider;
use crate::services::sign_on_policy;
use crate::store::StoreError;

/// The cookie's name (Okta's device cookie is `DT`).
pub const COOKIE: &str = "gh_device";

fn mac(provider: &Provider, user_id: &str, issued: i64, factors: &[Factor]) -> String {
    let mut ids: Vec<&str> = factors
        .iter()
        .filter(|f| f.is_active())
        .map(|f| f.id.as_str())
        .collect();
    ids.sort_unstable();
    provider.secrets.fingerprint(
        &format!("remembered-device:{user_id}:{issued}"),
        ids.join(",").as_bytes(),
    )
}

/// A new cookie value for `user`, whose active factors are `factors`.
pub fn issue(provider: &Provider, user: &User, factors: &[Factor]) -> String {
    let issued = provider.now();
    format!(
        "{}.{issued}.{}",
        user.id,
        mac(provider, &user.id, issued, factors)
    )
}

/// Whether `cookie` remembers this device for `user` (active factors `factors`), issued less
/// than `lifetime` seconds ago.
pub fn is_remembered(
    provider: &Provider,
    cookie: &str,
    user: &User,
    factors: &[Factor],
    lifetime: i64,
) -> bool {
    let mut parts = cookie.splitn(3, '.');
    let (Some(user_id), Some(issued), Some(given)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(issued) = issued.parse::<i64>() else {
        return false;
    };
    let now = provider.now();
    if user_id != user.id || issued > now || now - issued >= lifetime || factors.is_empty() {
        return false;
    }
    constant_time_eq(
        mac(provider, &user.id, issued, factors).as_bytes(),
        given.as_bytes(),
    )
}

/// What the global session policy offers `user` after a factor (`factorPromptMode: DEVICE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    /// Seconds (`factorLifetime`).
    pub lifetime: i64,
    /// `rememberDeviceByDefault`: the box starts checked.
    pub checked: bool,
}

/// Whether the global session policy lets `user` remember a device after a factor, for how
/// long, and whether the box starts checked.
pub async fn offered_for(provider: &Provider, user: &User) -> Result<Option<Offer>, StoreError> {
    let groups: Vec<String> = provider
        .store
        .list_user_groups(&user.id)
        .await?
        .into_iter()
        .map(|g| g.id)
        .collect();
    let requirement =
        sign_on_policy::evaluate(provider.store.as_ref(), user, &groups, None).await?;
    Ok(requirement.remember_device_for.map(|lifetime| Offer {
        lifetime,
        checked: requirement.remember_device_by_default,
    }))
}

/// After a factor, with "remember this device" ticked: the cookie's value and lifetime, when
/// the policy offers it.
pub async fn remember(
    provider: &Provider,
    user: &User,
) -> Result<Option<(String, i64)>, StoreError> {
    let Some(Offer { lifetime, .. }) = offered_for(provider, user).await? else {
        return Ok(None);
    };
    let factors = crate::services::mfa::active_factors(provider, &user.id).await?;
    if factors.is_empty() {
        return Ok(None);
    }
    Ok(Some((issue(provider, user, &factors), lifetime)))
}
