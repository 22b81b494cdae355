//! The queries of the cost curve (issue 21) at a size where the plans matter: their results
//! when paged to the last page, on both backends, through both plans of a range search; and
//! `q=`'s first page. Their plans: `scale_plans.rs`.

use std::sync::Arc;

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::store::{Page, Store};
use gatehouse_store::test_support::{Backend, TestDatabase};

#[macro_use]
mod scale_support;

use scale_support::*;

both!(
    paging_to_the_last_page,
    log_paging_and_batched_purge,
    quick_search_at_size
);

/// Every page of a search, `limit` at a time, through the `after` of each last row.
async fn all_pages(
    store: &Arc<dyn Store>,
    filter: Option<&UserFilter>,
    limit: u32,
) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    loop {
        let after = out.last().cloned();
        let page = store
            .search_users(
                filter,
                Page {
                    after: after.as_deref(),
                    limit,
                },
            )
            .await?;
        let n = page.len();
        out.extend(page.into_iter().map(|u| u.id));
        if n < limit as usize {
            return Ok(out);
        }
    }
}

async fn paging_to_the_last_page(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let raw = Raw::open(&db).await?;
    seed(&raw, backend).await?;
    let store = gatehouse_store::connect(&db.url).await?;
    use FilterOp::*;
    use UserField::*;
    let cases: Vec<(UserFilter, Vec<String>)> = vec![
        // Wide (every user): the primary-key walk.
        (cmp(Email, Sw, "user"), expected(|_| true)),
        // Narrow, in either case: the index enumeration.
        (
            cmp(Email, Sw, "USER123"),
            expected(|i| i.to_string().starts_with("123")),
        ),
        (cmp(LastName, Eq, "last7"), expected(|i| i % 100 == 7)),
        (cmp(Status, Eq, "SUSPENDED"), expected(|i| i % 1000 == 0)),
        (
            cmp(LastUpdated, Gt, &((1000 + 15_990) * 1000 + 500).to_string()),
            expected(|i| i > 15_990),
        ),
        (
            cmp(LastUpdated, Ge, &((1000 + 15_990) * 1000).to_string()),
            expected(|i| i >= 15_990),
        ),
        (
            // An OR of prefixes over four fields (`search=`): Ann and Anton, one in seven each.
            or(
                or(cmp(FirstName, Sw, "an"), cmp(LastName, Sw, "an")),
                or(cmp(Email, Sw, "an"), cmp(Login, Sw, "an")),
            ),
            expected(|i| i % 7 == 0 || i % 7 == 5),
        ),
        (
            UserFilter::And(
                Box::new(cmp(Email, Sw, "user1")),
                Box::new(cmp(LastName, Eq, "LAST10")),
            ),
            expected(|i| i % 100 == 10 && i.to_string().starts_with('1')),
        ),
    ];
    for (filter, want) in &cases {
        // Short pages too where that stays quick (ties cannot occur: ids are unique).
        let limits: &[u32] = if want.len() < 2_000 {
            &[200, 7]
        } else {
            &[200]
        };
        for &limit in limits {
            let got = all_pages(&store, Some(filter), limit).await?;
            ensure!(
                got.len() == want.len() && &got == want,
                "{filter:?} by {limit}: {} rows, want {}",
                got.len(),
                want.len()
            );
        }
    }
    ensure!(all_pages(&store, None, 1000).await? == expected(|_| true));
    // A group's members, to the last (short) page.
    for (group, want) in [
        ("g1", expected(|_| true)),
        ("g2", expected(|i| (1000 + i) % 3 == 0)),
    ] {
        let mut got: Vec<String> = Vec::new();
        loop {
            let after = got.last().cloned();
            let page = store
                .list_group_members(
                    group,
                    Page {
                        after: after.as_deref(),
                        limit: 999,
                    },
                )
                .await?;
            let n = page.len();
            got.extend(page.into_iter().map(|u| u.id));
            if n < 999 {
                break;
            }
        }
        ensure!(
            got == want,
            "{group}: {} members, want {}",
            got.len(),
            want.len()
        );
    }
    Ok(())
}

async fn log_pages(store: &Arc<dyn Store>, mut query: LogQuery) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    loop {
        let page = store.list_log_events(&query).await?;
        let n = page.len();
        out.extend(page.iter().map(|e| e.seq));
        match page.last() {
            Some(last) if n == query.limit as usize => query.after = Some(last.cursor()),
            _ => return Ok(out),
        }
    }
}

/// (since, until, filter, descending, the expected seqs).
type LogCase = (i64, Option<i64>, Option<LogFilter>, bool, Vec<i64>);

