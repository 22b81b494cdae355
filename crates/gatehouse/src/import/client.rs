//! Reading a source org through Okta's management API: `Authorization: SSWS <token>`, every
//! page of a list (the `Link: <…>; rel="next"` header), and Okta's rate limits: when
//! `X-Rate-Limit-Remaining` reaches 0 the next call waits for `X-Rate-Limit-Reset`, and a
//! `429` is retried after the reset (as Okta's SDKs do), a few times at most.

use std::time::Duration;

use anyhow::{Context as _, bail};
use reqwest::header::{HeaderMap, LINK};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(30);
const MAX_RETRIES: u32 = 4;
/// The longest wait for a rate-limit reset (a wrong clock must not stall the import).
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Items per page asked for (Okta caps each list at its own maximum).
const PAGE_LIMIT: u32 = 200;

pub struct OktaClient {
    org_url: String,
    token: String,
    http: reqwest::Client,
    /// Seconds to wait before the next call (the budget was spent).
    wait_before_next: std::sync::Mutex<Option<Duration>>,
    /// API calls made, for the report.
    pub calls: std::sync::atomic::AtomicU64,
}

impl OktaClient {
    pub fn new(org_url: &str, token: &str) -> anyhow::Result<Self> {
        let org_url = org_url.trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&org_url).context("the org URL is not a URL")?;
        if !matches!(parsed.scheme(), "https" | "http") {
            bail!("the org URL must be an http(s) URL");
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(format!(
                "Gatehouse/{} (import okta)",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Self {
            org_url,
            token: token.to_owned(),
            http,
            wait_before_next: std::sync::Mutex::new(None),
            calls: Default::default(),
        })
    }

    pub fn org_url(&self) -> &str {
        &self.org_url
    }

    /// Every item of a list, following `rel="next"` links.
    pub async fn list(&self, path: &str) -> anyhow::Result<Vec<Value>> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{}{path}{sep}limit={PAGE_LIMIT}", self.org_url));
        let mut items = Vec::new();
        while let Some(url) = next.take() {
            let (page, headers) = self.get_url(&url).await?;
            match page {
                Value::Array(page) => items.extend(page),
                other => bail!("{url}: expected a JSON array, got {}", kind(&other)),
            }
            next = next_link(&headers);
            if let Some(n) = &next
                && !n.starts_with(&self.org_url)
            {
                bail!("{url}: the next page is on another host ({n}); not followed");
            }
        }
        Ok(items)
    }

