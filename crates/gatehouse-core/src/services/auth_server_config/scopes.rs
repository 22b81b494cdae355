//! A custom server's scopes, and the system scopes and default policy a server starts with.

use crate::authz::model::*;
use crate::crypto::okta_id;
use crate::domain::text::{self, limits};
use crate::domain::{AppStatus, Timestamp};
use crate::oauth2::scope;
use crate::provider::Provider;
use crate::services::auth_server_error::AuthServerError;
use crate::store::StoreError;

use super::items::{custom_server, find, insert, invalid, update};

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
