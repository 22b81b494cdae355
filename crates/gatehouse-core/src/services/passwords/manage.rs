//! Creating, changing and deleting `PASSWORD` policies, shared by `/api/v1/policies`, the
//! console and `gatehouse policy password …`. The default policy is created the first time
//! the policies are read (at the server's start, too); it cannot be deleted, deactivated or
//! limited to groups, but its settings may change.

use crate::crypto::okta_id;
use crate::domain::*;
use crate::provider::Provider;
use crate::services::directory_rules::{DirectoryError, invalid};

/// What a creator (or replacer) of a password policy chooses.
#[derive(Debug, Clone, Default)]
pub struct PasswordPolicySpec {
    pub name: String,
    pub description: String,
    /// `None`: after every other policy (or unchanged on replace).
    pub priority: Option<i64>,
    /// `None`: ACTIVE on create, unchanged on replace.
    pub status: Option<AppStatus>,
    /// Group ids; empty: everyone.
    pub groups_include: Vec<String>,
    pub settings: PasswordSettings,
}

/// Creates the default policy when it is missing (idempotent, safe on several nodes).
pub async fn ensure_default(provider: &Provider) -> Result<(), DirectoryError> {
    if provider
        .store
        .find_password_policy(DEFAULT_PASSWORD_POLICY_ID)
        .await?
        .is_some()
    {
        return Ok(());
    }
    match provider
        .store
        .create_password_policy(&super::default_policy(provider))
        .await
    {
        Ok(()) | Err(crate::store::StoreError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Every password policy, in evaluation order (the default last).
pub async fn list(provider: &Provider) -> Result<Vec<PasswordPolicy>, DirectoryError> {
    ensure_default(provider).await?;
    Ok(provider.store.list_password_policies().await?)
}

/// The password policy `id`, if it is one (`Ok(None)` for any other id).
pub async fn find(provider: &Provider, id: &str) -> Result<Option<PasswordPolicy>, DirectoryError> {
    if id == DEFAULT_PASSWORD_POLICY_ID {
        ensure_default(provider).await?;
    }
    Ok(provider.store.find_password_policy(id).await?)
}

/// Okta's bounds on the settings.
pub fn validate_settings(s: &PasswordSettings) -> Result<(), DirectoryError> {
    let c = &s.complexity;
    let field = "settings.password.complexity";
    if !(1..=256).contains(&c.min_length) {
        return Err(invalid(field, "minLength must be from 1 to 256"));
    }
    let classes = c.min_lower_case + c.min_upper_case + c.min_number + c.min_symbol;
    if [
        c.min_lower_case,
        c.min_upper_case,
        c.min_number,
        c.min_symbol,
    ]
    .iter()
    .any(|n| *n > 256)
        || classes > c.min_length.max(256)
    {
        return Err(invalid(
            field,
            "character-class minimums must be from 0 to 256",
        ));
    }
    for a in &c.exclude_attributes {
        if !matches!(a.as_str(), "firstName" | "lastName") {
            return Err(invalid(
                field,
                format!("excludeAttributes: '{a}' is not one of firstName, lastName"),
            ));
        }
    }
    let a = &s.age;
    if a.history_count > MAX_HISTORY_COUNT {
        return Err(invalid(
            "settings.password.age",
            format!("historyCount must be from 0 to {MAX_HISTORY_COUNT}"),
        ));
    }
    // Okta warns before expiry with a PASSWORD_WARN step that no sign-in path here offers:
    // accepting a number would promise a warning that never comes, so only 0 (off) is taken.
    if a.expire_warn_days != 0 {
        return Err(invalid(
            "settings.password.age",
            "expireWarnDays is not supported (no PASSWORD_WARN step): it must be 0",
        ));
    }
    if a.max_age_days > 999 || a.min_age_minutes > 9_999 * 60 {
        return Err(invalid(
            "settings.password.age",
            "maxAgeDays must be from 0 to 999, minAgeMinutes from 0 to 599940",
        ));
    }
    if s.lockout.max_attempts > 100 || s.lockout.auto_unlock_minutes > 999_999 {
        return Err(invalid(
            "settings.password.lockout",
            "maxAttempts must be from 0 to 100",
        ));
    }
    Ok(())
}

fn valid_name(name: &str) -> Result<String, DirectoryError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 || name.chars().any(char::is_control) {
        return Err(invalid("name", "must be 1 to 255 characters"));
    }
    Ok(name.to_owned())
}

async fn valid_groups(provider: &Provider, ids: &[String]) -> Result<Vec<String>, DirectoryError> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if out.contains(id) {
            continue;
        }
        if provider.store.find_group(id).await?.is_none() {
            return Err(invalid(
                "conditions.people.groups.include",
                format!("'{id}' is not a group id"),
            ));
        }
        out.push(id.clone());
    }
    Ok(out)
}

