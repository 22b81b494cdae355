//! The rules of a custom server's access policies: the grants, scopes and people each
//! allows, and the lifetimes of the tokens it issues.

use crate::authz::model::*;
use crate::crypto::okta_id;
use crate::domain::text::{self, limits};
use crate::domain::{AppStatus, Timestamp};
use crate::oauth2::grants::GrantType;
use crate::provider::Provider;
use crate::services::auth_server_error::AuthServerError;

use super::items::{delete, find, insert, invalid, list, make_room, next_priority, update};

/// Grant types a rule may name: the ones Gatehouse implements that a rule decides (see
/// [`GrantType::in_policy_rules`]), then Okta's others, which a rule may name but no request
/// will use.
pub fn rule_grant_types() -> impl Iterator<Item = &'static str> {
    GrantType::ALL
        .into_iter()
        .filter(|g| g.in_policy_rules())
        .map(GrantType::as_str)
        .chain(RULE_OKTA_ONLY.iter().copied())
}

/// Okta's rule grant types that Gatehouse does not implement (a subset of
/// [`crate::oauth2::grants::OKTA_UNIMPLEMENTED`]).
const RULE_OKTA_ONLY: &[&str] = &[
    "password",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
    "interaction_code",
];

#[derive(Debug, Clone)]
pub struct RuleSpec {
    pub name: String,
    pub priority: Option<i64>,
    pub status: AppStatus,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub users_include: Vec<String>,
    pub users_exclude: Vec<String>,
    pub groups_include: Vec<String>,
    pub groups_exclude: Vec<String>,
    pub access_token_lifetime_minutes: i64,
    pub refresh_token_lifetime_minutes: i64,
    pub refresh_token_window_minutes: i64,
}

async fn check_rule(
    provider: &Provider,
    server_id: &str,
    spec: &RuleSpec,
) -> Result<(), AuthServerError> {
    if spec.name.trim().is_empty() {
        return Err(invalid("name", "The rule name must not be empty."));
    }
    text::check_free_text(&spec.name, limits::NAME).map_err(|m| invalid("name", m))?;
    if spec.grant_types.is_empty() {
        return Err(invalid(
            "conditions.grantTypes.include",
            "A rule must include at least one grant type.",
        ));
    }
    if let Some(bad) = spec
        .grant_types
        .iter()
        .find(|g| !rule_grant_types().any(|r| r == g.as_str()))
    {
        return Err(invalid(
            "conditions.grantTypes.include",
            format!("'{bad}' is not a grant type a rule can allow."),
        ));
    }
    if spec.scopes.is_empty() {
        return Err(invalid(
            "conditions.scopes.include",
            "A rule must include '*' or at least one scope.",
        ));
    }
    let known: Vec<OAuthScope> = list(provider, server_id).await?;
    if let Some(unknown) = spec
        .scopes
        .iter()
        .find(|s| *s != ANY_SCOPE && !known.iter().any(|k| &k.name == *s))
    {
        return Err(invalid(
            "conditions.scopes.include",
            format!("The scope '{unknown}' does not exist on this authorization server."),
        ));
    }
    for (field, ids) in [
        ("conditions.people.groups.include", &spec.groups_include),
        ("conditions.people.groups.exclude", &spec.groups_exclude),
    ] {
        for id in ids.iter().filter(|g| *g != EVERYONE_GROUP) {
            if provider.store.find_group(id).await?.is_none() {
                return Err(invalid(field, format!("There is no group '{id}'.")));
            }
        }
    }
    for (field, ids) in [
        ("conditions.people.users.include", &spec.users_include),
        ("conditions.people.users.exclude", &spec.users_exclude),
    ] {
        for id in ids {
            if provider.store.find_user(id).await?.is_none() {
                return Err(invalid(field, format!("There is no user '{id}'.")));
            }
        }
    }
    if !PolicyRule::ACCESS_TOKEN_LIFETIME.contains(&spec.access_token_lifetime_minutes) {
        return Err(invalid(
            "actions.token.accessTokenLifetimeMinutes",
            "The access token lifetime must be between 5 and 1440 minutes.",
        ));
    }
    if !PolicyRule::REFRESH_TOKEN_WINDOW.contains(&spec.refresh_token_window_minutes) {
        return Err(invalid(
            "actions.token.refreshTokenWindowMinutes",
            "The refresh token window must be between 5 minutes and 5 years.",
        ));
    }
    let life = spec.refresh_token_lifetime_minutes;
    if life != 0 && life < spec.refresh_token_window_minutes {
        return Err(invalid(
            "actions.token.refreshTokenLifetimeMinutes",
            "The refresh token lifetime must be 0 (unlimited) or at least its window.",
        ));
    }
    if spec.priority.is_some_and(|p| p < 1) {
        return Err(invalid("priority", "The priority must be 1 or more."));
    }
    Ok(())
}

