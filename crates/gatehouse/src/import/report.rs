//! What an import did, kind by kind, and what it could not carry and why: collected as
//! [`ImportReport`] data (the console shows it), printed by the CLI from that same data.

use gatehouse_core::services::org_import::ImportReport;

/// What happened (or, in a dry run, would happen) to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Default)]
pub struct Report {
    data: ImportReport,
    /// The CLI: not-carried and deleted lines also go to stderr as they happen.
    echo: bool,
}

impl Report {
    pub fn new(dry_run: bool, echo: bool) -> Self {
        Self {
            data: ImportReport {
                dry_run,
                ..ImportReport::default()
            },
            echo,
        }
    }

    pub fn count(&mut self, kind: &'static str, change: Change) {
        let c = self.data.counts.entry(kind.to_owned()).or_default();
        match change {
            Change::Created => c.created += 1,
            Change::Updated => c.updated += 1,
            Change::Unchanged => c.unchanged += 1,
        }
    }

    /// A record that was not carried over, and why.
    pub fn not_carried(&mut self, kind: &'static str, name: &str, why: impl std::fmt::Display) {
        self.data
            .counts
            .entry(kind.to_owned())
            .or_default()
            .not_carried += 1;
        let line = format!("{kind} {name}: {why}");
        if self.echo {
            eprintln!("  not carried: {line}");
        }
        self.data.not_carried.push(line);
    }

    /// A record this source once had and no longer lists, and what was done with it here.
    pub fn deleted(&mut self, kind: &'static str, name: &str, what: &str) {
        let line = format!("{kind} {name}: {what}");
        if self.echo {
            eprintln!("  deleted at the source: {line}");
        }
        self.data.deleted.push(line);
    }

    pub fn into_data(self, api_calls: u64) -> ImportReport {
        ImportReport {
            api_calls,
            ..self.data
        }
    }
}

/// The report as the CLI prints it.
pub fn print(report: &ImportReport) {
    let (created, updated) = if report.dry_run {
        ("would create", "would update")
    } else {
        ("created", "updated")
    };
    println!();
    println!(
        "{} ({} API calls to the source)",
        if report.dry_run {
            "Import plan (dry run: nothing was written)"
        } else {
            "Import report"
        },
        report.api_calls
    );
    for (kind, c) in &report.counts {
        println!(
            "  {kind:<22} {created} {:>5}  {updated} {:>5}  unchanged {:>5}  not carried {:>4}",
            c.created, c.updated, c.unchanged, c.not_carried
        );
    }
    if !report.deleted.is_empty() {
        println!("Deleted at the source ({}):", report.deleted.len());
        for line in &report.deleted {
            println!("  - {line}");
        }
    }
    if report.not_carried.is_empty() {
        println!("Everything read was carried over.");
    } else {
        println!("Not carried ({}):", report.not_carried.len());
        for line in &report.not_carried {
            println!("  - {line}");
        }
    }
}
