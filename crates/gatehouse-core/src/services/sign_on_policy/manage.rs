//! Creating, changing and deleting sign-on policies and their rules, shared by
//! `/api/v1/policies`, the console and `gatehouse policy`.
//!
//! The built-in default `OKTA_SIGN_ON` policy and its `Default Rule` are `system` and, as in
//! Okta, immutable: they cannot be changed, deactivated or deleted (rules may be added to the
//! default policy: requiring MFA for everyone is such a rule). An access policy's system
//! `Catch-all Rule` keeps its conditions and status, but its actions may change.

use crate::crypto::okta_id;
use crate::domain::*;
use crate::provider::Provider;
use crate::services::directory_rules::{DirectoryError, invalid};

/// What a creator (or replacer) of a policy chooses.
#[derive(Debug, Clone)]
pub struct PolicySpec {
    pub policy_type: PolicyType,
    pub name: String,
    pub description: String,
    /// `None`: after every other policy of the type (or unchanged on replace).
    pub priority: Option<i64>,
    /// `None`: ACTIVE on create, unchanged on replace.
    pub status: Option<AppStatus>,
    /// Group ids; empty: everyone.
    pub groups_include: Vec<String>,
}

/// What a creator (or replacer) of a rule chooses.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    pub name: String,
    pub priority: Option<i64>,
    pub status: Option<AppStatus>,
    pub groups: GroupCondition,
    pub actions: RuleActions,
}

const CATCH_ALL_RULE: &str = "Catch-all Rule";
const SYSTEM_PRIORITY: i64 = 99;

fn valid_name(field: &'static str, name: &str) -> Result<String, DirectoryError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 || name.chars().any(char::is_control) {
        return Err(invalid(field, "must be 1 to 255 characters"));
    }
    Ok(name.to_owned())
}

fn valid_priority(priority: Option<i64>) -> Result<Option<i64>, DirectoryError> {
    match priority {
        Some(p) if !(1..=1_000_000).contains(&p) => {
            Err(invalid("priority", "must be a whole number from 1"))
        }
        other => Ok(other),
    }
}

/// Every group id must name a group; duplicates are dropped.
async fn valid_groups(
    provider: &Provider,
    field: &'static str,
    ids: &[String],
) -> Result<Vec<String>, DirectoryError> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if out.contains(id) {
            continue;
        }
        if provider.store.find_group(id).await?.is_none() {
            return Err(invalid(field, format!("'{id}' is not a group id")));
        }
        out.push(id.clone());
    }
    Ok(out)
}

/// Policies of one type (every type for `None`), in evaluation order.
pub async fn list_policies(
    provider: &Provider,
    policy_type: Option<PolicyType>,
) -> Result<Vec<SignOnPolicy>, DirectoryError> {
    Ok(provider.store.list_policies(policy_type).await?)
}

pub async fn find_policy(provider: &Provider, id: &str) -> Result<SignOnPolicy, DirectoryError> {
    provider
        .store
        .find_policy(id)
        .await?
        .ok_or_else(|| DirectoryError::Missing {
            kind: "Policy",
            key: id.to_owned(),
        })
}

/// The priority after every non-system policy (or rule) in `taken`.
fn next_priority(taken: impl Iterator<Item = (bool, i64)>) -> i64 {
    taken
        .filter(|(system, _)| !system)
        .map(|(_, p)| p)
        .max()
        .unwrap_or(0)
        .saturating_add(1)
}