pub async fn list_rules(
    provider: &Provider,
    server_id: &str,
    policy_id: &str,
) -> Result<Vec<PolicyRule>, AuthServerError> {
    find::<AccessPolicy>(provider, server_id, policy_id).await?;
    Ok(list::<PolicyRule>(provider, server_id)
        .await?
        .into_iter()
        .filter(|r| r.policy_id == policy_id)
        .collect())
}

pub async fn find_rule(
    provider: &Provider,
    server_id: &str,
    policy_id: &str,
    id: &str,
) -> Result<PolicyRule, AuthServerError> {
    list_rules(provider, server_id, policy_id)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| AuthServerError::Missing {
            kind: PolicyRule::LABEL,
            id: id.to_owned(),
        })
}

pub async fn create_rule(
    provider: &Provider,
    server_id: &str,
    policy_id: &str,
    spec: RuleSpec,
) -> Result<PolicyRule, AuthServerError> {
    let existing = list_rules(provider, server_id, policy_id).await?;
    check_rule(provider, server_id, &spec).await?;
    let now = provider.now();
    let item = spec.into_rule(
        okta_id("0pr"),
        policy_id,
        false,
        now,
        next_priority(&existing),
        now,
    );
    make_room(provider, server_id, &existing, &item, |r| r.priority += 1).await?;
    insert(provider, server_id, &item).await?;
    Ok(item)
}

pub async fn replace_rule(
    provider: &Provider,
    server_id: &str,
    policy_id: &str,
    id: &str,
    spec: RuleSpec,
) -> Result<PolicyRule, AuthServerError> {
    let old = find_rule(provider, server_id, policy_id, id).await?;
    check_rule(provider, server_id, &spec).await?;
    let item = spec.into_rule(
        old.id,
        policy_id,
        old.system,
        old.created,
        old.priority,
        provider.now(),
    );
    let existing = list_rules(provider, server_id, policy_id).await?;
    make_room(provider, server_id, &existing, &item, |r| r.priority += 1).await?;
    update(provider, server_id, &item).await?;
    Ok(item)
}

impl RuleSpec {
    /// The rule this spec describes; `priority` applies when the spec names none.
    fn into_rule(
        self,
        id: String,
        policy_id: &str,
        system: bool,
        created: Timestamp,
        priority: i64,
        now: Timestamp,
    ) -> PolicyRule {
        PolicyRule {
            id,
            policy_id: policy_id.to_owned(),
            name: self.name,
            priority: self.priority.unwrap_or(priority),
            status: self.status,
            system,
            grant_types: self.grant_types,
            scopes: self.scopes,
            users_include: self.users_include,
            users_exclude: self.users_exclude,
            groups_include: self.groups_include,
            groups_exclude: self.groups_exclude,
            access_token_lifetime_minutes: self.access_token_lifetime_minutes,
            refresh_token_lifetime_minutes: self.refresh_token_lifetime_minutes,
            refresh_token_window_minutes: self.refresh_token_window_minutes,
            created,
            last_updated: now,
        }
    }
}

pub async fn delete_rule(
    provider: &Provider,
    server_id: &str,
    policy_id: &str,
    id: &str,
) -> Result<(), AuthServerError> {
    find_rule(provider, server_id, policy_id, id).await?;
    delete::<PolicyRule>(provider, server_id, id).await
}

pub async fn set_rule_status(
    provider: &Provider,
    server_id: &str,
    policy_id: &str,
    id: &str,
    status: AppStatus,
) -> Result<PolicyRule, AuthServerError> {
    let mut item = find_rule(provider, server_id, policy_id, id).await?;
    item.status = status;
    item.last_updated = provider.now();
    update(provider, server_id, &item).await?;
    Ok(item)
}
