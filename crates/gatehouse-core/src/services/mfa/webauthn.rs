//! WebAuthn factors (passkeys and security keys) over the `webauthn-rs` crate: the relying
//! party, enrollment and the factor challenge. No CBOR or COSE is parsed here.
//!
//! - **Relying party.** The RP id is the host of the org's public origin (the configured
//!   `public_url`, or the configured custom domain a request came in on; the request's own
//!   origin only without a public URL, in development), and that origin is the only one whose
//!   responses are accepted. An IP address cannot be an RP id: WebAuthn needs a host name
//!   (`localhost` works for development).
//! - **Kind of credential.** A second factor after the password (`webauthn-rs`'s
//!   "security key" ceremonies): platform and roaming authenticators alike, user verification
//!   *preferred* (recorded as `amr` `user` when the authenticator did it), and discoverable
//!   (resident) credentials allowed and asked for (`residentKey: preferred`).
//! - **Ceremony state** (the challenge and what it allows) is kept in the database between the
//!   begin and finish requests ([`crate::store::WebauthnStore`]), bound to the session
//!   (enrollment) or to the pending sign-in (challenge), for [`CEREMONY_TTL`] seconds, and is
//!   taken by the finish request: it can be answered once, on any node.
//! - **Credentials** are factors (`factor_type` `webauthn`, provider `FIDO`) with the
//!   serialised credential in `credential_json`; each use advances the signature counter and
//!   the backup state in one conditional statement, so a replayed or cloned authenticator's
//!   counter is refused even when two answers race.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
/// The browser's answers and the relying party, as the web layer handles them.
pub use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential, Webauthn};
use webauthn_rs::prelude::{
    SecurityKey, SecurityKeyAuthentication, SecurityKeyRegistration, Url, Uuid, WebauthnBuilder,
};

use crate::audit::{Actor, Entity};
use crate::crypto::okta_id;
use crate::domain::{FACTOR_TYPE_WEBAUTHN, Factor, FactorStatus, User};
use crate::provider::Provider;
use crate::store::{CeremonyPurpose, StoreError, WebauthnCeremony};

/// Okta's `provider` of WebAuthn factors.
pub const PROVIDER_FIDO: &str = "FIDO";
/// How long a begun ceremony can be finished (seconds); the browser is told the same.
pub const CEREMONY_TTL: i64 = 300;
/// The name a credential gets when the person gives none.
pub const DEFAULT_NAME: &str = "Passkey";
/// Longest credential name kept.
const MAX_NAME_CHARS: usize = 100;

/// Why a WebAuthn step failed.
#[derive(Debug, thiserror::Error)]
pub enum WebauthnFailure {
    /// The origin cannot be a relying party (an IP address, no host).
    #[error("this address cannot be used for passkeys: {0}")]
    Origin(String),
    /// No ceremony to finish: never begun, already finished, expired, or begun by another
    /// session or sign-in.
    #[error("the passkey request has expired or was already used; start again")]
    NoCeremony,
    /// The browser's answer did not verify (wrong origin or challenge, bad signature, a
    /// counter that went backwards, a credential not enrolled).
    #[error("the passkey answer was not accepted")]
    Rejected,
    /// The user has no active WebAuthn factor to be challenged with.
    #[error("no passkey is enrolled")]
    NoCredentials,
    /// The credential is already enrolled for this user.
    #[error("this passkey is already enrolled")]
    AlreadyEnrolled,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// State that does not (de)serialise: a bug or a stored row from an incompatible version.
    #[error("passkey state: {0}")]
    State(String),
}

/// The relying party for a request that came in on `origin` (`scheme://host[:port]`, already
/// one of the org's own origins).
pub fn relying_party(origin: &str, rp_name: &str) -> Result<Webauthn, WebauthnFailure> {
    let url = Url::parse(origin).map_err(|_| WebauthnFailure::Origin(origin.to_owned()))?;
    let Some(rp_id) = url.domain().map(str::to_owned) else {
        return Err(WebauthnFailure::Origin(origin.to_owned()));
    };
    let name = if rp_name.trim().is_empty() {
        rp_id.as_str()
    } else {
        rp_name
    };
    WebauthnBuilder::new(&rp_id, &url)
        .and_then(|b| {
            b.rp_name(name)
                .timeout(std::time::Duration::from_secs(CEREMONY_TTL.unsigned_abs()))
                .build()
        })
        .map_err(|_| WebauthnFailure::Origin(origin.to_owned()))
}

