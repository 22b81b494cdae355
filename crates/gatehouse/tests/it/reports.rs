//! Changes made anywhere (console, `/api/v1`, services as the CLI calls them) are logged once,
//! with their actor; Reports › System Log finds them; `/oauth2/v1/revoke` is logged; and the
//! app's Sign On groups claim reaches org-server ID tokens, filtered.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::services::directory;
use gatehouse_core::services::system_log::Actor;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::console::{ADMIN, admin_browser, assert_console_headers, page_with_csrf};
use crate::helpers::{Browser, Server, TestApp, jwt_parts, spawn_app};

backend_tests!(
    every_caller_logs_its_changes_once,
    system_log_page_searches_newest_first,
    revocation_is_logged,
    org_id_tokens_carry_the_apps_groups_claim,
);

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn events_about(app: &TestApp, token: &str, target: &str) -> Result<Vec<Value>> {
    let filter = enc(&format!(r#"target.id eq "{target}""#));
    let reply = app
        .api_ssws(
            Method::GET,
            &format!("/api/v1/logs?filter={filter}"),
            token,
            None,
        )
        .await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    Ok(reply.json()?.as_array().cloned().unwrap_or_default())
}

fn summary(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (text(&e["eventType"]), text(&e["actor"]["alternateId"]))
        })
        .collect()
}

fn pair(event_type: &str, actor: &str) -> (String, String) {
    (event_type.to_owned(), actor.to_owned())
}

async fn every_caller_logs_its_changes_once(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let browser = admin_browser(&app).await?;

    // The console: add a person, a group, and the person to the group.
    let (_, csrf) = page_with_csrf(&app, &browser, "/admin/people/new").await?;
    let added = browser
        .post_form(
            &format!("{}/admin/people/new", app.base),
            &[
                ("csrf", &csrf),
                ("first_name", "Dana"),
                ("last_name", "Lee"),
                ("login", "dana@example.com"),
                ("password_mode", "admin"),
                ("password", "a long enough password 1"),
                ("activate", "1"),
            ],
        )
        .await?;
    ensure!(added.status == StatusCode::SEE_OTHER, "{added:?}");
    let dana = directory::find_user_by_id_or_login(&app.provider, "dana@example.com").await?;
    let (_, csrf) = page_with_csrf(&app, &browser, "/admin/groups").await?;
    let made = browser
        .post_form(
            &format!("{}/admin/groups", app.base),
            &[
                ("csrf", &csrf),
                ("name", "NetBox Admins"),
                ("description", ""),
            ],
        )
        .await?;
    ensure!(made.status == StatusCode::SEE_OTHER, "{made:?}");
    let group = directory::find_group_by_id_or_name(&app.provider, "NetBox Admins").await?;
    let (_, csrf) = page_with_csrf(&app, &browser, &format!("/admin/group/{}", group.id)).await?;
    let member = browser
        .post_form(
            &format!("{}/admin/group/{}/members", app.base, group.id),
            &[("csrf", &csrf), ("user_id", &dana.id)],
        )
        .await?;
    ensure!(member.status == StatusCode::SEE_OTHER, "{member:?}");

    ensure!(
        summary(&events_about(&app, &token, &dana.id).await?)
            == [
                pair("user.lifecycle.create", ADMIN),
                pair("user.lifecycle.activate", ADMIN),
                pair("group.user_membership.add", ADMIN),
            ],
        "{:?}",
        summary(&events_about(&app, &token, &dana.id).await?)
    );
    ensure!(
        summary(&events_about(&app, &token, &group.id).await?)
            == [
                pair("group.lifecycle.create", ADMIN),
                pair("group.user_membership.add", ADMIN),
            ]
    );
    let console_events = events_about(&app, &token, &dana.id).await?;
    ensure!(
        console_events[0]["client"]["ipAddress"] == "127.0.0.1",
        "{}",
        console_events[0]
    );

    // `/api/v1`: one event per change, by the token's user (not twice now that services log).
    let created = app
        .api_ssws(
            Method::POST,
            "/api/v1/users?activate=false",
            &token,
            Some(
                &json!({"profile": {"login": "erin@example.com", "email": "erin@example.com",
                "firstName": "Erin", "lastName": "E"}}),
            ),
        )
        .await?;
    ensure!(created.status == StatusCode::OK, "{created:?}");
    let erin = created.json()?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let renamed = app
        .api_ssws(
            Method::POST,
            &format!("/api/v1/users/{erin}"),
            &token,
            Some(&json!({"profile": {"firstName": "Erika"}})),
        )
        .await?;
    ensure!(renamed.status == StatusCode::OK, "{renamed:?}");
    let api_admin = app.api_admin().await?;
    let owner = api_admin.login.as_str();
    ensure!(
        summary(&events_about(&app, &token, &erin).await?)
            == [
                pair("user.lifecycle.create", owner),
                pair("user.account.update_profile", owner),
            ],
        "{:?}",
        summary(&events_about(&app, &token, &erin).await?)
    );

    // The services as the CLI calls them: the system is the actor.
    let cli_group =
        gatehouse_core::services::groups::create_group(&app.provider, &Actor::system(), "Ops", "")
            .await?;
    let by_cli = events_about(&app, &token, &cli_group.id).await?;
    ensure!(by_cli.len() == 1, "{by_cli:#?}");
    ensure!(by_cli[0]["eventType"] == "group.lifecycle.create");
    ensure!(
        by_cli[0]["actor"]["type"] == "SystemPrincipal",
        "{}",
        by_cli[0]
    );
    Ok(())
}

