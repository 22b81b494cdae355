//! Passwords under Okta's `PASSWORD` policy: the one place every path that sets a password
//! goes through ([`check_and_hash`] / [`set_password`]: the API, console, CLI, self-service,
//! activation and reset pages, import), the user's policy (by group and priority), expiry
//! (`maxAgeDays`) and the lockout settings the sign-in counts against.

pub mod change;
pub mod expired;
pub mod manage;
pub mod rules;

use crate::audit::{Actor, Entity, event_type as ev};
use crate::crypto::{hash_password, verify_password};
use crate::domain::{
    AppStatus, DEFAULT_PASSWORD_POLICY_ID, GroupCondition, MAX_HISTORY_COUNT, PasswordLockout,
    PasswordPolicy, PasswordSettings, User, UserStatus, select_policy,
};
use crate::provider::Provider;
use crate::services::directory_rules::{DirectoryError, invalid};
use crate::services::lockout_policy::LockoutPolicy;
use crate::services::sessions::{EndReason, EndSessions, end_all_for_user};
use crate::store::StoreError;

/// Who is setting the password: a user changing their own is held to `minAgeMinutes` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetBy {
    /// An administrator (API, console, CLI) or an import.
    Admin,
    /// The user themself (change password, an activation or reset link).
    User,
    /// The user replacing an expired password at sign-in (no minimum age: they must change it).
    ExpiredPassword,
}

/// The default policy as first created: today's rules (8 characters) and the lockout of
/// `gatehouse.toml`'s `[security]` settings.
pub fn default_policy(provider: &Provider) -> PasswordPolicy {
    let now = provider.now();
    PasswordPolicy {
        id: DEFAULT_PASSWORD_POLICY_ID.into(),
        name: "Default Policy".into(),
        description: "The default policy applies in all situations if no other policy applies."
            .into(),
        priority: 1,
        status: AppStatus::Active,
        system: true,
        groups: GroupCondition::default(),
        settings: PasswordSettings {
            lockout: PasswordLockout {
                max_attempts: provider.lockout.max_attempts,
                auto_unlock_minutes: provider.lockout.auto_unlock_minutes,
                show_lockout_failures: false,
            },
            ..Default::default()
        },
        created: now,
        last_updated: now,
    }
}

/// The policy governing `user_id` (a user not yet created: the policies for everyone).
pub async fn policy_for(
    provider: &Provider,
    user_id: Option<&str>,
) -> Result<PasswordPolicy, StoreError> {
    let policies = provider.store.list_password_policies().await?;
    // Only policies limited to groups need the user's groups.
    let needs_groups = policies
        .iter()
        .any(|p| !p.system && p.status == AppStatus::Active && !p.groups.include.is_empty());
    let group_ids = match (needs_groups, user_id) {
        (true, Some(id)) => provider
            .store
            .list_user_groups(id)
            .await?
            .into_iter()
            .map(|g| g.id)
            .collect(),
        _ => Vec::new(),
    };
    Ok(select_policy(&policies, &group_ids)
        .cloned()
        .unwrap_or_else(|| default_policy(provider)))
}

/// The lockout settings a sign-in by `user_id` counts against.
pub async fn lockout_for(provider: &Provider, user_id: &str) -> Result<LockoutPolicy, StoreError> {
    let l = policy_for(provider, Some(user_id)).await?.settings.lockout;
    Ok(LockoutPolicy {
        max_attempts: l.max_attempts,
        auto_unlock_minutes: l.auto_unlock_minutes,
    })
}

/// Whether `user`'s password is past the policy's `maxAgeDays` (or was expired by an
/// administrator): their next sign-in must set a new one.
pub async fn is_expired(provider: &Provider, user: &User) -> Result<bool, StoreError> {
    if user.status == UserStatus::PasswordExpired {
        return Ok(true);
    }
    if user.status != UserStatus::Active || user.password_hash.is_none() {
        return Ok(false);
    }
    let max_days = policy_for(provider, Some(&user.id))
        .await?
        .settings
        .age
        .max_age_days;
    let Some(changed) = user.password_changed else {
        return Ok(false);
    };
    Ok(max_days > 0 && changed + i64::from(max_days) * 86_400 <= provider.now())
}

fn refused(message: impl Into<String>) -> DirectoryError {
    invalid("password", message)
}

