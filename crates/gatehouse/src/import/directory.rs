//! Users (same ids, marked for password migration) and groups (matched by name) with their
//! memberships.

use std::collections::HashSet;

use gatehouse_core::domain::{EVERYONE_GROUP, GroupType, UserStatus};
use gatehouse_core::services::directory;
use gatehouse_core::services::groups;
use gatehouse_core::services::import_users::{self, ImportedUser, Outcome};

use super::report::Change;
use super::{Import, model, need};

const USERS: &str = "users";
const GROUPS: &str = "groups";
const MEMBERSHIPS: &str = "group memberships";

/// Okta's statuses, as Gatehouse keeps them. States that only mean something to the source's
/// password (expired, in recovery) become ACTIVE: the password is checked at the source at the
/// first sign-in anyway.
fn status_of(okta: &str) -> Option<(UserStatus, Option<&'static str>)> {
    Some(match okta {
        "ACTIVE" => (UserStatus::Active, None),
        "PASSWORD_EXPIRED" => (
            UserStatus::Active,
            Some("PASSWORD_EXPIRED at the source: imported ACTIVE (the expiry is not carried)"),
        ),
        "RECOVERY" => (
            UserStatus::Active,
            Some("RECOVERY at the source: imported ACTIVE (the recovery is not carried)"),
        ),
        "LOCKED_OUT" => (UserStatus::LockedOut, None),
        "STAGED" => (UserStatus::Staged, None),
        "PROVISIONED" => (UserStatus::Provisioned, None),
        "SUSPENDED" => (UserStatus::Suspended, None),
        "DEPROVISIONED" => (UserStatus::Deprovisioned, None),
        _ => return None,
    })
}

pub(super) async fn users(run: &mut Import<'_>) -> anyhow::Result<()> {
    let all = need("users", run.source.list("/api/v1/users").await)?;
    let source_url = run.source.org_url().to_owned();
    let mut progress = run.read(USERS, all.len());
    for raw in all {
        progress.inc();
        run.seen.read(USERS, &raw);
        let u: model::User = match model::parse("user", raw) {
            Ok(u) => u,
            Err(e) => {
                run.report.not_carried(USERS, "?", e);
                continue;
            }
        };
        let Some((status, note)) = status_of(&u.status) else {
            run.report.not_carried(
                USERS,
                &u.profile.login,
                format!("unknown status {}", u.status),
            );
            continue;
        };
        if let Some(note) = note {
            run.note(format_args!("user {}: {note}", u.profile.login));
        }
        let imported = ImportedUser {
            id: u.id.clone(),
            status,
            login: u.profile.login.clone(),
            email: u.profile.email.clone(),
            first_name: u.profile.first_name.clone().unwrap_or_default(),
            last_name: u.profile.last_name.clone().unwrap_or_default(),
            display_name: u.profile.display_name.clone(),
        };
        if run.dry_run {
            let exists = run.provider.store.find_user(&u.id).await?.is_some();
            run.report.count(
                USERS,
                if exists {
                    Change::Updated
                } else {
                    Change::Created
                },
            );
            run.user_ids.insert(u.id);
            continue;
        }
        match import_users::upsert(run.provider, &run.actor, imported, &source_url).await {
            Ok((_, outcome)) => {
                run.report.count(
                    USERS,
                    match outcome {
                        Outcome::Created => Change::Created,
                        Outcome::Updated => Change::Updated,
                        Outcome::Unchanged => Change::Unchanged,
                    },
                );
                run.seen.carried(USERS, &u.id, &u.id);
                run.user_ids.insert(u.id);
            }
            Err(e) => run.report.not_carried(USERS, &u.profile.login, e),
        }
    }
    Ok(())
}

