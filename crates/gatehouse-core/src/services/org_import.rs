//! Importing a source org from the admin console: the console asks for a dry-run plan, shows
//! it, and on confirmation runs the import, showing progress and then the report. The
//! importer itself (it speaks HTTP to the source and writes through the services) is installed
//! by the binary as an [`OrgImporter`]; this module only holds the one job a node runs at a
//! time. It imports nothing that imports `Provider` (which holds it).
//!
//! The source's API token lives in memory only, inside the job, from the plan until the import
//! that uses it ends, the plan is cancelled or replaced, or [`PLAN_KEPT_FOR`] passes without a
//! confirmation. It is never written anywhere, and its `Debug` form is redacted.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::audit::Actor;

/// How long a plan waits for its confirmation (and holds the token) before it is dropped.
pub const PLAN_KEPT_FOR: Duration = Duration::from_secs(15 * 60);

/// A source org's API token (`SSWS …`), redacted from `Debug`.
#[derive(Clone)]
pub struct SourceToken(String);

impl SourceToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SourceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SourceToken(redacted)")
    }
}

/// What to do here with a record an earlier import carried that the source no longer has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeletedAtSource {
    #[default]
    Report,
    Deactivate,
    Remove,
}

/// One import (or dry run) to perform.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub org_url: String,
    pub token: SourceToken,
    pub dry_run: bool,
    pub on_deleted: DeletedAtSource,
    /// Client secrets the source's API does not reveal, by client id.
    pub client_secrets: HashMap<String, String>,
    /// Who the changes are made as (the System Log's actor).
    pub actor: Actor,
}

/// Records of one kind, by what happened to them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub not_carried: u64,
}

/// What an import did (or, in a dry run, would do), kind by kind, and what it could not carry
/// and why: the data the CLI prints and the console shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub dry_run: bool,
    pub api_calls: u64,
    pub counts: BTreeMap<String, KindCounts>,
    /// `kind name: why` for each record not carried.
    pub not_carried: Vec<String>,
    /// `kind name: what was done` for each record deleted at the source.
    pub deleted: Vec<String>,
}

/// Where a running import is: the step and how far into it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepProgress {
    /// Steps finished so far, with what they read (`users: 300 read`).
    pub finished: Vec<String>,
    pub step: String,
    pub done: usize,
    pub total: usize,
}

/// The live progress an importer writes into while it runs.
#[derive(Debug, Default)]
pub struct ImportProgress(Mutex<StepProgress>);

impl ImportProgress {
    /// A new step reading `total` records (the previous one, if any, is finished).
    pub fn step(&self, label: &str, total: usize) {
        if let Ok(mut p) = self.0.lock() {
            if !p.step.is_empty() {
                let line = format!("{}: {} read", p.step, p.total);
                p.finished.push(line);
            }
            p.step = label.to_owned();
            p.done = 0;
            p.total = total;
        }
    }

    /// `done` records of the current step are through.
    pub fn advance(&self, done: usize) {
        if let Ok(mut p) = self.0.lock() {
            p.done = done.min(p.total);
        }
    }

    pub fn snapshot(&self) -> StepProgress {
        self.0.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// Reads a source org and recreates it here (installed by the binary).
#[async_trait]
pub trait OrgImporter: Send + Sync {
    /// Runs one import (or dry run) to its end: `Err` is why it stopped (a read it could not go
    /// on without, a refused token); records it could not carry are in the report instead.
    async fn import(
        &self,
        request: ImportRequest,
        progress: &ImportProgress,
    ) -> Result<ImportReport, String>;
}

/// Where the node's import job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The dry run is reading the source.
    Planning,
    /// The plan is ready and waits for a confirmation.
    Planned,
    Importing,
    Done,
    /// The plan or the import stopped; see [`JobStatus::error`].
    Failed,
    /// The plan was cancelled or not confirmed in time.
    Dropped,
}

impl Phase {
    pub fn is_running(self) -> bool {
        matches!(self, Self::Planning | Self::Importing)
    }
}

/// What the console shows of the job (never the token).
#[derive(Debug, Clone)]
pub struct JobStatus {
    pub id: String,
    pub org_url: String,
    pub phase: Phase,
    pub progress: StepProgress,
    pub plan: Option<ImportReport>,
    pub report: Option<ImportReport>,
    pub error: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportJobError {
    #[error("this server cannot import an org (no importer is installed)")]
    NotAvailable,
    #[error("an import is already running on this server; wait for it to end")]
    Busy,
    #[error("this plan is no longer waiting for a confirmation; make a new plan")]
    NoSuchPlan,
}

struct Job {
    status: JobStatus,
    progress: Arc<ImportProgress>,
    /// The request the plan was made with, held until it is confirmed or dropped.
    pending: Option<(ImportRequest, Instant)>,
}

/// The installed [`OrgImporter`] and the node's one import job.
#[derive(Default)]
pub struct OrgImports {
    importer: RwLock<Option<Arc<dyn OrgImporter>>>,
    job: Arc<Mutex<Option<Job>>>,
}

impl std::fmt::Debug for OrgImports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgImports").finish_non_exhaustive()
    }
}

