//! What was deleted at the source since the last import. Every top-level record an import
//! carries (users, groups, apps, authorization servers, trusted origins) is remembered with
//! its source id (`import_records`, migration 0028); a rerun that no longer reads one at the
//! source reports it and, per `--deleted`, keeps it, deactivates it or removes it here.
//! Records that exist here without having been imported from this source are never touched.

use std::collections::HashSet;

use anyhow::Context as _;
use gatehouse_core::domain::{AppStatus, UserStatus};
use gatehouse_core::services::directory::DirectoryError;
use gatehouse_core::services::org_import::DeletedAtSource;
use gatehouse_core::services::users::{self, DeleteOutcome, Lifecycle};
use gatehouse_core::services::{apps, auth_servers, groups, trusted_origins};
use gatehouse_core::store::ImportRecord;

use super::Import;

pub(super) const USER: &str = "users";
pub(super) const GROUP: &str = "groups";
pub(super) const APP: &str = "apps";
pub(super) const SERVER: &str = "authorization servers";
pub(super) const ORIGIN: &str = "trusted origins";

/// What to do here with a record that was deleted at the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OnDeleted {
    /// List it in the report and leave it as it is.
    #[default]
    Report,
    /// Deactivate it (users DEPROVISIONED, apps, servers and trusted origins INACTIVE;
    /// groups have no status and are kept).
    Deactivate,
    /// Delete it here (deactivated first where Gatehouse requires it).
    Remove,
}

/// What the source listed (`seen`) and what this run carried (source id → id here), per kind.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    pub read: std::collections::HashMap<&'static str, HashSet<String>>,
    pub carried: std::collections::HashMap<&'static str, Vec<(String, String)>>,
}

impl Seen {
    /// A record read at the source (carried or not: it still exists there).
    pub fn read(&mut self, kind: &'static str, raw: &serde_json::Value) {
        if let Some(id) = raw.get("id").and_then(|v| v.as_str()) {
            self.read.entry(kind).or_default().insert(id.to_owned());
        }
    }

    pub fn carried(&mut self, kind: &'static str, source_id: &str, target_id: &str) {
        self.carried
            .entry(kind)
            .or_default()
            .push((source_id.to_owned(), target_id.to_owned()));
    }
}

/// After `kind` was read in full: remembers what was carried, then deals with what this
/// source once had and no longer lists.
pub(super) async fn sweep(run: &mut Import<'_>, kind: &'static str) -> anyhow::Result<()> {
    let source = run.source.org_url().to_owned();
    let read = run.seen.read.remove(kind).unwrap_or_default();
    let carried = run.seen.carried.remove(kind).unwrap_or_default();
    if !run.dry_run {
        let now = run.provider.now();
        for (source_id, target_id) in carried {
            let record = ImportRecord {
                source_url: source.clone(),
                kind: kind.to_owned(),
                source_id,
                target_id,
                last_seen: now,
            };
            run.provider.store.record_import(&record).await?;
        }
    }
    let known = run.provider.store.list_imports(&source, kind).await?;
    for r in known.into_iter().filter(|r| !read.contains(&r.source_id)) {
        match gone(run, kind, &r).await {
            Ok((name, what)) => run.report.deleted(kind, &name, &what),
            Err(e) => {
                let why = format!("deleted at the source, but: {e:#}");
                run.report.not_carried(kind, &r.target_id, why);
            }
        }
    }
    Ok(())
}

