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
use crate::services::password_migration;

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
    let policy = provider.lockout;
    let now = provider.now();
    let mut user = provider.store.find_user_by_login(login.trim()).await?;
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
        Some(u) if counting && u.status == UserStatus::Active => {
            Some(provider.store.record_signin_failure(&u.id, now).await?)
        }
        _ => None,
    };
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let password_ok = match migrated {
        Some(accepted) => accepted,
        None => verify_password(password.to_owned(), hash)
            .await
            .map_err(OAuthError::internal)?,
    };
    let session_start = |actor: Entity| {
        Event::new(event_type::SESSION_START, "User login to Okta", actor)
            .client(client)
            .debug("requestUri", "/login")
    };
    let Some(mut user) = user else {
        let event =
            session_start(Entity::unknown_user(login.trim())).failure(reason::VERIFICATION_ERROR);
        metrics::counter!("gatehouse_sign_ins_total", "outcome" => "unknown_user").increment(1);
        audit::record(provider, event).await;
        return Ok(None);
    };
    let over_budget = attempt.is_some_and(|n| n > u64::from(policy.max_attempts));
    if user.status == UserStatus::Active && password_ok && !over_budget {
        // The account may have been locked or deactivated while the hash was being verified:
        // the sign-in is recorded only if it is still ACTIVE, in one statement.
        match provider.store.record_login(&user.id, now).await? {
            Some(fresh) => user = fresh,
            None => match provider.store.find_user(&user.id).await? {
                Some(changed) => user = changed,
                None => return Ok(None),
            },
        }
    }
    match user.status {
        UserStatus::Active if password_ok && !over_budget => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "success").increment(1);
            if counting {
                provider.store.reset_signin_failures(&user.id).await?;
            }
            let mut event = session_start(Entity::user(&user));
            event.credential_type = Some("PASSWORD");
            audit::record(provider, event).await;
            Ok(Some(user))
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
            Ok(None)
        }
        UserStatus::LockedOut => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "locked_out").increment(1);
            let event = session_start(Entity::user(&user)).failure(reason::LOCKED_OUT);
            audit::record(provider, event).await;
            Ok(None)
        }
        _ => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "not_active").increment(1);
            let event = session_start(Entity::user(&user)).failure(reason::USER_NOT_ACTIVE);
            audit::record(provider, event).await;
            Ok(None)
        }
    }
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
