//! Multi-factor authentication (issue 19): users' factors in Okta's vocabulary, shared by the
//! Factors API, the end-user dashboard and the sign-in's second step ([`challenge`]).
//!
//! TOTP seeds are sealed at rest with the encryption key ([`crate::crypto::SecretBox`]), bound
//! to the factor's id; recovery codes are kept as keyed fingerprints ([`recovery_codes`]).
//! Each TOTP code is accepted once: the store records the time step it matched with one
//! conditional `UPDATE` ([`crate::store::FactorStore::use_totp_step`]).

pub mod challenge;
pub mod recovery_codes;
pub mod totp;
pub mod webauthn;
pub mod webauthn_challenge;

use crate::audit::{self, Actor, ClientInfo, Entity, Event};
use crate::crypto::okta_id;
use crate::domain::{FACTOR_TYPE_TOTP, Factor, FactorStatus, User};
use crate::provider::Provider;
use crate::services::lockout;
use crate::store::StoreError;

/// System Log event types of factors (Okta's names).
pub mod event_type {
    /// A factor was set up and waits for its first code (Okta records enrollment as an update
    /// of the user's factors).
    pub const FACTOR_ENROLL: &str = "user.mfa.factor.update";
    pub const FACTOR_ACTIVATE: &str = "user.mfa.factor.activate";
    pub const FACTOR_DEACTIVATE: &str = "user.mfa.factor.deactivate";
    pub const FACTOR_RESET_ALL: &str = "user.mfa.factor.reset_all";
    /// A factor was verified (`SUCCESS`) or refused (`FAILURE`).
    pub const AUTH_VIA_MFA: &str = "user.authentication.auth_via_mfa";
}

/// `amr` of a session completed with a TOTP code (RFC 8176).
pub const AMR_TOTP: [&str; 3] = ["pwd", "otp", "mfa"];
/// `amr` after a recovery code: RFC 8176 has no value for it.
pub const AMR_RECOVERY: [&str; 2] = ["pwd", "mfa"];

/// TOTP providers accepted on enrollment (Okta's `GOOGLE` and Okta Verify's `OKTA` TOTP).
pub const TOTP_PROVIDERS: [&str; 2] = ["GOOGLE", "OKTA"];

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("no such factor")]
    NotFound,
    #[error("the user already has an active factor of this type")]
    AlreadyEnrolled,
    #[error("this factor type or provider is not supported")]
    Unsupported,
    #[error("the factor is not in a state that allows this")]
    WrongState,
    #[error("invalid passcode")]
    InvalidPasscode,
    #[error("the passcode was already used")]
    Replayed,
    /// Locked out (or no longer active): refused without looking at the code.
    #[error("the account is locked")]
    LockedOut,
    #[error("the factor's secret cannot be opened with this encryption key")]
    Sealed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an authenticator app needs to enroll a TOTP factor: shown once on enrollment and
/// while the factor is pending activation.
#[derive(Debug, Clone)]
pub struct TotpActivation {
    pub factor: Factor,
    /// Base32 seed, for typing in by hand.
    pub shared_secret: String,
    pub otpauth_uri: String,
    /// The URI as an inline `<svg>`.
    pub qr_svg: Option<String>,
}

fn seal_context(factor_id: &str) -> String {
    format!("factor:{factor_id}")
}

fn factor_target(f: &Factor) -> Entity {
    Entity::new(f.id.clone(), "Factor").named(None, Some(f.factor_type.clone()))
}

/// The label authenticator apps show above the code.
pub fn issuer_label(provider: &Provider) -> String {
    provider
        .domains
        .org_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "Gatehouse".to_owned())
}