/// Creates a policy; an `ACCESS_POLICY` gets its system `Catch-all Rule` (allowed, one
/// factor), as in Okta.
pub async fn create_policy(
    provider: &Provider,
    spec: PolicySpec,
) -> Result<SignOnPolicy, DirectoryError> {
    let name = valid_name("name", &spec.name)?;
    let priority = match valid_priority(spec.priority)? {
        Some(p) => p,
        None => {
            let existing = provider.store.list_policies(Some(spec.policy_type)).await?;
            next_priority(existing.iter().map(|p| (p.system, p.priority)))
        }
    };
    let include = valid_groups(
        provider,
        "conditions.people.groups.include",
        &spec.groups_include,
    )
    .await?;
    let now = provider.now();
    let policy = SignOnPolicy {
        id: okta_id("00p"),
        policy_type: spec.policy_type,
        name,
        description: spec.description.trim().to_owned(),
        priority,
        status: spec.status.unwrap_or(AppStatus::Active),
        system: false,
        groups: GroupCondition {
            include,
            exclude: Vec::new(),
        },
        created: now,
        last_updated: now,
    };
    provider.store.create_policy(&policy).await?;
    if policy.policy_type == PolicyType::AccessPolicy {
        let rule = SignOnRule {
            id: okta_id("0pr"),
            policy_id: policy.id.clone(),
            name: CATCH_ALL_RULE.to_owned(),
            priority: SYSTEM_PRIORITY,
            status: AppStatus::Active,
            system: true,
            groups: GroupCondition::default(),
            actions: RuleActions::default_for(PolicyType::AccessPolicy),
            created: now,
            last_updated: now,
        };
        provider.store.create_policy_rule(&rule).await?;
    }
    Ok(policy)
}

/// Replaces name, description, priority, status and groups; the type cannot change.
pub async fn replace_policy(
    provider: &Provider,
    mut policy: SignOnPolicy,
    spec: PolicySpec,
) -> Result<SignOnPolicy, DirectoryError> {
    if spec.policy_type != policy.policy_type {
        return Err(invalid("type", "a policy's type cannot change"));
    }
    if policy.system {
        return Err(invalid("policy", "Default Policy is immutable"));
    }
    let name = valid_name("name", &spec.name)?;
    let include = valid_groups(
        provider,
        "conditions.people.groups.include",
        &spec.groups_include,
    )
    .await?;
    if let Some(status) = spec.status {
        check_status_change(policy.system, status, "policy")?;
        policy.status = status;
    }
    if let Some(p) = valid_priority(spec.priority)? {
        policy.priority = p;
    }
    policy.name = name;
    policy.description = spec.description.trim().to_owned();
    policy.groups.include = include;
    policy.last_updated = provider.now();
    provider.store.update_policy(&policy).await?;
    Ok(policy)
}

fn check_status_change(system: bool, status: AppStatus, what: &str) -> Result<(), DirectoryError> {
    if system && status == AppStatus::Inactive {
        return Err(invalid(
            "status",
            format!("the default {what} cannot be deactivated"),
        ));
    }
    Ok(())
}

pub async fn set_policy_status(
    provider: &Provider,
    mut policy: SignOnPolicy,
    status: AppStatus,
) -> Result<SignOnPolicy, DirectoryError> {
    check_status_change(policy.system, status, "policy")?;
    if policy.status != status {
        policy.status = status;
        policy.last_updated = provider.now();
        provider.store.update_policy(&policy).await?;
    }
    Ok(policy)
}

/// Deletes a policy with its rules and app assignments. The system policy: `Forbidden`.
pub async fn delete_policy(
    provider: &Provider,
    policy: &SignOnPolicy,
) -> Result<(), DirectoryError> {
    if policy.system {
        return Err(invalid("policy", "The default policy cannot be deleted"));
    }
    Ok(provider.store.delete_policy(&policy.id).await?)
}

pub async fn list_rules(
    provider: &Provider,
    policy: &SignOnPolicy,
) -> Result<Vec<SignOnRule>, DirectoryError> {
    Ok(provider.store.list_policy_rules(&policy.id).await?)
}

pub async fn find_rule(
    provider: &Provider,
    policy: &SignOnPolicy,
    rule_id: &str,
) -> Result<SignOnRule, DirectoryError> {
    provider
        .store
        .find_policy_rule(&policy.id, rule_id)
        .await?
        .ok_or_else(|| DirectoryError::Missing {
            kind: "PolicyRule",
            key: rule_id.to_owned(),
        })
}