impl OrgImports {
    pub fn install(&self, importer: Arc<dyn OrgImporter>) {
        if let Ok(mut slot) = self.importer.write() {
            *slot = Some(importer);
        }
    }

    pub fn is_available(&self) -> bool {
        self.importer.read().is_ok_and(|i| i.is_some())
    }

    /// The current (or last) job, with an unconfirmed plan past its time dropped first.
    pub fn status(&self) -> Option<JobStatus> {
        let mut slot = self.job.lock().ok()?;
        let job = slot.as_mut()?;
        if job.status.phase == Phase::Planned
            && job
                .pending
                .as_ref()
                .is_some_and(|(_, at)| at.elapsed() > PLAN_KEPT_FOR)
        {
            job.pending = None;
            job.status.phase = Phase::Dropped;
        }
        let mut status = job.status.clone();
        status.progress = job.progress.snapshot();
        Some(status)
    }

    /// Starts a dry run of `request` (its `dry_run` is ignored) and returns the job's id. A
    /// plan waiting for its confirmation is replaced; a running job refuses.
    pub fn plan(&self, mut request: ImportRequest) -> Result<String, ImportJobError> {
        let importer = self.importer()?;
        let mut slot = self.job.lock().map_err(|_| ImportJobError::Busy)?;
        if slot.as_ref().is_some_and(|j| j.status.phase.is_running()) {
            return Err(ImportJobError::Busy);
        }
        let id = crate::crypto::random_token(12);
        let progress = Arc::new(ImportProgress::default());
        request.dry_run = true;
        *slot = Some(Job {
            status: JobStatus {
                id: id.clone(),
                org_url: request.org_url.clone(),
                phase: Phase::Planning,
                progress: StepProgress::default(),
                plan: None,
                report: None,
                error: None,
            },
            progress: progress.clone(),
            pending: Some((request.clone(), Instant::now())),
        });
        drop(slot);
        self.spawn(importer, request, progress, id.clone());
        Ok(id)
    }

    /// Runs the import planned as job `id` (as `actor`, who confirmed it).
    pub fn confirm(&self, id: &str, actor: Actor) -> Result<(), ImportJobError> {
        let importer = self.importer()?;
        let mut slot = self.job.lock().map_err(|_| ImportJobError::Busy)?;
        let job = slot
            .as_mut()
            .filter(|j| j.status.id == id && j.status.phase == Phase::Planned)
            .ok_or(ImportJobError::NoSuchPlan)?;
        let (mut request, at) = job.pending.take().ok_or(ImportJobError::NoSuchPlan)?;
        if at.elapsed() > PLAN_KEPT_FOR {
            job.status.phase = Phase::Dropped;
            return Err(ImportJobError::NoSuchPlan);
        }
        request.dry_run = false;
        request.actor = actor;
        let progress = Arc::new(ImportProgress::default());
        job.progress = progress.clone();
        job.status.phase = Phase::Importing;
        drop(slot);
        self.spawn(importer, request, progress, id.to_owned());
        Ok(())
    }

    /// Drops the plan `id` waiting for its confirmation (and the token it holds).
    pub fn cancel(&self, id: &str) {
        if let Ok(mut slot) = self.job.lock()
            && let Some(job) = slot.as_mut()
            && job.status.id == id
            && job.status.phase == Phase::Planned
        {
            job.pending = None;
            job.status.phase = Phase::Dropped;
        }
    }

    fn importer(&self) -> Result<Arc<dyn OrgImporter>, ImportJobError> {
        self.importer
            .read()
            .ok()
            .and_then(|i| i.clone())
            .ok_or(ImportJobError::NotAvailable)
    }

