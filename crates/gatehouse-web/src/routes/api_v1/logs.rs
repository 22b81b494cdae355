//! `GET /api/v1/logs`: Okta's System Log API.
//!
//! `since`/`until` bound `published` (ISO 8601; `since` defaults to seven days before `until`
//! or now), `filter` takes Okta's expressions over `eventType`, `severity`, `outcome.result`,
//! `actor.id`, `actor.alternateId` and `target.id`, `q` keywords must all appear, `sortOrder`
//! is `ASCENDING` (default) or `DESCENDING`, `limit` is 1–1000 (default 100). Pages follow
//! `Link: <…>; rel="next"`. Without `until` the request is a *polling* request: the `next` link
//! is always there, and following it later returns what was logged since.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::services::system_log::{self, LogQueryError, LogRequest};
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::log_body::LogBody;
use super::{ApiError, ApiOrigin, Query, pagination_links};
use crate::AppState;

/// The query parameters of `GET /api/v1/logs`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct LogParams {
    /// Lower bound of `published` (ISO 8601, inclusive); defaults to 7 days before `until`.
    since: Option<String>,
    /// Upper bound of `published` (ISO 8601, exclusive). Without it the request is a polling
    /// request whose `next` link is always present.
    until: Option<String>,
    /// Filter expression, e.g. `eventType eq "user.session.start" and outcome.result eq "FAILURE"`.
    filter: Option<String>,
    /// Keywords (space-separated), all of which must appear in the event; case-insensitive.
    q: Option<String>,
    /// `ASCENDING` (default) or `DESCENDING` by `published`.
    #[param(rename = "sortOrder")]
    sort_order: Option<String>,
    /// Page size, 1–1000 (default 100).
    limit: Option<i64>,
    /// Cursor from the `next` link.
    after: Option<String>,
}

/// An actor or a target of an event.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct LogEntityDoc {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    alternate_id: Option<String>,
    display_name: Option<String>,
    #[schema(value_type = Option<Object>)]
    detail_entry: Option<Value>,
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct LogOutcomeDoc {
    #[schema(example = "SUCCESS")]
    result: String,
    #[schema(example = "INVALID_CREDENTIALS")]
    reason: Option<String>,
}

/// Okta's `LogEvent`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LogEvent)]
#[allow(dead_code)]
pub(crate) struct LogEventDoc {
    uuid: String,
    #[schema(example = "2024-05-01T10:00:00.123Z")]
    published: String,
    #[schema(example = "user.session.start")]
    event_type: String,
    version: String,
    #[schema(example = "INFO")]
    severity: String,
    legacy_event_type: Option<String>,
    display_message: String,
    actor: LogEntityDoc,
    #[schema(value_type = Object)]
    client: Value,
    #[schema(value_type = Option<Object>)]
    device: Option<Value>,
    #[schema(value_type = Object)]
    authentication_context: Value,
    display_message_auth: Option<String>,
    outcome: LogOutcomeDoc,
    #[schema(value_type = Object)]
    security_context: Value,
    #[schema(value_type = Object)]
    debug_context: Value,
    #[schema(value_type = Object)]
    transaction: Value,
    #[schema(value_type = Object)]
    request: Value,
    target: Vec<LogEntityDoc>,
}

impl From<LogQueryError> for ApiError {
    fn from(e: LogQueryError) -> Self {
        match e {
            LogQueryError::Invalid(message) => {
                let field = message.split(':').next().unwrap_or("query").to_owned();
                ApiError::validation(field, message)
            }
            LogQueryError::Store(s) => ApiError::Internal(s.to_string()),
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/logs",
    tag = "SystemLog",
    summary = "List System Log events",
    params(LogParams),
    responses(
        (status = 200, description = "A page of events", body = Vec<LogEventDoc>),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    query: Query,
) -> Result<Response, ApiError> {
    let owned = |name: &str| query.get(name).map(str::to_owned);
    let request = LogRequest {
        since: owned("since"),
        until: owned("until"),
        filter: owned("filter"),
        q: owned("q"),
        sort_order: owned("sortOrder"),
        limit: owned("limit"),
        after: owned("after"),
    };
    let page = system_log::list(&state.provider, &request).await?;
    // Each body as `Value` would write it (keys sorted), without building a `Value` per event.
    let events: Vec<LogBody<'_>> = page
        .events
        .iter()
        .filter_map(|e| LogBody::parse(&e.event.body))
        .collect();
    // A polling request always links onwards; at an empty page it points at the same place.
    let ascending = !request
        .sort_order
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("DESCENDING"));
    let next = match (&page.next_after, page.polling && ascending) {
        (Some(after), _) => Some(after.clone()),
        (None, true) => Some(query.get("after").unwrap_or("0").to_owned()),
        (None, false) => None,
    };
    let links = pagination_links(&origin, "/api/v1/logs", &query, next.as_deref());
    let capacity = page
        .events
        .iter()
        .map(|e| e.event.body.len() + 1)
        .sum::<usize>()
        + 2;
    let mut body = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut body, &events).map_err(|e| ApiError::Internal(e.to_string()))?;
    let json = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    )];
    Ok((links, json, body).into_response())
}
