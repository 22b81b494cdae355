//! Okta's `PASSWORD` policy: which passwords a user may choose (complexity, the common-password
//! deny list, history), how long they last (age) and how many wrong guesses lock the account
//! (lockout). Policies are selected by group and priority like Okta's; the system default
//! policy, created at first start, applies to everyone else.

use serde::{Deserialize, Serialize};

use super::{AppStatus, GroupCondition, Timestamp};

/// The id of the default `PASSWORD` policy, created at first start.
pub const DEFAULT_PASSWORD_POLICY_ID: &str = "00ppassworddefault00";

/// `settings.password.complexity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PasswordComplexity {
    pub min_length: u32,
    pub min_lower_case: u32,
    pub min_upper_case: u32,
    pub min_number: u32,
    pub min_symbol: u32,
    /// The password may not contain the part of the login before `@`.
    pub exclude_username: bool,
    /// Profile attributes (`firstName`, `lastName`) the password may not contain.
    pub exclude_attributes: Vec<String>,
    /// `dictionary.common.exclude`: refuse the ~10,000 most common passwords.
    pub exclude_common: bool,
}

impl Default for PasswordComplexity {
    fn default() -> Self {
        Self {
            min_length: 8,
            min_lower_case: 0,
            min_upper_case: 0,
            min_number: 0,
            min_symbol: 0,
            exclude_username: false,
            exclude_attributes: Vec::new(),
            exclude_common: false,
        }
    }
}

/// `settings.password.age`; 0 switches each rule off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PasswordAge {
    /// A password older than this many days has expired: the next sign-in asks for a new one.
    pub max_age_days: u32,
    pub expire_warn_days: u32,
    /// A user may not change their own password again within this many minutes.
    pub min_age_minutes: u32,
    /// A new password may not be one of the user's last `history_count` passwords.
    pub history_count: u32,
}

/// `settings.password.lockout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PasswordLockout {
    /// Consecutive failed sign-ins that lock the account; 0 never locks.
    pub max_attempts: u32,
    /// Minutes after which a locked account unlocks by itself; 0 waits for an administrator.
    pub auto_unlock_minutes: u32,
    pub show_lockout_failures: bool,
}

impl Default for PasswordLockout {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            auto_unlock_minutes: 0,
            show_lockout_failures: false,
        }
    }
}

/// A policy's settings, stored as one JSON document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PasswordSettings {
    pub complexity: PasswordComplexity,
    pub age: PasswordAge,
    pub lockout: PasswordLockout,
}

/// The most passwords kept for the history rule (Okta's limit).
pub const MAX_HISTORY_COUNT: u32 = 24;

/// A `PASSWORD` policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub id: String,
    pub name: String,
    pub description: String,
    /// 1 is evaluated first; the system policy after every other.
    pub priority: i64,
    pub status: AppStatus,
    /// The default policy: cannot be deleted, deactivated or limited to groups.
    pub system: bool,
    /// `conditions.people.groups.include`; empty: everyone.
    pub groups: GroupCondition,
    pub settings: PasswordSettings,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

impl PasswordPolicy {
    /// Whether the policy applies to a member of `group_ids`.
    pub fn applies_to(&self, group_ids: &[String]) -> bool {
        self.status == AppStatus::Active && (self.system || self.groups.matches(group_ids))
    }
}

/// The policy that governs a user: the first ACTIVE policy (in evaluation order) whose groups
/// include one of theirs; `None` only when even the default is missing.
pub fn select_policy<'a>(
    policies: &'a [PasswordPolicy],
    group_ids: &[String],
) -> Option<&'a PasswordPolicy> {
    policies.iter().find(|p| p.applies_to(group_ids))
}
