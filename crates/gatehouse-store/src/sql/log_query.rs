//! The statement behind `list_log_events`: one page of the System Log in Okta's order
//! (`published`, then `seq` for events of the same millisecond), as one index range scan that
//! stops after the page.
//!
//! One index drives each page, chosen from the filter's top-level conjuncts:
//! - `target.id eq`: `system_log_targets_target` (`target_id, event_published_ms, event_seq`),
//!   each event then fetched by its primary key;
//! - `eventType eq`: `system_log_event_type_published` (`event_type, published_ms, seq`);
//! - `actor.id eq`: `system_log_actor_published` (`actor_id, published_ms, seq`);
//! - otherwise `system_log_published_seq` (`published_ms, seq`).
//!
//! Each is entered at the window's start (or the cursor) and read in the page's order, so the
//! scan ends after `limit` matching rows. Every other condition is written in a spelling no
//! index serves (`|| ''`), so neither planner trades the ordered scan for another index and a
//! sort. A `target.id` comparison elsewhere in the filter looks up the event's own target rows
//! (`system_log_targets_pkey`, `event_seq` first), never a `LIKE` over the whole log.

use gatehouse_core::domain::{FilterOp, LogCursor, LogField, LogFilter, LogQuery};

use crate::sql::user_query::Bind;

/// A `LIKE` pattern matching `value` literally (escape character `\`).
fn like_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) const LOG_COLS: &str = "seq, uuid, published_ms, event_type, severity, \
    outcome_result, actor_id, actor_alternate_id, target_ids, search_text, body";

/// The index a page is read through.
#[derive(Debug, Clone, Copy)]
enum Drive<'a> {
    /// `target.id eq` this value.
    Target(&'a LogFilter, &'a str),
    /// `eventType eq` or `actor.id eq`, through its `(column, published_ms, seq)` index.
    Keyed(&'a LogFilter),
    Published,
}

/// The top-level conjuncts of a filter.
fn conjuncts(f: &LogFilter) -> Vec<&LogFilter> {
    match f {
        LogFilter::And(a, b) => {
            let mut all = conjuncts(a);
            all.extend(conjuncts(b));
            all
        }
        other => vec![other],
    }
}

fn drive(filter: Option<&LogFilter>) -> Drive<'_> {
    let all = filter.map(conjuncts).unwrap_or_default();
    let eq = |wanted: LogField| {
        all.iter().copied().find(|f| {
            matches!(f, LogFilter::Compare { field, op: FilterOp::Eq, value }
                if *field == wanted && !value.is_empty())
        })
    };
    // A target is the most selective (one user's or app's events), then an event type, which
    // is the more common filter of the two keyed columns.
    if let Some(f @ LogFilter::Compare { value, .. }) = eq(LogField::TargetId) {
        return Drive::Target(f, value);
    }
    match eq(LogField::EventType).or_else(|| eq(LogField::ActorId)) {
        Some(f) => Drive::Keyed(f),
        None => Drive::Published,
    }
}

fn push(binds: &mut Vec<Bind>, b: Bind) -> String {
    binds.push(b);
    format!("${}", binds.len())
}

