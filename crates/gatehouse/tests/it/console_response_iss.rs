//! The console's RFC 9207 control (issue 23): the checkbox on an authorization server's
//! Settings turns `iss` on error responses (and discovery's claim) on and off; a forged form
//! changes nothing.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::console::{admin_browser, page_with_csrf};
use crate::helpers::{Authz, Browser, PASSWORD, Server, TestApp, spawn_app};

backend_tests!(rfc9207_checkbox_on_the_authorization_server_settings);

const PAGE: &str = "/admin/oauth2/as/default";

async fn iss_supported(app: &TestApp) -> Result<Value> {
    let doc: Value = app
        .get(&format!(
            "{}/.well-known/openid-configuration",
            app.issuer(Server::Default)
        ))
        .await?
        .json()?;
    Ok(doc["authorization_response_iss_parameter_supported"].clone())
}

/// Whether the Settings page shows the box ticked (fails if the box is missing).
fn ticked(body: &str) -> Result<bool> {
    let start = body
        .find("id=\"as_response_iss\"")
        .context("no RFC 9207 checkbox on the page")?;
    let tag_end = body[start..].find('>').context("unclosed input")? + start;
    Ok(body[start..tag_end].contains(" checked"))
}

async fn rfc9207_checkbox_on_the_authorization_server_settings(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let admin = admin_browser(&app).await?;
    let token = app.api_token().await?;
    // Bob may not use this app: his sign-in ends in an access_denied error response.
    let bob = app.create_user("bob@example.com").await?;
    let restricted = app.create_web_app("Alice only").await?;
    let team = app.create_group_with("Alice's team", &[&app.alice]).await?;
    gatehouse_core::services::apps::assign_group_to_app(&app.provider, &restricted.app, &team)
        .await?;
    let refused = Authz::new(&app.base, Server::Default, &restricted.app.client_id).url();
    let issuer = app.issuer(Server::Default);

    let (page, csrf) = page_with_csrf(&app, &admin, PAGE).await?;
    ensure!(!ticked(&page.body)?, "ticked by default");
    ensure!(
        page.body.contains("mod_auth_openidc"),
        "no explanation next to the box"
    );
    let server: Value = app
        .api_ssws(
            Method::GET,
            "/api/v1/authorizationServers/default",
            &token,
            None,
        )
        .await?
        .json()?;
    let name = server["name"].as_str().context("name")?.to_owned();
    let description = server["description"].as_str().unwrap_or("").to_owned();
    let settings = |csrf: &str, on: bool| {
        let mut form = vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("as_name".to_owned(), name.clone()),
            ("as_audience".to_owned(), "api://default".to_owned()),
            ("as_description".to_owned(), description.clone()),
            ("as_issuer_mode".to_owned(), "DYNAMIC".to_owned()),
        ];
        if on {
            form.push(("as_response_iss".to_owned(), "1".to_owned()));
        }
        form
    };
    let post = |form: Vec<(String, String)>| {
        let admin = &admin;
        let url = format!("{}{PAGE}", app.base);
        async move {
            let pairs: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            admin.post_form(&url, &pairs).await
        }
    };

    // A forged form (wrong CSRF token) is refused and changes nothing.
    let forged = post(settings("x", true)).await?;
    ensure!(forged.status == StatusCode::FORBIDDEN, "{forged:?}");
    ensure!(iss_supported(&app).await? == json!(false));

    // Ticked: discovery says so, and the error response names its issuer.
    let saved = post(settings(&csrf, true)).await?;
    ensure!(
        saved.status == StatusCode::SEE_OTHER
            && saved.header("location") == Some(&format!("{PAGE}?notice=saved")),
        "{saved:?}"
    );
    ensure!(iss_supported(&app).await? == json!(true));
    let api: Value = app
        .api_ssws(
            Method::GET,
            "/api/v1/authorizationServers/default",
            &token,
            None,
        )
        .await?
        .json()?;
    ensure!(api["authorizationResponseIss"] == json!(true), "{api}");
    Browser::new()?
        .sign_in(&refused, &bob.login, PASSWORD)
        .await?
        .expect_error_with_iss("access_denied", Some(&issuer))?;
    let (page, csrf) = page_with_csrf(&app, &admin, PAGE).await?;
    ensure!(ticked(&page.body)?, "not shown ticked after saving");

    // Unticked again: Okta's way, no iss on the error.
    let saved = post(settings(&csrf, false)).await?;
    ensure!(saved.status == StatusCode::SEE_OTHER, "{saved:?}");
    ensure!(iss_supported(&app).await? == json!(false));
    Browser::new()?
        .sign_in(&refused, &bob.login, PASSWORD)
        .await?
        .expect_error("access_denied")?;
    let (page, _) = page_with_csrf(&app, &admin, PAGE).await?;
    ensure!(!ticked(&page.body)?, "still ticked");
    Ok(())
}