    async fn get_url(&self, url: &str) -> anyhow::Result<(Value, HeaderMap)> {
        let mut attempt = 0;
        loop {
            let wait = self.wait_before_next.lock().ok().and_then(|mut w| w.take());
            if let Some(wait) = wait {
                tracing::info!(
                    seconds = wait.as_secs(),
                    "rate limit spent: waiting for its reset"
                );
                tokio::time::sleep(wait).await;
            }
            self.calls
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let res = self
                .http
                .get(url)
                .header("Authorization", format!("SSWS {}", self.token))
                .header("Accept", "application/json")
                .send()
                .await
                .with_context(|| format!("GET {url}"))?;
            let status = res.status();
            let headers = res.headers().clone();
            let reset_wait = reset_in(&headers);
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS && attempt < MAX_RETRIES {
                attempt += 1;
                let wait = reset_wait.unwrap_or(Duration::from_secs(1 << attempt));
                tracing::warn!(%url, seconds = wait.as_secs(), "429 from the source: retrying after the reset");
                tokio::time::sleep(wait).await;
                continue;
            }
            if remaining(&headers) == Some(0)
                && let (Some(wait), Ok(mut slot)) = (reset_wait, self.wait_before_next.lock())
            {
                *slot = Some(wait);
            }
            let body = res.text().await.with_context(|| format!("GET {url}"))?;
            if !status.is_success() {
                let summary = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|v| {
                        v.get("errorSummary")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .unwrap_or_default();
                bail!("GET {url}: {status} {summary}");
            }
            let value = serde_json::from_str(&body)
                .with_context(|| format!("GET {url}: the answer is not JSON"))?;
            return Ok((value, headers));
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "an object",
        Value::Null => "null",
        _ => "a scalar",
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn remaining(headers: &HeaderMap) -> Option<u64> {
    header_u64(headers, "x-rate-limit-remaining")
}

/// How long until `X-Rate-Limit-Reset` (epoch seconds), against the answer's `Date` when it
/// has one (the source's clock), capped.
fn reset_in(headers: &HeaderMap) -> Option<Duration> {
    let reset = header_u64(headers, "x-rate-limit-reset")?;
    let now = headers
        .get(reqwest::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(httpdate_secs)
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        });
    let secs = reset.saturating_sub(now).max(1);
    Some(Duration::from_secs(secs).min(MAX_WAIT))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) as epoch seconds.
fn httpdate_secs(s: &str) -> Option<u64> {
    const FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let t = time::PrimitiveDateTime::parse(s, FORMAT).ok()?;
    u64::try_from(t.assume_utc().unix_timestamp()).ok()
}

/// The `rel="next"` target of the `Link` headers (Okta sends one header per relation).
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|link| {
            let (target, params) = link.split_once(';')?;
            let is_next = params
                .split(';')
                .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            is_next.then(|| target.to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn next_link_from_separate_or_joined_headers() {
        let mut h = HeaderMap::new();
        h.append(
            LINK,
            HeaderValue::from_static("<https://o.example/api/v1/users?limit=2>; rel=\"self\""),
        );
        h.append(
            LINK,
            HeaderValue::from_static(
                "<https://o.example/api/v1/users?after=00u2&limit=2>; rel=\"next\"",
            ),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://o.example/api/v1/users?after=00u2&limit=2")
        );
        let mut joined = HeaderMap::new();
        joined.insert(
            LINK,
            HeaderValue::from_static("<https://a/x>; rel=\"self\", <https://a/y>; rel=\"next\""),
        );
        assert_eq!(next_link(&joined).as_deref(), Some("https://a/y"));
        let mut last = HeaderMap::new();
        last.insert(
            LINK,
            HeaderValue::from_static("<https://a/x>; rel=\"self\""),
        );
        assert_eq!(next_link(&last), None);
    }

    /// A source that answers 429 first, then two pages, the first spending the budget: the
    /// client waits for the resets and reads every item.
    #[tokio::test]
    async fn pages_and_rate_limits_against_a_live_source() -> anyhow::Result<()> {
        use axum::extract::{Query, State};
        use axum::http::{HeaderMap as Headers, StatusCode};
        use axum::response::IntoResponse;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU32, Ordering};

        #[derive(Clone)]
        struct Source {
            base: Arc<std::sync::OnceLock<String>>,
            hits: Arc<AtomicU32>,
        }
        fn epoch() -> u64 {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        }
        async fn users(
            State(s): State<Source>,
            Query(q): Query<std::collections::HashMap<String, String>>,
            headers: Headers,
        ) -> axum::response::Response {
            let n = s.hits.fetch_add(1, Ordering::SeqCst);
            let reset = (epoch() + 1).to_string();
            if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("SSWS t0ken") {
                return StatusCode::UNAUTHORIZED.into_response();
            }
            if n == 0 {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("x-rate-limit-reset", reset)],
                    "{}",
                )
                    .into_response();
            }
            let base = s.base.get().cloned().unwrap_or_default();
            match q.get("after").map(String::as_str) {
                None => (
                    [
                        ("x-rate-limit-remaining", "0".to_owned()),
                        ("x-rate-limit-reset", reset),
                        (
                            "link",
                            format!("<{base}/api/v1/users?after=2&limit=2>; rel=\"next\""),
                        ),
                    ],
                    axum::Json(serde_json::json!([{"id": "00u1"}, {"id": "00u2"}])),
                )
                    .into_response(),
                Some(_) => axum::Json(serde_json::json!([{"id": "00u3"}])).into_response(),
            }
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let source = Source {
            base: Arc::new(std::sync::OnceLock::new()),
            hits: Arc::new(AtomicU32::new(0)),
        };
        let _ = source.base.set(base.clone());
        let app = axum::Router::new()
            .route("/api/v1/users", axum::routing::get(users))
            .with_state(source.clone());
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let client = OktaClient::new(&base, "t0ken")?;
        let started = std::time::Instant::now();
        let items = client.list("/api/v1/users").await?;
        server.abort();
        let ids: Vec<_> = items.iter().filter_map(|v| v["id"].as_str()).collect();
        assert_eq!(ids, ["00u1", "00u2", "00u3"]);
        assert_eq!(source.hits.load(Ordering::SeqCst), 3);
        assert_eq!(client.calls.load(std::sync::atomic::Ordering::Relaxed), 3);
        // Two waits (after the 429 and after the spent budget), each until a reset 1 s ahead.
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "{:?}",
            started.elapsed()
        );
        Ok(())
    }

    #[test]
    fn reset_is_measured_against_the_source_clock() {
        let mut h = HeaderMap::new();
        h.insert(
            "date",
            HeaderValue::from_static("Sun, 06 Dec 2026 12:00:00 GMT"),
        );
        h.insert("x-rate-limit-reset", HeaderValue::from_static("1796558410"));
        h.insert("x-rate-limit-remaining", HeaderValue::from_static("0"));
        assert_eq!(remaining(&h), Some(0));
        // 2026-12-06T12:00:00Z is 1796558400.
        assert_eq!(reset_in(&h), Some(Duration::from_secs(10)));
    }
}
