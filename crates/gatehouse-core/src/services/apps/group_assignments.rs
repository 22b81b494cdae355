//! The groups assigned to an app, with their priorities.

use crate::audit::{Actor, Entity, event_type as ev};
use crate::domain::*;
use crate::provider::Provider;
use crate::services::directory_rules::{DirectoryError, invalid};
use crate::services::groups::split_page;

/// Assigns (or re-prioritises) a group. Without a priority, a new assignment goes last and an
/// existing one keeps its priority.
pub async fn assign_group(
    provider: &Provider,
    actor: &Actor,
    app: &App,
    group: &Group,
    priority: Option<i64>,
) -> Result<AppGroupAssignment, DirectoryError> {
    if priority.is_some_and(|p| !(0..=i64::from(i32::MAX)).contains(&p)) {
        return Err(invalid("priority", "must be a non-negative integer"));
    }
    let existing = provider.store.list_app_group_assignments(&app.id).await?;
    let priority = match (priority, existing.iter().find(|a| a.group_id == group.id)) {
        (Some(p), _) => p,
        (None, Some(current)) => current.priority,
        (None, None) => existing
            .iter()
            .map(|a| a.priority.saturating_add(1))
            .max()
            .unwrap_or(0),
    };
    let is_new = !existing.iter().any(|a| a.group_id == group.id);
    provider
        .store
        .assign_app_group(&app.id, &group.id, priority)
        .await?;
    if is_new {
        let targets = vec![Entity::app(app), Entity::group(group)];
        actor
            .record(
                provider,
                ev::GROUP_APP_ASSIGNMENT_ADD,
                "Add assigned application to group",
                targets,
            )
            .await;
    }
    Ok(AppGroupAssignment {
        app_id: app.id.clone(),
        group_id: group.id.clone(),
        priority,
    })
}

/// One page of the app's group assignments (by priority), and the next cursor (a group id).
pub async fn list_group_assignments(
    provider: &Provider,
    app: &App,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<AppGroupAssignment>, Option<String>), DirectoryError> {
    let all = provider.store.list_app_group_assignments(&app.id).await?;
    // A cursor that is no longer assigned ends the listing rather than restarting it.
    let start = match after {
        Some(a) => all
            .iter()
            .position(|x| x.group_id == a)
            .map_or(all.len(), |i| i + 1),
        None => 0,
    };
    let rest: Vec<_> = all.into_iter().skip(start).collect();
    Ok(split_page(rest, limit.max(1), |a| &a.group_id))
}

pub async fn group_assignment(
    provider: &Provider,
    app: &App,
    group_id: &str,
) -> Result<AppGroupAssignment, DirectoryError> {
    provider
        .store
        .list_app_group_assignments(&app.id)
        .await?
        .into_iter()
        .find(|a| a.group_id == group_id)
        .ok_or_else(|| DirectoryError::Missing {
            kind: "ApplicationGroupAssignment",
            key: group_id.to_owned(),
        })
}

pub async fn unassign_group(
    provider: &Provider,
    actor: &Actor,
    app: &App,
    group_id: &str,
) -> Result<(), DirectoryError> {
    let assignment = group_assignment(provider, app, group_id).await?;
    provider
        .store
        .unassign_app_group(&app.id, &assignment.group_id)
        .await?;
    let group = match provider.store.find_group(&assignment.group_id).await? {
        Some(g) => Entity::group(&g),
        None => Entity::new(&assignment.group_id, "UserGroup"),
    };
    actor
        .record(
            provider,
            ev::GROUP_APP_ASSIGNMENT_REMOVE,
            "Remove assigned application from group",
            vec![Entity::app(app), group],
        )
        .await;
    Ok(())
}

/// Assigns the group at priority 0, unrecorded (the CLI's `--assign` and tests).
pub async fn assign_group_to_app(
    provider: &Provider,
    app: &App,
    group: &Group,
) -> Result<(), DirectoryError> {
    provider
        .store
        .assign_app_group(&app.id, &group.id, 0)
        .await?;
    Ok(())
}
