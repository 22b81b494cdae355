//! The second step of a sign-in: after the password, a factor (TOTP or a recovery code), or
//! a first enrollment when MFA is required and the user has none.
//!
//! The step is a [`PendingSignIn`] in the database (any node can finish it), reached with a
//! random value only its hash is stored for, bound to the sign-in form's CSRF token (the same
//! token must come in the form and the cookie), with a short lifetime and a small budget of
//! wrong answers; every wrong answer also counts toward the account's lockout. It completes
//! once: the pending row is taken by one conditional `DELETE`.

use crate::audit::{Actor, ClientInfo};
use crate::crypto::{constant_time_eq, random_token, sha256_b64url};
use crate::domain::{FACTOR_TYPE_TOTP, Factor, PendingSignIn, User, UserStatus};
use crate::provider::Provider;
use crate::services::lockout::{self, FactorAttempt};
use crate::services::passwords::lockout_for;
use crate::store::{StoreError, TotpPass, TotpPassOutcome};

use super::{AMR_RECOVERY, AMR_TOTP, MfaError, TotpActivation, recovery_codes, totp};

/// Wrong answers one pending step allows before the sign-in must start again.
pub const MAX_ATTEMPTS: i64 = 5;
/// Longest life of a pending step (seconds); shorter when the login transaction is.
pub const MAX_TTL: i64 = 600;

/// A second step to open: a factor, or (`enroll`) a first factor's enrollment. Which one a
/// sign-in needs is [`crate::services::sign_on_gate::check`]'s answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondStep {
    pub enroll: bool,
}

/// Where a finished second step goes.
#[derive(Debug, Clone, Default)]
pub struct Continuation {
    /// The authorize request's login transaction, resumed.
    pub transaction_id: Option<String>,
    /// A step-up of this existing session (its `amr` is upgraded).
    pub session_hash: Option<String>,
    /// A local page (console, dashboard).
    pub return_to: Option<String>,
}

/// Opens a second step for `user`, bound to `csrf_token`; returns the value the factor form
/// carries (`pending`).
pub async fn begin(
    provider: &Provider,
    user: &User,
    csrf_token: &str,
    step: SecondStep,
    next: Continuation,
) -> Result<String, StoreError> {
    let now = provider.now();
    let token = random_token(32);
    let pending = PendingSignIn {
        id_hash: sha256_b64url(&token),
        user_id: user.id.clone(),
        csrf_hash: sha256_b64url(csrf_token),
        transaction_id: next.transaction_id,
        session_hash: next.session_hash,
        return_to: next.return_to,
        enroll: step.enroll,
        verified_amr: None,
        attempts: 0,
        created: now,
        expires_at: now + provider.lifetimes.login_transaction.clamp(60, MAX_TTL),
    };
    provider.store.create_pending_sign_in(&pending).await?;
    Ok(token)
}

#[derive(Debug, thiserror::Error)]
pub enum ChallengeError {
    /// Unknown, expired or used step, a CSRF mismatch, too many wrong answers, or a user who
    /// may no longer sign in: start again.
    #[error("this sign-in has expired; start again")]
    Invalid,
    /// The answer was wrong (or a replayed code, or the account locked meanwhile): one
    /// message for all, the page is shown again.
    #[error("the code is not valid")]
    Wrong,
    #[error(transparent)]
    Internal(#[from] MfaError),
}

impl From<StoreError> for ChallengeError {
    fn from(e: StoreError) -> Self {
        Self::Internal(MfaError::Store(e))
    }
}

/// A pending step as the factor page shows it.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub pending: PendingSignIn,
    pub user: User,
    /// The user's active factors to choose among.
    pub factors: Vec<Factor>,
    /// For an enrollment: the new TOTP factor's seed, URI and QR code.
    pub enrollment: Option<TotpActivation>,
}

/// Reads a pending step after checking its CSRF binding (`form_csrf` must be the token it
/// was opened with and equal the cookie's).
pub async fn load(
    provider: &Provider,
    client: &ClientInfo,
    token: &str,
    form_csrf: &str,
    cookie_csrf: Option<&str>,
) -> Result<Challenge, ChallengeError> {
    let (pending, user) = pending_for(provider, token, form_csrf, cookie_csrf).await?;
    let all = provider.store.list_factors(&user.id).await?;
    let factors: Vec<Factor> = all.iter().filter(|f| f.is_active()).cloned().collect();
    let enrollment = if pending.enroll && factors.is_empty() {
        let existing = all
            .into_iter()
            .find(|f| f.factor_type == FACTOR_TYPE_TOTP && !f.is_active());
        Some(match existing {
            Some(f) => super::activation(provider, &user, f)?,
            None => {
                super::enroll_totp(provider, &Actor::user(&user, client), &user, "GOOGLE").await?
            }
        })
    } else {
        None
    };
    Ok(Challenge {
        pending,
        user,
        factors,
        enrollment,
    })
}

