//! Password sign-in with Okta's password-policy lockout: after `max_attempts` consecutive
//! failures the user is `LOCKED_OUT` until an administrator unlocks them or, when
//! `auto_unlock_minutes` is set, until that much time has passed. The counters live in the
//! database, so the budget holds across nodes.
//!
//! Every refusal looks the same to the person signing in (the caller shows one generic
//! message, Okta's default `showLockoutFailures: false`): an unknown login, a wrong password
//! and a locked account cannot be told apart, and an unknown login still costs one argon2
//! verification. The System Log records the real reason for administrators.

use crate::audit::{self, ClientInfo, Entity, Event, Severity, event_type, reason};
use crate::crypto::verify_password;
use crate::domain::{User, UserStatus};
use crate::oauth2::OAuthError;
use crate::provider::Provider;
pub use crate::services::lockout_policy::{DEFAULT_MAX_ATTEMPTS, LockoutPolicy};
use crate::services::{password_migration, passwords};

/// Checks a login and password. `Some(user)` for an active user with the right password;
/// `None` for every kind of refusal (the reason goes to the System Log only).
///
/// Each attempt on an active account is counted in the database *before* the password is
/// verified, and the account is read again after: however many guesses arrive at once, on
/// however many nodes, at most `max_attempts` of them are ever judged, and one that was in
/// flight when the account locked is refused even with the right password.
pub async fn verify_sign_in(
    provider: &Provider,
    client: &ClientInfo,
    login: &str,
    password: &str,
) -> Result<Option<User>, OAuthError> {
    Ok(
        match check_sign_in(provider, client, login, password).await? {
            SignInCheck::Accepted(user) => Some(user),
            SignInCheck::PasswordExpired(_) | SignInCheck::Refused => None,
        },
    )
}

/// What [`check_sign_in`] found.
#[derive(Debug)]
pub enum SignInCheck {
    /// An active user with the right password.
    Accepted(User),
    /// The right password, but it has expired (`lifecycle/expire_password`, or older than the
    /// policy's `maxAgeDays`): the caller asks for a new one (through
    /// [`crate::services::passwords::change::change_password`]) before anything else.
    PasswordExpired(User),
    /// Every kind of refusal, told apart only in the System Log.
    Refused,
}

