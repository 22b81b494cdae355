//! `gatehouse ldap …` (the full import, a configuration check), and what `serve` does with
//! `[ldap]`: install the directory in the engine and run the scheduled import.

use std::sync::Arc;

use clap::Subcommand;
use gatehouse_core::Provider;
use gatehouse_core::services::ldap::incremental::incremental_sync;
use gatehouse_core::services::ldap::schedule::{Schedule, scheduled_round};
use gatehouse_core::services::ldap::sync::{SyncMode, SyncReport, full_sync};
use serde_json::json;

use crate::cli::{Cli, Output};
use crate::ldap::client::LdapDirectory;
use crate::ldap::config::{self, LdapSettings};

#[derive(Debug, Subcommand)]
pub enum LdapCommand {
    /// Import every directory user and group now: create and update users and their LDAP
    /// groups, and deactivate LDAP users no longer in the directory.
    Sync {
        /// Only the users and groups changed since the last import's mark (no deactivations;
        /// the full import runs instead when there is no mark yet).
        #[arg(long)]
        incremental: bool,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Check the settings and the service account: connect, bind, and count the users and
    /// groups the filters find (changes nothing).
    Check,
}

pub(super) async fn run(provider: &Provider, cli: &Cli, cmd: &LdapCommand) -> anyhow::Result<()> {
    let settings = config::load(cli.config.as_deref())?
        .ok_or_else(|| anyhow::anyhow!("LDAP is not configured: add [ldap] with a url"))?;
    install(provider, &settings)?;
    match cmd {
        LdapCommand::Sync {
            incremental,
            output,
        } => {
            let report = if *incremental {
                incremental_sync(provider).await?
            } else {
                full_sync(provider).await?
            };
            match output {
                Output::Json => println!("{}", report_json(&report)),
                Output::Text => println!("{}", report_text(&report)),
            }
        }
        LdapCommand::Check => {
            let directory = LdapDirectory::new(settings)?;
            use gatehouse_core::services::ldap::Directory as _;
            let users = directory.list_users().await?;
            let groups = directory.list_groups().await?;
            println!(
                "LDAP ok: {} users and {} groups found",
                users.len(),
                groups.len()
            );
        }
    }
    Ok(())
}

fn install(provider: &Provider, settings: &LdapSettings) -> anyhow::Result<()> {
    let directory = LdapDirectory::new(settings.clone())?;
    provider
        .ldap
        .install(Arc::new(directory), settings.mapping.clone());
    Ok(())
}

fn report_json(r: &SyncReport) -> serde_json::Value {
    let mut report = json!({
        "mode": r.mode.as_str(),
        "fetched": r.fetched,
        "groupsInDirectory": r.groups_in_directory,
        "created": r.created,
        "updated": r.updated,
        "deactivated": r.deactivated,
        "refused": r.refused,
        "mark": r.mark,
    });
    match r.mode {
        SyncMode::Full => report["usersInDirectory"] = json!(r.users_in_directory),
        SyncMode::Incremental => {
            report["groupsChanged"] = json!(r.groups_changed);
            report["membershipsSynced"] = json!(r.memberships_synced);
        }
    }
    report
}

fn report_text(r: &SyncReport) -> String {
    match r.mode {
        SyncMode::Full => format!(
            "LDAP import (full): {} users and {} groups in the directory; {} created, {} updated, {} deactivated, {} skipped",
            r.users_in_directory,
            r.groups_in_directory,
            r.created,
            r.updated,
            r.deactivated,
            r.refused
        ),
        SyncMode::Incremental => format!(
            "LDAP import (incremental, since {}): {} changed users fetched, {} changed groups; {} created, {} updated, {} skipped, {} users' memberships synced",
            r.mark.as_deref().unwrap_or("-"),
            r.fetched,
            r.groups_changed,
            r.created,
            r.updated,
            r.refused,
            r.memberships_synced
        ),
    }
}

/// Ends the scheduled import with the server.
pub(super) struct ScheduledSync(Option<tokio::task::JoinHandle<()>>);

impl Drop for ScheduledSync {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// For `serve`: installs the directory when `[ldap]` is configured and starts the scheduled
/// import when it has an interval.
pub(super) fn start(cli: &Cli, provider: &Arc<Provider>) -> anyhow::Result<ScheduledSync> {
    let Some(settings) = config::load(cli.config.as_deref())? else {
        return Ok(ScheduledSync(None));
    };
    install(provider, &settings)?;
    tracing::info!(url = %settings.url, transport = ?settings.transport, "LDAP sign-in delegation on");
    let Some(interval) = settings.sync_interval else {
        return Ok(ScheduledSync(None));
    };
    let provider = provider.clone();
    let holder = gatehouse_core::crypto::random_token(12);
    let seconds = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let schedule = Schedule {
        interval_seconds: seconds(interval),
        full_interval_seconds: seconds(settings.full_sync_interval),
    };
    tracing::info!(
        interval_seconds = schedule.interval_seconds,
        full_interval_seconds = schedule.full_interval_seconds,
        "scheduled LDAP import on"
    );
    Ok(ScheduledSync(Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        // A round longer than the interval delays the next instead of bunching them.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match scheduled_round(&provider, &holder, schedule).await {
                Ok(Some(r)) => tracing::info!("{}", report_text(&r)),
                Ok(None) => tracing::debug!("another node runs this round of the LDAP import"),
                Err(e) => tracing::warn!(error = %e, "the scheduled LDAP import failed"),
            }
        }
    }))))
}
