//! Store-level latency of some cost-curve queries (issue 21) on a database the bench seeder
//! filled (`bench/cost.mjs --keep`). Ignored by default; one request at a time, no HTTP, so
//! the figures are the store's share of the API's latency:
//!
//! ```text
//! COST_URL=sqlite:///path/gatehouse.db COST_INFO=target/bench/cost/seed-sqlite-1m.json \
//!     cargo test -p gatehouse-store --release --test cost_queries -- --ignored --nocapture
//! ```
//!
//! `q= (as search)` is `q=` run as the four-prefix `OR` filter `search=` takes (what `q=` ran
//! before it stopped paging), `q=` is `quick_search_users`. Columns: p50 / p99 / max ms, this process's CPU ms per
//! query, rows.

use std::time::Instant;

use anyhow::{Context, Result};
use gatehouse_core::domain::*;
use gatehouse_core::store::Page;

fn env(name: &str) -> Result<String> {
    std::env::var(name).with_context(|| format!("set {name}"))
}

/// A small deterministic generator (xorshift), so runs pick the same arguments.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

fn sw(field: UserField, value: &str) -> Box<UserFilter> {
    Box::new(UserFilter::Compare {
        field,
        op: FilterOp::Sw,
        value: value.into(),
    })
}

/// This process's CPU time in ms (user + system, from /proc; 0 elsewhere): on a shared machine
/// it separates the work from the wait. (SQLite runs in this process; PostgreSQL does not.)
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; 100 ticks/s.
    (ticks(11) + ticks(12)) * 10.0
}

fn strs(info: &serde_json::Value, key: &str) -> Vec<String> {
    info["samples"][key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a seeded database (see the file's comment)"]
async fn cost_queries() -> Result<()> {
    let url = env("COST_URL")?;
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env("COST_INFO")?)?)?;
    let runs: usize = std::env::var("COST_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let only = std::env::var("COST_ONLY").unwrap_or_default();
    let store = gatehouse_store::connect(&url).await?;
    let last_names = strs(&info, "last_names");
    let ids = strs(&info, "ids");
    let staff = info["samples"]["groups"]["Staff"]
        .as_str()
        .context("no Staff group")?
        .to_owned();
    let staff_after = info["samples"]["staff_last_after"]
        .as_str()
        .map(str::to_owned);
    let now_ms = info["samples"]["now_ms"].as_i64().context("no now_ms")?;
    let days = info["samples"]["event_days"].as_i64().unwrap_or(120);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for name in [
        "q= (as search)",
        "q=",
        "group last page (1001)",
        "logs 30 days target.id eq",
    ] {
        if !only.is_empty() && !only.split(',').any(|o| name.starts_with(o)) {
            continue;
        }
        let mut times = Vec::with_capacity(runs);
        let mut rows = 0;
        let cpu0 = cpu_ms();
        for _ in 0..runs {
            let prefix: String = last_names[rng.below(last_names.len())]
                .chars()
                .take(5)
                .collect();
            let t = Instant::now();
            rows += match name {
                "q= (as search)" => {
                    let f = UserFilter::Or(
                        Box::new(UserFilter::Or(
                            sw(UserField::FirstName, &prefix),
                            sw(UserField::LastName, &prefix),
                        )),
                        Box::new(UserFilter::Or(
                            sw(UserField::Email, &prefix),
                            sw(UserField::Login, &prefix),
                        )),
                    );
                    let page = Page {
                        after: None,
                        limit: 201,
                    };
                    store.search_users(Some(&f), page).await?.len()
                }
                "q=" => store.quick_search_users(&prefix, None, 200).await?.len(),
                "group last page (1001)" => {
                    let page = Page {
                        after: staff_after.as_deref(),
                        limit: 1001,
                    };
                    store.list_group_members(&staff, page).await?.len()
                }
                _ => {
                    let span = days * 86_400_000;
                    let start = now_ms - span + (rng.below(90) as i64) * 86_400_000;
                    let q = LogQuery {
                        since_ms: Some(start),
                        until_ms: Some(start + 30 * 86_400_000),
                        filter: Some(LogFilter::Compare {
                            field: LogField::TargetId,
                            op: FilterOp::Eq,
                            value: ids[rng.below(ids.len())].clone(),
                        }),
                        keywords: Vec::new(),
                        descending: false,
                        after: None,
                        limit: 101,
                    };
                    store.list_log_events(&q).await?.len()
                }
            };
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let cpu = (cpu_ms() - cpu0) / runs as f64;
        times.sort_by(f64::total_cmp);
        let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
        println!(
            "| {name} | {:.2} / {:.2} / {:.2} | {cpu:.2} | {:.0} rows |",
            at(0.5),
            at(0.99),
            at(1.0),
            rows as f64 / runs as f64
        );
    }
    Ok(())
}
