//! Okta's System Log, read side: `GET /api/v1/logs` and `gatehouse logs` (`list` and its
//! `filter=`), and the session helpers of `user.session.end`. The events and recording live in
//! [`crate::audit`], re-exported here for the web and CLI crates.

pub use crate::audit::{
    Actor, ClientInfo, Entity, Event, Severity, TokenRequestLog, event_type, oauth2_event_type,
    okta_date_ms, parse_instant_ms, reason, record, record_all, record_code_issued,
    record_token_refusal, token_grant_records,
};

use crate::audit::now_ms;
use crate::domain::{FilterOp, LogCursor, LogField, LogFilter, LogQuery, StoredLogEvent};
use crate::provider::Provider;
use crate::services::filter::{FilterError, FilterLanguage, Token, parse_filter};
use crate::store::StoreError;

/// The user behind a live session cookie, if any (to name them in `user.session.end`).
pub async fn session_user(provider: &Provider, cookie: Option<&str>) -> Option<String> {
    let cookie = cookie.filter(|c| !c.is_empty())?;
    let hash = crate::crypto::sha256_b64url(cookie);
    match provider.store.find_session(&hash, provider.now()).await {
        Ok(session) => session.map(|s| s.user_id),
        Err(_) => None,
    }
}

/// `user.session.end`: a user signed out.
pub async fn record_session_end(provider: &Provider, client: &ClientInfo, user_id: &str) {
    let actor = match provider.store.find_user(user_id).await {
        Ok(Some(user)) => Entity::user(&user),
        _ => Entity::new(user_id, "User"),
    };
    let event = Event::new(event_type::SESSION_END, "User logout from Okta", actor).client(client);
    record(provider, event).await;
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Okta's page size limits for `/api/v1/logs`.
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;
/// Without `since`, Okta returns the last seven days before `until` (or now).
pub const DEFAULT_LOOKBACK_MS: i64 = 7 * 24 * 3600 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum LogQueryError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a caller asked for (the raw query parameters).
#[derive(Debug, Clone, Default)]
pub struct LogRequest {
    pub since: Option<String>,
    pub until: Option<String>,
    pub filter: Option<String>,
    pub q: Option<String>,
    pub sort_order: Option<String>,
    pub limit: Option<String>,
    pub after: Option<String>,
}

/// One page of events and the cursor of the next one.
#[derive(Debug, Clone)]
pub struct LogPage {
    pub events: Vec<StoredLogEvent>,
    /// The `after` of the next page. A bounded query (with `until`) has none at its end; a
    /// polling query (no `until`) always has one, Okta's way of saying "ask again later".
    pub next_after: Option<String>,
    /// The query as resolved (`since` defaulted), for building the `next` link.
    pub since_ms: i64,
    /// No `until`: Okta's polling query, whose `next` link is always there.
    pub polling: bool,
}

/// Lists events as `GET /api/v1/logs` does.
pub async fn list(provider: &Provider, request: &LogRequest) -> Result<LogPage, LogQueryError> {
    let invalid = |m: String| LogQueryError::Invalid(m);
    let until_ms = match request.until.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            parse_instant_ms(s)
                .ok_or_else(|| invalid(format!("until: '{s}' is not an ISO 8601 date and time")))?,
        ),
        None => None,
    };
    let since_ms = match request.since.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_instant_ms(s)
            .ok_or_else(|| invalid(format!("since: '{s}' is not an ISO 8601 date and time")))?,
        None => until_ms.unwrap_or_else(|| now_ms(provider)) - DEFAULT_LOOKBACK_MS,
    };
    if until_ms.is_some_and(|u| u < since_ms) {
        return Err(invalid("until must not be earlier than since".into()));
    }
    let descending = match request.sort_order.as_deref().filter(|s| !s.is_empty()) {
        None => false,
        Some(s) if s.eq_ignore_ascii_case("ASCENDING") => false,
        Some(s) if s.eq_ignore_ascii_case("DESCENDING") => true,
        Some(s) => {
            return Err(invalid(format!(
                "sortOrder: '{s}' must be ASCENDING or DESCENDING"
            )));
        }
    };
    let limit = match request.limit.as_deref().filter(|s| !s.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if n >= 1 => n.min(MAX_LIMIT),
            _ => return Err(invalid(format!("limit: '{s}' must be a positive number"))),
        },
    };
    let after = match request.after.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            LogCursor::parse(s)
                .ok_or_else(|| invalid(format!("after: '{s}' is not a cursor from a next link")))?,
        ),
    };
    let filter = match request.filter.as_deref().filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(f) => Some(parse_log_filter(f).map_err(|e| invalid(format!("filter: {e}")))?),
    };
    let keywords: Vec<String> = request
        .q
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .take(10)
        .map(str::to_lowercase)
        .collect();
    let query = LogQuery {
        since_ms: Some(since_ms),
        until_ms,
        filter,
        keywords,
        descending,
        after,
        limit: limit.saturating_add(1),
    };
    let mut events = provider.store.list_log_events(&query).await?;
    let more = events.len() > limit as usize;
    events.truncate(limit as usize);
    let next_after = match (more, until_ms, events.last()) {
        (_, _, Some(last)) if more || until_ms.is_none() => Some(last.cursor().to_string()),
        // A polling query with nothing new keeps its place.
        (_, None, None) => request.after.clone().filter(|s| !s.is_empty()),
        _ => None,
    };
    Ok(LogPage {
        events,
        next_after,
        since_ms,
        polling: until_ms.is_none(),
    })
}