/// `filter` as SQL over `system_log`'s columns; `driving` is written so that its index serves
/// it (or, for the target join, left out: the join is the condition).
fn filter_sql(filter: &LogFilter, driving: Option<&LogFilter>, binds: &mut Vec<Bind>) -> String {
    let is_driving = driving.is_some_and(|d| std::ptr::eq(d, filter));
    match filter {
        LogFilter::And(a, b) => format!(
            "({} AND {})",
            filter_sql(a, driving, binds),
            filter_sql(b, driving, binds)
        ),
        LogFilter::Or(a, b) => format!(
            "({} OR {})",
            filter_sql(a, driving, binds),
            filter_sql(b, driving, binds)
        ),
        LogFilter::Not(a) => format!("(NOT {})", filter_sql(a, driving, binds)),
        LogFilter::Compare {
            field: LogField::TargetId,
            op,
            value,
        } => {
            if is_driving {
                return "1 = 1".to_owned();
            }
            let mine = "SELECT 1 FROM system_log_targets WHERE event_seq = system_log.seq";
            let test = match op {
                FilterOp::Eq | FilterOp::Ne => format!(
                    "EXISTS ({mine} AND target_id = {})",
                    push(binds, Bind::Text(value.clone()))
                ),
                FilterOp::Sw => format!(
                    "EXISTS ({mine} AND target_id LIKE {} ESCAPE '\\')",
                    push(binds, Bind::Text(format!("{}%", like_literal(value))))
                ),
                FilterOp::Co => format!(
                    "EXISTS ({mine} AND target_id LIKE {} ESCAPE '\\')",
                    push(binds, Bind::Text(format!("%{}%", like_literal(value))))
                ),
                FilterOp::Pr => format!("EXISTS ({mine})"),
                // The parser refuses them for the System Log.
                FilterOp::Gt | FilterOp::Ge | FilterOp::Lt | FilterOp::Le => {
                    return "1 = 0".to_owned();
                }
            };
            if *op == FilterOp::Ne {
                format!("(NOT {test})")
            } else {
                test
            }
        }
        LogFilter::Compare { field, op, value } => {
            // An equality with a non-empty value is the plain column (the same rows as its
            // COALESCE); only the driving one is spelled as its index has it.
            let plain_eq = *op == FilterOp::Eq && !value.is_empty();
            let column = match (field, plain_eq, is_driving) {
                (LogField::EventType, _, true) => "event_type",
                (LogField::EventType, _, false) => "(event_type || '')",
                (LogField::Severity, _, _) => "severity",
                (LogField::OutcomeResult, _, _) => "outcome_result",
                (LogField::ActorId, true, true) => "actor_id",
                (LogField::ActorId, true, false) => "(actor_id || '')",
                (LogField::ActorId, false, _) => "COALESCE(actor_id, '')",
                (LogField::ActorAlternateId, _, _) => "COALESCE(actor_alternate_id, '')",
                // Matched by the arm above.
                (LogField::TargetId, _, _) => "NULL",
            };
            match op {
                FilterOp::Eq => format!("{column} = {}", push(binds, Bind::Text(value.clone()))),
                FilterOp::Ne => format!("{column} <> {}", push(binds, Bind::Text(value.clone()))),
                FilterOp::Sw => format!(
                    "{column} LIKE {} ESCAPE '\\'",
                    push(binds, Bind::Text(format!("{}%", like_literal(value))))
                ),
                FilterOp::Co => format!(
                    "{column} LIKE {} ESCAPE '\\'",
                    push(binds, Bind::Text(format!("%{}%", like_literal(value))))
                ),
                FilterOp::Pr => format!("{column} <> ''"),
                FilterOp::Gt | FilterOp::Ge | FilterOp::Lt | FilterOp::Le => "1 = 0".to_owned(),
            }
        }
    }
}

