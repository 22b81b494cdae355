//! The full import (`gatehouse ldap sync`, and on a schedule in `serve`): every directory user
//! is created or updated with their groups, and every LDAP user no longer in the directory is
//! deactivated (their sessions and tokens end with it). It also saves the high-water mark the
//! incremental import ([`super::incremental`]) starts from.

use std::collections::{BTreeMap, HashSet};

use crate::audit::Actor;
use crate::domain::UserStatus;
use crate::provider::Provider;
use crate::services::directory_rules::DirectoryError;
use crate::services::users::{Lifecycle, lifecycle};
use crate::store::SyncMark;

use super::directory::{DirectoryEntry, DirectoryUnavailable, InstalledDirectory};
use super::mapping::DirectoryProfile;
use super::mark::MarkTracker;
use super::provision::{Provisioned, ldap_group, sync_memberships, upsert_user};
use super::source::SOURCE;

/// Which import ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SyncMode {
    #[default]
    Full,
    Incremental,
}

impl SyncMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Incremental => "incremental",
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub mode: SyncMode,
    /// User entries read: every one (full), or those changed since the mark (incremental).
    pub fetched: usize,
    /// Every user in the directory (full imports only; an incremental one does not know).
    pub users_in_directory: usize,
    pub created: usize,
    pub updated: usize,
    pub deactivated: usize,
    /// Entries that could not become users (no login or email, or a local user's login).
    pub refused: usize,
    pub groups_in_directory: usize,
    /// Groups changed since the mark (incremental imports only).
    pub groups_changed: usize,
    /// Users whose memberships were synced because one of their groups changed (incremental).
    pub memberships_synced: usize,
    /// The mark saved at the end; `None` when the directory gave no change attribute.
    pub mark: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("LDAP is not configured (no [ldap] section)")]
    NotConfigured,
    #[error(transparent)]
    Unavailable(#[from] DirectoryUnavailable),
    /// The directory listed no users while Gatehouse has LDAP users: most likely a wrong base
    /// or filter, so nobody is deactivated.
    #[error(
        "the directory listed no users while {0} LDAP users exist; refusing to deactivate them all (check user_base and user_filter)"
    )]
    EmptyDirectory(usize),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

impl From<crate::store::StoreError> for SyncError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Directory(e.into())
    }
}

/// Runs one full import.
pub async fn full_sync(provider: &Provider) -> Result<SyncReport, SyncError> {
    let ldap = provider.ldap.get().ok_or(SyncError::NotConfigured)?;
    // Read before listing: an entry changed while the listing runs is then above the mark.
    let saved = provider.store.sync_mark(SOURCE).await?;
    let started = provider.now();
    let entries = ldap.directory.list_users().await?;
    let groups = ldap.directory.list_groups().await?;
    let known = provider.store.list_source_users(SOURCE).await?;
    if entries.is_empty() && !known.is_empty() {
        return Err(SyncError::EmptyDirectory(known.len()));
    }
    let mut report = SyncReport {
        mode: SyncMode::Full,
        fetched: entries.len(),
        users_in_directory: entries.len(),
        groups_in_directory: groups.len(),
        ..SyncReport::default()
    };
    ensure_groups(provider, &ldap, groups.iter()).await?;
    let seen = import_entries(provider, &ldap, &entries, &groups, &mut report).await?;
    for id in known.iter().filter(|id| !seen.contains(*id)) {
        let Some(user) = provider.store.find_user(id).await? else {
            continue;
        };
        if user.status == UserStatus::Deprovisioned {
            continue;
        }
        lifecycle(provider, &Actor::system(), user, Lifecycle::Deactivate).await?;
        report.deactivated += 1;
    }
    let mut tracker = MarkTracker::default();
    for entry in entries.iter().chain(&groups) {
        tracker.observe(entry, &ldap.mapping.changed);
    }
    let version = saved.map_or(0, |m| m.version);
    save_mark(
        provider,
        &ldap,
        tracker,
        Some(started),
        version,
        &mut report,
    )
    .await?;
    Ok(report)
}

/// Every listed directory group exists in Gatehouse, members or not.
pub(super) async fn ensure_groups<'a>(
    provider: &Provider,
    ldap: &InstalledDirectory,
    groups: impl Iterator<Item = &'a DirectoryEntry>,
) -> Result<(), SyncError> {
    let ldap_groups: HashSet<String> = provider
        .store
        .list_source_groups(SOURCE)
        .await?
        .into_iter()
        .collect();
    for group in groups {
        if let Some(name) = ldap.mapping.group_name(group) {
            ldap_group(provider, name, &group.dn, &ldap_groups).await?;
        }
    }
    Ok(())
}

/// The groups (name → DN) among `groups` that list `profile`.
pub(super) fn wanted_groups(
    ldap: &InstalledDirectory,
    groups: &[DirectoryEntry],
    profile: &DirectoryProfile,
) -> BTreeMap<String, String> {
    groups
        .iter()
        .filter(|g| ldap.mapping.group_lists(g, profile))
        .filter_map(|g| {
            ldap.mapping
                .group_name(g)
                .map(|n| (n.to_owned(), g.dn.clone()))
        })
        .collect()
}

/// Creates or updates the user of each entry with their memberships; the ids of the users.
pub(super) async fn import_entries(
    provider: &Provider,
    ldap: &InstalledDirectory,
    entries: &[DirectoryEntry],
    groups: &[DirectoryEntry],
    report: &mut SyncReport,
) -> Result<HashSet<String>, SyncError> {
    let mut seen = HashSet::new();
    for entry in entries {
        let profile = match ldap.mapping.user_profile(entry) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "LDAP entry skipped");
                report.refused += 1;
                continue;
            }
        };
        let user = match upsert_user(provider, &profile, true).await? {
            Provisioned::LocalConflict(local) => {
                tracing::warn!(login = %local.login, "an LDAP entry has the login of a Gatehouse user that is not from LDAP; skipped");
                report.refused += 1;
                continue;
            }
            Provisioned::Created(u) => {
                report.created += 1;
                u
            }
            Provisioned::Updated(u) => {
                report.updated += 1;
                u
            }
            Provisioned::Unchanged(u) => u,
        };
        seen.insert(user.id.clone());
        sync_memberships(provider, &user, &wanted_groups(ldap, groups, &profile)).await?;
    }
    Ok(seen)
}

/// Saves the mark once the import's writes are done, so a crash before leaves the old mark
/// and the next run reads those entries again (importing an entry twice changes nothing).
/// Another import saving in between wins; this one's mark is dropped, which only means
/// re-reading a few entries next time.
pub(super) async fn save_mark(
    provider: &Provider,
    ldap: &InstalledDirectory,
    tracker: MarkTracker,
    full_sync_at: Option<i64>,
    version: i64,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let mark = SyncMark {
        source: SOURCE.to_owned(),
        scope: ldap.directory.scope(),
        mark: tracker.mark,
        mark_entries: tracker.entries,
        full_sync_at,
        version,
    };
    if provider.store.save_sync_mark(&mark, provider.now()).await? {
        report.mark = mark.mark;
    } else {
        tracing::warn!("another LDAP import saved its mark first; this one's is not kept");
    }
    Ok(())
}
