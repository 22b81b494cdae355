//! Reports › System Log: the events of `GET /api/v1/logs`, newest first, searched by keywords,
//! an Okta `filter` expression and a time range, a page at a time; each row opens to the
//! whole `LogEvent`.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use gatehouse_core::domain::StoredLogEvent;
use gatehouse_core::services::system_log::{self, LogQueryError, LogRequest};
use serde::Deserialize;
use serde_json::Value;

use super::{Admin, Chrome, ConsoleError, render};
use crate::AppState;
use askama::Template;

pub fn router() -> Router<AppState> {
    Router::new().route("/report/system_log_2", get(system_log))
}

/// Events per page.
const PAGE_SIZE: u32 = 50;

#[derive(Debug, Default, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    filter: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    after: String,
}

struct EventRow {
    published: String,
    event_type: String,
    message: String,
    actor: String,
    actor_detail: String,
    result: String,
    reason: String,
    targets: Vec<String>,
    ip: String,
    details: String,
}

#[derive(Template)]
#[template(path = "console/system_log.html")]
struct SystemLogPage {
    chrome: Chrome,
    query: SearchQuery,
    rows: Vec<EventRow>,
    error: Option<String>,
    older: Option<String>,
}

/// A `datetime-local` value (`2024-05-01T10:00`, taken as UTC) or an ISO 8601 instant.
fn instant(input: &str) -> Option<String> {
    let s = input.trim();
    if s.is_empty() {
        return None;
    }
    if system_log::parse_instant_ms(s).is_some() {
        return Some(s.to_owned());
    }
    Some(match s.len() {
        10 => format!("{s}T00:00:00Z"),
        16 => format!("{s}:00Z"),
        _ => format!("{s}Z"),
    })
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// `Display name (alternate id)`, or whichever of them, or the id.
fn entity_label(e: &Value) -> String {
    let name = text(&e["displayName"]);
    let alternate = text(&e["alternateId"]);
    match (name.is_empty(), alternate.is_empty()) {
        (false, false) if name != alternate => format!("{name} ({alternate})"),
        (false, _) => name,
        (true, false) => alternate,
        (true, true) => text(&e["id"]),
    }
}

fn row(stored: &StoredLogEvent) -> EventRow {
    let body: Value = serde_json::from_str(&stored.event.body).unwrap_or(Value::Null);
    let targets = body["target"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .map(|t| format!("{}: {}", text(&t["type"]), entity_label(t)))
                .collect()
        })
        .unwrap_or_default();
    EventRow {
        published: text(&body["published"]),
        event_type: stored.event.event_type.clone(),
        message: text(&body["displayMessage"]),
        actor: entity_label(&body["actor"]),
        actor_detail: format!(
            "{} {}",
            text(&body["actor"]["type"]),
            text(&body["actor"]["id"])
        ),
        result: stored.event.outcome_result.clone(),
        reason: text(&body["outcome"]["reason"]),
        targets,
        ip: text(&body["client"]["ipAddress"]),
        details: serde_json::to_string_pretty(&body).unwrap_or_default(),
    }
}

fn older_link(query: &SearchQuery, after: &str) -> String {
    let mut link = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("q", &query.q),
        ("filter", &query.filter),
        ("since", &query.since),
        ("until", &query.until),
    ] {
        if !v.is_empty() {
            link.append_pair(k, v);
        }
    }
    link.append_pair("after", after);
    format!("/report/system_log_2?{}", link.finish())
}

async fn system_log(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ConsoleError> {
    // A bounded query (until now, unless given) has a next page only when there is one.
    let until = instant(&query.until)
        .unwrap_or_else(|| system_log::okta_date_ms(state.provider.now() * 1000 + 999));
    let request = LogRequest {
        since: instant(&query.since),
        until: Some(until),
        filter: Some(query.filter.clone()).filter(|f| !f.trim().is_empty()),
        q: Some(query.q.clone()),
        sort_order: Some("DESCENDING".into()),
        limit: Some(PAGE_SIZE.to_string()),
        after: Some(query.after.clone()).filter(|a| !a.is_empty()),
    };
    let (status, rows, error, older) = match system_log::list(&state.provider, &request).await {
        Ok(page) => {
            let older = page.next_after.map(|a| older_link(&query, &a));
            (
                StatusCode::OK,
                page.events.iter().map(row).collect(),
                None,
                older,
            )
        }
        Err(LogQueryError::Invalid(m)) => (StatusCode::UNPROCESSABLE_ENTITY, vec![], Some(m), None),
        Err(LogQueryError::Store(e)) => return Err(ConsoleError::Internal(e.to_string())),
    };
    let page = SystemLogPage {
        chrome: Chrome::admin(&state, &admin, "syslog"),
        query,
        rows,
        error,
        older,
    };
    Ok(render(status, page.render()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_instants_become_iso_8601() {
        assert_eq!(instant(""), None);
        assert_eq!(
            instant("2024-05-01T10:00").as_deref(),
            Some("2024-05-01T10:00:00Z")
        );
        assert_eq!(
            instant("2024-05-01").as_deref(),
            Some("2024-05-01T00:00:00Z")
        );
        assert_eq!(
            instant("2024-05-01T10:00:00+02:00").as_deref(),
            Some("2024-05-01T10:00:00+02:00")
        );
    }
}
