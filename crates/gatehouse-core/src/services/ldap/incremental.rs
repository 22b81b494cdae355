//! The incremental import (`gatehouse ldap sync --incremental`, and the scheduled rounds
//! between full ones): only the users whose change attribute is at or past the saved mark are
//! read (`(&<user filter>(modifyTimestamp>=<mark>))`) and created or updated; groups changed
//! since the mark have their members' memberships synced again (a membership change touches
//! the group's entry, not the user's). Nobody is deactivated: a deleted entry leaves no
//! change to find, so leavers wait for the next full import.
//!
//! Without a usable mark (none yet, or saved for another directory or filter) it runs the
//! full import instead, which saves one.

use std::collections::BTreeSet;

use crate::domain::UserStatus;
use crate::provider::Provider;
use crate::store::Page;

use super::directory::{DirectoryEntry, InstalledDirectory};
use super::mapping::DirectoryProfile;
use super::mark::MarkTracker;
use super::provision::sync_memberships;
use super::source::{SOURCE, is_ldap_user};
use super::sync::{
    SyncError, SyncMode, SyncReport, ensure_groups, full_sync, import_entries, save_mark,
    wanted_groups,
};

/// Members read per page when finding a changed group's current members.
const PAGE: u32 = 500;

/// Runs one incremental import (or the full one when there is no mark to start from).
pub async fn incremental_sync(provider: &Provider) -> Result<SyncReport, SyncError> {
    let ldap = provider.ldap.get().ok_or(SyncError::NotConfigured)?;
    let saved = provider
        .store
        .sync_mark(SOURCE)
        .await?
        .filter(|m| m.scope == ldap.directory.scope());
    let Some((saved, since)) = saved.and_then(|m| m.mark.clone().map(|since| (m, since))) else {
        return full_sync(provider).await;
    };
    let attribute = &ldap.mapping.changed;
    let before = MarkTracker::from_saved(saved.mark.clone(), saved.mark_entries.clone());
    let entries: Vec<DirectoryEntry> = ldap
        .directory
        .list_users_changed(&since)
        .await?
        .into_iter()
        .filter(|e| before.is_new(e, attribute))
        .collect();
    let groups = ldap.directory.list_groups().await?;
    let changed_groups: Vec<&DirectoryEntry> = groups
        .iter()
        .filter(|g| before.is_new(g, attribute))
        .collect();
    let mut report = SyncReport {
        mode: SyncMode::Incremental,
        fetched: entries.len(),
        groups_in_directory: groups.len(),
        groups_changed: changed_groups.len(),
        ..SyncReport::default()
    };
    ensure_groups(provider, &ldap, changed_groups.iter().copied()).await?;
    let imported = import_entries(provider, &ldap, &entries, &groups, &mut report).await?;
    for id in affected_members(provider, &ldap, &changed_groups).await? {
        if imported.contains(&id) {
            continue;
        }
        if resync_memberships(provider, &ldap, &groups, &id).await? {
            report.memberships_synced += 1;
        }
    }
    let mut tracker = before;
    for entry in entries.iter().chain(changed_groups.iter().copied()) {
        tracker.observe(entry, attribute);
    }
    save_mark(
        provider,
        &ldap,
        tracker,
        saved.full_sync_at,
        saved.version,
        &mut report,
    )
    .await?;
    Ok(report)
}

/// The LDAP users a changed group may have gained or lost: those it lists now (by DN or by
/// login, whichever `group_member` holds) and those its Gatehouse group has now.
async fn affected_members(
    provider: &Provider,
    ldap: &InstalledDirectory,
    changed_groups: &[&DirectoryEntry],
) -> Result<BTreeSet<String>, SyncError> {
    let mut affected = BTreeSet::new();
    let ldap_groups: BTreeSet<String> = provider
        .store
        .list_source_groups(SOURCE)
        .await?
        .into_iter()
        .collect();
    for group in changed_groups {
        for member in group.values(&ldap.mapping.group_member) {
            if let Some(id) = provider.store.find_source_user(SOURCE, member).await? {
                affected.insert(id);
            } else if let Some(user) = provider.store.find_user_by_login(member).await?
                && is_ldap_user(provider, &user.id).await?
            {
                affected.insert(user.id);
            }
        }
        let Some(name) = ldap.mapping.group_name(group) else {
            continue;
        };
        let Some(existing) = provider.store.find_group_by_name(name).await? else {
            continue;
        };
        if !ldap_groups.contains(&existing.id) {
            continue;
        }
        let mut cursor: Option<String> = None;
        loop {
            let page = Page {
                after: cursor.as_deref(),
                limit: PAGE,
            };
            let members = provider
                .store
                .list_group_members(&existing.id, page)
                .await?;
            let done = members.len() < PAGE as usize;
            cursor = members.last().map(|u| u.id.clone());
            affected.extend(members.into_iter().map(|u| u.id));
            if done {
                break;
            }
        }
    }
    Ok(affected)
}

/// Syncs one LDAP user's memberships with the directory's groups, from what Gatehouse knows
/// of them (their DN and login); `false` for users that are not from LDAP or are deactivated.
async fn resync_memberships(
    provider: &Provider,
    ldap: &InstalledDirectory,
    groups: &[DirectoryEntry],
    user_id: &str,
) -> Result<bool, SyncError> {
    let Some(source) = provider
        .store
        .user_source(user_id)
        .await?
        .filter(|s| s.source == SOURCE)
    else {
        return Ok(false);
    };
    let Some(user) = provider.store.find_user(user_id).await? else {
        return Ok(false);
    };
    if user.status == UserStatus::Deprovisioned {
        return Ok(false);
    }
    let profile = DirectoryProfile {
        dn: source.external_id,
        login: user.login.clone(),
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
    };
    sync_memberships(provider, &user, &wanted_groups(ldap, groups, &profile)).await?;
    Ok(true)
}