pub(super) async fn groups(run: &mut Import<'_>) -> anyhow::Result<()> {
    let all = need("groups", run.source.list("/api/v1/groups").await)?;
    let mut progress = run.read(GROUPS, all.len());
    for raw in all {
        progress.inc();
        run.seen.read(GROUPS, &raw);
        let g: model::Group = match model::parse("group", raw) {
            Ok(g) => g,
            Err(e) => {
                run.report.not_carried(GROUPS, "?", e);
                continue;
            }
        };
        let name = g.profile.name.clone();
        match g.group_type.as_str() {
            "BUILT_IN" => {
                // The source's `Everyone` is ours: rules and assignments naming it keep working.
                let everyone =
                    directory::find_group_by_id_or_name(run.provider, "Everyone").await?;
                run.group_ids.insert(g.id.clone(), everyone.id);
                continue;
            }
            "OKTA_GROUP" => {}
            other => {
                run.report.not_carried(
                    GROUPS,
                    &name,
                    format!("{other} groups come from a directory or an app and are not carried"),
                );
                continue;
            }
        }
        let description = g.profile.description.clone().unwrap_or_default();
        let existing = run.provider.store.find_group_by_name(&name).await?;
        let target = match existing {
            Some(found) if found.group_type == GroupType::BuiltIn => {
                run.report
                    .not_carried(GROUPS, &name, "the name is a built-in group's here");
                continue;
            }
            Some(found) if found.description == description => {
                run.report.count(GROUPS, Change::Unchanged);
                Some(found)
            }
            Some(found) => {
                run.report.count(GROUPS, Change::Updated);
                if run.dry_run {
                    Some(found)
                } else {
                    match groups::update_group(run.provider, &run.actor, found, &name, &description)
                        .await
                    {
                        Ok(updated) => Some(updated),
                        Err(e) => {
                            run.report.not_carried(GROUPS, &name, e);
                            continue;
                        }
                    }
                }
            }
            None if run.dry_run => {
                run.report.count(GROUPS, Change::Created);
                None
            }
            None => {
                match groups::create_group(run.provider, &run.actor, &name, &description).await {
                    Ok(created) => {
                        run.report.count(GROUPS, Change::Created);
                        Some(created)
                    }
                    Err(e) => {
                        run.report.not_carried(GROUPS, &name, e);
                        continue;
                    }
                }
            }
        };
        let Some(target) = target else { continue };
        run.group_ids.insert(g.id.clone(), target.id.clone());
        run.seen.carried(GROUPS, &g.id, &target.id);
        members(run, &g.id, &target).await?;
    }
    Ok(())
}

/// Adds the source group's members that were imported and are not members yet.
async fn members(
    run: &mut Import<'_>,
    source_id: &str,
    target: &gatehouse_core::domain::Group,
) -> anyhow::Result<()> {
    let path = format!("/api/v1/groups/{source_id}/users");
    let source_members = need("group members", run.source.list(&path).await)?;
    let mut current = HashSet::new();
    let mut after: Option<String> = None;
    loop {
        let (page, next) =
            groups::list_members(run.provider, target, after.as_deref(), 1000).await?;
        current.extend(page.into_iter().map(|u| u.id));
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    for raw in source_members {
        let Some(id) = raw.get("id").and_then(|v| v.as_str()).map(str::to_owned) else {
            continue;
        };
        if current.contains(&id) {
            run.report.count(MEMBERSHIPS, Change::Unchanged);
            continue;
        }
        if !run.user_ids.contains(&id) {
            let why = "the user was not imported";
            run.report
                .not_carried(MEMBERSHIPS, &format!("{} ∋ {id}", target.name), why);
            continue;
        }
        run.report.count(MEMBERSHIPS, Change::Created);
        if run.dry_run {
            continue;
        }
        let Some(user) = run.provider.store.find_user(&id).await? else {
            continue;
        };
        if let Err(e) = groups::add_group_member(run.provider, &run.actor, target, &user).await {
            run.report
                .not_carried(MEMBERSHIPS, &format!("{} ∋ {id}", target.name), e);
        }
    }
    Ok(())
}

/// A source group id in a rule or assignment, as the id here (`EVERYONE` stays itself).
pub(super) fn map_group(run: &Import<'_>, source_id: &str) -> Option<String> {
    if source_id == EVERYONE_GROUP {
        return Some(source_id.to_owned());
    }
    run.group_ids.get(source_id).cloned()
}
