//! `gatehouse doctor`: five seeded misconfigurations, each reported in words; a healthy app
//! passes; the command itself fails when there is a problem.

use anyhow::{Result, ensure};
use gatehouse::commands::doctor::{DoctorArgs, Report, diagnose};
use gatehouse_core::domain::{AppStatus, AuthServerObjectKind};
use gatehouse_core::services::apps::set_status;
use gatehouse_core::services::system_log::Actor;
use gatehouse_store::test_support::Backend;

use crate::helpers::{REDIRECT_URI, spawn_app};

backend_tests!(doctor_finds_each_seeded_misconfiguration);

fn finding<'a>(report: &'a Report, check: &str) -> Option<&'a str> {
    report
        .problems()
        .find(|f| f.check == check)
        .map(|f| f.text.as_str())
}

async fn doctor_finds_each_seeded_misconfiguration(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    // Seeds: an inactive app with nobody assigned, a redirect URI with a trailing slash, a
    // loopback public URL for a remote relying party, a server without the `groups` scope.
    let broken = app.create_web_app("Broken NetBox").await?;
    set_status(
        &app.provider,
        &Actor::system(),
        broken.app.clone(),
        AppStatus::Inactive,
    )
    .await?;
    let objects = app
        .provider
        .store
        .list_auth_server_objects("default")
        .await?;
    let groups_scope = objects
        .iter()
        .find(|o| o.kind == AuthServerObjectKind::Scope && o.body.contains("\"groups\""))
        .map(|o| o.id.clone());
    if let Some(id) = groups_scope {
        app.provider
            .store
            .delete_auth_server_object("default", &id)
            .await?;
    }
    let args = DoctorArgs {
        client_id: broken.app.client_id.clone(),
        rp_url: Some("https://netbox.example.com".into()),
        redirect_uri: Some(format!("{REDIRECT_URI}/")),
        public_url: None,
        auth_server: "default".into(),
        scopes: "openid profile email groups".into(),
    };
    let report = diagnose(&app.provider, Some("http://127.0.0.1:8080"), &args).await?;
    let all: Vec<_> = report.problems().collect();
    ensure!(
        finding(&report, "app_inactive").is_some_and(|t| t.contains("INACTIVE")),
        "{all:#?}"
    );
    ensure!(
        finding(&report, "redirect_uri")
            .is_some_and(|t| t.contains("trailing slash") && t.contains(REDIRECT_URI)),
        "{all:#?}"
    );
    ensure!(
        finding(&report, "assignments").is_some_and(|t| t.contains("No users or groups")),
        "{all:#?}"
    );
    ensure!(
        finding(&report, "public_url")
            .is_some_and(|t| t.contains("loopback") && t.contains("netbox.example.com")),
        "{all:#?}"
    );
    ensure!(
        finding(&report, "scopes").is_some_and(|t| t.contains("no scope groups")),
        "{all:#?}"
    );
    ensure!(finding(&report, "claims").is_some(), "{all:#?}");
    ensure!(
        report.config.contains("SOCIAL_AUTH_OKTA_OPENIDCONNECT_KEY")
            && report.config.contains("OIDCProviderMetadataURL http://127.0.0.1:8080/oauth2/default/.well-known/openid-configuration")
            && report.config.contains("--oidc-issuer-url=http://127.0.0.1:8080/oauth2/default")
            && report.config.contains("authority: http://127.0.0.1:8080/oauth2/default"),
        "{}",
        report.config
    );

    // Seed five: a SPA served from an origin that is not trusted for CORS.
    let spa = app.create_spa("Cross-site SPA").await?;
    let spa_args = DoctorArgs {
        client_id: spa.app.client_id.clone(),
        rp_url: Some("https://metadata.other.example".into()),
        redirect_uri: None,
        public_url: None,
        auth_server: "org".into(),
        scopes: "openid".into(),
    };
    let report = diagnose(&app.provider, Some("https://id.example.com"), &spa_args).await?;
    ensure!(
        finding(&report, "cors").is_some_and(|t| t.contains("https://metadata.other.example")),
        "{:#?}",
        report.findings
    );

    // A healthy app has no problems.
    let healthy = DoctorArgs {
        client_id: app.web.app.client_id.clone(),
        rp_url: Some("https://app.example.com".into()),
        redirect_uri: Some(REDIRECT_URI.into()),
        public_url: None,
        auth_server: "default".into(),
        scopes: "openid profile email".into(),
    };
    let report = diagnose(&app.provider, Some("https://id.example.com"), &healthy).await?;
    ensure!(report.problems().count() == 0, "{:#?}", report.findings);

    // The command prints the findings and fails on a problem.
    let data_dir = std::env::temp_dir().join(format!("gh-doctor-{}", broken.app.id));
    let out = tokio::task::block_in_place(|| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["--database-url", &app.database_url])
            .args(["doctor", "--client-id", &broken.app.client_id])
            .env("GATEHOUSE_ENCRYPTION_KEY", &app.encryption_key)
            .output()
    })?;
    let _ = std::fs::remove_dir_all(&data_dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(!out.status.success(), "{stdout}");
    ensure!(stdout.contains("PROBLEM [assignments]"), "{stdout}");
    Ok(())
}