async fn system_log_page_searches_newest_first(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let browser = admin_browser(&app).await?;
    for login in ["first.person@example.com", "second.person@example.com"] {
        let (_, csrf) = page_with_csrf(&app, &browser, "/admin/people/new").await?;
        let r = browser
            .post_form(
                &format!("{}/admin/people/new", app.base),
                &[
                    ("csrf", &csrf),
                    ("first_name", "Some"),
                    ("last_name", "Person"),
                    ("login", login),
                    ("password_mode", "user"),
                    ("activate", "1"),
                ],
            )
            .await?;
        ensure!(r.status == StatusCode::SEE_OTHER, "{r:?}");
    }
    let page = async |query: String| {
        browser
            .get(&format!("{}/report/system_log_2?{query}", app.base))
            .await
    };

    let all = page(String::new()).await?;
    ensure!(all.status == StatusCode::OK, "{all:?}");
    assert_console_headers(&all.headers)?;
    let second = all
        .body
        .find("second.person@example.com")
        .context("no event about the second person")?;
    let first = all
        .body
        .find("first.person@example.com")
        .context("no event about the first person")?;
    ensure!(second < first, "newest first");
    ensure!(all.body.contains("user.session.start") && all.body.contains("<details>"));

    // Keywords, a filter and a time range narrow it down.
    let found = page(format!(
        "q=first.person&filter={}&since=2000-01-01T00:00",
        enc(r#"eventType eq "user.lifecycle.create""#)
    ))
    .await?;
    ensure!(found.status == StatusCode::OK, "{found:?}");
    ensure!(
        found.body.matches("class=\"syslog-event\"").count() == 1,
        "{}",
        found.body
    );
    ensure!(found.body.contains("first.person@example.com"));
    ensure!(
        found
            .body
            .contains("Some Person (first.person@example.com)")
    );
    ensure!(found.body.contains("127.0.0.1"));
    let none = page("until=2000-01-01T00:00".into()).await?;
    ensure!(none.body.contains("No events match."), "{}", none.body);

    // A bad filter is an error on the page, not a 500.
    let bad = page(format!("filter={}", enc("published eq \"x\""))).await?;
    ensure!(bad.status == StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    ensure!(bad.body.contains("cannot be filtered on"), "{}", bad.body);
    let bad_time = page("since=yesterday".into()).await?;
    ensure!(
        bad_time.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{bad_time:?}"
    );

    // Only administrators see it.
    let anonymous = Browser::new()?;
    let r = anonymous
        .get(&format!("{}/report/system_log_2", app.base))
        .await?;
    ensure!(r.status == StatusCode::SEE_OTHER, "{r:?}");
    Ok(())
}

async fn revocation_is_logged(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    for server in Server::ALL {
        let tokens = app.sign_in_and_exchange(server, "openid").await?;
        let r = app
            .revoke(server, &tokens.access_token, app.basic())
            .await?;
        ensure!(r.status == StatusCode::OK, "{r:?}");
        ensure!(!app.is_active(server, &tokens.access_token).await?);
    }
    let unknown = app.revoke(Server::Org, "not-a-token", app.basic()).await?;
    ensure!(unknown.status == StatusCode::OK, "{unknown:?}");

    let filter = enc(r#"eventType co "token.revoke""#);
    let reply = app
        .api_ssws(
            Method::GET,
            &format!("/api/v1/logs?filter={filter}"),
            &token,
            None,
        )
        .await?;
    let events = reply.json()?.as_array().cloned().unwrap_or_default();
    let seen: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["eventType"].as_str().unwrap_or_default().to_owned(),
                e["debugContext"]["debugData"]["revokedTokenType"]
                    .as_str()
                    .unwrap_or("none")
                    .to_owned(),
            )
        })
        .collect();
    ensure!(
        seen == [
            pair("app.oauth2.token.revoke", "access_token"),
            pair("app.oauth2.as.token.revoke", "access_token"),
            pair("app.oauth2.token.revoke", "none"),
        ],
        "{seen:?}"
    );
    for e in &events {
        ensure!(e["actor"]["id"] == app.client_id(), "{e}");
        ensure!(e["client"]["ipAddress"] == "127.0.0.1", "{e}");
    }
    Ok(())
}

