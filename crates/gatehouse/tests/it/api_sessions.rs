//! `/api/v1/sessions/me` (the browser's own session, by cookie) and
//! `/.well-known/okta-organization`.

use anyhow::{Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;

use crate::helpers::{Browser, PASSWORD, Reply, Server, spawn_app};

backend_tests!(
    session_me_shows_and_ends_the_cookie_session,
    okta_organization_names_the_org
);

async fn session_me_shows_and_ends_the_cookie_session(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let me = format!("{}/api/v1/sessions/me", app.base);

    let browser = Browser::new()?;
    let anonymous = browser.get(&me).await?;
    ensure!(anonymous.status == StatusCode::NOT_FOUND, "{anonymous:?}");
    ensure!(
        anonymous.json()?["errorCode"] == "E0000007",
        "{anonymous:?}"
    );

    let authz = app.authz(Server::Default);
    browser
        .sign_in(&authz.url(), &app.alice.login, PASSWORD)
        .await?;
    let session = browser.get(&me).await?;
    ensure!(session.status == StatusCode::OK, "{session:?}");
    let body = session.json()?;
    ensure!(body["userId"] == app.alice.id.as_str(), "{body}");
    ensure!(body["login"] == app.alice.login.as_str(), "{body}");
    ensure!(body["status"] == "ACTIVE", "{body}");
    ensure!(body["amr"] == serde_json::json!(["pwd"]), "{body}");
    ensure!(
        body["idp"]["type"] == "OKTA"
            && body["idp"]["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("00o")),
        "{body}"
    );
    ensure!(
        body["_links"]["user"]["href"]
            == format!("{}/api/v1/users/{}", app.base, app.alice.id).as_str(),
        "{body}"
    );

    let ended = Reply::read(browser.client.delete(&me).send().await?).await?;
    ensure!(ended.status == StatusCode::NO_CONTENT, "{ended:?}");
    ensure!(browser.get(&me).await?.status == StatusCode::NOT_FOUND);
    // The session is gone for the authorize endpoint too.
    let silent = browser
        .authorize_redirect(&authz.set("prompt", "none").url())
        .await?;
    ensure!(
        silent.param("error").as_deref() == Some("login_required"),
        "{}",
        silent.url
    );
    let again = Reply::read(browser.client.delete(&me).send().await?).await?;
    ensure!(again.status == StatusCode::NOT_FOUND, "{again:?}");
    Ok(())
}

async fn okta_organization_names_the_org(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let reply = app
        .get(&format!("{}/.well-known/okta-organization", app.base))
        .await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    let body = reply.json()?;
    ensure!(body["pipeline"] == "idx", "{body}");
    ensure!(
        body["_links"]["organization"]["href"] == app.base.as_str(),
        "{body}"
    );
    // The same org id the ID tokens carry as `idp`.
    let tokens = app.sign_in_and_exchange(Server::Org, "openid").await?;
    let (_, claims) = crate::helpers::jwt_parts(tokens.id_token()?)?;
    ensure!(body["id"] == claims["idp"], "{body} vs {claims}");
    Ok(())
}