/// [`verify_sign_in`], telling an expired password apart. The lockout settings are those of
/// the user's `PASSWORD` policy (see [`crate::services::passwords`]).
pub async fn check_sign_in(
    provider: &Provider,
    client: &ClientInfo,
    login: &str,
    password: &str,
) -> Result<SignInCheck, OAuthError> {
    let now = provider.now();
    let mut user = provider.store.find_user_by_login(login.trim()).await?;
    let policy = match &user {
        Some(u) => passwords::lockout_for(provider, &u.id).await?,
        None => provider.lockout,
    };
    if let Some(u) = user.as_mut() {
        auto_unlock_if_due(provider, client, policy, u, now).await?;
    }
    // An imported user whose password is still only at the source org is checked there
    // first: a source that cannot answer is an error, counted as nothing.
    let migrated = match &user {
        Some(u) => password_migration::check(provider, u, password).await?,
        None => None,
    };
    let counting = policy.max_attempts > 0;
    let attempt = match &user {
        Some(u)
            if counting && matches!(u.status, UserStatus::Active | UserStatus::PasswordExpired) =>
        {
            Some(provider.store.record_signin_failure(&u.id, now).await?)
        }
        _ => None,
    };
    // A user from LDAP (or a login unknown here, when LDAP is configured) is judged by the
    // directory, an imported user still migrating by the source org; everyone else by their
    // hash.
    let delegated = match migrated {
        Some(_) => None,
        None => {
            crate::services::ldap::sign_in::check_password(
                provider,
                client,
                login.trim(),
                password,
                &mut user,
                attempt.is_some(),
            )
            .await?
        }
    };
    let password_ok = match migrated.or(delegated) {
        Some(accepted) => accepted,
        None => {
            let hash = user.as_ref().and_then(|u| u.password_hash.clone());
            verify_password(password.to_owned(), hash)
                .await
                .map_err(OAuthError::internal)?
        }
    };
    let session_start = |actor: Entity| {
        let event = Event::new(event_type::SESSION_START, "User login to Okta", actor)
            .client(client)
            .debug("requestUri", "/login");
        match delegated {
            Some(_) => event.debug(
                "signInSource",
                crate::services::ldap::sign_in::SIGN_IN_SOURCE,
            ),
            None => event,
        }
    };
    let Some(mut user) = user else {
        let event =
            session_start(Entity::unknown_user(login.trim())).failure(reason::VERIFICATION_ERROR);
        metrics::counter!("gatehouse_sign_ins_total", "outcome" => "unknown_user").increment(1);
        audit::record(provider, event).await;
        return Ok(SignInCheck::Refused);
    };
    let over_budget = attempt.is_some_and(|n| n > u64::from(policy.max_attempts));
    // `record_login` clears the failure counter in its own commit when it records the sign-in.
    let mut counter_cleared = false;
    if user.status == UserStatus::Active && password_ok && !over_budget {
        // The account may have been locked or deactivated while the hash was being verified:
        // the sign-in is recorded only if it is still ACTIVE, in one statement.
        match provider.store.record_login(&user.id, now).await? {
            Some(fresh) => {
                user = fresh;
                counter_cleared = true;
            }
            None => match provider.store.find_user(&user.id).await? {
                Some(changed) => user = changed,
                None => return Ok(SignInCheck::Refused),
            },
        }
    }
    if password_ok && !over_budget && user.password_hash.as_deref().is_some_and(needs_rehash) {
        rehash(provider, &user, password).await?;
    }
    match user.status {
        UserStatus::Active if password_ok && !over_budget => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "success").increment(1);
            if counting && !counter_cleared {
                provider.store.reset_signin_failures(&user.id).await?;
            }
            if passwords::is_expired(provider, &user).await? {
                return Ok(SignInCheck::PasswordExpired(user));
            }
            let mut event = session_start(Entity::user(&user));
            event.credential_type = Some("PASSWORD");
            audit::record(provider, event).await;
            Ok(SignInCheck::Accepted(user))
        }
        UserStatus::PasswordExpired if password_ok && !over_budget => {
            if counting {
                provider.store.reset_signin_failures(&user.id).await?;
            }
            Ok(SignInCheck::PasswordExpired(user))
        }
        UserStatus::Active => {
            let why = if over_budget {
                reason::LOCKED_OUT
            } else {
                reason::INVALID_CREDENTIALS
            };
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "invalid_credentials")
                .increment(1);
            let event = session_start(Entity::user(&user)).failure(why);
            audit::record(provider, event).await;
            if let Some(failures) = attempt
                && failures >= u64::from(policy.max_attempts)
            {
                lock(provider, client, &user, failures, now).await?;
            }
            Ok(SignInCheck::Refused)
        }
        UserStatus::LockedOut => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "locked_out").increment(1);
            let event = session_start(Entity::user(&user)).failure(reason::LOCKED_OUT);
            audit::record(provider, event).await;
            Ok(SignInCheck::Refused)
        }
        _ => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "not_active").increment(1);
            let event = session_start(Entity::user(&user)).failure(reason::USER_NOT_ACTIVE);
            audit::record(provider, event).await;
            Ok(SignInCheck::Refused)
        }
    }
}

/// Whether a stored hash was imported (bcrypt, salted SHA, PBKDF2) and should become argon2id.
fn needs_rehash(hash: &str) -> bool {
    !hash.starts_with("$argon2")
}

/// Replaces an imported hash with argon2id of the password just verified against it (only if
/// the stored hash is still the one verified).
async fn rehash(provider: &Provider, user: &User, password: &str) -> Result<(), OAuthError> {
    let Some(old) = user.password_hash.clone() else {
        return Ok(());
    };
    let hash = crate::crypto::hash_password(password.to_owned())
        .await
        .map_err(OAuthError::internal)?;
    let done = provider
        .store
        .replace_password_hash(&user.id, &old, &hash)
        .await?;
    tracing::info!(user = %user.id, done, "imported password hash rehashed to argon2id");
    Ok(())
}

