//! A NUL character anywhere a client can put one is a clear 400 in the addressed endpoint's own
//! error shape, never a database error (PostgreSQL cannot compare such a string).

use anyhow::{Result, ensure};
use gatehouse_core::services::api_tokens::create_api_token;
use gatehouse_core::services::system_log::Actor;
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;

use crate::helpers::{Auth, Reply, Server, http_client, spawn_app};

backend_tests!(nul_characters_are_refused_in_every_shape);

async fn nul_characters_are_refused_in_every_shape(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let admin = app.create_admin("admin@example.com").await?;
    let token = create_api_token(&app.provider, &Actor::system(), "hygiene", &admin).await?;
    let ssws = format!("SSWS {}", token.value);
    let client = http_client()?;

    for server in Server::ALL {
        // Authorize: an error page, never a redirect.
        let url = app.authz(server).set("client_id", "\0").url();
        app.get(&url).await?.assert_error_page("invalid_request");
        // Token: RFC 6749 JSON.
        let reply = app
            .token(
                server,
                &[("grant_type", "authorization_code"), ("code", "a\0b")],
                Auth::Basic(app.client_id(), app.client_secret()),
            )
            .await?;
        ensure!(reply.status == StatusCode::BAD_REQUEST, "{reply:?}");
        ensure!(
            reply.oauth_error().as_deref() == Some("invalid_request"),
            "{reply:?}"
        );
    }
    let discovery = app
        .get(&format!(
            "{}/.well-known/openid-configuration?client_id=%00",
            app.base
        ))
        .await?;
    ensure!(discovery.status == StatusCode::BAD_REQUEST, "{discovery:?}");

    // The management API: Okta's E0000001, naming where the NUL was.
    for (path, part) in [
        ("/api/v1/users/%00", "path"),
        ("/api/v1/groups?q=%00", "query"),
    ] {
        let reply = Reply::read(
            client
                .get(format!("{}{path}", app.base))
                .header("authorization", &ssws)
                .send()
                .await?,
        )
        .await?;
        ensure!(reply.status == StatusCode::BAD_REQUEST, "{reply:?}");
        let body = reply.json()?;
        ensure!(body["errorCode"] == "E0000001", "{body}");
        ensure!(
            body["errorCauses"][0]["errorSummary"]
                .as_str()
                .is_some_and(|s| s.starts_with(part)),
            "{body}"
        );
    }
    let reply = Reply::read(
        client
            .post(format!("{}/api/v1/groups", app.base))
            .header("authorization", &ssws)
            .json(&serde_json::json!({"profile": {"name": "ok", "description": "a\u{0}b"}}))
            .send()
            .await?,
    )
    .await?;
    ensure!(reply.status == StatusCode::BAD_REQUEST, "{reply:?}");
    ensure!(
        reply.json()?["errorSummary"] == "Api validation failed: profile.description",
        "{reply:?}"
    );
    // Nothing was created.
    let groups = Reply::read(
        client
            .get(format!("{}/api/v1/groups?q=ok", app.base))
            .header("authorization", &ssws)
            .send()
            .await?,
    )
    .await?;
    ensure!(groups.json()? == serde_json::json!([]), "{groups:?}");
    Ok(())
}
