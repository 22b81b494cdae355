//! Saving an app keeps what the saving side cannot see: the console's General tab keeps grant
//! types it has no box for, and a full `PUT /api/v1/apps/{id}` keeps the settings Okta's app
//! body has no field for. App assignment changes and client deletion are in the System Log.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::domain::ApplicationType;
use gatehouse_core::services::apps::{self, OidcAppSpec};
use gatehouse_core::services::system_log::Actor;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::console::{admin_browser, page_with_csrf};
use crate::helpers::{REDIRECT_URI, TestApp, spawn_app};

backend_tests!(
    general_tab_keeps_grant_types_it_does_not_show,
    api_replace_keeps_settings_its_body_cannot_carry,
    assignments_and_client_deletion_are_logged,
);

async fn general_tab_keeps_grant_types_it_does_not_show(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let created = app
        .api_ssws(
            Method::POST,
            "/api/v1/apps",
            &token,
            Some(&json!({
                "name": "oidc_client",
                "label": "Web with a service side",
                "signOnMode": "OPENID_CONNECT",
                "credentials": { "oauthClient": { "token_endpoint_auth_method": "client_secret_basic" } },
                "settings": { "oauthClient": {
                    "application_type": "web",
                    "redirect_uris": [REDIRECT_URI],
                    "grant_types": ["authorization_code", "client_credentials"],
                    "response_types": ["code"],
                } },
            })),
        )
        .await?;
    ensure!(created.status == StatusCode::OK, "{created:?}");
    let id = created.json()?["id"].as_str().context("id")?.to_owned();

    let admin = admin_browser(&app).await?;
    let path = format!("/admin/app/oidc_client/instance/{id}/");
    let (_, csrf) = page_with_csrf(&app, &admin, &path).await?;
    let saved = admin
        .post_form(
            &format!("{}{path}general", app.base),
            &[
                ("csrf", &csrf),
                ("label", "Renamed in the console"),
                ("grant_authorization_code", "1"),
                ("grant_refresh_token", "1"),
                ("rotation", "ROTATE"),
                ("leeway", "30"),
                ("redirect_uris", REDIRECT_URI),
                ("login_mode", "DISABLED"),
            ],
        )
        .await?;
    ensure!(saved.status == StatusCode::SEE_OTHER, "{saved:?}");

    let stored = app.provider.store.find_app(&id).await?.context("app")?;
    ensure!(stored.label == "Renamed in the console");
    ensure!(
        stored.settings.grant_types
            == ["authorization_code", "refresh_token", "client_credentials"],
        "{:?}",
        stored.settings.grant_types
    );
    // Unticking a box the form shows still removes that grant type.
    let (_, csrf) = page_with_csrf(&app, &admin, &path).await?;
    let saved = admin
        .post_form(
            &format!("{}{path}general", app.base),
            &[
                ("csrf", &csrf),
                ("label", "Renamed in the console"),
                ("grant_authorization_code", "1"),
                ("redirect_uris", REDIRECT_URI),
                ("login_mode", "DISABLED"),
            ],
        )
        .await?;
    ensure!(saved.status == StatusCode::SEE_OTHER, "{saved:?}");
    let stored = app.provider.store.find_app(&id).await?.context("app")?;
    ensure!(
        stored.settings.grant_types == ["authorization_code", "client_credentials"],
        "{:?}",
        stored.settings.grant_types
    );
    Ok(())
}

