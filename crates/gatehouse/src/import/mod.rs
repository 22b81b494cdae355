//! `gatehouse import okta`: reads a source Okta org through its management API and recreates
//! it here through the same core services as `/api/v1` (the same validation), keeping the ids
//! apps see (user ids, client ids, authorization server ids) and the client secrets the API
//! lets it read. Users are marked for just-in-time password migration from the source. A rerun
//! updates what changed and adds what is new; `--dry-run` prints the plan and writes nothing.
//! [`OktaImporter`] runs the same import for the console (Settings › Import from Okta).

mod apps;
mod client;
mod deleted;
mod directory;
mod model;
mod progress;
mod report;
mod servers;

use std::collections::{HashMap, HashSet};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use gatehouse_core::Provider;
use gatehouse_core::services::org_import::{
    ImportProgress, ImportReport, ImportRequest, OrgImporter, SourceToken,
};
use gatehouse_core::services::system_log::Actor;

use client::OktaClient;
pub use deleted::OnDeleted;
use progress::Progress;
use report::Report;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import an Okta org (or another Gatehouse) through its management API: users (their
    /// passwords migrate at first sign-in), groups and memberships, OpenID Connect apps with
    /// their client ids (and secrets where readable) and assignments, custom authorization
    /// servers with their ids, scopes, claims, policies and rules, and trusted origins.
    Okta(OktaImportArgs),
}

#[derive(Debug, Args)]
pub struct OktaImportArgs {
    /// The source org's URL, e.g. https://acme.okta.com.
    #[arg(long)]
    pub org_url: String,
    /// An API token of the source org (read access to users, groups, apps, authorization
    /// servers and trusted origins).
    #[arg(long, env = "GATEHOUSE_IMPORT_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Print what would be created and updated; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// A client secret the source's API does not reveal, as CLIENT_ID=SECRET (repeatable).
    #[arg(long = "client-secret", value_name = "CLIENT_ID=SECRET")]
    pub client_secrets: Vec<String>,
    /// What to do here with a user, group, app, authorization server or trusted origin that an
    /// earlier import carried from this source and that the source no longer has.
    #[arg(long, value_enum, default_value_t = OnDeleted::Report)]
    pub deleted: OnDeleted,
}

/// Shared by the steps: where to read, where to write, and what was carried so far.
pub(crate) struct Import<'a> {
    pub provider: &'a Provider,
    pub actor: Actor,
    pub source: OktaClient,
    pub dry_run: bool,
    pub report: Report,
    /// Source group id → group id here (groups are matched by name; `Everyone` to ours).
    pub group_ids: HashMap<String, String>,
    /// Users that exist here with the source's id.
    pub user_ids: HashSet<String>,
    pub client_secrets: HashMap<String, String>,
    /// What the source listed and what was carried, for [`deleted::sweep`].
    pub seen: deleted::Seen,
    pub on_deleted: OnDeleted,
    /// The console job's progress; `None` for the CLI (which prints instead).
    pub live: Option<&'a ImportProgress>,
}

impl<'a> Import<'a> {
    /// A step read `n` records: said on stdout (CLI) or in the job's progress; returns the
    /// progress of carrying them.
    pub fn read(&self, label: &'static str, n: usize) -> Progress<'a> {
        if self.live.is_none() {
            println!("{label}: {n} read");
        }
        Progress::new(label, n, self.live)
    }

    /// Something carried with a change worth knowing (the CLI says it on stderr).
    pub fn note(&self, line: impl std::fmt::Display) {
        if self.live.is_none() {
            eprintln!("  note: {line}");
        }
    }
}

pub async fn run(provider: &Provider, cmd: &ImportCommand) -> anyhow::Result<()> {
    match cmd {
        ImportCommand::Okta(args) => okta(provider, args).await,
    }
}

async fn okta(provider: &Provider, args: &OktaImportArgs) -> anyhow::Result<()> {
    let mut client_secrets = HashMap::new();
    for pair in &args.client_secrets {
        let (id, secret) = pair
            .split_once('=')
            .context("--client-secret takes CLIENT_ID=SECRET")?;
        client_secrets.insert(id.to_owned(), secret.to_owned());
    }
    let request = ImportRequest {
        org_url: args.org_url.clone(),
        token: SourceToken::new(args.token.clone()),
        dry_run: args.dry_run,
        on_deleted: args.deleted.into(),
        client_secrets,
        actor: Actor::system(),
    };
    println!(
        "Importing from {}{}",
        request.org_url.trim_end_matches('/'),
        if args.dry_run { " (dry run)" } else { "" }
    );
    let report = execute(provider, request, None).await?;
    report::print(&report);
    if !report.not_carried.is_empty() && !args.dry_run {
        println!("A rerun retries what was not carried; it changes nothing else twice.");
    }
    Ok(())
}

/// One import (or dry run), its report as data: the CLI prints it, the console shows it.
async fn execute(
    provider: &Provider,
    request: ImportRequest,
    live: Option<&ImportProgress>,
) -> anyhow::Result<ImportReport> {
    let source = OktaClient::new(&request.org_url, request.token.expose())?;
    // Reading the org's users first also checks the URL and the token.
    let mut run = Import {
        provider,
        actor: request.actor,
        source,
        dry_run: request.dry_run,
        report: Report::new(request.dry_run, live.is_none()),
        group_ids: HashMap::new(),
        user_ids: HashSet::new(),
        client_secrets: request.client_secrets,
        seen: deleted::Seen::default(),
        on_deleted: request.on_deleted.into(),
        live,
    };
    directory::users(&mut run).await?;
    deleted::sweep(&mut run, deleted::USER).await?;
    directory::groups(&mut run).await?;
    deleted::sweep(&mut run, deleted::GROUP).await?;
    apps::apps(&mut run).await?;
    deleted::sweep(&mut run, deleted::APP).await?;
    servers::authorization_servers(&mut run).await?;
    deleted::sweep(&mut run, deleted::SERVER).await?;
    servers::trusted_origins(&mut run).await?;
    deleted::sweep(&mut run, deleted::ORIGIN).await?;
    if let Some(live) = live {
        live.step("done", 0);
    }
    let calls = run.source.calls.load(std::sync::atomic::Ordering::Relaxed);
    Ok(run.report.into_data(calls))
}

/// The importer the console's jobs run, installed into the provider at startup (it holds the
/// provider weakly: the provider holds it).
pub struct OktaImporter {
    provider: std::sync::Weak<Provider>,
}

impl OktaImporter {
    pub fn new(provider: &std::sync::Arc<Provider>) -> Self {
        Self {
            provider: std::sync::Arc::downgrade(provider),
        }
    }
}

#[async_trait::async_trait]
impl OrgImporter for OktaImporter {
    async fn import(
        &self,
        request: ImportRequest,
        progress: &ImportProgress,
    ) -> Result<ImportReport, String> {
        let provider = self
            .provider
            .upgrade()
            .ok_or_else(|| "the server is stopping".to_owned())?;
        execute(&provider, request, Some(progress))
            .await
            .map_err(|e| format!("{e:#}"))
    }
}

/// Fails the whole import on a read the import cannot go on without.
pub(crate) fn need<T>(what: &str, r: anyhow::Result<T>) -> anyhow::Result<T> {
    match r {
        Ok(v) => Ok(v),
        Err(e) => bail!("reading {what} from the source failed: {e:#}"),
    }
}