/// Applies `--deleted` to one record; its name here and what happened.
async fn gone(
    run: &Import<'_>,
    kind: &'static str,
    r: &ImportRecord,
) -> anyhow::Result<(String, String)> {
    let mode = if run.dry_run {
        OnDeleted::Report
    } else {
        run.on_deleted
    };
    let kept = match run.on_deleted {
        OnDeleted::Report => "kept (--deleted deactivate or remove would act on it)",
        OnDeleted::Deactivate => "would be deactivated",
        OnDeleted::Remove => "would be removed",
    };
    let p = run.provider;
    let actor = &run.actor;
    let id = r.target_id.as_str();
    let (name, what) = match kind {
        USER => {
            let Some(u) = p.store.find_user(id).await? else {
                return forget(run, r).await;
            };
            let name = u.login.clone();
            match mode {
                OnDeleted::Report => (name, kept),
                OnDeleted::Deactivate if u.status == UserStatus::Deprovisioned => {
                    (name, "already deactivated")
                }
                OnDeleted::Deactivate => {
                    users::lifecycle(p, actor, u, Lifecycle::Deactivate).await?;
                    (name, "deactivated")
                }
                OnDeleted::Remove => {
                    let mut outcome = users::delete_user(p, actor, u).await?;
                    if let DeleteOutcome::Deactivated(u) = outcome {
                        outcome = users::delete_user(p, actor, *u).await?;
                    }
                    anyhow::ensure!(
                        outcome == DeleteOutcome::Deleted,
                        "the user was not deleted"
                    );
                    forget(run, r).await?;
                    (name, "removed")
                }
            }
        }
        GROUP => {
            let Some(g) = p.store.find_group(id).await? else {
                return forget(run, r).await;
            };
            let name = g.name.clone();
            match mode {
                OnDeleted::Report => (name, kept),
                OnDeleted::Deactivate => (name, "kept (groups have no status to deactivate)"),
                OnDeleted::Remove => {
                    groups::delete_group(p, actor, &g).await?;
                    forget(run, r).await?;
                    (name, "removed")
                }
            }
        }
        APP => {
            let Some(a) = p.store.find_app(id).await? else {
                return forget(run, r).await;
            };
            let name = a.label.clone();
            match mode {
                OnDeleted::Report => (name, kept),
                OnDeleted::Deactivate if a.status == AppStatus::Inactive => {
                    (name, "already deactivated")
                }
                OnDeleted::Deactivate => {
                    apps::set_status(p, actor, a, AppStatus::Inactive).await?;
                    (name, "deactivated")
                }
                OnDeleted::Remove => {
                    let a = apps::set_status(p, actor, a, AppStatus::Inactive).await?;
                    apps::delete(p, actor, &a).await?;
                    forget(run, r).await?;
                    (name, "removed")
                }
            }
        }
        SERVER => {
            let Some(s) = p.store.find_auth_server(id).await? else {
                return forget(run, r).await;
            };
            let name = s.name.clone();
            match mode {
                OnDeleted::Report => (name, kept),
                OnDeleted::Deactivate if s.status == AppStatus::Inactive => {
                    (name, "already deactivated")
                }
                OnDeleted::Deactivate => {
                    auth_servers::set_status(p, id, AppStatus::Inactive).await?;
                    (name, "deactivated")
                }
                OnDeleted::Remove => {
                    auth_servers::set_status(p, id, AppStatus::Inactive).await?;
                    auth_servers::delete(p, id).await?;
                    forget(run, r).await?;
                    (name, "removed")
                }
            }
        }
        ORIGIN => {
            let o = match trusted_origins::find(p, id).await {
                Ok(o) => o,
                Err(DirectoryError::Missing { .. }) => return forget(run, r).await,
                Err(e) => return Err(e.into()),
            };
            let name = o.origin.clone();
            match mode {
                OnDeleted::Report => (name, kept),
                OnDeleted::Deactivate if o.status == AppStatus::Inactive => {
                    (name, "already deactivated")
                }
                OnDeleted::Deactivate => {
                    trusted_origins::set_status(p, o, AppStatus::Inactive, None).await?;
                    (name, "deactivated")
                }
                OnDeleted::Remove => {
                    trusted_origins::delete(p, &o).await?;
                    forget(run, r).await?;
                    (name, "removed")
                }
            }
        }
        other => anyhow::bail!("unknown kind {other}"),
    };
    Ok((name, what.to_owned()))
}

/// The record is gone here too: nothing to do but forget it.
async fn forget(run: &Import<'_>, r: &ImportRecord) -> anyhow::Result<(String, String)> {
    if !run.dry_run {
        run.provider
            .store
            .forget_import(&r.source_url, &r.kind, &r.source_id)
            .await
            .context("forgetting an import record")?;
    }
    Ok((r.target_id.clone(), "already gone here".to_owned()))
}

impl From<OnDeleted> for DeletedAtSource {
    fn from(d: OnDeleted) -> Self {
        match d {
            OnDeleted::Report => Self::Report,
            OnDeleted::Deactivate => Self::Deactivate,
            OnDeleted::Remove => Self::Remove,
        }
    }
}

impl From<DeletedAtSource> for OnDeleted {
    fn from(d: DeletedAtSource) -> Self {
        match d {
            DeletedAtSource::Report => Self::Report,
            DeletedAtSource::Deactivate => Self::Deactivate,
            DeletedAtSource::Remove => Self::Remove,
        }
    }
}
