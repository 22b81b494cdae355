//! `/api/v1` rate limits: a per-credential budget per minute, counted in the database, with
//! Okta's headers and `429 E0000047` once it is spent.

use anyhow::{Result, ensure};
use gatehouse_core::services::api_tokens::create_api_token;
use gatehouse_core::services::system_log::Actor;
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;

use crate::helpers::{Reply, http_client, spawn_app_with};

const LIMIT: u32 = 5;

backend_tests!(budget_is_per_credential_and_resets_with_the_window);

async fn budget_is_per_credential_and_resets_with_the_window(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.api_requests_per_minute = LIMIT).await?;
    let admin = app.create_admin("admin@example.com").await?;
    let token = create_api_token(&app.provider, &Actor::system(), "rate test", &admin).await?;
    let other = create_api_token(&app.provider, &Actor::system(), "other", &admin).await?;
    let get = |value: &str| {
        let req = http_client().map(|c| {
            c.get(format!("{}/api/v1/users/me", app.base))
                .header("authorization", format!("SSWS {value}"))
        });
        async move { Reply::read(req?.send().await?).await }
    };

    let mut remaining = Vec::new();
    for _ in 0..LIMIT {
        let reply = get(&token.value).await?;
        ensure!(reply.status == StatusCode::OK, "{reply:?}");
        ensure!(
            reply.header("x-rate-limit-limit") == Some(&LIMIT.to_string()),
            "{reply:?}"
        );
        remaining.push(
            reply
                .header("x-rate-limit-remaining")
                .unwrap_or("")
                .to_owned(),
        );
    }
    ensure!(remaining == ["4", "3", "2", "1", "0"], "{remaining:?}");

    let refused = get(&token.value).await?;
    ensure!(
        refused.status == StatusCode::TOO_MANY_REQUESTS,
        "{refused:?}"
    );
    ensure!(refused.json()?["errorCode"] == "E0000047", "{refused:?}");
    // Both Okta SDKs back off only with `Date` and an integer `X-Rate-Limit-Reset`.
    ensure!(refused.header("date").is_some(), "{refused:?}");
    let reset: i64 = refused.header("x-rate-limit-reset").unwrap_or("").parse()?;
    let now = app.provider.now();
    ensure!(reset > now && reset <= now + 60, "reset {reset}, now {now}");
    ensure!(refused.header("x-okta-request-id").is_some(), "{refused:?}");

    // Another token has its own budget; an unknown one is counted but still refused as invalid.
    ensure!(get(&other.value).await?.status == StatusCode::OK);
    ensure!(get("00nope").await?.status == StatusCode::UNAUTHORIZED);

    // The next window starts afresh.
    app.clock.advance(60);
    let reply = get(&token.value).await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    ensure!(
        reply.header("x-rate-limit-remaining") == Some("4"),
        "{reply:?}"
    );
    Ok(())
}
