//! What an import did, kind by kind, and what it could not carry and why.

use std::collections::BTreeMap;

/// What happened (or, in a dry run, would happen) to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    created: u64,
    updated: u64,
    unchanged: u64,
    not_carried: u64,
}

#[derive(Debug, Default)]
pub struct Report {
    dry_run: bool,
    counts: BTreeMap<&'static str, Counts>,
    not_carried: Vec<String>,
    deleted: Vec<String>,
}

impl Report {
    pub fn new(dry_run: bool) -> Self {
        Self {
            dry_run,
            ..Self::default()
        }
    }

    pub fn count(&mut self, kind: &'static str, change: Change) {
        let c = self.counts.entry(kind).or_default();
        match change {
            Change::Created => c.created += 1,
            Change::Updated => c.updated += 1,
            Change::Unchanged => c.unchanged += 1,
        }
    }

    /// A record that was not carried over, and why (printed at the end, and as it happens).
    pub fn not_carried(&mut self, kind: &'static str, name: &str, why: impl std::fmt::Display) {
        self.counts.entry(kind).or_default().not_carried += 1;
        let line = format!("{kind} {name}: {why}");
        eprintln!("  not carried: {line}");
        self.not_carried.push(line);
    }

    /// A record this source once had and no longer lists, and what was done with it here.
    pub fn deleted(&mut self, kind: &'static str, name: &str, what: &str) {
        let line = format!("{kind} {name}: {what}");
        eprintln!("  deleted at the source: {line}");
        self.deleted.push(line);
    }

    pub fn failures(&self) -> usize {
        self.not_carried.len()
    }

    pub fn print(&self, api_calls: u64) {
        let (created, updated) = if self.dry_run {
            ("would create", "would update")
        } else {
            ("created", "updated")
        };
        println!();
        println!(
            "{} ({api_calls} API calls to the source)",
            if self.dry_run {
                "Import plan (dry run: nothing was written)"
            } else {
                "Import report"
            }
        );
        for (kind, c) in &self.counts {
            println!(
                "  {kind:<22} {created} {:>5}  {updated} {:>5}  unchanged {:>5}  not carried {:>4}",
                c.created, c.updated, c.unchanged, c.not_carried
            );
        }
        if !self.deleted.is_empty() {
            println!("Deleted at the source ({}):", self.deleted.len());
            for line in &self.deleted {
                println!("  - {line}");
            }
        }
        if self.not_carried.is_empty() {
            println!("Everything read was carried over.");
        } else {
            println!("Not carried ({}):", self.not_carried.len());
            for line in &self.not_carried {
                println!("  - {line}");
            }
        }
    }
}
