//! A custom server's access policies: which clients each applies to, in priority order.

use crate::authz::model::*;
use crate::crypto::okta_id;
use crate::domain::text::{self, limits};
use crate::domain::{AppStatus, Timestamp};
use crate::provider::Provider;
use crate::services::auth_server_error::AuthServerError;

use super::items::{find, insert, invalid, list, make_room, next_priority, update};

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
