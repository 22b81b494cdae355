//! API tokens act with their owner's rights, as in Okta: only an administrator may own one, and
//! a token stops working when its owner stops being one.

use anyhow::{Result, ensure};
use gatehouse_core::services::admin_roles::{grant_super_admin, revoke_super_admin};
use gatehouse_core::services::api_tokens::{ApiTokenError, create_api_token};
use gatehouse_core::services::system_log::Actor;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};

use crate::helpers::spawn_app;

backend_tests!(tokens_carry_their_owners_administrator_rights);

async fn tokens_carry_their_owners_administrator_rights(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    // alice is an end user: no token for her.
    match create_api_token(&app.provider, &Actor::system(), "t", &app.alice).await {
        Err(ApiTokenError::Invalid { field: "user", .. }) => {}
        other => anyhow::bail!("a token for a non-administrator: {other:?}"),
    }
    // Another administrator, since the last one cannot lose the role.
    app.create_admin("admin@example.com").await?;
    let second = app.create_admin("second@example.com").await?;
    let token = create_api_token(&app.provider, &Actor::system(), "t", &second)
        .await?
        .value;
    let me = app
        .api_ssws(Method::GET, "/api/v1/users/me", &token, None)
        .await?;
    ensure!(me.status == StatusCode::OK, "{me:?}");
    ensure!(
        me.json()?["profile"]["login"] == second.login.as_str(),
        "{me:?}"
    );

    // The owner loses the role: the token is refused as Okta refuses a dead one.
    revoke_super_admin(&app.provider, &second).await?;
    let refused = app
        .api_ssws(Method::GET, "/api/v1/users/me", &token, None)
        .await?;
    ensure!(refused.status == StatusCode::UNAUTHORIZED, "{refused:?}");
    ensure!(refused.json()?["errorCode"] == "E0000011", "{refused:?}");
    // And works again once the role is back.
    grant_super_admin(&app.provider, &second).await?;
    let again = app
        .api_ssws(Method::GET, "/api/v1/users/me", &token, None)
        .await?;
    ensure!(again.status == StatusCode::OK, "{again:?}");
    Ok(())
}
