//! `GET /api/v1/users?q=`: Okta's quick search answers its first `limit` matches, sorted by the
//! matching value, with no next page (and ignores `after`); `search=` still pages.

use anyhow::{Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, spawn_app};

backend_tests!(quick_search_answers_one_page);

async fn get(app: &TestApp, token: &str, path: &str) -> Result<(Reply, Vec<String>)> {
    let reply = app.api_ssws(Method::GET, path, token, None).await?;
    ensure!(reply.status == StatusCode::OK, "{path}: {reply:?}");
    let body: Value = reply.json()?;
    let logins = body
        .as_array()
        .map(|users| {
            users
                .iter()
                .filter_map(|u| u["profile"]["login"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok((reply, logins))
}

fn has_next(reply: &Reply) -> bool {
    reply
        .header("link")
        .is_some_and(|l| l.contains("rel=\"next\""))
}

async fn quick_search_answers_one_page(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    for (first, login) in [
        ("Quinn", "zz1@example.com"),
        ("Quill", "zz2@example.com"),
        ("Quist", "zz3@example.com"),
    ] {
        let body = json!({"profile": {"login": login, "email": login, "firstName": first,
            "lastName": "Q"}});
        let created = app
            .api_ssws(
                Method::POST,
                "/api/v1/users?activate=false",
                &token,
                Some(&body),
            )
            .await?;
        ensure!(created.status == StatusCode::OK, "{created:?}");
    }
    let want = ["zz2@example.com", "zz1@example.com"];
    let (reply, logins) = get(&app, &token, "/api/v1/users?q=QUI&limit=2").await?;
    ensure!(logins == want, "{logins:?}");
    ensure!(!has_next(&reply), "q= has no next page: {reply:?}");
    let (_, again) = get(&app, &token, "/api/v1/users?q=qui&limit=2&after=00u").await?;
    ensure!(again == want, "after is ignored: {again:?}");
    let (_, all) = get(&app, &token, "/api/v1/users?q=qui").await?;
    ensure!(all.len() == 3, "{all:?}");
    // The same prefixes as a search do page, in id order.
    let search = "/api/v1/users?search=profile.firstName%20sw%20%22qui%22&limit=2";
    let (reply, page) = get(&app, &token, search).await?;
    ensure!(page.len() == 2 && has_next(&reply), "{reply:?}");
    Ok(())
}