async fn log_paging_and_batched_purge(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let raw = Raw::open(&db).await?;
    seed(&raw, backend).await?;
    let store = gatehouse_store::connect(&db.url).await?;
    let ms = |i: i64| BASE_MS + i * 1000;
    let event_type = |t: &str| LogFilter::Compare {
        field: LogField::EventType,
        op: FilterOp::Eq,
        value: t.into(),
    };
    // (since, until, filter, descending, expected seqs): seq i is published at ms(i).
    let cases: Vec<LogCase> = vec![
        // Wide windows: the primary key, or the eventType index.
        (ms(0), None, None, false, (1..=EVENTS).collect()),
        (ms(0), None, None, true, (1..=EVENTS).rev().collect()),
        (
            ms(0),
            None,
            Some(event_type("user.session.start")),
            false,
            (1..=EVENTS).filter(|i| i % 10 == 0).collect(),
        ),
        // A narrow window: the published index.
        (ms(100), Some(ms(1100)), None, false, (100..1100).collect()),
        // A target's events (every event's), through its rows.
        (
            ms(15_000),
            None,
            Some(LogFilter::Compare {
                field: LogField::TargetId,
                op: FilterOp::Eq,
                value: "t".into(),
            }),
            true,
            (15_000..=EVENTS).rev().collect(),
        ),
        (
            ms(100),
            Some(ms(1100)),
            Some(LogFilter::Compare {
                field: LogField::ActorId,
                op: FilterOp::Eq,
                value: "a7".into(),
            }),
            true,
            (100..1100).filter(|i| i % 50 == 7).rev().collect(),
        ),
    ];
    for (since, until, filter, descending, want) in cases {
        let got = log_pages(
            &store,
            LogQuery {
                since_ms: Some(since),
                until_ms: until,
                filter: filter.clone(),
                keywords: Vec::new(),
                descending,
                after: None,
                limit: 501,
            },
        )
        .await?;
        ensure!(
            got == want,
            "{filter:?} desc={descending}: {} events",
            got.len()
        );
    }
    // More than one batch goes, and only what is older.
    let purged = store.purge_log_events(ms(5_001)).await?;
    ensure!(purged == 5_000, "purged {purged}");
    let left = log_pages(
        &store,
        LogQuery {
            since_ms: Some(0),
            until_ms: None,
            filter: None,
            keywords: Vec::new(),
            descending: false,
            after: None,
            limit: 1000,
        },
    )
    .await?;
    ensure!(left == (5_001..=EVENTS).collect::<Vec<_>>());
    Ok(())
}

/// What `q=` should answer on the seeded users: the smallest matching value of each (see
/// [`seed`]), then id; the first `limit` of those `keep` keeps.
fn quick_expected(q: &str, limit: usize, keep: impl Fn(i64) -> bool) -> Vec<String> {
    const FIRST: [&str; 7] = ["ann", "bob", "cara", "dan", "eve", "anton", "zed"];
    let q = q.to_lowercase();
    let mut hits: Vec<(String, String)> = (1..=USERS)
        .filter(|&i| keep(i))
        .filter_map(|i| {
            let email = format!("user{i}@example.com");
            let fields = [
                FIRST[(i % 7) as usize].to_owned(),
                format!("last{}", i % 100),
                email.clone(),
                email,
            ];
            let key = fields.into_iter().filter(|f| f.starts_with(&q)).min()?;
            Some((key, uid(i)))
        })
        .collect();
    hits.sort();
    hits.into_iter().take(limit).map(|(_, id)| id).collect()
}

async fn quick_search_at_size(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let raw = Raw::open(&db).await?;
    seed(&raw, backend).await?;
    let store = gatehouse_store::connect(&db.url).await?;
    let active = cmp(UserField::Status, FilterOp::Eq, "ACTIVE");
    // Thousands of matches (first names; emails and logins; last names), a few, none.
    for q in ["an", "USER1", "last7", "user1234", "zz"] {
        for limit in [200, 7] {
            let got: Vec<String> = store
                .quick_search_users(q, None, limit)
                .await?
                .into_iter()
                .map(|u| u.id)
                .collect();
            let want = quick_expected(q, limit as usize, |_| true);
            ensure!(got == want, "q={q} limit {limit}: {got:?}, want {want:?}");
        }
        let got: Vec<String> = store
            .quick_search_users(q, Some(&active), 200)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        ensure!(
            got == quick_expected(q, 200, |i| i % 1000 != 0),
            "q={q} ACTIVE"
        );
    }
    Ok(())
}