/// Enrolls a TOTP factor (`PENDING_ACTIVATION`) with a new seed. A pending TOTP factor of the
/// user is replaced (a new seed, as Okta does on re-enrollment); an active one is
/// `AlreadyEnrolled`.
pub async fn enroll_totp(
    provider: &Provider,
    actor: &Actor,
    user: &User,
    totp_provider: &str,
) -> Result<TotpActivation, MfaError> {
    if !TOTP_PROVIDERS.contains(&totp_provider) {
        return Err(MfaError::Unsupported);
    }
    for f in provider.store.list_factors(&user.id).await? {
        if f.factor_type == FACTOR_TYPE_TOTP {
            if f.is_active() {
                return Err(MfaError::AlreadyEnrolled);
            }
            match provider.store.delete_factor(&user.id, &f.id).await {
                Ok(()) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let now = provider.now();
    let id = okta_id("uft");
    let secret = totp::generate_secret();
    let factor = Factor {
        secret_sealed: Some(provider.secrets.seal(&seal_context(&id), &secret)),
        id,
        user_id: user.id.clone(),
        factor_type: FACTOR_TYPE_TOTP.to_owned(),
        provider: totp_provider.to_owned(),
        status: FactorStatus::PendingActivation,
        name: "Authenticator app".to_owned(),
        credential_json: None,
        last_used_step: None,
        created: now,
        last_updated: now,
    };
    provider.store.create_factor(&factor).await?;
    actor
        .record(
            provider,
            event_type::FACTOR_ENROLL,
            "Enroll MFA factor (pending activation)",
            vec![Entity::user(user), factor_target(&factor)],
        )
        .await;
    activation(provider, user, factor)
}

/// The enrollment details of a pending TOTP factor (shown again until it is activated).
pub fn activation(
    provider: &Provider,
    user: &User,
    factor: Factor,
) -> Result<TotpActivation, MfaError> {
    if factor.factor_type != FACTOR_TYPE_TOTP || factor.is_active() {
        return Err(MfaError::WrongState);
    }
    let secret = open_secret(provider, &factor)?;
    let uri = totp::otpauth_uri(&issuer_label(provider), &user.login, &secret);
    Ok(TotpActivation {
        factor,
        shared_secret: totp::to_base32(&secret),
        qr_svg: totp::qr_svg(&uri),
        otpauth_uri: uri,
    })
}

pub(crate) fn open_secret(provider: &Provider, factor: &Factor) -> Result<Vec<u8>, MfaError> {
    let sealed = factor.secret_sealed.as_deref().ok_or(MfaError::Sealed)?;
    provider
        .secrets
        .open(&seal_context(&factor.id), sealed)
        .map_err(|_| MfaError::Sealed)
}

/// Checks `code` against a TOTP factor and spends its time step (activating a pending factor
/// when `activate`). `Replayed` for a code (or an older one) used before, `InvalidPasscode`
/// for a wrong one. Does not count failures (see [`verify_totp`]).
pub async fn check_totp(
    provider: &Provider,
    factor: &Factor,
    code: &str,
    activate: bool,
) -> Result<(), MfaError> {
    if factor.factor_type != FACTOR_TYPE_TOTP {
        return Err(MfaError::Unsupported);
    }
    if factor.is_active() == activate {
        return Err(MfaError::WrongState);
    }
    let secret = open_secret(provider, factor)?;
    let now = provider.now();
    let step = totp::matching_step(&secret, code, now).ok_or(MfaError::InvalidPasscode)?;
    if provider
        .store
        .use_totp_step(&factor.user_id, &factor.id, step, activate, now)
        .await?
    {
        Ok(())
    } else {
        Err(MfaError::Replayed)
    }
}

/// Activates a pending TOTP factor with its first code.
pub async fn activate_totp(
    provider: &Provider,
    actor: &Actor,
    user: &User,
    factor_id: &str,
    code: &str,
) -> Result<Factor, MfaError> {
    let factor = find(provider, user, factor_id).await?;
    check_totp(provider, &factor, code, true).await?;
    let factor = find(provider, user, factor_id).await?;
    actor
        .record(
            provider,
            event_type::FACTOR_ACTIVATE,
            "Activate MFA factor",
            vec![Entity::user(user), factor_target(&factor)],
        )
        .await;
    Ok(factor)
}

/// Verifies a code of an active TOTP factor, counting a wrong or replayed code toward the
/// user's lockout exactly as a wrong password, and recording the outcome.
pub async fn verify_totp(
    provider: &Provider,
    client: &ClientInfo,
    user: &User,
    factor_id: &str,
    code: &str,
) -> Result<Factor, MfaError> {
    let factor = find(provider, user, factor_id).await?;
    if !factor.is_active() {
        return Err(MfaError::WrongState);
    }
    let attempt = lockout::begin_factor_attempt(provider, &user.id).await?;
    let outcome = match attempt {
        lockout::FactorAttempt::Refused => Err(MfaError::LockedOut),
        lockout::FactorAttempt::Counted(_) => check_totp(provider, &factor, code, false).await,
    };
    finish_attempt(provider, client, user, Some(&factor), attempt, &outcome).await?;
    outcome.map(|()| factor)
}

/// Closes a counted factor attempt: resets the failures after a success, locks the account
/// when a failure reaches the limit, and records the outcome in the System Log.
pub(crate) async fn finish_attempt(
    provider: &Provider,
    client: &ClientInfo,
    user: &User,
    factor: Option<&Factor>,
    attempt: lockout::FactorAttempt,
    outcome: &Result<(), MfaError>,
) -> Result<(), MfaError> {
    lockout::end_factor_attempt(provider, client, user, attempt, outcome.is_ok()).await?;
    record_outcome(provider, client, user, factor, outcome).await;
    Ok(())
}

/// The System Log event and metric of a factor verification (the lockout's part is done).
pub(crate) async fn record_outcome(
    provider: &Provider,
    client: &ClientInfo,
    user: &User,
    factor: Option<&Factor>,
    outcome: &Result<(), MfaError>,
) {
    let mut event = Event::new(
        event_type::AUTH_VIA_MFA,
        "Authentication of user via MFA",
        Entity::user(user),
    )
    .target(Entity::user(user))
    .client(client)
    .debug(
        "factor",
        factor.map_or("RECOVERY_CODE".to_owned(), |f| f.factor_type.clone()),
    );
    if let Some(f) = factor {
        event = event.target(factor_target(f));
    }
    match outcome {
        Ok(()) => {
            metrics::counter!("gatehouse_factor_verifications_total", "outcome" => "success")
                .increment(1);
        }
        Err(e) => {
            let why = match e {
                MfaError::Replayed => "PASSCODE_REPLAYED",
                MfaError::LockedOut => crate::audit::reason::LOCKED_OUT,
                _ => "INVALID_CREDENTIALS",
            };
            event = event.failure(why);
            metrics::counter!("gatehouse_factor_verifications_total", "outcome" => "failure")
                .increment(1);
        }
    }
    audit::record(provider, event).await;
}

/// The user's factor `factor_id`, or `NotFound`.
pub async fn find(provider: &Provider, user: &User, factor_id: &str) -> Result<Factor, MfaError> {
    provider
        .store
        .find_factor(&user.id, factor_id)
        .await?
        .ok_or(MfaError::NotFound)
}

/// The user's factors that can be used to sign in.
pub async fn active_factors(provider: &Provider, user_id: &str) -> Result<Vec<Factor>, StoreError> {
    let all = provider.store.list_factors(user_id).await?;
    Ok(all.into_iter().filter(Factor::is_active).collect())
}

/// Removes one factor (Okta's `DELETE …/factors/{id}`). Removing the user's last active
/// factor also drops their recovery codes, which only stand in for a factor.
pub async fn delete_factor(
    provider: &Provider,
    actor: &Actor,
    user: &User,
    factor_id: &str,
) -> Result<(), MfaError> {
    let factor = find(provider, user, factor_id).await?;
    match provider.store.delete_factor(&user.id, factor_id).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(MfaError::NotFound),
        Err(e) => return Err(e.into()),
    }
    if active_factors(provider, &user.id).await?.is_empty() {
        provider
            .store
            .replace_recovery_codes(&user.id, &[], provider.now())
            .await?;
    }
    actor
        .record(
            provider,
            event_type::FACTOR_DEACTIVATE,
            "Reset MFA factor",
            vec![Entity::user(user), factor_target(&factor)],
        )
        .await;
    Ok(())
}

/// Removes every factor and recovery code of the user (the console's "reset all factors").
pub async fn reset_factors(
    provider: &Provider,
    actor: &Actor,
    user: &User,
) -> Result<usize, MfaError> {
    let gone = provider.store.delete_user_factors(&user.id).await?;
    let mut event = Event::new(
        event_type::FACTOR_RESET_ALL,
        "Reset all MFA factors for user",
        actor.entity.clone(),
    )
    .target(Entity::user(user))
    .client(&actor.client)
    .debug("factorsReset", gone.len());
    for f in &gone {
        event = event.target(factor_target(f));
    }
    audit::record(provider, event).await;
    Ok(gone.len())
}

/// Checks the signed-in user's password again before a change to their factors (the
/// dashboard). Counted like any sign-in attempt toward the lockout; false for a wrong one.
pub async fn reauthenticate(
    provider: &Provider,
    client: &ClientInfo,
    user: &User,
    password: &str,
) -> Result<bool, MfaError> {
    let attempt = lockout::begin_factor_attempt(provider, &user.id).await?;
    if attempt == lockout::FactorAttempt::Refused {
        return Ok(false);
    }
    let fresh = provider.store.find_user(&user.id).await?;
    let hash = fresh.and_then(|u| u.password_hash);
    let ok = crate::crypto::verify_password(password.to_owned(), hash)
        .await
        .unwrap_or(false);
    lockout::end_factor_attempt(provider, client, user, attempt, ok).await?;
    Ok(ok)
}
