//! The OpenID Foundation's OP conformance modules, replicated one for one as black-box tests
//! against a real Gatehouse on `127.0.0.1:<port 0>`, plus the attack cases of SECURITY.md.
//!
//! A custom harness (`harness = false`): every module runs on SQLite and on PostgreSQL, each on
//! a fresh Gatehouse, and one line is printed per module and a count per plan and backend. The
//! process fails if a module that is expected to pass does not. Modules waiting for a feature
//! that is being built elsewhere, or for one Gatehouse does not have, are run too and reported,
//! but do not fail the run.
//!
//! `cargo test -p gatehouse --test conformance [-- <substring>]`

#[allow(dead_code)]
#[path = "../it/client_keys.rs"]
mod client_keys;
#[allow(dead_code)]
#[path = "../it/helpers.rs"]
mod helpers;

mod attacks;
mod flow;
mod oidcc;

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse_store::test_support::Backend;

use crate::flow::{Ctx, Variant};

/// What a module concluded, as the OIDF suite reports it.
#[derive(Debug)]
pub enum Verdict {
    Passed,
    /// Passed, with something the suite reports as a WARNING (or REVIEW).
    Warning(String),
    /// The suite skips the module for a server that does not advertise the feature.
    Skipped(String),
}

pub type ModuleResult = anyhow::Result<Verdict>;
pub type BoxFut = Pin<Box<dyn Future<Output = ModuleResult> + Send>>;

/// Whether a module must pass, or why it may not yet.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    Pass,
    /// A feature another branch is building: `awaits <feature>`.
    Awaits(&'static str),
    /// Something Gatehouse does not do (see SECURITY.md, "known missing").
    Gap(&'static str),
}

#[derive(Clone, Copy)]
pub struct Module {
    pub name: &'static str,
    pub run: fn(Ctx) -> BoxFut,
    pub expect: Expect,
}

/// `module!("oidcc-server", oidcc::server)`, optionally `, Expect::Awaits("…")`.
#[macro_export]
macro_rules! module {
    ($name:literal, $f:path) => {
        $crate::module!($name, $f, $crate::Expect::Pass)
    };
    ($name:literal, $f:path, $expect:expr) => {
        $crate::Module {
            name: $name,
            run: |ctx| Box::pin($f(ctx)),
            expect: $expect,
        }
    };
}

pub struct Plan {
    pub name: &'static str,
    pub section: &'static str,
    pub variant: Variant,
    pub modules: Vec<Module>,
}

enum Outcome {
    Ok(Verdict),
    Failed(String),
}

/// Modules that get a Gatehouse of their own rather than the plan's shared one: they move the
/// clock by minutes, rotate the signing keys, or trip per-address limits.
const ISOLATED: &[&str] = &[
    "oidcc-server-rotate-keys",
    "oidcc-codereuse-30seconds",
    "code-cross-binding",
    "refresh-token-misuse",
    "x-forwarded-for-spoofing",
];

/// Modules run at once (PostgreSQL connections are the limit: each Gatehouse pools up to 16).
fn concurrency(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 6,
        Backend::Postgres => 2,
    }
}
const MODULE_TIMEOUT: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
    let plans = {
        let mut p = oidcc::plans();
        p.extend(attacks::plans());
        p
    };
    if args.iter().any(|a| a == "--list") {
        for plan in &plans {
            for m in &plan.modules {
                println!("{}::{}: test", plan.name, m.name);
            }
        }
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("conformance: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let mut failed = false;
    let mut summary = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for section in ["conformance", "attacks"] {
            let mut counts = Counts::default();
            for plan in plans.iter().filter(|p| p.section == section) {
                let selected: Vec<Module> = plan
                    .modules
                    .iter()
                    .filter(|m| {
                        filter
                            .as_deref()
                            .is_none_or(|f| m.name.contains(f) || plan.name.contains(f))
                    })
                    .copied()
                    .collect();
                if selected.is_empty() {
                    continue;
                }
                let results = runtime.block_on(run_plan(backend, plan.variant, &selected));
                for (m, (outcome, took)) in selected.iter().zip(results) {
                    let line = counts.record(m, &outcome);
                    if matches!((m.expect, &outcome), (Expect::Pass, Outcome::Failed(_))) {
                        failed = true;
                    }
                    println!(
                        "{section} ({}) {} {}: {line} [{:.1}s]",
                        backend.name(),
                        plan.name,
                        m.name,
                        took.as_secs_f64()
                    );
                }
            }
            if counts.total > 0 {
                let noun = if section == "attacks" {
                    "cases"
                } else {
                    "modules"
                };
                summary.push(format!(
                    "{section} ({}): {}",
                    backend.name(),
                    counts.summary(noun)
                ));
            }
        }
    }
    println!();
    for s in &summary {
        println!("{s}");
    }
    println!("({:.1}s)", started.elapsed().as_secs_f64());
    if failed {
        println!("FAILED: a module expected to pass did not (see above)");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn run_plan(
    backend: Backend,
    variant: Variant,
    modules: &[Module],
) -> Vec<(Outcome, Duration)> {
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency(backend)));
    let shared = if modules.iter().any(|m| !ISOLATED.contains(&m.name)) {
        match helpers::spawn_app(backend).await {
            Ok(app) => Some(Arc::new(app)),
            Err(e) => {
                let msg = format!("could not start the plan's Gatehouse: {e:#}");
                return modules
                    .iter()
                    .map(|_| (Outcome::Failed(msg.clone()), Duration::ZERO))
                    .collect();
            }
        }
    } else {
        None
    };
    let mut handles = Vec::new();
    for m in modules {
        let permits = permits.clone();
        let run = m.run;
        let shared = (!ISOLATED.contains(&m.name))
            .then(|| shared.clone())
            .flatten();
        handles.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await;
            let start = Instant::now();
            let ctx = Ctx {
                backend,
                variant,
                shared,
            };
            let outcome = match tokio::time::timeout(MODULE_TIMEOUT, run(ctx)).await {
                Ok(Ok(v)) => Outcome::Ok(v),
                Ok(Err(e)) => Outcome::Failed(format!("{e:#}")),
                Err(_) => Outcome::Failed(format!("timed out after {MODULE_TIMEOUT:?}")),
            };
            (outcome, start.elapsed())
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(match h.await {
            Ok(r) => r,
            Err(e) => (Outcome::Failed(format!("panicked: {e}")), Duration::ZERO),
        });
    }
    // Stop the plan's server and let its connection pool go before the next plan starts.
    drop(shared);
    tokio::time::sleep(Duration::from_millis(100)).await;
    out
}