    fn spawn(
        &self,
        importer: Arc<dyn OrgImporter>,
        request: ImportRequest,
        progress: Arc<ImportProgress>,
        id: String,
    ) {
        let jobs = self.job.clone();
        tokio::spawn(async move {
            let dry_run = request.dry_run;
            let outcome = importer.import(request, &progress).await;
            let finished = |jobs: &Mutex<Option<Job>>| {
                let Ok(mut slot) = jobs.lock() else {
                    return;
                };
                let Some(job) = slot.as_mut().filter(|j| j.status.id == id) else {
                    return;
                };
                match outcome {
                    Ok(report) if dry_run => {
                        job.status.plan = Some(report);
                        job.status.phase = Phase::Planned;
                    }
                    Ok(report) => {
                        job.status.report = Some(report);
                        job.status.phase = Phase::Done;
                    }
                    Err(e) => {
                        job.pending = None;
                        job.status.error = Some(e);
                        job.status.phase = Phase::Failed;
                    }
                }
            };
            finished(&jobs);
            if dry_run {
                // An unconfirmed plan does not keep the token longer than its time.
                tokio::time::sleep(PLAN_KEPT_FOR).await;
                if let Ok(mut slot) = jobs.lock()
                    && let Some(job) = slot.as_mut()
                    && job.status.phase == Phase::Planned
                    && job
                        .pending
                        .as_ref()
                        .is_some_and(|(_, at)| at.elapsed() >= PLAN_KEPT_FOR)
                {
                    job.pending = None;
                    job.status.phase = Phase::Dropped;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plans and imports with one user, waiting for `go` before it answers.
    struct Gated(Arc<tokio::sync::Notify>);

    #[async_trait]
    impl OrgImporter for Gated {
        async fn import(
            &self,
            request: ImportRequest,
            progress: &ImportProgress,
        ) -> Result<ImportReport, String> {
            progress.step("users", 1);
            self.0.notified().await;
            progress.advance(1);
            let mut report = ImportReport {
                dry_run: request.dry_run,
                ..ImportReport::default()
            };
            report.counts.entry("users".into()).or_default().created = 1;
            Ok(report)
        }
    }

    fn request() -> ImportRequest {
        ImportRequest {
            org_url: "https://acme.okta.example".into(),
            token: SourceToken::new("00secret-token"),
            dry_run: false,
            on_deleted: DeletedAtSource::Report,
            client_secrets: HashMap::new(),
            actor: Actor::system(),
        }
    }

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    async fn until(imports: &OrgImports, phase: Phase) -> Result<JobStatus, String> {
        for _ in 0..200 {
            if let Some(s) = imports.status()
                && s.phase == phase
            {
                return Ok(s);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Err(format!("never {phase:?}: {:?}", imports.status()))
    }

    #[tokio::test]
    async fn one_job_at_a_time_plan_then_confirm() -> TestResult {
        let imports = OrgImports::default();
        assert_eq!(imports.plan(request()), Err(ImportJobError::NotAvailable));
        let go = Arc::new(tokio::sync::Notify::new());
        imports.install(Arc::new(Gated(go.clone())));
        let id = imports.plan(request())?;
        until(&imports, Phase::Planning).await?;
        // A second plan, or confirming one still being made, is refused.
        assert_eq!(imports.plan(request()), Err(ImportJobError::Busy));
        assert_eq!(
            imports.confirm(&id, Actor::system()),
            Err(ImportJobError::NoSuchPlan)
        );
        go.notify_one();
        let planned = until(&imports, Phase::Planned).await?;
        assert!(planned.plan.as_ref().is_some_and(|p| p.dry_run));
        assert_eq!(
            (planned.progress.step.as_str(), planned.progress.done),
            ("users", 1)
        );
        assert_eq!(
            imports.confirm("another", Actor::system()),
            Err(ImportJobError::NoSuchPlan)
        );
        imports.confirm(&id, Actor::system())?;
        until(&imports, Phase::Importing).await?;
        assert_eq!(imports.plan(request()), Err(ImportJobError::Busy));
        go.notify_one();
        let done = until(&imports, Phase::Done).await?;
        assert!(done.report.as_ref().is_some_and(|r| !r.dry_run));
        // The token went with the import; the same plan cannot run twice.
        assert_eq!(
            imports.confirm(&id, Actor::system()),
            Err(ImportJobError::NoSuchPlan)
        );
        let held = imports
            .job
            .lock()
            .map(|j| j.as_ref().is_some_and(|j| j.pending.is_some()))
            .unwrap_or(true);
        assert!(!held, "the token is still held after the import");
        Ok(())
    }

    #[tokio::test]
    async fn cancel_drops_the_plan_and_its_token() -> TestResult {
        let imports = OrgImports::default();
        let go = Arc::new(tokio::sync::Notify::new());
        imports.install(Arc::new(Gated(go.clone())));
        let id = imports.plan(request())?;
        go.notify_one();
        until(&imports, Phase::Planned).await?;
        imports.cancel(&id);
        until(&imports, Phase::Dropped).await?;
        assert_eq!(
            imports.confirm(&id, Actor::system()),
            Err(ImportJobError::NoSuchPlan)
        );
        let debug = format!("{:?}", request());
        assert!(!debug.contains("00secret-token"), "{debug}");
        Ok(())
    }
}