/// The user handle the authenticator keeps: derived from the user id (so every credential of
/// a user carries the same one), and revealing nothing about it.
fn user_handle(user: &User) -> Uuid {
    let digest = Sha256::digest(format!("gatehouse-webauthn-user:{}", user.id).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid_v8(bytes)
}

/// A version-8 (custom) UUID over `bytes`.
fn uuid_v8(mut bytes: [u8; 16]) -> Uuid {
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

/// The credential of a WebAuthn factor, if it is one and its JSON reads.
pub fn credential_of(factor: &Factor) -> Option<SecurityKey> {
    if factor.factor_type != FACTOR_TYPE_WEBAUTHN {
        return None;
    }
    serde_json::from_str(factor.credential_json.as_deref()?).ok()
}

/// Okta's `profile` of a WebAuthn factor: `credentialId` (base64url) and `authenticatorName`.
pub fn profile(factor: &Factor) -> Value {
    let credential_id = credential_of(factor)
        .map(|c| URL_SAFE_NO_PAD.encode(c.cred_id().as_ref() as &[u8]))
        .unwrap_or_default();
    serde_json::json!({
        "credentialId": credential_id,
        "authenticatorName": factor.name,
    })
}

/// The session `amr` after a WebAuthn factor (RFC 8176): the password, a hardware-bound key,
/// several factors, and `user` when the authenticator verified the person (PIN, biometrics).
pub fn amr(user_verified: bool) -> Vec<String> {
    let mut amr: Vec<String> = ["pwd", "hwk", "mfa"].map(String::from).to_vec();
    if user_verified {
        amr.push("user".into());
    }
    amr
}

async fn webauthn_factors(provider: &Provider, user: &User) -> Result<Vec<Factor>, StoreError> {
    Ok(provider
        .store
        .list_factors(&user.id)
        .await?
        .into_iter()
        .filter(|f| f.factor_type == FACTOR_TYPE_WEBAUTHN)
        .collect())
}

/// Options as `webauthn-rs` made them, adjusted for what a second factor here allows: no
/// `hints` (they would steer browsers to one kind of authenticator; any kind is welcome), no
/// `credProtect` request (Chromium refuses `userVerificationRequired` unless user verification
/// is required, and it is only preferred here; `webauthn-rs` asked without enforcing it) and,
/// at enrollment, a discoverable credential preferred. None of these is part of what is
/// verified.
fn browser_options(mut options: Value, enrolling: bool) -> Value {
    if let Some(public_key) = options.get_mut("publicKey").and_then(Value::as_object_mut) {
        public_key.remove("hints");
        if let Some(ext) = public_key
            .get_mut("extensions")
            .and_then(Value::as_object_mut)
        {
            ext.remove("credentialProtectionPolicy");
            ext.remove("enforceCredentialProtectionPolicy");
        }
        if enrolling
            && let Some(sel) = public_key
                .get_mut("authenticatorSelection")
                .and_then(Value::as_object_mut)
        {
            sel.insert("residentKey".into(), Value::String("preferred".into()));
            sel.insert("requireResidentKey".into(), Value::Bool(false));
        }
    }
    options
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, WebauthnFailure> {
    serde_json::to_string(value).map_err(|e| WebauthnFailure::State(e.to_string()))
}

async fn store_ceremony(
    provider: &Provider,
    user: &User,
    binding: &str,
    purpose: CeremonyPurpose,
    state_json: String,
) -> Result<(), WebauthnFailure> {
    let now = provider.now();
    provider
        .store
        .put_webauthn_ceremony(&WebauthnCeremony {
            binding_hash: binding_hash(binding),
            purpose,
            user_id: user.id.clone(),
            state_json,
            created: now,
            expires_at: now + CEREMONY_TTL,
        })
        .await?;
    Ok(())
}

/// Takes the user's ceremony bound to `binding`: gone afterwards whatever the answer.
async fn take_ceremony(
    provider: &Provider,
    user: &User,
    binding: &str,
    purpose: CeremonyPurpose,
) -> Result<String, WebauthnFailure> {
    let taken = provider
        .store
        .take_webauthn_ceremony(&binding_hash(binding), purpose, provider.now())
        .await?;
    match taken {
        Some(c) if c.user_id == user.id => Ok(c.state_json),
        _ => Err(WebauthnFailure::NoCeremony),
    }
}

/// Ceremonies are stored under a hash of what they are bound to, never the value itself.
fn binding_hash(binding: &str) -> String {
    crate::crypto::sha256_b64url(&format!("webauthn-ceremony:{binding}"))
}

/// Begins enrolling a credential for `user`, bound to `session` (the session cookie's value);
/// returns the `PublicKeyCredentialCreationOptions` for `navigator.credentials.create`.
/// Credentials the user already has are excluded, so one authenticator is enrolled once.
pub async fn begin_registration(
    provider: &Provider,
    rp: &Webauthn,
    user: &User,
    session: &str,
) -> Result<Value, WebauthnFailure> {
    let exclude = webauthn_factors(provider, user)
        .await?
        .iter()
        .filter_map(credential_of)
        .map(|c| c.cred_id().clone())
        .collect::<Vec<_>>();
    let display = user.full_name();
    let display = if display.is_empty() {
        user.login.as_str()
    } else {
        display.as_str()
    };
    let (options, state) = rp
        .start_securitykey_registration(
            user_handle(user),
            &user.login,
            display,
            Some(exclude),
            None,
            None,
        )
        .map_err(|e| WebauthnFailure::State(e.to_string()))?;
    store_ceremony(
        provider,
        user,
        session,
        CeremonyPurpose::Register,
        to_json(&state)?,
    )
    .await?;
    let options =
        serde_json::to_value(&options).map_err(|e| WebauthnFailure::State(e.to_string()))?;
    Ok(browser_options(options, true))
}

/// Finishes the enrollment begun with the same `session`: verifies the browser's answer,
/// stores the credential as an ACTIVE factor named `name`, and records the activation in the
/// System Log with `actor` (the signed-in person).
pub async fn finish_registration(
    provider: &Provider,
    actor: &Actor,
    rp: &Webauthn,
    user: &User,
    session: &str,
    name: &str,
    response: &RegisterPublicKeyCredential,
) -> Result<Factor, WebauthnFailure> {
    let state_json = take_ceremony(provider, user, session, CeremonyPurpose::Register).await?;
    let state: SecurityKeyRegistration =
        serde_json::from_str(&state_json).map_err(|e| WebauthnFailure::State(e.to_string()))?;
    let key = rp
        .finish_securitykey_registration(response, &state)
        .map_err(|e| {
            tracing::info!(error = %e, "WebAuthn registration refused");
            WebauthnFailure::Rejected
        })?;
    let existing = webauthn_factors(provider, user).await?;
    if existing
        .iter()
        .filter_map(credential_of)
        .any(|c| c.cred_id() == key.cred_id())
    {
        return Err(WebauthnFailure::AlreadyEnrolled);
    }
    let now = provider.now();
    let factor = Factor {
        id: okta_id("fwf"),
        user_id: user.id.clone(),
        factor_type: FACTOR_TYPE_WEBAUTHN.into(),
        provider: PROVIDER_FIDO.into(),
        status: FactorStatus::Active,
        name: clean_name(name),
        secret_sealed: None,
        credential_json: Some(to_json(&key)?),
        last_used_step: None,
        created: now,
        last_updated: now,
    };
    provider.store.create_factor(&factor).await?;
    actor
        .record(
            provider,
            super::event_type::FACTOR_ACTIVATE,
            "Activate MFA factor",
            vec![Entity::user(user), super::factor_target(&factor)],
        )
        .await;
    Ok(factor)
}

/// A credential name as shown in lists: trimmed, control characters dropped, at most
/// [`MAX_NAME_CHARS`] characters, [`DEFAULT_NAME`] when nothing is left.
pub fn clean_name(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    if cleaned.trim().is_empty() {
        DEFAULT_NAME.into()
    } else {
        cleaned.trim().to_owned()
    }
}

/// Begins the factor challenge with the user's active WebAuthn credentials, bound to
/// `pending` (the pending sign-in's value); returns the `PublicKeyCredentialRequestOptions`
/// for `navigator.credentials.get`.
pub async fn begin_authentication(
    provider: &Provider,
    rp: &Webauthn,
    user: &User,
    pending: &str,
) -> Result<Value, WebauthnFailure> {
    let keys: Vec<SecurityKey> = webauthn_factors(provider, user)
        .await?
        .iter()
        .filter(|f| f.is_active())
        .filter_map(credential_of)
        .collect();
    if keys.is_empty() {
        return Err(WebauthnFailure::NoCredentials);
    }
    let (options, state) = rp
        .start_securitykey_authentication(&keys)
        .map_err(|e| WebauthnFailure::State(e.to_string()))?;
    store_ceremony(
        provider,
        user,
        pending,
        CeremonyPurpose::Authenticate,
        to_json(&state)?,
    )
    .await?;
    let options =
        serde_json::to_value(&options).map_err(|e| WebauthnFailure::State(e.to_string()))?;
    Ok(browser_options(options, false))
}

/// A verified WebAuthn answer.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The factor used, with its updated credential.
    pub factor: Factor,
    /// The authenticator verified the person (PIN, biometrics): `amr` gets `user`.
    pub user_verified: bool,
}

/// Finishes the challenge begun with the same `pending`: verifies the assertion against the
/// stored state, then advances the credential's counter and backup state. Any failure after
/// the ceremony was found is [`WebauthnFailure::Rejected`]; the caller counts it toward the
/// lockout.
pub async fn finish_authentication(
    provider: &Provider,
    rp: &Webauthn,
    user: &User,
    pending: &str,
    response: &PublicKeyCredential,
) -> Result<Verified, WebauthnFailure> {
    let state_json = take_ceremony(provider, user, pending, CeremonyPurpose::Authenticate).await?;
    let state: SecurityKeyAuthentication =
        serde_json::from_str(&state_json).map_err(|e| WebauthnFailure::State(e.to_string()))?;
    let result = rp
        .finish_securitykey_authentication(response, &state)
        .map_err(|e| {
            tracing::info!(error = %e, "WebAuthn assertion refused");
            WebauthnFailure::Rejected
        })?;
    let factors = webauthn_factors(provider, user).await?;
    let (mut factor, mut key) = factors
        .into_iter()
        .filter(|f| f.is_active())
        .find_map(|f| {
            let key = credential_of(&f)?;
            (key.cred_id() == result.cred_id()).then_some((f, key))
        })
        .ok_or(WebauthnFailure::Rejected)?;
    key.update_credential(&result);
    let credential_json = to_json(&key)?;
    let now = provider.now();
    let applied = provider
        .store
        .record_webauthn_use(
            &user.id,
            &factor.id,
            result.counter(),
            &credential_json,
            now,
        )
        .await?;
    if !applied {
        tracing::warn!(factor = %factor.id, "WebAuthn counter did not advance: replay or cloned authenticator");
        return Err(WebauthnFailure::Rejected);
    }
    factor.credential_json = Some(credential_json);
    factor.last_used_step = Some(i64::from(result.counter()));
    factor.last_updated = now;
    Ok(Verified {
        factor,
        user_verified: result.user_verified(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relying_party_is_the_origin_host() {
        assert!(relying_party("https://login.example.org", "Example").is_ok());
        assert!(relying_party("http://localhost:8080", "").is_ok());
        assert!(matches!(
            relying_party("http://127.0.0.1:8080", ""),
            Err(WebauthnFailure::Origin(_))
        ));
        assert!(matches!(
            relying_party("not a url", ""),
            Err(WebauthnFailure::Origin(_))
        ));
    }

    #[test]
    fn amr_says_user_only_when_verified() {
        assert_eq!(amr(false), ["pwd", "hwk", "mfa"]);
        assert_eq!(amr(true), ["pwd", "hwk", "mfa", "user"]);
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("  YubiKey 5 \n"), "YubiKey 5");
        assert_eq!(clean_name("\u{7}"), DEFAULT_NAME);
        assert_eq!(clean_name(&"x".repeat(500)).chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn options_allow_any_authenticator() {
        let rp = relying_party("https://login.example.org", "Example").ok();
        let Some(rp) = rp else {
            unreachable!("a host name is a valid relying party")
        };
        let Ok((ccr, _)) = rp.start_securitykey_registration(
            uuid_v8([7; 16]),
            "a@example.org",
            "A",
            None,
            None,
            None,
        ) else {
            unreachable!("registration options")
        };
        let v = browser_options(serde_json::to_value(&ccr).unwrap_or_default(), true);
        let pk = &v["publicKey"];
        assert_eq!(pk["rp"]["id"], "login.example.org");
        assert!(pk.get("hints").is_none());
        assert!(pk["extensions"].get("credentialProtectionPolicy").is_none());
        assert_eq!(pk["authenticatorSelection"]["residentKey"], "preferred");
        assert_eq!(
            pk["authenticatorSelection"]["userVerification"],
            "preferred"
        );
        assert!(
            pk["authenticatorSelection"]
                .get("authenticatorAttachment")
                .is_none()
        );
    }
}
