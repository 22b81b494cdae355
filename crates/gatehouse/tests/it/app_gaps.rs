//! Saving an app keeps what the saving side cannot see: the console's General tab keeps grant
//! types it has no box for, and a full `PUT /api/v1/apps/{id}` keeps the settings Okta's app
//! body has no field for.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::domain::ApplicationType;
use gatehouse_core::services::apps::{self, OidcAppSpec};
use gatehouse_core::services::system_log::Actor;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::console::{admin_browser, page_with_csrf};
use crate::helpers::{REDIRECT_URI, spawn_app};

backend_tests!(
    general_tab_keeps_grant_types_it_does_not_show,
    api_replace_keeps_settings_its_body_cannot_carry,
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