async fn org_id_tokens_carry_the_apps_groups_claim(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    app.create_group_with("NetBox Admins", &[&app.alice])
        .await?;
    app.create_group_with("NetBox Viewers", &[&app.alice])
        .await?;
    app.create_group_with("Finance", &[&app.alice]).await?;

    // The Sign On tab: claim `groups`, names starting with "netbox" (ignoring case).
    let browser = admin_browser(&app).await?;
    let path = format!("/admin/app/oidc_client/instance/{}/", app.web.app.id);
    let (_, csrf) = page_with_csrf(&app, &browser, &path).await?;
    let sign_on = async |filter: &str, value: &str| {
        browser
            .post_form(
                &format!("{}{path}sign-on", app.base),
                &[
                    ("csrf", csrf.as_str()),
                    ("issuer_mode", "DYNAMIC"),
                    ("groups_claim_name", "groups"),
                    ("groups_claim_filter", filter),
                    ("groups_claim_value", value),
                ],
            )
            .await
    };
    let bad = sign_on("REGEX", "(").await?;
    ensure!(bad.status == StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    ensure!(
        bad.body.contains("Invalid regular expression"),
        "{}",
        bad.body
    );
    let saved = sign_on("STARTS_WITH", "netbox").await?;
    ensure!(saved.status == StatusCode::SEE_OTHER, "{saved:?}");
    let shown = browser.get(&format!("{}{path}", app.base)).await?;
    ensure!(
        shown
            .body
            .contains(r#"<option value="STARTS_WITH" selected>"#)
    );

    let groups_of = |tokens: &crate::helpers::Tokens| -> Result<Value> {
        Ok(jwt_parts(tokens.id_token()?)?.1["groups"].clone())
    };
    let org = app
        .sign_in_and_exchange(Server::Org, "openid groups")
        .await?;
    ensure!(
        groups_of(&org)? == json!(["NetBox Admins", "NetBox Viewers"]),
        "{}",
        groups_of(&org)?
    );
    // Not without the groups scope, and not from a custom server (it has its own claims).
    let no_scope = app.sign_in_and_exchange(Server::Org, "openid").await?;
    ensure!(groups_of(&no_scope)?.is_null());
    let custom = app
        .sign_in_and_exchange(Server::Default, "openid groups")
        .await?;
    ensure!(groups_of(&custom)?.is_null(), "{}", groups_of(&custom)?);

    // A replace through /api/v1 (which has no field for it, as in Okta) keeps it.
    let token = app.api_token().await?;
    let id = &app.web.app.id;
    let current = app
        .api_ssws(Method::GET, &format!("/api/v1/apps/{id}"), &token, None)
        .await?
        .json()?;
    let put = app
        .api_ssws(
            Method::PUT,
            &format!("/api/v1/apps/{id}"),
            &token,
            Some(&current),
        )
        .await?;
    ensure!(put.status == StatusCode::OK, "{put:?}");
    let org = app
        .sign_in_and_exchange(Server::Org, "openid groups")
        .await?;
    ensure!(groups_of(&org)? == json!(["NetBox Admins", "NetBox Viewers"]));
    let regex = sign_on("REGEX", "Fin.*").await?;
    ensure!(regex.status == StatusCode::SEE_OTHER, "{regex:?}");
    let org = app
        .sign_in_and_exchange(Server::Org, "openid groups")
        .await?;
    ensure!(
        groups_of(&org)? == json!(["Finance"]),
        "{}",
        groups_of(&org)?
    );
    Ok(())
}
