//! The users assigned to an app: directly, or through one of its groups.

use std::collections::BTreeSet;

use crate::audit::{Actor, Entity, event_type as ev};
use crate::domain::*;
use crate::provider::Provider;
use crate::services::directory_rules::{DirectoryError, invalid};
use crate::services::groups::split_page;
use crate::store::Page;

/// How a user is assigned to an app (Okta's AppUser `scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentScope {
    User,
    Group,
}

impl AssignmentScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::Group => "GROUP",
        }
    }
}

/// Assigns the user directly. Deactivated users cannot be assigned.
pub async fn assign_user(
    provider: &Provider,
    actor: &Actor,
    app: &App,
    user: &User,
) -> Result<(), DirectoryError> {
    if user.status == UserStatus::Deprovisioned {
        return Err(invalid(
            "id",
            "a deactivated user cannot be assigned to an app",
        ));
    }
    let already = provider
        .store
        .list_app_users(&app.id)
        .await?
        .contains(&user.id);
    provider.store.assign_app_user(&app.id, &user.id).await?;
    if !already {
        actor
            .record(
                provider,
                ev::APP_USER_MEMBERSHIP_ADD,
                "Add user to application membership",
                vec![Entity::app(app), Entity::user(user)],
            )
            .await;
    }
    Ok(())
}

/// How the user is assigned: directly, or through a group. `Missing` when not at all.
pub async fn user_assignment(
    provider: &Provider,
    app: &App,
    user: &User,
) -> Result<AssignmentScope, DirectoryError> {
    let direct = provider.store.list_app_users(&app.id).await?;
    if direct.contains(&user.id) {
        Ok(AssignmentScope::User)
    } else if provider.store.is_user_assigned(&app.id, &user.id).await? {
        Ok(AssignmentScope::Group)
    } else {
        Err(DirectoryError::Missing {
            kind: "AppUser",
            key: user.id.clone(),
        })
    }
}

/// One page of the app's users, by id, with how each is assigned: directly (`USER`) or
/// through a group (`GROUP`), as Okta lists them. With `Everyone` assigned, that is every user.
pub async fn list_users(
    provider: &Provider,
    app: &App,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<(User, AssignmentScope)>, Option<String>), DirectoryError> {
    const CHUNK: u32 = 1000;
    let limit = limit.max(1);
    let direct: BTreeSet<String> = provider
        .store
        .list_app_users(&app.id)
        .await?
        .into_iter()
        .collect();
    let scope_of = |id: &str| {
        if direct.contains(id) {
            AssignmentScope::User
        } else {
            AssignmentScope::Group
        }
    };
    let mut groups = Vec::new();
    for id in provider.store.list_app_groups(&app.id).await? {
        if let Some(g) = provider.store.find_group(&id).await? {
            groups.push(g);
        }
    }
    if groups.iter().any(|g| g.group_type == GroupType::BuiltIn) {
        let page = Page {
            after,
            limit: limit.saturating_add(1),
        };
        let users = provider.store.search_users(None, page).await?;
        let (users, next) = split_page(users, limit, |u| &u.id);
        let users = users
            .into_iter()
            .map(|u| {
                let scope = scope_of(&u.id);
                (u, scope)
            })
            .collect();
        return Ok((users, next));
    }
    let mut ids = direct.clone();
    for g in &groups {
        let mut cursor: Option<String> = None;
        loop {
            let page = Page {
                after: cursor.as_deref(),
                limit: CHUNK,
            };
            let members = provider.store.list_group_members(&g.id, page).await?;
            let done = members.len() < CHUNK as usize;
            cursor = members.last().map(|u| u.id.clone());
            ids.extend(members.into_iter().map(|u| u.id));
            if done {
                break;
            }
        }
    }
    let ids: Vec<String> = ids
        .into_iter()
        .filter(|id| after.is_none_or(|a| id.as_str() > a))
        .collect();
    let (ids, next) = split_page(ids, limit, |id| id);
    let mut users = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(u) = provider.store.find_user(id).await? {
            users.push((u, scope_of(id)));
        }
    }
    Ok((users, next))
}

/// Removes a direct assignment; `Missing` when the user is not assigned directly.
pub async fn unassign_user(
    provider: &Provider,
    actor: &Actor,
    app: &App,
    user: &User,
) -> Result<(), DirectoryError> {
    if user_assignment(provider, app, user).await? != AssignmentScope::User {
        return Err(DirectoryError::Missing {
            kind: "AppUser",
            key: user.id.clone(),
        });
    }
    provider.store.unassign_app_user(&app.id, &user.id).await?;
    actor
        .record(
            provider,
            ev::APP_USER_MEMBERSHIP_REMOVE,
            "Remove user's application membership",
            vec![Entity::app(app), Entity::user(user)],
        )
        .await;
    Ok(())
}

/// Assigns the user directly, unrecorded.
pub async fn assign_user_to_app(
    provider: &Provider,
    app: &App,
    user: &User,
) -> Result<(), DirectoryError> {
    provider.store.assign_app_user(&app.id, &user.id).await?;
    Ok(())
}
