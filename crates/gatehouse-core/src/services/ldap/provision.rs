//! Directory entries into Gatehouse records: a user is created on first sight (JIT), updated
//! from the directory on each sign-in and import, and their memberships of LDAP-sourced groups
//! made to match the directory. Shared by the sign-in and the import.
//!
//! A Gatehouse user or group that did not come from the directory is never taken over by an
//! entry of the same name: the entry is refused (and logged) instead.

use std::collections::{BTreeMap, HashSet};

use crate::audit::{Actor, Entity, event_type as ev};
use crate::crypto::okta_id;
use crate::domain::{Group, User, UserStatus};
use crate::provider::Provider;
use crate::services::directory_rules::DirectoryError;
use crate::services::groups;

use super::mapping::DirectoryProfile;
use super::source::{SOURCE, is_ldap_user};

/// The description of groups created from the directory.
pub const GROUP_DESCRIPTION: &str = "Imported from LDAP";

/// What became of an entry.
#[derive(Debug)]
pub enum Provisioned {
    Created(User),
    Updated(User),
    Unchanged(User),
    /// A Gatehouse user with this login already exists and is not from the directory.
    LocalConflict(User),
}

impl Provisioned {
    pub fn user(&self) -> &User {
        match self {
            Self::Created(u) | Self::Updated(u) | Self::Unchanged(u) | Self::LocalConflict(u) => u,
        }
    }
}

/// Creates or updates the Gatehouse user for `profile`. `reactivate`: a deactivated
/// LDAP user found in the directory again becomes ACTIVE (the import does; a sign-in does not).
pub async fn upsert_user(
    provider: &Provider,
    profile: &DirectoryProfile,
    reactivate: bool,
) -> Result<Provisioned, DirectoryError> {
    // Two first sign-ins of one person at once: the second create loses on the login's
    // uniqueness and finds the first's user instead.
    for _ in 0..2 {
        match provider.store.find_user_by_login(&profile.login).await? {
            Some(user) => return update_user(provider, profile, user, reactivate).await,
            None => match create_user(provider, profile).await {
                Err(DirectoryError::Conflict { .. }) => continue,
                other => return other,
            },
        }
    }
    Err(DirectoryError::Conflict {
        field: "login".into(),
    })
}

async fn create_user(
    provider: &Provider,
    profile: &DirectoryProfile,
) -> Result<Provisioned, DirectoryError> {
    let now = provider.now();
    let actor = Actor::system();
    let user = User {
        id: okta_id("00u"),
        status: UserStatus::Active,
        login: profile.login.clone(),
        email: profile.email.clone(),
        first_name: profile.first_name.clone(),
        last_name: profile.last_name.clone(),
        display_name: None,
        password_hash: None,
        created: now,
        last_updated: now,
        activated: Some(now),
        status_changed: Some(now),
        last_login: None,
        password_changed: None,
    };
    provider.store.create_user(&user).await?;
    provider
        .store
        .set_user_source(&user.id, SOURCE, &profile.dn, now)
        .await?;
    let target = vec![Entity::user(&user)];
    actor
        .record(
            provider,
            ev::USER_CREATE,
            "Create Okta user",
            target.clone(),
        )
        .await;
    actor
        .record(provider, ev::USER_ACTIVATE, "Activate Okta user", target)
        .await;
    Ok(Provisioned::Created(user))
}

async fn update_user(
    provider: &Provider,
    profile: &DirectoryProfile,
    mut user: User,
    reactivate: bool,
) -> Result<Provisioned, DirectoryError> {
    let now = provider.now();
    let actor = Actor::system();
    if !is_ldap_user(provider, &user.id).await? {
        return Ok(Provisioned::LocalConflict(user));
    }
    let mut changed = false;
    for (field, value) in [
        (&mut user.email, &profile.email),
        (&mut user.first_name, &profile.first_name),
        (&mut user.last_name, &profile.last_name),
    ] {
        if field != value {
            field.clone_from(value);
            changed = true;
        }
    }
    let reactivated = reactivate && user.status == UserStatus::Deprovisioned;
    if reactivated {
        user.status = UserStatus::Active;
        user.status_changed = Some(now);
    }
    provider
        .store
        .set_user_source(&user.id, SOURCE, &profile.dn, now)
        .await?;
    if !changed && !reactivated {
        return Ok(Provisioned::Unchanged(user));
    }
    user.last_updated = now;
    provider.store.update_user(&user).await?;
    let target = vec![Entity::user(&user)];
    if changed {
        actor
            .record(
                provider,
                ev::USER_PROFILE_UPDATE,
                "Update user profile for Okta",
                target.clone(),
            )
            .await;
    }
    if reactivated {
        actor
            .record(provider, ev::USER_ACTIVATE, "Activate Okta user", target)
            .await;
    }
    Ok(Provisioned::Updated(user))
}

/// The LDAP-sourced group named `name`, created if missing; `None` when a Gatehouse group of
/// that name exists that is not from the directory, or the name is not a valid group name.
pub async fn ldap_group(
    provider: &Provider,
    name: &str,
    external_id: &str,
    ldap_groups: &HashSet<String>,
) -> Result<Option<Group>, DirectoryError> {
    if let Some(group) = provider.store.find_group_by_name(name).await? {
        if ldap_groups.contains(&group.id) {
            return Ok(Some(group));
        }
        tracing::warn!(group = %name, "a Gatehouse group of this name is not from LDAP; not synced");
        return Ok(None);
    }
    let group =
        match groups::create_group(provider, &Actor::system(), name, GROUP_DESCRIPTION).await {
            Ok(g) => g,
            Err(DirectoryError::Invalid { message, .. }) => {
                tracing::warn!(group = %name, %message, "LDAP group skipped");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
    provider
        .store
        .set_group_source(&group.id, SOURCE, external_id, provider.now())
        .await?;
    Ok(Some(group))
}

/// Makes `user`'s memberships of LDAP-sourced groups those of `wanted` (group name → the
/// group entry's DN): LDAP groups are created as needed, the user added to the missing ones
/// and removed from the others. Groups that are not from LDAP are left alone.
pub async fn sync_memberships(
    provider: &Provider,
    user: &User,
    wanted: &BTreeMap<String, String>,
) -> Result<(), DirectoryError> {
    let actor = Actor::system();
    let ldap_groups: HashSet<String> = provider
        .store
        .list_source_groups(SOURCE)
        .await?
        .into_iter()
        .collect();
    let mut keep = HashSet::new();
    for (name, dn) in wanted {
        if let Some(group) = ldap_group(provider, name, dn, &ldap_groups).await? {
            keep.insert(group.id.clone());
        }
    }
    let current = provider.store.list_user_groups(&user.id).await?;
    let have: HashSet<&str> = current.iter().map(|g| g.id.as_str()).collect();
    for id in &keep {
        if !have.contains(id.as_str())
            && let Some(group) = provider.store.find_group(id).await?
        {
            groups::add_group_member(provider, &actor, &group, user).await?;
        }
    }
    for group in &current {
        let from_ldap = ldap_groups.contains(&group.id) || keep.contains(&group.id);
        if from_ldap && !keep.contains(&group.id) {
            groups::remove_group_member(provider, &actor, group, user).await?;
        }
    }
    Ok(())
}
