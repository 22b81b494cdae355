//! Custom authorization servers' scopes, claims, access policies and rules: Okta's rules for
//! creating and changing them, shared by `/api/v1/authorizationServers/...` and the console.

use crate::authz::claims::{RESERVED_CLAIMS, parse_expression, validate_group_filter};
use crate::authz::model::*;
use crate::crypto::okta_id;
use crate::domain::text::{self, limits};
use crate::domain::{AppStatus, AuthServerKind, Timestamp};
use crate::oauth2::grants::GrantType;
use crate::oauth2::scope;
use crate::provider::Provider;
use crate::services::auth_server_error::AuthServerError;
use crate::store::StoreError;

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

fn invalid(field: &str, message: impl Into<String>) -> AuthServerError {
    AuthServerError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The custom server `id` (`NotFound` for the org server and unknown ids).
async fn custom_server(provider: &Provider, id: &str) -> Result<(), AuthServerError> {
    match provider.store.find_auth_server(id).await? {
        Some(s) if s.kind == AuthServerKind::Custom => Ok(()),
        _ => Err(AuthServerError::NotFound(id.to_owned())),
    }
}

/// Every item of kind `T` of the server, fresh from the database, in stored order.
pub async fn list<T: ConfigItem>(
    provider: &Provider,
    server_id: &str,
) -> Result<Vec<T>, AuthServerError> {
    custom_server(provider, server_id).await?;
    let objects = provider.store.list_auth_server_objects(server_id).await?;
    Ok(objects.iter().filter_map(T::from_object).collect())
}

pub async fn find<T: ConfigItem>(
    provider: &Provider,
    server_id: &str,
    id: &str,
) -> Result<T, AuthServerError> {
    list::<T>(provider, server_id)
        .await?
        .into_iter()
        .find(|item| item.id() == id)
        .ok_or_else(|| AuthServerError::Missing {
            kind: T::LABEL,
            id: id.to_owned(),
        })
}

fn conflict<T: ConfigItem>(e: StoreError) -> AuthServerError {
    match e {
        StoreError::Conflict { .. } => invalid(
            "name",
            match T::KIND {
                AuthServerObjectKind::Scope => "A scope with this name already exists.",
                AuthServerObjectKind::Claim => {
                    "A claim with this name and claimType already exists."
                }
                AuthServerObjectKind::Policy => "A policy with this name already exists.",
                AuthServerObjectKind::Rule => "A rule with this name already exists in the policy.",
            },
        ),
        other => other.into(),
    }
}

async fn insert<T: ConfigItem>(
    provider: &Provider,
    server_id: &str,
    item: &T,
) -> Result<(), AuthServerError> {
    provider
        .store
        .create_auth_server_object(&item.to_object(server_id))
        .await
        .map_err(conflict::<T>)?;
    provider.invalidate_auth_server(server_id);
    Ok(())
}

async fn update<T: ConfigItem>(
    provider: &Provider,
    server_id: &str,
    item: &T,
) -> Result<(), AuthServerError> {
    provider
        .store
        .update_auth_server_object(&item.to_object(server_id))
        .await
        .map_err(conflict::<T>)?;
    provider.invalidate_auth_server(server_id);
    Ok(())
}

/// Deletes an item (a policy with its rules).
pub async fn delete<T: ConfigItem>(
    provider: &Provider,
    server_id: &str,
    id: &str,
) -> Result<(), AuthServerError> {
    let item: T = find(provider, server_id, id).await?;
    if is_system(&item) {
        return Err(AuthServerError::Forbidden(format!(
            "The system {} '{id}' cannot be deleted.",
            T::LABEL
        )));
    }
    provider
        .store
        .delete_auth_server_object(server_id, id)
        .await?;
    provider.invalidate_auth_server(server_id);
    Ok(())
}

fn is_system<T: ConfigItem>(item: &T) -> bool {
    serde_json::to_value(item)
        .ok()
        .and_then(|v| v.get("system").and_then(serde_json::Value::as_bool))
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------------
// Scopes

#[derive(Debug, Clone)]
pub struct ScopeSpec {
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub consent: ScopeConsent,
    pub default: bool,
    pub metadata_publish: MetadataPublish,
    pub optional: bool,
}

/// A scope's free text: its name's length, display name and description.
fn check_scope_text(spec: &ScopeSpec) -> Result<(), AuthServerError> {
    text::check_max_chars(&spec.name, limits::NAME).map_err(|m| invalid("name", m))?;
    if let Some(d) = &spec.display_name {
        text::check_free_text(d, limits::NAME).map_err(|m| invalid("displayName", m))?;
    }
    if let Some(d) = &spec.description {
        text::check_free_text(d, limits::DESCRIPTION).map_err(|m| invalid("description", m))?;
    }
    Ok(())
}

fn check_scope_name(name: &str) -> Result<(), AuthServerError> {
    if name.is_empty() {
        return Err(invalid("name", "The scope name must not be empty."));
    }
    if !scope::is_valid_token(name) {
        return Err(invalid(
            "name",
            "The scope name may hold printable ASCII characters other than space, '\"' and '\\'.",
        ));
    }
    if name.starts_with("okta.") {
        return Err(invalid(
            "name",
            "Scope names that start with 'okta.' are reserved.",
        ));
    }
    Ok(())
}

pub async fn create_scope(
    provider: &Provider,
    server_id: &str,
    spec: ScopeSpec,
) -> Result<OAuthScope, AuthServerError> {
    custom_server(provider, server_id).await?;
    check_scope_name(&spec.name)?;
    check_scope_text(&spec)?;
    let now = provider.now();
    let item = OAuthScope {
        id: okta_id("scp"),
        name: spec.name,
        display_name: spec.display_name,
        description: spec.description,
        consent: spec.consent,
        default: spec.default,
        metadata_publish: spec.metadata_publish,
        system: false,
        optional: spec.optional,
        created: now,
        last_updated: now,
    };
    insert(provider, server_id, &item).await?;
    Ok(item)
}

pub async fn replace_scope(
    provider: &Provider,
    server_id: &str,
    id: &str,
    spec: ScopeSpec,
) -> Result<OAuthScope, AuthServerError> {
    let mut item: OAuthScope = find(provider, server_id, id).await?;
    if item.system && spec.name != item.name {
        return Err(AuthServerError::Forbidden(
            "A system scope cannot be renamed.".into(),
        ));
    }
    check_scope_name(&spec.name)?;
    check_scope_text(&spec)?;
    item.name = spec.name;
    item.display_name = spec.display_name;
    item.description = spec.description;
    item.consent = spec.consent;
    item.default = spec.default;
    item.metadata_publish = spec.metadata_publish;
    item.optional = spec.optional;
    item.last_updated = provider.now();
    update(provider, server_id, &item).await?;
    Ok(item)
}

fn system_scope(name: &str, description: &str, now: Timestamp) -> OAuthScope {
    OAuthScope {
        id: okta_id("scp"),
        name: name.into(),
        display_name: None,
        description: Some(description.into()),
        consent: ScopeConsent::Implicit,
        default: false,
        metadata_publish: MetadataPublish::AllClients,
        system: true,
        optional: false,
        created: now,
        last_updated: now,
    }
}

/// A new server's system scopes. Idempotent (a scope already there is left alone).
pub async fn seed_system_scopes(provider: &Provider, server_id: &str) -> Result<(), StoreError> {
    let now = provider.now();
    for (name, description) in SYSTEM_SCOPES {
        let item = system_scope(name, description, now);
        match provider
            .store
            .create_auth_server_object(&item.to_object(server_id))
            .await
        {
            Ok(()) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    provider.invalidate_auth_server(server_id);
    Ok(())
}

/// The `default` server as Okta ships it: the system scopes, and a "Default Policy" for all
/// clients whose "Default Policy Rule" allows every grant, scope and user. Only for a server
/// that has no configuration yet (first start, or a database from before policies existed);
/// idempotent across nodes (names are unique).
pub async fn seed_default_server(provider: &Provider, server_id: &str) -> Result<(), StoreError> {
    if !provider
        .store
        .list_auth_server_objects(server_id)
        .await?
        .is_empty()
    {
        return Ok(());
    }
    seed_system_scopes(provider, server_id).await?;
    let now = provider.now();
    let policy = AccessPolicy {
        id: okta_id("00p"),
        name: "Default Policy".into(),
        description: "Default policy description".into(),
        priority: 1,
        status: AppStatus::Active,
        system: false,
        clients: vec![ALL_CLIENTS.into()],
        created: now,
        last_updated: now,
    };
    let policy_id = match provider
        .store
        .create_auth_server_object(&policy.to_object(server_id))
        .await
    {
        Ok(()) => policy.id.clone(),
        // Another node seeded it first: its rule comes with it.
        Err(StoreError::Conflict { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    let rule = PolicyRule {
        id: okta_id("0pr"),
        policy_id,
        name: "Default Policy Rule".into(),
        priority: 1,
        status: AppStatus::Active,
        system: false,
        grant_types: [
            "implicit",
            "client_credentials",
            "authorization_code",
            "password",
        ]
        .map(String::from)
        .to_vec(),
        scopes: vec![ANY_SCOPE.into()],
        users_include: vec![],
        users_exclude: vec![],
        groups_include: vec![EVERYONE_GROUP.into()],
        groups_exclude: vec![],
        access_token_lifetime_minutes: PolicyRule::DEFAULT_ACCESS_TOKEN_LIFETIME,
        refresh_token_lifetime_minutes: PolicyRule::DEFAULT_REFRESH_TOKEN_LIFETIME,
        refresh_token_window_minutes: PolicyRule::DEFAULT_REFRESH_TOKEN_WINDOW,
        created: now,
        last_updated: now,
    };
    match provider
        .store
        .create_auth_server_object(&rule.to_object(server_id))
        .await
    {
        Ok(()) | Err(StoreError::Conflict { .. }) => {}
        Err(e) => return Err(e),
    }
    provider.invalidate_auth_server(server_id);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Claims

#[derive(Debug, Clone)]
pub struct ClaimSpec {
    pub name: String,
    pub status: AppStatus,
    pub claim_type: ClaimType,
    pub value_type: ClaimValueType,
    pub value: String,
    pub group_filter_type: Option<GroupFilterType>,
    pub always_include_in_token: bool,
    pub scopes: Vec<String>,
}

async fn check_claim(
    provider: &Provider,
    server_id: &str,
    spec: &mut ClaimSpec,
) -> Result<(), AuthServerError> {
    if spec.name.trim().is_empty() {
        return Err(invalid("name", "The claim name must not be empty."));
    }
    if RESERVED_CLAIMS.contains(&spec.name.as_str()) {
        return Err(invalid(
            "name",
            format!("'{}' is a reserved claim name.", spec.name),
        ));
    }
    match spec.value_type {
        ClaimValueType::Expression => {
            parse_expression(&spec.value).map_err(|e| invalid("value", e))?;
            spec.group_filter_type = None;
        }
        ClaimValueType::Groups => {
            let kind = spec.group_filter_type.ok_or_else(|| {
                invalid(
                    "group_filter_type",
                    "A GROUPS claim needs a group_filter_type: STARTS_WITH, EQUALS, CONTAINS or REGEX.",
                )
            })?;
            validate_group_filter(kind, &spec.value).map_err(|e| invalid("value", e))?;
        }
    }
    // Access-token claims always go into their token (Okta stores them so).
    if spec.claim_type == ClaimType::Resource {
        spec.always_include_in_token = true;
    }
    let known: Vec<OAuthScope> = list(provider, server_id).await?;
    if let Some(unknown) = spec
        .scopes
        .iter()
        .find(|s| !known.iter().any(|k| &k.name == *s))
    {
        return Err(invalid(
            "conditions.scopes",
            format!("The scope '{unknown}' does not exist on this authorization server."),
        ));
    }
    Ok(())
}

pub async fn create_claim(
    provider: &Provider,
    server_id: &str,
    mut spec: ClaimSpec,
) -> Result<OAuthClaim, AuthServerError> {
    check_claim(provider, server_id, &mut spec).await?;
    let now = provider.now();
    let item = OAuthClaim {
        id: okta_id("ocl"),
        name: spec.name,
        status: spec.status,
        claim_type: spec.claim_type,
        value_type: spec.value_type,
        value: spec.value,
        group_filter_type: spec.group_filter_type,
        always_include_in_token: spec.always_include_in_token,
        scopes: spec.scopes,
        system: false,
        created: now,
        last_updated: now,
    };
    insert(provider, server_id, &item).await?;
    Ok(item)
}

pub async fn replace_claim(
    provider: &Provider,
    server_id: &str,
    id: &str,
    mut spec: ClaimSpec,
) -> Result<OAuthClaim, AuthServerError> {
    let mut item: OAuthClaim = find(provider, server_id, id).await?;
    check_claim(provider, server_id, &mut spec).await?;
    item.name = spec.name;
    item.status = spec.status;
    item.claim_type = spec.claim_type;
    item.value_type = spec.value_type;
    item.value = spec.value;
    item.group_filter_type = spec.group_filter_type;
    item.always_include_in_token = spec.always_include_in_token;
    item.scopes = spec.scopes;
    item.last_updated = provider.now();
    update(provider, server_id, &item).await?;
    Ok(item)
}

// ---------------------------------------------------------------------------------------------
// Policies

#[derive(Debug, Clone)]
pub struct PolicySpec {
    pub name: String,
    pub description: String,
    /// `None`: after the last policy.
    pub priority: Option<i64>,
    pub status: AppStatus,
    pub clients: Vec<String>,
}

async fn check_policy(provider: &Provider, spec: &PolicySpec) -> Result<(), AuthServerError> {
    if spec.name.trim().is_empty() {
        return Err(invalid("name", "The policy name must not be empty."));
    }
    text::check_free_text(&spec.name, limits::NAME).map_err(|m| invalid("name", m))?;
    text::check_free_text(&spec.description, limits::DESCRIPTION)
        .map_err(|m| invalid("description", m))?;
    if spec.clients.is_empty() {
        return Err(invalid(
            "conditions.clients.include",
            "A policy must include ALL_CLIENTS or at least one client id.",
        ));
    }
    for client in spec.clients.iter().filter(|c| *c != ALL_CLIENTS) {
        if provider
            .store
            .find_app_by_client_id(client)
            .await?
            .is_none()
        {
            return Err(invalid(
                "conditions.clients.include",
                format!("There is no client '{client}'."),
            ));
        }
    }
    if spec.priority.is_some_and(|p| p < 1) {
        return Err(invalid("priority", "The priority must be 1 or more."));
    }
    Ok(())
}

pub async fn create_policy(
    provider: &Provider,
    server_id: &str,
    spec: PolicySpec,
) -> Result<AccessPolicy, AuthServerError> {
    let existing: Vec<AccessPolicy> = list(provider, server_id).await?;
    check_policy(provider, &spec).await?;
    let now = provider.now();
    let item = spec.into_policy(okta_id("00p"), false, now, next_priority(&existing), now);
    make_room(provider, server_id, &existing, &item, |p| p.priority += 1).await?;
    insert(provider, server_id, &item).await?;
    Ok(item)
}

pub async fn replace_policy(
    provider: &Provider,
    server_id: &str,
    id: &str,
    spec: PolicySpec,
) -> Result<AccessPolicy, AuthServerError> {
    let old: AccessPolicy = find(provider, server_id, id).await?;
    check_policy(provider, &spec).await?;
    let item = spec.into_policy(
        old.id,
        old.system,
        old.created,
        old.priority,
        provider.now(),
    );
    let existing: Vec<AccessPolicy> = list(provider, server_id).await?;
    make_room(provider, server_id, &existing, &item, |p| p.priority += 1).await?;
    update(provider, server_id, &item).await?;
    Ok(item)
}

impl PolicySpec {
    /// The policy this spec describes; `priority` applies when the spec names none.
    fn into_policy(
        self,
        id: String,
        system: bool,
        created: Timestamp,
        priority: i64,
        now: Timestamp,
    ) -> AccessPolicy {
        AccessPolicy {
            id,
            name: self.name,
            description: self.description,
            priority: self.priority.unwrap_or(priority),
            status: self.status,
            system,
            clients: self.clients,
            created,
            last_updated: now,
        }
    }
}

/// After the last policy or rule.
fn next_priority<T: ConfigItem>(existing: &[T]) -> i64 {
    existing.iter().map(T::priority).max().unwrap_or(0) + 1
}

/// As Okta does, a policy or rule given a taken priority goes before the one that had it: the
/// siblings from there on move down by one.
async fn make_room<T: ConfigItem>(
    provider: &Provider,
    server_id: &str,
    existing: &[T],
    item: &T,
    move_down: impl Fn(&mut T),
) -> Result<(), AuthServerError> {
    let others = || existing.iter().filter(|o| o.id() != item.id());
    if !others().any(|o| o.priority() == item.priority()) {
        return Ok(());
    }
    for other in others().filter(|o| o.priority() >= item.priority()) {
        let mut moved = other.clone();
        move_down(&mut moved);
        update(provider, server_id, &moved).await?;
    }
    Ok(())
}

/// Activates or deactivates a policy or a rule.
pub async fn set_policy_status(
    provider: &Provider,
    server_id: &str,
    id: &str,
    status: AppStatus,
) -> Result<AccessPolicy, AuthServerError> {
    let mut item: AccessPolicy = find(provider, server_id, id).await?;
    item.status = status;
    item.last_updated = provider.now();
    update(provider, server_id, &item).await?;
    Ok(item)
}

// ---------------------------------------------------------------------------------------------
// Rules

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