async fn valid_rule(
    provider: &Provider,
    policy: &SignOnPolicy,
    spec: &RuleSpec,
) -> Result<(String, GroupCondition), DirectoryError> {
    let name = valid_name("name", &spec.name)?;
    if spec.actions.policy_type() != policy.policy_type {
        let wanted = match policy.policy_type {
            PolicyType::OktaSignOn => "actions.signon",
            PolicyType::AccessPolicy => "actions.appSignOn",
        };
        return Err(invalid(
            "actions",
            format!(
                "a rule of a {} policy takes {wanted}",
                policy.policy_type.as_str()
            ),
        ));
    }
    let groups = GroupCondition {
        include: valid_groups(
            provider,
            "conditions.people.groups.include",
            &spec.groups.include,
        )
        .await?,
        exclude: valid_groups(
            provider,
            "conditions.people.groups.exclude",
            &spec.groups.exclude,
        )
        .await?,
    };
    Ok((name, groups))
}

pub async fn create_rule(
    provider: &Provider,
    policy: &SignOnPolicy,
    spec: RuleSpec,
) -> Result<SignOnRule, DirectoryError> {
    let (name, groups) = valid_rule(provider, policy, &spec).await?;
    let priority = match valid_priority(spec.priority)? {
        Some(p) => p,
        None => {
            let existing = provider.store.list_policy_rules(&policy.id).await?;
            next_priority(existing.iter().map(|r| (r.system, r.priority)))
        }
    };
    let now = provider.now();
    let rule = SignOnRule {
        id: okta_id("0pr"),
        policy_id: policy.id.clone(),
        name,
        priority,
        status: spec.status.unwrap_or(AppStatus::Active),
        system: false,
        groups,
        actions: spec.actions,
        created: now,
        last_updated: now,
    };
    provider.store.create_policy_rule(&rule).await?;
    Ok(rule)
}

pub async fn replace_rule(
    provider: &Provider,
    policy: &SignOnPolicy,
    mut rule: SignOnRule,
    spec: RuleSpec,
) -> Result<SignOnRule, DirectoryError> {
    if rule.system && policy.policy_type == PolicyType::OktaSignOn {
        return Err(invalid("rule", "Default Rule is immutable"));
    }
    let (name, groups) = valid_rule(provider, policy, &spec).await?;
    if rule.system && (!groups.include.is_empty() || !groups.exclude.is_empty()) {
        return Err(invalid(
            "conditions.people.groups",
            "the catch-all rule applies to everyone",
        ));
    }
    if let Some(status) = spec.status {
        check_status_change(rule.system, status, "rule")?;
        rule.status = status;
    }
    if let Some(p) = valid_priority(spec.priority)? {
        rule.priority = p;
    }
    rule.name = name;
    rule.groups = groups;
    rule.actions = spec.actions;
    rule.last_updated = provider.now();
    provider.store.update_policy_rule(&rule).await?;
    Ok(rule)
}

pub async fn set_rule_status(
    provider: &Provider,
    mut rule: SignOnRule,
    status: AppStatus,
) -> Result<SignOnRule, DirectoryError> {
    check_status_change(rule.system, status, "rule")?;
    if rule.status != status {
        rule.status = status;
        rule.last_updated = provider.now();
        provider.store.update_policy_rule(&rule).await?;
    }
    Ok(rule)
}

pub async fn delete_rule(provider: &Provider, rule: &SignOnRule) -> Result<(), DirectoryError> {
    if rule.system {
        return Err(invalid("rule", "A default rule cannot be deleted"));
    }
    Ok(provider
        .store
        .delete_policy_rule(&rule.policy_id, &rule.id)
        .await?)
}

/// Makes `policy` (an `ACCESS_POLICY`) the access policy of the app `app_id`.
pub async fn assign_app(
    provider: &Provider,
    app_id: &str,
    policy: &SignOnPolicy,
) -> Result<(), DirectoryError> {
    if policy.policy_type != PolicyType::AccessPolicy {
        return Err(invalid(
            "policyId",
            "only an ACCESS_POLICY can be assigned to an app",
        ));
    }
    if provider.store.find_app(app_id).await?.is_none() {
        return Err(DirectoryError::Missing {
            kind: "App",
            key: app_id.to_owned(),
        });
    }
    Ok(provider
        .store
        .assign_app_access_policy(app_id, &policy.id)
        .await?)
}

/// The id of the app's access policy, if it has one.
pub async fn app_policy(
    provider: &Provider,
    app_id: &str,
) -> Result<Option<String>, DirectoryError> {
    Ok(provider.store.find_app_access_policy(app_id).await?)
}