/// Locks `user` after `failures` consecutive failures; the lock is recorded once however many
/// requests cross the threshold together.
async fn lock(
    provider: &Provider,
    client: &ClientInfo,
    user: &User,
    failures: u64,
    now: i64,
) -> Result<(), OAuthError> {
    if provider.store.lock_user(&user.id, now).await? {
        metrics::counter!("gatehouse_lockouts_total").increment(1);
        let event = Event::new(
            event_type::ACCOUNT_LOCK,
            "Max sign in attempts exceeded",
            Entity::user(user),
        )
        .target(Entity::user(user))
        .client(client)
        .severity(Severity::Warn)
        .debug("failedAttempts", failures);
        audit::record(provider, event).await;
    }
    Ok(())
}

/// Unlocks `user` (in the database and in the copy) when their lock has outlived the window.
async fn auto_unlock_if_due(
    provider: &Provider,
    client: &ClientInfo,
    policy: LockoutPolicy,
    user: &mut User,
    now: i64,
) -> Result<(), OAuthError> {
    if user.status != UserStatus::LockedOut || policy.auto_unlock_minutes == 0 {
        return Ok(());
    }
    let locked_before = now - i64::from(policy.auto_unlock_minutes) * 60;
    if user.status_changed.unwrap_or(0) > locked_before {
        return Ok(());
    }
    if provider
        .store
        .unlock_user_locked_before(&user.id, locked_before, now)
        .await?
    {
        let event = Event::new(
            event_type::ACCOUNT_UNLOCK,
            "Automatically unlock user account",
            Entity::system(),
        )
        .target(Entity::user(user))
        .client(client);
        audit::record(provider, event).await;
    }
    if let Some(fresh) = provider.store.find_user(&user.id).await? {
        *user = fresh;
    }
    Ok(())
}

/// A second-factor attempt, counted like a password attempt (see [`begin_factor_attempt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorAttempt {
    /// The account is locked, no longer active, or over its budget: refuse without checking.
    Refused,
    /// Counted as the n-th consecutive failure until it succeeds (0: lockout is off).
    Counted(u64),
}

/// Counts a factor attempt of `user_id` before the code is checked, as [`verify_sign_in`]
/// counts a password: concurrent guesses on any node share the same budget.
pub async fn begin_factor_attempt(
    provider: &Provider,
    user_id: &str,
) -> Result<FactorAttempt, crate::store::StoreError> {
    match provider.store.find_user(user_id).await? {
        Some(u) if u.status == UserStatus::Active => {}
        _ => return Ok(FactorAttempt::Refused),
    }
    let policy = passwords::lockout_for(provider, user_id).await?;
    if policy.max_attempts == 0 {
        return Ok(FactorAttempt::Counted(0));
    }
    let n = provider
        .store
        .record_signin_failure(user_id, provider.now())
        .await?;
    Ok(if n > u64::from(policy.max_attempts) {
        FactorAttempt::Refused
    } else {
        FactorAttempt::Counted(n)
    })
}

/// Settles a counted factor attempt: a success resets the user's failures; a failure that
/// reaches the limit locks the account.
pub async fn end_factor_attempt(
    provider: &Provider,
    client: &ClientInfo,
    user: &User,
    attempt: FactorAttempt,
    success: bool,
) -> Result<(), crate::store::StoreError> {
    let FactorAttempt::Counted(n) = attempt else {
        return Ok(());
    };
    let max = u64::from(
        passwords::lockout_for(provider, &user.id)
            .await?
            .max_attempts,
    );
    if max == 0 {
        return Ok(());
    }
    if success {
        provider.store.reset_signin_failures(&user.id).await?;
    } else if n >= max {
        lock(provider, client, user, n, provider.now())
            .await
            .map_err(|e| crate::store::StoreError::Backend(e.to_string().into()))?;
    }
    Ok(())
}