/// A new password that passed the policy, hashed.
#[derive(Debug, Clone)]
pub struct CheckedPassword {
    pub hash: String,
    /// How many hashes the user's history must keep (the policy's `historyCount`).
    history_count: u32,
}

/// THE check every new password goes through: `user`'s policy (complexity, the common-password
/// list, not containing the login or names, history, and for [`SetBy::User`] the minimum
/// age), then an argon2id hash (off the runtime). `user` is the account as stored (or as it
/// will be created). Errors are `DirectoryError::Invalid { field: "password" }` in Okta's words.
pub async fn check_and_hash(
    provider: &Provider,
    user: &User,
    password: String,
    by: SetBy,
) -> Result<CheckedPassword, DirectoryError> {
    let stored = provider.store.find_user(&user.id).await?.is_some();
    let policy = policy_for(provider, stored.then_some(user.id.as_str())).await?;
    let s = &policy.settings;
    let owner = rules::Owner {
        login: &user.login,
        first_name: &user.first_name,
        last_name: &user.last_name,
    };
    if let Some(broken) = rules::first_violation(&s.complexity, &password, owner) {
        return Err(refused(format!(
            "Password requirements were not met. Password requirements: {}. Missing: {broken}.",
            rules::requirements(&s.complexity)
        )));
    }
    if by == SetBy::User
        && s.age.min_age_minutes > 0
        && user.status == UserStatus::Active
        && let Some(changed) = user.password_changed
        && changed + i64::from(s.age.min_age_minutes) * 60 > provider.now()
    {
        return Err(refused(format!(
            "Password has been changed too recently: wait {} minutes between changes.",
            s.age.min_age_minutes
        )));
    }
    let history_count = s.age.history_count.min(MAX_HISTORY_COUNT);
    if history_count > 0 && stored {
        let mut earlier = provider
            .store
            .password_history(&user.id, history_count)
            .await?;
        if let Some(current) = &user.password_hash
            && !earlier.contains(current)
        {
            earlier.insert(0, current.clone());
            earlier.truncate(history_count as usize);
        }
        for old in earlier {
            if verify_password(password.clone(), Some(old))
                .await
                .unwrap_or(false)
            {
                return Err(refused(format!(
                    "Password has been used too recently: it must differ from your last {history_count} passwords."
                )));
            }
        }
    }
    Ok(CheckedPassword {
        hash: hash_password(password).await?,
        history_count,
    })
}

impl CheckedPassword {
    /// How many history entries to keep once this password is stored (at least itself, so a
    /// later policy with a history has something to compare against).
    pub fn history_keep(&self) -> u32 {
        self.history_count.max(1)
    }
}

/// Sets `user`'s password after [`check_and_hash`]: an expired password becomes ACTIVE again,
/// the user's sessions and tokens end (all of them: callers that keep the current session
/// open a new one), and the System Log records `user.account.update_password`.
pub async fn set_password(
    provider: &Provider,
    actor: &Actor,
    mut user: User,
    password: String,
    by: SetBy,
) -> Result<User, DirectoryError> {
    crate::services::ldap::source::refuse_local_password(provider, &user.id).await?;
    let checked = check_and_hash(provider, &user, password, by).await?;
    let now = provider.now();
    user.password_hash = Some(checked.hash.clone());
    user.password_changed = Some(now);
    user.last_updated = now;
    if user.status == UserStatus::PasswordExpired {
        user.status = UserStatus::Active;
        user.status_changed = Some(now);
    }
    // One path for ending a user's sessions, so the apps they used hear of it by back-channel
    // logout; API tokens they own end too, unless they are changing it with one of them.
    let keep_api_tokens = actor.user_id() == Some(user.id.as_str());
    let end = EndSessions {
        oauth_tokens: true,
        api_tokens: !keep_api_tokens,
        except_session: None,
    };
    end_all_for_user(provider, actor, &user, end, EndReason::PasswordChanged).await?;
    // The user row and the history in one transaction: a crash between them would otherwise
    // let the next change reuse this password.
    provider
        .store
        .update_user_with_password(&user, checked.history_keep())
        .await?;
    actor
        .record(
            provider,
            ev::USER_PASSWORD_UPDATE,
            "User update password for Okta",
            vec![Entity::user(&user)],
        )
        .await;
    Ok(user)
}
