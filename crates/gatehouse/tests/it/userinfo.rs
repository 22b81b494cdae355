//! `/v1/userinfo`: the claims follow the token's scopes; groups only with the `groups` scope.

use anyhow::{Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;

use crate::helpers::{Server, spawn_app};

backend_tests!(userinfo_groups_follow_the_groups_scope);

async fn userinfo_groups_follow_the_groups_scope(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let with = app
        .sign_in_and_exchange(Server::Org, "openid profile groups")
        .await?;
    let reply = app.userinfo(Server::Org, &with.access_token).await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    let claims = reply.json()?;
    let groups = claims["groups"].as_array().cloned().unwrap_or_default();
    ensure!(
        groups.iter().any(|g| g == "Everyone"),
        "the groups scope gives the user's groups: {claims}"
    );
    ensure!(claims["preferred_username"].is_string(), "{claims}");

    let without = app
        .sign_in_and_exchange(Server::Org, "openid profile")
        .await?;
    let reply = app.userinfo(Server::Org, &without.access_token).await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    let claims = reply.json()?;
    ensure!(
        claims.get("groups").is_none(),
        "no groups scope, no groups: {claims}"
    );
    ensure!(claims["preferred_username"].is_string(), "{claims}");
    Ok(())
}