/// The page's statement. `cursor` is the resolved `after` (its `published` known).
pub(crate) fn log_page_statement(
    query: &LogQuery,
    cursor: Option<(i64, i64)>,
) -> (String, Vec<Bind>) {
    let drive = drive(query.filter.as_ref());
    // The ordering columns: the driving index's own.
    let (from, published, seq) = match drive {
        Drive::Target(..) => (
            "system_log_targets CROSS JOIN system_log",
            "event_published_ms",
            "event_seq",
        ),
        Drive::Keyed(_) | Drive::Published => ("system_log", "published_ms", "seq"),
    };
    let mut binds = Vec::new();
    let mut conditions = Vec::new();
    let driving = match drive {
        Drive::Target(f, value) => {
            conditions.push(format!(
                "target_id = {}",
                push(&mut binds, Bind::Text(value.to_owned()))
            ));
            conditions.push("system_log.seq = event_seq".to_owned());
            Some(f)
        }
        Drive::Keyed(f) => Some(f),
        Drive::Published => None,
    };
    if let Some(since) = query.since_ms {
        conditions.push(format!(
            "{published} >= {}",
            push(&mut binds, Bind::Int(since))
        ));
    }
    if let Some(until) = query.until_ms {
        conditions.push(format!(
            "{published} < {}",
            push(&mut binds, Bind::Int(until))
        ));
    }
    let (order, cmp) = if query.descending {
        ("DESC", "<")
    } else {
        ("ASC", ">")
    };
    if let Some((after_published, after_seq)) = cursor {
        // A row value: both backends take it as the index range's start (PostgreSQL also
        // estimates it as one, where an `OR` of the two columns looks falsely selective).
        let p = push(&mut binds, Bind::Int(after_published));
        let s = push(&mut binds, Bind::Int(after_seq));
        conditions.push(format!("({published}, {seq}) {cmp} ({p}, {s})"));
    }
    if let Some(f) = &query.filter {
        conditions.push(filter_sql(f, driving, &mut binds));
    }
    for word in &query.keywords {
        let pattern = push(&mut binds, Bind::Text(format!("%{}%", like_literal(word))));
        conditions.push(format!("search_text LIKE {pattern} ESCAPE '\\'"));
    }
    let limit = push(&mut binds, Bind::Int(i64::from(query.limit)));
    let sql = format!(
        "SELECT {LOG_COLS} FROM {from} WHERE {} ORDER BY {published} {order}, {seq} {order} \
         LIMIT {limit}",
        if conditions.is_empty() {
            "1 = 1".to_owned()
        } else {
            conditions.join(" AND ")
        }
    );
    (sql, binds)
}

/// Where a cursor from before the `(published, seq)` order (a bare `seq`) stands: its event's
/// `published`, or the nearest earlier event's if it was purged (`$1` its seq).
pub(crate) const LEGACY_CURSOR: &str = "SELECT published_ms, seq FROM system_log WHERE seq <= $1 \
    ORDER BY seq DESC LIMIT 1";

/// The `(published, seq)` of a cursor whose `published` is known.
pub(crate) fn known(cursor: Option<LogCursor>) -> Option<(i64, i64)> {
    cursor.and_then(|c| c.published_ms.map(|p| (p, c.seq)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(field: LogField, value: &str) -> LogFilter {
        LogFilter::Compare {
            field,
            op: FilterOp::Eq,
            value: value.into(),
        }
    }

    fn and(a: LogFilter, b: LogFilter) -> LogFilter {
        LogFilter::And(Box::new(a), Box::new(b))
    }

    #[test]
    fn the_driving_conjunct_picks_the_index_and_the_rest_walk() {
        let query = |filter| LogQuery {
            since_ms: Some(1),
            until_ms: Some(2),
            filter: Some(filter),
            limit: 10,
            ..LogQuery::default()
        };
        let (sql, _) = log_page_statement(
            &query(and(
                eq(LogField::EventType, "a"),
                eq(LogField::TargetId, "t"),
            )),
            None,
        );
        assert!(
            sql.contains("FROM system_log_targets CROSS JOIN system_log"),
            "{sql}"
        );
        assert!(sql.contains("(event_type || '') = $"), "{sql}");
        assert!(
            sql.contains("ORDER BY event_published_ms ASC, event_seq ASC"),
            "{sql}"
        );
        assert!(!sql.contains("LIKE"), "{sql}");

        let (sql, _) = log_page_statement(
            &query(and(
                eq(LogField::ActorId, "a"),
                eq(LogField::EventType, "e"),
            )),
            Some((5, 6)),
        );
        assert!(sql.contains("event_type = $"), "{sql}");
        assert!(sql.contains("(actor_id || '') = $"), "{sql}");
        assert!(sql.contains("(published_ms, seq) > ($3, $4)"), "{sql}");
    }
}
