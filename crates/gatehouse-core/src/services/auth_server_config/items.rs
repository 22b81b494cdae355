//! What every kind of item of a custom server (scope, claim, policy, rule) shares: reading
//! them fresh from the database, writing them (a taken name is a validation error), deletion
//! (never of a system item) and the priority order of policies and rules.

use crate::authz::model::*;
use crate::domain::AuthServerKind;
use crate::provider::Provider;
use crate::services::auth_server_error::AuthServerError;
use crate::store::StoreError;

pub(super) fn invalid(field: &str, message: impl Into<String>) -> AuthServerError {
    AuthServerError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The custom server `id` (`NotFound` for the org server and unknown ids).
pub(super) async fn custom_server(provider: &Provider, id: &str) -> Result<(), AuthServerError> {
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

pub(super) async fn insert<T: ConfigItem>(
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

pub(super) async fn update<T: ConfigItem>(
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

/// After the last policy or rule.
pub(super) fn next_priority<T: ConfigItem>(existing: &[T]) -> i64 {
    existing.iter().map(T::priority).max().unwrap_or(0) + 1
}

/// As Okta does, a policy or rule given a taken priority goes before the one that had it: the
/// siblings from there on move down by one.
pub(super) async fn make_room<T: ConfigItem>(
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
