//! System Log events as stored, and the queries on them.

use super::FilterOp;

/// One System Log event as stored: Okta's `LogEvent` JSON (`body`) plus the fields it is
/// queried by. Built by [`crate::services::system_log`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEventRecord {
    pub uuid: String,
    /// `published`, in Unix milliseconds.
    pub published_ms: i64,
    pub event_type: String,
    pub severity: String,
    pub outcome_result: String,
    pub actor_id: Option<String>,
    pub actor_alternate_id: Option<String>,
    pub target_ids: Vec<String>,
    /// Lower-cased text matched by `q=` keywords.
    pub search_text: String,
    pub body: String,
}

/// A stored event with its position in the log (the paging cursor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLogEvent {
    pub seq: i64,
    pub event: LogEventRecord,
}

impl StoredLogEvent {
    /// The cursor of the page after this event.
    pub fn cursor(&self) -> LogCursor {
        LogCursor {
            published_ms: Some(self.event.published_ms),
            seq: self.seq,
        }
    }
}

/// A place in the log's order, `(published, seq)` as Okta orders by `published`: the `after`
/// of a next link, written `<published_ms>_<seq>`. A bare `<seq>` is a next link from before
/// that order (a poller may keep one across an upgrade); the store finds its `published`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogCursor {
    pub published_ms: Option<i64>,
    pub seq: i64,
}

impl LogCursor {
    pub fn parse(s: &str) -> Option<LogCursor> {
        match s.split_once('_') {
            Some((published, seq)) => Some(LogCursor {
                published_ms: Some(published.parse().ok()?),
                seq: seq.parse().ok()?,
            }),
            None => Some(LogCursor {
                published_ms: None,
                seq: s.parse().ok()?,
            }),
        }
    }
}

impl std::fmt::Display for LogCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.published_ms {
            Some(p) => write!(f, "{p}_{}", self.seq),
            None => write!(f, "{}", self.seq),
        }
    }
}

/// The attributes `/api/v1/logs?filter=` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogField {
    EventType,
    Severity,
    OutcomeResult,
    ActorId,
    ActorAlternateId,
    TargetId,
}

/// A parsed System Log `filter=` ([`crate::services::system_log::parse_log_filter`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFilter {
    Compare {
        field: LogField,
        op: FilterOp,
        value: String,
    },
    And(Box<LogFilter>, Box<LogFilter>),
    Or(Box<LogFilter>, Box<LogFilter>),
    Not(Box<LogFilter>),
}

/// One page of the System Log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogQuery {
    /// `published >= since_ms`.
    pub since_ms: Option<i64>,
    /// `published < until_ms`.
    pub until_ms: Option<i64>,
    pub filter: Option<LogFilter>,
    /// Lower-cased keywords; an event matches when its text contains every one.
    pub keywords: Vec<String>,
    pub descending: bool,
    /// Events after this position, in the query's order (`published`, then `seq`).
    pub after: Option<LogCursor>,
    pub limit: u32,
}
