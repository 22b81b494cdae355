//! Groups: creation, listing, renaming, deletion and membership. The built-in `Everyone`
//! group cannot be changed.

use crate::audit::{Actor, Entity, event_type as ev};
use crate::crypto::okta_id;
use crate::domain::{Group, GroupType, User};
use crate::provider::Provider;
use crate::services::directory_rules::{DirectoryError, invalid, validate_group_profile};
use crate::store::Page;

fn built_in(what: &str) -> DirectoryError {
    DirectoryError::Forbidden(format!("The built-in Everyone group cannot be {what}."))
}

/// Keeps the first `limit` records and returns the id of the last one when there were more.
pub(crate) fn split_page<T>(
    mut items: Vec<T>,
    limit: u32,
    id: fn(&T) -> &str,
) -> (Vec<T>, Option<String>) {
    if items.len() > limit as usize {
        items.truncate(limit as usize);
        let next = items.last().map(|i| id(i).to_owned());
        (items, next)
    } else {
        (items, None)
    }
}

pub async fn create_group(
    provider: &Provider,
    actor: &Actor,
    name: &str,
    description: &str,
) -> Result<Group, DirectoryError> {
    let name = validate_group_profile(name, description)?;
    let now = provider.now();
    let group = Group {
        id: okta_id("00g"),
        name: name.to_owned(),
        description: description.to_owned(),
        group_type: GroupType::OktaGroup,
        created: now,
        last_updated: now,
    };
    provider.store.create_group(&group).await?;
    let target = vec![Entity::group(&group)];
    actor
        .record(provider, ev::GROUP_CREATE, "Create Okta group", target)
        .await;
    Ok(group)
}

/// One page of groups (optionally those whose name starts with `q`), and the next cursor.
pub async fn list_groups(
    provider: &Provider,
    q: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<Group>, Option<String>), DirectoryError> {
    let limit = limit.max(1);
    let page = Page {
        after,
        limit: limit.saturating_add(1),
    };
    let groups = match q {
        Some(q) => provider.store.search_groups_by_name(q, page).await?,
        None => provider.store.list_groups(page).await?,
    };
    Ok(split_page(groups, limit, |g| &g.id))
}

pub async fn update_group(
    provider: &Provider,
    actor: &Actor,
    mut group: Group,
    name: &str,
    description: &str,
) -> Result<Group, DirectoryError> {
    if group.group_type == GroupType::BuiltIn {
        return Err(built_in("changed"));
    }
    let name = validate_group_profile(name, description)?;
    group.name = name.to_owned();
    group.description = description.to_owned();
    group.last_updated = provider.now();
    provider.store.update_group(&group).await?;
    let target = vec![Entity::group(&group)];
    actor
        .record(
            provider,
            ev::GROUP_UPDATE,
            "Update Okta group profile",
            target,
        )
        .await;
    Ok(group)
}

pub async fn delete_group(
    provider: &Provider,
    actor: &Actor,
    group: &Group,
) -> Result<(), DirectoryError> {
    if group.group_type == GroupType::BuiltIn {
        return Err(built_in("deleted"));
    }
    provider.store.delete_group(&group.id).await?;
    let target = vec![Entity::group(group)];
    actor
        .record(provider, ev::GROUP_DELETE, "Delete Okta group", target)
        .await;
    Ok(())
}

pub async fn add_group_member(
    provider: &Provider,
    actor: &Actor,
    group: &Group,
    user: &User,
) -> Result<(), DirectoryError> {
    if group.group_type == GroupType::BuiltIn {
        return Err(invalid(
            "groupId",
            "membership of a built-in group cannot be changed",
        ));
    }
    provider.store.add_group_member(&group.id, &user.id).await?;
    let targets = vec![Entity::user(user), Entity::group(group)];
    let message = "Add user to group membership";
    actor
        .record(provider, ev::GROUP_MEMBERSHIP_ADD, message, targets)
        .await;
    Ok(())
}

pub async fn remove_group_member(
    provider: &Provider,
    actor: &Actor,
    group: &Group,
    user: &User,
) -> Result<(), DirectoryError> {
    if group.group_type == GroupType::BuiltIn {
        return Err(built_in("changed"));
    }
    provider
        .store
        .remove_group_member(&group.id, &user.id)
        .await?;
    let targets = vec![Entity::user(user), Entity::group(group)];
    let message = "Remove user from group membership";
    actor
        .record(provider, ev::GROUP_MEMBERSHIP_REMOVE, message, targets)
        .await;
    Ok(())
}

/// One page of the group's members (every user for a built-in group), and the next cursor.
pub async fn list_members(
    provider: &Provider,
    group: &Group,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<User>, Option<String>), DirectoryError> {
    let limit = limit.max(1);
    let page = Page {
        after,
        limit: limit.saturating_add(1),
    };
    let users = if group.group_type == GroupType::BuiltIn {
        provider.store.search_users(None, page).await?
    } else {
        provider.store.list_group_members(&group.id, page).await?
    };
    Ok(split_page(users, limit, |u| &u.id))
}

/// Every group the user belongs to, `Everyone` included.
pub async fn user_groups(provider: &Provider, user: &User) -> Result<Vec<Group>, DirectoryError> {
    Ok(provider.store.list_user_groups(&user.id).await?)
}