async fn pending_for(
    provider: &Provider,
    token: &str,
    form_csrf: &str,
    cookie_csrf: Option<&str>,
) -> Result<(PendingSignIn, User), ChallengeError> {
    if token.is_empty() {
        return Err(ChallengeError::Invalid);
    }
    let pending = provider
        .store
        .find_pending_sign_in(&sha256_b64url(token), provider.now())
        .await?
        .ok_or(ChallengeError::Invalid)?;
    let csrf_ok = constant_time_eq(
        sha256_b64url(form_csrf).as_bytes(),
        pending.csrf_hash.as_bytes(),
    ) && cookie_csrf
        .is_some_and(|c| constant_time_eq(c.as_bytes(), form_csrf.as_bytes()));
    if !csrf_ok || pending.attempts >= MAX_ATTEMPTS {
        return Err(ChallengeError::Invalid);
    }
    match provider.store.find_user(&pending.user_id).await? {
        Some(u) if u.status == UserStatus::Active => Ok((pending, u)),
        _ => Err(ChallengeError::Invalid),
    }
}

/// The answer on the factor page.
#[derive(Debug, Clone, Copy)]
pub enum Answer<'a> {
    /// A code of the user's active TOTP factor `factor_id`.
    Totp { factor_id: &'a str, code: &'a str },
    /// One of the user's recovery codes.
    RecoveryCode(&'a str),
    /// The first code of the TOTP factor being enrolled.
    Enroll { code: &'a str },
    /// After the new recovery codes were shown: finish the enrollment's sign-in.
    Continue,
}

/// What a correct answer leads to.
#[derive(Debug, Clone)]
pub enum Passed {
    /// The step is complete: open (or upgrade) the session with `amr`, then `pending`'s
    /// continuation.
    Done {
        pending: Box<PendingSignIn>,
        user: Box<User>,
        amr: Vec<String>,
    },
    /// A new factor was enrolled: show these recovery codes once, then [`Answer::Continue`].
    ShowRecoveryCodes { codes: Vec<String> },
}

/// Checks an answer. Wrong answers are counted on the step (after [`MAX_ATTEMPTS`] it is
/// gone) and toward the account's lockout.
pub async fn answer(
    provider: &Provider,
    client: &ClientInfo,
    token: &str,
    form_csrf: &str,
    cookie_csrf: Option<&str>,
    answer: Answer<'_>,
) -> Result<Passed, ChallengeError> {
    let (pending, user) = pending_for(provider, token, form_csrf, cookie_csrf).await?;
    let outcome: Result<Vec<String>, MfaError> = match answer {
        Answer::Continue => {
            let amr = pending
                .verified_amr
                .clone()
                .ok_or(ChallengeError::Invalid)?;
            return done(provider, pending, user, amr).await;
        }
        _ if pending.verified_amr.is_some() => return Err(ChallengeError::Invalid),
        Answer::Totp { factor_id, code } => {
            if let Some(amr) =
                pass_with_totp(provider, client, &pending, &user, factor_id, code).await?
            {
                return Ok(Passed::Done {
                    pending: Box::new(pending),
                    user: Box::new(user),
                    amr,
                });
            }
            // Wrong, replayed, or refused by the lockout: counted and told apart the usual way.
            match super::verify_totp(provider, client, &user, factor_id, code).await {
                Ok(_) => Ok(owned(&AMR_TOTP)),
                Err(MfaError::NotFound | MfaError::WrongState) => Err(MfaError::InvalidPasscode),
                Err(e) => Err(e),
            }
        }
        Answer::RecoveryCode(code) => {
            if super::active_factors(provider, &user.id).await?.is_empty() {
                // Recovery codes stand in for a factor; without one they open nothing.
                Err(MfaError::InvalidPasscode)
            } else {
                let attempt = lockout::begin_factor_attempt(provider, &user.id).await?;
                let spent = match attempt {
                    FactorAttempt::Refused => Err(MfaError::LockedOut),
                    FactorAttempt::Counted(_) => {
                        match recovery_codes::spend(provider, &user.id, code).await? {
                            true => Ok(()),
                            false => Err(MfaError::InvalidPasscode),
                        }
                    }
                };
                super::finish_attempt(provider, client, &user, None, attempt, &spent).await?;
                spent.map(|()| owned(&AMR_RECOVERY))
            }
        }
        Answer::Enroll { code } => enroll(provider, client, &pending, &user, code).await,
    };
    match outcome {
        Ok(amr) if pending.enroll && matches!(answer, Answer::Enroll { .. }) => {
            let actor = Actor::user(&user, client);
            let codes = recovery_codes::regenerate(provider, &actor, &user).await?;
            if !provider
                .store
                .mark_pending_verified(&pending.id_hash, &amr, provider.now())
                .await?
            {
                return Err(ChallengeError::Invalid);
            }
            Ok(Passed::ShowRecoveryCodes { codes })
        }
        Ok(amr) => done(provider, pending, user, amr).await,
        Err(MfaError::Store(e)) => Err(e.into()),
        Err(MfaError::Sealed) => Err(MfaError::Sealed.into()),
        Err(_) => {
            let n = provider
                .store
                .record_pending_attempt(&pending.id_hash)
                .await?;
            if n >= MAX_ATTEMPTS {
                provider
                    .store
                    .take_pending_sign_in(&pending.id_hash, provider.now())
                    .await?;
                return Err(ChallengeError::Invalid);
            }
            Err(ChallengeError::Wrong)
        }
    }
}

/// A right TOTP code passes the step in one store transaction
/// ([`crate::store::FactorStore::pass_totp_sign_in`]: the pending step taken, the time step
/// spent, the failures cleared, only under the lockout's budget), where counting the attempt,
/// spending the step, clearing the failures and taking the step would be four commits. The
/// code is checked first, in memory (an HMAC); the budget is then checked atomically with the
/// spend, so the account's attempts stay bounded as when each attempt is counted first. `None`
/// when the code does not pass here (wrong, replayed, locked, not active): the caller counts
/// it as an attempt, which also tells those cases apart for the System Log.
async fn pass_with_totp(
    provider: &Provider,
    client: &ClientInfo,
    pending: &PendingSignIn,
    user: &User,
    factor_id: &str,
    code: &str,
) -> Result<Option<Vec<String>>, ChallengeError> {
    let Some(factor) = provider.store.find_factor(&user.id, factor_id).await? else {
        return Ok(None);
    };
    if factor.factor_type != FACTOR_TYPE_TOTP || !factor.is_active() {
        return Ok(None);
    }
    let Ok(secret) = super::open_secret(provider, &factor) else {
        return Ok(None);
    };
    let now = provider.now();
    let Some(step) = totp::matching_step(&secret, code, now) else {
        return Ok(None);
    };
    let max_attempts = lockout_for(provider, &user.id).await?.max_attempts;
    let pass = TotpPass {
        pending_id_hash: &pending.id_hash,
        max_pending_attempts: MAX_ATTEMPTS,
        user_id: &user.id,
        factor_id: &factor.id,
        step,
        max_failures: (max_attempts > 0).then_some(u64::from(max_attempts)),
        now,
    };
    match provider.store.pass_totp_sign_in(&pass).await? {
        TotpPassOutcome::Passed => {
            super::record_outcome(provider, client, user, Some(&factor), &Ok(())).await;
            Ok(Some(owned(&AMR_TOTP)))
        }
        TotpPassOutcome::PendingGone => Err(ChallengeError::Invalid),
        TotpPassOutcome::Refused => Ok(None),
    }
}

/// The first code of the TOTP factor enrolled on this step: activates it (counted like any
/// factor attempt).
async fn enroll(
    provider: &Provider,
    client: &ClientInfo,
    pending: &PendingSignIn,
    user: &User,
    code: &str,
) -> Result<Vec<String>, MfaError> {
    if !pending.enroll {
        return Err(MfaError::WrongState);
    }
    let factor = provider
        .store
        .list_factors(&user.id)
        .await?
        .into_iter()
        .find(|f| f.factor_type == FACTOR_TYPE_TOTP && !f.is_active())
        .ok_or(MfaError::WrongState)?;
    let attempt = lockout::begin_factor_attempt(provider, &user.id).await?;
    let checked = match attempt {
        FactorAttempt::Refused => Err(MfaError::LockedOut),
        FactorAttempt::Counted(_) => super::check_totp(provider, &factor, code, true).await,
    };
    super::finish_attempt(provider, client, user, Some(&factor), attempt, &checked).await?;
    checked?;
    Actor::user(user, client)
        .record(
            provider,
            super::event_type::FACTOR_ACTIVATE,
            "Activate MFA factor",
            vec![
                crate::audit::Entity::user(user),
                super::factor_target(&factor),
            ],
        )
        .await;
    Ok(owned(&AMR_TOTP))
}

async fn done(
    provider: &Provider,
    pending: PendingSignIn,
    user: User,
    amr: Vec<String>,
) -> Result<Passed, ChallengeError> {
    if !provider
        .store
        .take_pending_sign_in(&pending.id_hash, provider.now())
        .await?
    {
        return Err(ChallengeError::Invalid);
    }
    Ok(Passed::Done {
        pending: Box::new(pending),
        user: Box::new(user),
        amr,
    })
}

fn owned(amr: &[&str]) -> Vec<String> {
    amr.iter().map(|s| (*s).to_owned()).collect()
}