/// The ids of the apps using an access policy.
pub async fn policy_apps(
    provider: &Provider,
    policy: &SignOnPolicy,
) -> Result<Vec<String>, DirectoryError> {
    Ok(provider.store.list_access_policy_apps(&policy.id).await?)
}

/// Actions of an `OKTA_SIGN_ON` rule asking for a factor (`ALWAYS`, or `DEVICE` remembered for
/// `remember_minutes`), otherwise Okta's defaults.
pub fn mfa_sign_on_actions(remember_minutes: Option<u32>) -> RuleActions {
    let factor = match remember_minutes {
        Some(m) if m > 0 => FactorPrompt::Device {
            lifetime_minutes: m,
        },
        _ => FactorPrompt::Always,
    };
    RuleActions::SignOn(SignOnActions {
        factor: Some(factor),
        remember_device_by_default: false,
        ..SignOnActions::default()
    })
}

/// Where [`require_mfa`] asks for a factor.
#[derive(Debug, Clone)]
pub enum MfaScope {
    /// Everyone: a rule `Require MFA` first in the default policy.
    Everyone,
    /// Members of a group: a new `OKTA_SIGN_ON` policy for the group, before the default.
    Group { group_id: String },
    /// Everyone opening an app: a new `ACCESS_POLICY` (`2FA`) assigned to the app.
    App { app_id: String },
}

/// The one-step "require MFA" of the CLI and the console; returns the policy changed or
/// created.
pub async fn require_mfa(
    provider: &Provider,
    scope: MfaScope,
    remember_minutes: Option<u32>,
) -> Result<SignOnPolicy, DirectoryError> {
    match scope {
        MfaScope::Everyone => {
            let policy = find_policy(provider, DEFAULT_SIGN_ON_POLICY_ID).await?;
            create_rule(
                provider,
                &policy,
                RuleSpec {
                    name: "Require MFA".into(),
                    priority: Some(1),
                    status: None,
                    groups: GroupCondition::default(),
                    actions: mfa_sign_on_actions(remember_minutes),
                },
            )
            .await?;
            Ok(policy)
        }
        MfaScope::Group { group_id } => {
            let group = provider.store.find_group(&group_id).await?.ok_or_else(|| {
                DirectoryError::Missing {
                    kind: "Group",
                    key: group_id.clone(),
                }
            })?;
            let policy = create_policy(
                provider,
                PolicySpec {
                    policy_type: PolicyType::OktaSignOn,
                    name: format!("Require MFA: {}", group.name),
                    description: format!("Members of {} sign in with a second factor.", group.name),
                    priority: None,
                    status: None,
                    groups_include: vec![group.id],
                },
            )
            .await?;
            create_rule(
                provider,
                &policy,
                RuleSpec {
                    name: "Require MFA".into(),
                    priority: Some(1),
                    status: None,
                    groups: GroupCondition::default(),
                    actions: mfa_sign_on_actions(remember_minutes),
                },
            )
            .await?;
            Ok(policy)
        }
        MfaScope::App { app_id } => {
            let app =
                provider
                    .store
                    .find_app(&app_id)
                    .await?
                    .ok_or_else(|| DirectoryError::Missing {
                        kind: "App",
                        key: app_id.clone(),
                    })?;
            let policy = create_policy(
                provider,
                PolicySpec {
                    policy_type: PolicyType::AccessPolicy,
                    name: format!("Require MFA: {} ({})", app.label, app.id),
                    description: format!("Signing in to {} takes a second factor.", app.label),
                    priority: None,
                    status: None,
                    groups_include: Vec::new(),
                },
            )
            .await?;
            create_rule(
                provider,
                &policy,
                RuleSpec {
                    name: "Require MFA".into(),
                    priority: Some(1),
                    status: None,
                    groups: GroupCondition::default(),
                    actions: RuleActions::AppSignOn(AppSignOnActions {
                        access: RuleAccess::Allow,
                        factor_mode: FactorMode::TwoFactor,
                        reauthenticate_in: None,
                    }),
                },
            )
            .await?;
            assign_app(provider, &app.id, &policy).await?;
            Ok(policy)
        }
    }
}