async fn api_replace_keeps_settings_its_body_cannot_carry(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let mut spec = OidcAppSpec::new("Request objects", ApplicationType::Web);
    spec.redirect_uris = vec![REDIRECT_URI.into()];
    spec.request_uris = vec!["https://rp.example/request.jwt".into()];
    spec.request_object_signing_alg = Some("RS256".into());
    spec.sector_identifier_uri = Some("https://rp.example/sector.json".into());
    let created = apps::create(&app.provider, &Actor::system(), spec).await?;
    let id = created.app.id.clone();

    // What SDK users do: fetch the app, change it, PUT it back whole.
    let mut body = app
        .api_ssws(Method::GET, &format!("/api/v1/apps/{id}"), &token, None)
        .await?
        .json()?;
    body["label"] = json!("Relabelled");
    body["settings"]["oauthClient"]["redirect_uris"] =
        json!([REDIRECT_URI, "https://app.example.com/other"]);
    let replaced = app
        .api_ssws(
            Method::PUT,
            &format!("/api/v1/apps/{id}"),
            &token,
            Some(&body),
        )
        .await?;
    ensure!(replaced.status == StatusCode::OK, "{replaced:?}");

    let stored = app.provider.store.find_app(&id).await?.context("app")?;
    let s = &stored.settings;
    ensure!(stored.label == "Relabelled" && s.redirect_uris.len() == 2);
    ensure!(
        s.request_uris == ["https://rp.example/request.jwt"],
        "{s:?}"
    );
    ensure!(
        s.request_object_signing_alg.as_deref() == Some("RS256"),
        "{s:?}"
    );
    ensure!(
        s.sector_identifier_uri.as_deref() == Some("https://rp.example/sector.json"),
        "{s:?}"
    );
    Ok(())
}

/// The System Log's events of this type, oldest first.
async fn logged(app: &TestApp, token: &str, event_type: &str) -> Result<Vec<Value>> {
    let reply = app
        .api_ssws(
            Method::GET,
            &format!("/api/v1/logs?filter=eventType%20eq%20%22{event_type}%22&limit=100"),
            token,
            None,
        )
        .await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    Ok(reply.json()?.as_array().cloned().unwrap_or_default())
}