fn valid_priority(p: Option<i64>) -> Result<Option<i64>, DirectoryError> {
    match p {
        Some(p) if !(1..=1_000_000).contains(&p) => {
            Err(invalid("priority", "must be a whole number from 1"))
        }
        other => Ok(other),
    }
}

pub async fn create(
    provider: &Provider,
    spec: PasswordPolicySpec,
) -> Result<PasswordPolicy, DirectoryError> {
    let name = valid_name(&spec.name)?;
    validate_settings(&spec.settings)?;
    let groups = valid_groups(provider, &spec.groups_include).await?;
    let existing = list(provider).await?;
    let priority = match valid_priority(spec.priority)? {
        Some(p) => p,
        None => {
            existing
                .iter()
                .filter(|p| !p.system)
                .map(|p| p.priority)
                .max()
                .unwrap_or(0)
                + 1
        }
    };
    let now = provider.now();
    let policy = PasswordPolicy {
        id: okta_id("00p"),
        name,
        description: spec.description.trim().to_owned(),
        priority,
        status: spec.status.unwrap_or(AppStatus::Active),
        system: false,
        groups: GroupCondition {
            include: groups,
            exclude: Vec::new(),
        },
        settings: spec.settings,
        created: now,
        last_updated: now,
    };
    provider.store.create_password_policy(&policy).await?;
    Ok(policy)
}

/// Replaces name, description, priority, status, groups and settings (the default policy
/// keeps its name, priority, status and everyone).
pub async fn replace(
    provider: &Provider,
    mut policy: PasswordPolicy,
    spec: PasswordPolicySpec,
) -> Result<PasswordPolicy, DirectoryError> {
    validate_settings(&spec.settings)?;
    if policy.system {
        if !spec.groups_include.is_empty() {
            return Err(invalid(
                "conditions.people.groups.include",
                "the default policy applies to everyone",
            ));
        }
        if spec.status == Some(AppStatus::Inactive) {
            return Err(DirectoryError::Forbidden(
                "The default policy cannot be deactivated.".into(),
            ));
        }
    } else {
        policy.name = valid_name(&spec.name)?;
        policy.groups.include = valid_groups(provider, &spec.groups_include).await?;
        if let Some(p) = valid_priority(spec.priority)? {
            policy.priority = p;
        }
        if let Some(s) = spec.status {
            policy.status = s;
        }
    }
    policy.description = spec.description.trim().to_owned();
    policy.settings = spec.settings;
    policy.last_updated = provider.now();
    provider.store.update_password_policy(&policy).await?;
    Ok(policy)
}

pub async fn set_status(
    provider: &Provider,
    mut policy: PasswordPolicy,
    status: AppStatus,
) -> Result<PasswordPolicy, DirectoryError> {
    if policy.system && status != AppStatus::Active {
        return Err(DirectoryError::Forbidden(
            "The default policy cannot be deactivated.".into(),
        ));
    }
    policy.status = status;
    policy.last_updated = provider.now();
    provider.store.update_password_policy(&policy).await?;
    Ok(policy)
}

pub async fn delete(provider: &Provider, policy: &PasswordPolicy) -> Result<(), DirectoryError> {
    if policy.system {
        return Err(DirectoryError::Forbidden(
            "The default policy cannot be deleted.".into(),
        ));
    }
    Ok(provider.store.delete_password_policy(&policy.id).await?)
}