// ---------------------------------------------------------------------------------------------
// `filter=`

impl FilterLanguage for LogFilter {
    type Field = LogField;
    const BARE_LITERALS: bool = false;

    fn field(attr: &str) -> Option<LogField> {
        Some(match attr {
            "eventType" => LogField::EventType,
            "severity" => LogField::Severity,
            "outcome.result" => LogField::OutcomeResult,
            "actor.id" => LogField::ActorId,
            "actor.alternateId" => LogField::ActorAlternateId,
            "target.id" => LogField::TargetId,
            _ => return None,
        })
    }

    fn compare(field: LogField, op: FilterOp, value: String) -> Result<Self, FilterError> {
        if matches!(
            op,
            FilterOp::Gt | FilterOp::Ge | FilterOp::Lt | FilterOp::Le
        ) {
            return Err(FilterError(
                "the System Log's filter compares with eq, ne, sw, co or pr".into(),
            ));
        }
        Ok(LogFilter::Compare { field, op, value })
    }

    fn and(left: Self, right: Self) -> Self {
        LogFilter::And(Box::new(left), Box::new(right))
    }

    fn or(left: Self, right: Self) -> Self {
        LogFilter::Or(Box::new(left), Box::new(right))
    }

    fn not(inner: Self) -> Self {
        LogFilter::Not(Box::new(inner))
    }

    fn trailing(_extra: &Token) -> FilterError {
        FilterError("unexpected text after the expression".into())
    }
}

/// Parses a System Log `filter=` (Okta's SCIM-like expressions over `eventType`, `severity`,
/// `outcome.result`, `actor.id`, `actor.alternateId` and `target.id`).
pub fn parse_log_filter(input: &str) -> Result<LogFilter, FilterError> {
    parse_filter(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        let f = parse_log_filter(
            r#"eventType eq "user.session.start" and (outcome.result eq "FAILURE" or target.id eq "00u1")"#,
        );
        assert!(matches!(f, Ok(LogFilter::And(_, _))), "{f:?}");
        for bad in [
            "",
            "eventType",
            r#"eventType gt "x""#,
            r#"published eq "x""#,
            r#"eventType eq x"#,
            r#"(eventType eq "x""#,
        ] {
            assert!(parse_log_filter(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn cursors_round_trip_and_bare_seqs_still_parse() {
        let c = LogCursor {
            published_ms: Some(1_700_000_000_123),
            seq: 42,
        };
        assert_eq!(c.to_string(), "1700000000123_42");
        assert_eq!(LogCursor::parse(&c.to_string()), Some(c));
        // A next link from before the (published, seq) order.
        assert_eq!(
            LogCursor::parse("42"),
            Some(LogCursor {
                published_ms: None,
                seq: 42
            })
        );
        for bad in ["", "x", "1_", "_2", "1_2_3", "1.5"] {
            assert_eq!(LogCursor::parse(bad), None, "{bad:?}");
        }
    }
}