/// The ids of an event's targets.
fn target_ids(event: &Value) -> Vec<String> {
    event["target"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|x| x["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn one_about(events: &[Value], ids: &[&str], actor: &str) -> Result<()> {
    let hits: Vec<_> = events
        .iter()
        .filter(|e| {
            let targets = target_ids(e);
            ids.iter().all(|id| targets.iter().any(|t| t == id))
        })
        .collect();
    ensure!(hits.len() == 1, "{ids:?}: {events:?}");
    ensure!(hits[0]["actor"]["alternateId"] == actor, "{:?}", hits[0]);
    ensure!(hits[0]["outcome"]["result"] == "SUCCESS", "{:?}", hits[0]);
    Ok(())
}

async fn assignments_and_client_deletion_are_logged(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let api_admin = "it-admin@example.com";
    let web = app.web.app.id.clone();
    let bob = app.create_user("bob@example.com").await?;
    let group = app.create_group_with("Builders", &[]).await?;

    // Through /api/v1: a user and a group, assigned and unassigned.
    let r = app
        .api_ssws(
            Method::POST,
            &format!("/api/v1/apps/{web}/users"),
            &token,
            Some(&json!({ "id": bob.id, "scope": "USER" })),
        )
        .await?;
    ensure!(r.status == StatusCode::OK, "{r:?}");
    // Assigning again changes nothing, and logs nothing.
    app.api_ssws(
        Method::POST,
        &format!("/api/v1/apps/{web}/users"),
        &token,
        Some(&json!({ "id": bob.id })),
    )
    .await?;
    let r = app
        .api_ssws(
            Method::DELETE,
            &format!("/api/v1/apps/{web}/users/{}", bob.id),
            &token,
            None,
        )
        .await?;
    ensure!(r.status == StatusCode::NO_CONTENT, "{r:?}");
    let r = app
        .api_ssws(
            Method::PUT,
            &format!("/api/v1/apps/{web}/groups/{}", group.id),
            &token,
            Some(&json!({})),
        )
        .await?;
    ensure!(r.status == StatusCode::OK, "{r:?}");
    let r = app
        .api_ssws(
            Method::DELETE,
            &format!("/api/v1/apps/{web}/groups/{}", group.id),
            &token,
            None,
        )
        .await?;
    ensure!(r.status == StatusCode::NO_CONTENT, "{r:?}");

    let added = logged(&app, &token, "application.user_membership.add").await?;
    one_about(&added, &[&web, &bob.id], api_admin)?;
    ensure!(added[0]["displayMessage"] == "Add user to application membership");
    let removed = logged(&app, &token, "application.user_membership.remove").await?;
    one_about(&removed, &[&web, &bob.id], api_admin)?;
    let added = logged(&app, &token, "group.application_assignment.add").await?;
    one_about(&added, &[&web, &group.id], api_admin)?;
    let removed = logged(&app, &token, "group.application_assignment.remove").await?;
    one_about(&removed, &[&web, &group.id], api_admin)?;

    // Through the console, by the signed-in administrator.
    let admin = admin_browser(&app).await?;
    let path = format!("/admin/app/oidc_client/instance/{web}/");
    let base = format!("{}{path}", app.base);
    let (_, csrf) = page_with_csrf(&app, &admin, &path).await?;
    let r = admin
        .post_form(
            &format!("{base}users"),
            &[("csrf", &csrf), ("user_id", &bob.id)],
        )
        .await?;
    ensure!(r.status == StatusCode::SEE_OTHER, "{r:?}");
    let r = admin
        .post_form(
            &format!("{base}users/{}/remove", bob.id),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await?;
    ensure!(r.status == StatusCode::SEE_OTHER, "{r:?}");
    let r = admin
        .post_form(
            &format!("{base}groups"),
            &[("csrf", &csrf), ("group_id", &group.id)],
        )
        .await?;
    ensure!(r.status == StatusCode::SEE_OTHER, "{r:?}");
    let r = admin
        .post_form(
            &format!("{base}groups/{}/remove", group.id),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await?;
    ensure!(r.status == StatusCode::SEE_OTHER, "{r:?}");
    let console_admin = crate::console::ADMIN;
    for event_type in [
        "application.user_membership.add",
        "application.user_membership.remove",
    ] {
        let events = logged(&app, &token, event_type).await?;
        ensure!(events.len() == 2, "{event_type}: {events:?}");
        ensure!(
            events[1]["actor"]["alternateId"] == console_admin,
            "{events:?}"
        );
    }
    for event_type in [
        "group.application_assignment.add",
        "group.application_assignment.remove",
    ] {
        let events = logged(&app, &token, event_type).await?;
        ensure!(events.len() == 2, "{event_type}: {events:?}");
        ensure!(
            events[1]["actor"]["alternateId"] == console_admin,
            "{events:?}"
        );
        ensure!(target_ids(&events[1]).contains(&group.id));
    }

    // DELETE /oauth2/v1/clients/{clientId}: Okta's application.lifecycle.delete.
    let client = app
        .api(
            Method::POST,
            "/oauth2/v1/clients",
            Some(&format!("SSWS {token}")),
            Some(&json!({
                "client_name": "short-lived",
                "redirect_uris": [REDIRECT_URI],
            })),
        )
        .await?;
    ensure!(client.status == StatusCode::CREATED, "{client:?}");
    let client_id = client.json()?["client_id"]
        .as_str()
        .context("client_id")?
        .to_owned();
    let stored = app
        .provider
        .store
        .find_app_by_client_id(&client_id)
        .await?
        .context("app")?;
    let r = app
        .api(
            Method::DELETE,
            &format!("/oauth2/v1/clients/{client_id}"),
            Some(&format!("SSWS {token}")),
            None,
        )
        .await?;
    ensure!(r.status == StatusCode::NO_CONTENT, "{r:?}");
    let deleted = logged(&app, &token, "application.lifecycle.delete").await?;
    one_about(&deleted, &[&stored.id], api_admin)?;
    Ok(())
}