#[derive(Default)]
struct Counts {
    total: usize,
    passed: usize,
    warnings: usize,
    skipped: usize,
    failed: usize,
    awaiting: Vec<&'static str>,
    awaiting_count: usize,
    gaps: usize,
    unexpected_passes: usize,
}

impl Counts {
    fn record(&mut self, m: &Module, outcome: &Outcome) -> String {
        self.total += 1;
        let short =
            |s: &str| -> String { s.chars().take(400).collect::<String>().replace('\n', " ") };
        match (outcome, m.expect) {
            (Outcome::Ok(v), expect) => {
                self.passed += 1;
                let note = match expect {
                    Expect::Pass => String::new(),
                    Expect::Awaits(f) | Expect::Gap(f) => {
                        self.unexpected_passes += 1;
                        format!(
                            " (passes here; drop its mark \"{f}\" once it passes on both backends)"
                        )
                    }
                };
                match v {
                    Verdict::Passed => format!("PASSED{note}"),
                    Verdict::Warning(w) => {
                        self.warnings += 1;
                        format!("WARNING{note}: {}", short(w))
                    }
                    Verdict::Skipped(s) => {
                        self.skipped += 1;
                        format!("SKIPPED{note}: {}", short(s))
                    }
                }
            }
            (Outcome::Failed(e), Expect::Pass) => {
                self.failed += 1;
                format!("FAILED: {}", short(e))
            }
            (Outcome::Failed(e), Expect::Awaits(f)) => {
                self.awaiting_count += 1;
                if !self.awaiting.contains(&f) {
                    self.awaiting.push(f);
                }
                format!("AWAITS {f}: {}", short(e))
            }
            (Outcome::Failed(e), Expect::Gap(f)) => {
                self.gaps += 1;
                format!("KNOWN GAP ({f}): {}", short(e))
            }
        }
    }

    fn summary(&self, noun: &str) -> String {
        let mut s = format!("{}/{} {noun} pass", self.passed, self.total);
        let mut details = Vec::new();
        if self.warnings > 0 {
            details.push(format!("{} with warnings", self.warnings));
        }
        if self.skipped > 0 {
            details.push(format!(
                "{} skipped as the OIDF suite skips them",
                self.skipped
            ));
        }
        if !details.is_empty() {
            s.push_str(&format!(" ({})", details.join(", ")));
        }
        if self.awaiting_count > 0 {
            s.push_str(&format!(
                ", {} await {}",
                self.awaiting_count,
                self.awaiting.join(", ")
            ));
        }
        if self.gaps > 0 {
            s.push_str(&format!(", {} known gaps", self.gaps));
        }
        if self.failed > 0 {
            s.push_str(&format!(", {} FAILED", self.failed));
        }
        if self.unexpected_passes > 0 {
            s.push_str(&format!(
                ", {} marked modules pass now",
                self.unexpected_passes
            ));
        }
        s
    }
}
