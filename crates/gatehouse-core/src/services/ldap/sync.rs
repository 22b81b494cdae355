//! The full import (`gatehouse ldap sync`, and on a schedule in `serve`): every directory user
//! is created or updated with their groups, and every LDAP user no longer in the directory is
//! deactivated (their sessions and tokens end with it).
//!
//! With several nodes on one database the scheduled import runs on one node at a time: each
//! round first takes the [`LEASE`] in the store for the length of the interval.

use std::collections::{BTreeMap, HashSet};

use crate::audit::Actor;
use crate::domain::UserStatus;
use crate::provider::Provider;
use crate::services::directory_rules::DirectoryError;
use crate::services::users::{Lifecycle, lifecycle};

use super::directory::DirectoryUnavailable;
use super::provision::{Provisioned, ldap_group, sync_memberships, upsert_user};
use super::source::SOURCE;

/// The store lease that one node at a time holds to run the scheduled import.
pub const LEASE: &str = "ldap-sync";

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub users_in_directory: usize,
    pub created: usize,
    pub updated: usize,
    pub deactivated: usize,
    /// Entries that could not become users (no login or email, or a local user's login).
    pub refused: usize,
    pub groups_in_directory: usize,
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
    let entries = ldap.directory.list_users().await?;
    let groups = ldap.directory.list_groups().await?;
    let known = provider.store.list_source_users(SOURCE).await?;
    if entries.is_empty() && !known.is_empty() {
        return Err(SyncError::EmptyDirectory(known.len()));
    }
    let mut report = SyncReport {
        users_in_directory: entries.len(),
        groups_in_directory: groups.len(),
        ..SyncReport::default()
    };
    // Every directory group exists in Gatehouse, members or not.
    let ldap_groups: HashSet<String> = provider
        .store
        .list_source_groups(SOURCE)
        .await?
        .into_iter()
        .collect();
    for group in &groups {
        if let Some(name) = ldap.mapping.group_name(group) {
            ldap_group(provider, name, &group.dn, &ldap_groups).await?;
        }
    }
    let mut seen = HashSet::new();
    for entry in &entries {
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
        let wanted: BTreeMap<String, String> = groups
            .iter()
            .filter(|g| ldap.mapping.group_lists(g, &profile))
            .filter_map(|g| {
                ldap.mapping
                    .group_name(g)
                    .map(|n| (n.to_owned(), g.dn.clone()))
            })
            .collect();
        sync_memberships(provider, &user, &wanted).await?;
    }
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
    Ok(report)
}

/// One round of the scheduled import: runs [`full_sync`] if this node (`holder`) gets the
/// lease for the next `interval_seconds`; `Ok(None)` when another node has it.
pub async fn scheduled_round(
    provider: &Provider,
    holder: &str,
    interval_seconds: i64,
) -> Result<Option<SyncReport>, SyncError> {
    // A little less than the interval, so this node's next round finds it free.
    let ttl = (interval_seconds - 1).max(1);
    if !provider
        .store
        .acquire_lease(LEASE, holder, provider.now(), ttl)
        .await?
    {
        return Ok(None);
    }
    full_sync(provider).await.map(Some)
}
