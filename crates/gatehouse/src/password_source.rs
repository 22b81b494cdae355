//! The HTTP client behind just-in-time password migration: asks an imported user's source org
//! (`POST {org}/api/v1/authn`, Okta's classic primary authentication) whether the password
//! is right. The source URL is the administrator's (from `gatehouse import okta`), not a
//! client's. Timeouts are short; redirects are not followed; the password is never logged.

use std::time::Duration;

use async_trait::async_trait;
use gatehouse_core::services::password_migration::{SourceAuthenticator, SourceUnavailable};
use serde_json::{Value, json};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const TIMEOUT: Duration = Duration::from_secs(10);

/// Transaction states that mean the source accepted the password (a second factor or a
/// password change would follow there; here the password is what is being carried over).
const PASSWORD_ACCEPTED: [&str; 5] = [
    "SUCCESS",
    "MFA_REQUIRED",
    "MFA_ENROLL",
    "PASSWORD_WARN",
    "PASSWORD_EXPIRED",
];

pub struct HttpSourceAuthenticator {
    client: reqwest::Client,
}

impl HttpSourceAuthenticator {
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(format!(
                "Gatehouse/{} (password migration)",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Self { client })
    }
}

#[async_trait]
impl SourceAuthenticator for HttpSourceAuthenticator {
    async fn verify(
        &self,
        org_url: &str,
        login: &str,
        password: &str,
    ) -> Result<bool, SourceUnavailable> {
        let url = format!("{}/api/v1/authn", org_url.trim_end_matches('/'));
        let body = json!({ "username": login, "password": password });
        let res = self
            .client
            .post(&url)
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .await
            // Only the kind of failure: reqwest's message may carry the URL, never the body.
            .map_err(|e| SourceUnavailable(format!("{url}: {}", failure_kind(&e))))?;
        let status = res.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Ok(false);
        }
        if !status.is_success() {
            return Err(SourceUnavailable(format!("{url} answered {status}")));
        }
        let answer: Value = res
            .json()
            .await
            .map_err(|_| SourceUnavailable(format!("{url} answered something not JSON")))?;
        let state = answer.get("status").and_then(Value::as_str).unwrap_or("");
        Ok(PASSWORD_ACCEPTED.contains(&state))
    }
}

fn failure_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    }
}
