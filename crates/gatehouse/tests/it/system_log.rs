//! The System Log: Okta's event types and `LogEvent` shape recorded by the sign-in, SSO,
//! token and admin flows, and `GET /api/v1/logs` with `since`, `until`, `filter`, `q`,
//! `sortOrder`, `limit` and `Link` paging (bounded and polling), in Okta's error shape.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::services::api_tokens::create_api_token;
use gatehouse_core::services::system_log::{self, Entity, Event, okta_date_ms};
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Browser, PASSWORD, Reply, Server, TestApp, spawn_app};

backend_tests!(
    sign_in_and_token_flows_are_logged_without_secrets,
    admin_changes_are_logged_with_the_caller,
    lockout_and_unlock_are_logged,
    logs_query_bounds_filters_and_pages,
    logs_errors_take_oktas_shape,
);

async fn logs(app: &TestApp, token: &str, query: &str) -> Result<Reply> {
    app.api_ssws(Method::GET, &format!("/api/v1/logs{query}"), token, None)
        .await
}

async fn events(app: &TestApp, token: &str, query: &str) -> Result<Vec<Value>> {
    let reply = logs(app, token, query).await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    Ok(reply.json()?.as_array().cloned().unwrap_or_default())
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["eventType"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// The `rel="next"` URL of a `Link` header, as a path and query.
fn next_link(reply: &Reply) -> Option<String> {
    let link = reply.header("link")?;
    link.split(',').find_map(|part| {
        let part = part.trim();
        if !part.ends_with("rel=\"next\"") {
            return None;
        }
        let url = part.strip_prefix('<')?.split('>').next()?;
        let at = url.find("/api/v1/logs")?;
        Some(url[at + "/api/v1/logs".len()..].to_owned())
    })
}

async fn sign_in_and_token_flows_are_logged_without_secrets(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let browser = Browser::new()?;
    let form = browser
        .open_login(&app.authz(Server::Default).url())
        .await?;
    browser.submit(&form, "alice@example.com", "wrong").await?;
    browser.submit(&form, "nobody@example.com", "wrong").await?;
    let tokens = app
        .sign_in_and_exchange(Server::Default, "openid offline_access")
        .await?;

    let filter = enc(r#"eventType eq "user.session.start""#);
    let starts = events(&app, &token, &format!("?filter={filter}")).await?;
    ensure!(starts.len() == 3, "{starts:#?}");
    let outcome = |e: &Value| {
        (
            e["outcome"]["result"].as_str().unwrap_or("").to_owned(),
            e["outcome"]["reason"].as_str().unwrap_or("").to_owned(),
        )
    };
    ensure!(outcome(&starts[0]) == ("FAILURE".into(), "INVALID_CREDENTIALS".into()));
    ensure!(starts[0]["actor"]["id"] == app.alice.id.as_str());
    ensure!(starts[0]["severity"] == "WARN");
    ensure!(outcome(&starts[1]) == ("FAILURE".into(), "VERIFICATION_ERROR".into()));
    ensure!(starts[1]["actor"]["alternateId"] == "nobody@example.com");
    ensure!(outcome(&starts[2]).0 == "SUCCESS", "{:?}", starts[2]);
    ensure!(starts[2]["legacyEventType"] == "core.user_auth.login_success");
    for e in &starts {
        ensure!(e["client"]["ipAddress"] == "127.0.0.1", "{e}");
        ensure!(e["version"] == "0" && e["uuid"].as_str().is_some_and(|u| u.len() == 36));
        ensure!(e["published"].as_str().is_some_and(|p| p.ends_with('Z')));
    }

    let all = events(&app, &token, "").await?;
    let seen = types(&all);
    for expected in [
        "system.api_token.create",
        "user.authentication.sso",
        "app.oauth2.as.authorize.code",
        "app.oauth2.as.token.grant.access_token",
        "app.oauth2.as.token.grant.id_token",
        "app.oauth2.as.token.grant.refresh_token",
    ] {
        ensure!(
            seen.iter().any(|t| t == expected),
            "no {expected} in {seen:?}"
        );
    }
    let grant = all
        .iter()
        .find(|e| e["eventType"] == "app.oauth2.as.token.grant.access_token")
        .context("grant event")?;
    ensure!(grant["actor"]["id"] == app.client_id(), "{grant}");

    // A refused token request is logged as a failure with the OAuth error.
    app.token(
        Server::Org,
        &[("grant_type", "authorization_code"), ("code", "x")],
        app.basic(),
    )
    .await?;
    let failed = events(
        &app,
        &token,
        &format!(
            "?filter={}",
            enc(r#"outcome.result eq "FAILURE" and eventType sw "app.oauth2""#)
        ),
    )
    .await?;
    ensure!(failed.len() == 1, "{failed:#?}");
    ensure!(failed[0]["eventType"] == "app.oauth2.token.grant.access_token");
    ensure!(failed[0]["outcome"]["reason"] == "invalid_grant");

    // No password, token, code or secret is ever in an event.
    let text = logs(&app, &token, "?limit=1000").await?.body;
    let refresh = tokens.refresh_token.clone().unwrap_or_default();
    for secret in [
        PASSWORD,
        "wrong",
        tokens.access_token.as_str(),
        tokens.id_token()?,
        refresh.as_str(),
        app.client_secret(),
        token.as_str(),
    ] {
        ensure!(
            !secret.is_empty() && !text.contains(secret),
            "a secret leaked into the log"
        );
    }
    Ok(())
}

async fn admin_changes_are_logged_with_the_caller(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let created = app
        .api_ssws(
            Method::POST,
            "/api/v1/users?activate=true",
            &token,
            Some(
                &json!({"profile": {"login": "carol@example.com", "email": "carol@example.com",
                "firstName": "Carol", "lastName": "C"},
                "credentials": {"password": {"value": "a long enough password 1"}}}),
            ),
        )
        .await?;
    ensure!(created.status == StatusCode::OK, "{created:?}");
    let carol = created.json()?["id"].as_str().unwrap_or("").to_owned();
    for op in ["suspend", "unsuspend"] {
        let r = app
            .api_ssws(
                Method::POST,
                &format!("/api/v1/users/{carol}/lifecycle/{op}"),
                &token,
                None,
            )
            .await?;
        ensure!(r.status == StatusCode::OK, "{r:?}");
    }
    let group = app.create_group_with("Staff", &[]).await?;
    let put = app
        .api_ssws(
            Method::PUT,
            &format!("/api/v1/groups/{}/users/{carol}", group.id),
            &token,
            None,
        )
        .await?;
    ensure!(put.status == StatusCode::NO_CONTENT, "{put:?}");
    let app_id = app.web.app.id.clone();
    let off = app
        .api_ssws(
            Method::POST,
            &format!("/api/v1/apps/{app_id}/lifecycle/deactivate"),
            &token,
            None,
        )
        .await?;
    ensure!(off.status == StatusCode::OK, "{off:?}");
    let del = app
        .api_ssws(
            Method::DELETE,
            &format!("/api/v1/apps/{app_id}"),
            &token,
            None,
        )
        .await?;
    ensure!(del.status == StatusCode::NO_CONTENT, "{del:?}");

    let about_carol = events(
        &app,
        &token,
        &format!("?filter={}", enc(&format!(r#"target.id eq "{carol}""#))),
    )
    .await?;
    ensure!(
        types(&about_carol)
            == [
                "user.lifecycle.create",
                "user.lifecycle.activate",
                "user.lifecycle.suspend",
                "user.lifecycle.unsuspend",
                "group.user_membership.add",
            ],
        "{:?}",
        types(&about_carol)
    );
    let admin = app.api_admin().await?;
    for e in &about_carol {
        ensure!(e["actor"]["id"] == admin.id.as_str(), "{e}");
    }
    let about_app = events(
        &app,
        &token,
        &format!(
            "?filter={}",
            enc(&format!(
                r#"target.id eq "{app_id}" and eventType sw "application.""#
            ))
        ),
    )
    .await?;
    ensure!(
        types(&about_app)
            == [
                "application.lifecycle.create",
                "application.lifecycle.deactivate",
                "application.lifecycle.delete"
            ],
        "{:?}",
        types(&about_app)
    );
    Ok(())
}

async fn lockout_and_unlock_are_logged(backend: Backend) -> Result<()> {
    let app =
        crate::helpers::spawn_app_with(backend, |s| s.security.lockout_max_attempts = 2).await?;
    let admin = app.create_admin("admin@example.com").await?;
    let token = create_api_token(&app.provider, &system_log::Actor::system(), "t", &admin)
        .await?
        .value;
    let browser = Browser::new()?;
    let form = browser.open_login(&app.authz(Server::Org).url()).await?;
    for _ in 0..2 {
        browser.submit(&form, "alice@example.com", "wrong").await?;
    }
    browser.submit(&form, "alice@example.com", PASSWORD).await?;
    let unlock = app
        .api_ssws(
            Method::POST,
            &format!("/api/v1/users/{}/lifecycle/unlock", app.alice.id),
            &token,
            None,
        )
        .await?;
    ensure!(unlock.status == StatusCode::OK, "{unlock:?}");
    let filter = enc(&format!(
        r#"target.id eq "{}" or actor.id eq "{}""#,
        app.alice.id, app.alice.id
    ));
    let trail = events(&app, &token, &format!("?filter={filter}")).await?;
    let summary: Vec<String> = trail
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["eventType"].as_str().unwrap_or(""),
                e["outcome"]["reason"].as_str().unwrap_or("-")
            )
        })
        .collect();
    ensure!(
        summary
            == [
                // The test setup's own changes, by the system.
                "user.lifecycle.create -",
                "user.lifecycle.activate -",
                "user.session.start INVALID_CREDENTIALS",
                "user.session.start INVALID_CREDENTIALS",
                "user.account.lock -",
                "user.session.start LOCKED_OUT",
                "user.account.unlock_by_admin -",
            ],
        "{summary:?}"
    );
    ensure!(trail[0]["actor"]["type"] == "SystemPrincipal");
    ensure!(trail[6]["actor"]["id"] == admin.id.as_str());
    Ok(())
}

async fn seed(app: &TestApp, event_type: &str, who: &str) {
    let event = Event::new(event_type, "Seeded event", Entity::new(who, "User"))
        .target(Entity::new(format!("{who}-target"), "User"));
    system_log::record(&app.provider, event).await;
}

async fn logs_query_bounds_filters_and_pages(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let t0 = app.provider.now() * 1000;
    for i in 0..5 {
        app.clock.advance(10);
        seed(&app, "test.event.seeded", &format!("u{i}")).await;
    }
    let iso = |ms: i64| enc(&okta_date_ms(ms));
    // since/until bound `published`: 10 s apart, [t0+15 s, t0+45 s) holds u1..u3.
    let window = format!("since={}&until={}", iso(t0 + 15_000), iso(t0 + 45_000));
    let bounded = events(&app, &token, &format!("?{window}")).await?;
    let actors: Vec<_> = bounded.iter().map(|e| e["actor"]["id"].clone()).collect();
    ensure!(
        actors == [json!("u1"), json!("u2"), json!("u3")],
        "{actors:?}"
    );
    let desc = events(&app, &token, &format!("?{window}&sortOrder=DESCENDING")).await?;
    let actors: Vec<_> = desc.iter().map(|e| e["actor"]["id"].clone()).collect();
    ensure!(
        actors == [json!("u3"), json!("u2"), json!("u1")],
        "{actors:?}"
    );

    // Bounded paging: follow `next` until it is gone.
    let mut query = format!("?{window}&limit=2");
    let mut pages = Vec::new();
    loop {
        let reply = logs(&app, &token, &query).await?;
        ensure!(reply.status == StatusCode::OK, "{reply:?}");
        pages.push(reply.json()?.as_array().map_or(0, Vec::len));
        match next_link(&reply) {
            Some(next) => query = next,
            None => break,
        }
        ensure!(pages.len() < 5, "paging does not end: {pages:?}");
    }
    ensure!(pages == [2, 1], "{pages:?}");

    // Polling (no until): the next link is always there; later it returns what came since.
    let filter = enc(r#"eventType eq "test.event.seeded""#);
    let first = logs(&app, &token, &format!("?filter={filter}&since={}", iso(t0))).await?;
    ensure!(first.json()?.as_array().map_or(0, Vec::len) == 5);
    let next = next_link(&first).context("a polling request always has a next link")?;
    let empty = logs(&app, &token, &next).await?;
    ensure!(empty.json()? == json!([]), "{empty:?}");
    let next = next_link(&empty).context("still a next link")?;
    seed(&app, "test.event.seeded", "late").await;
    let later = events(&app, &token, &next).await?;
    ensure!(
        later.len() == 1 && later[0]["actor"]["id"] == "late",
        "{later:?}"
    );

    // q: every keyword must appear (any case); filters combine with and/or/not.
    let q = events(&app, &token, "?q=U2-TARGET%20seeded").await?;
    ensure!(q.len() == 1 && q[0]["actor"]["id"] == "u2", "{q:?}");
    let f = enc(r#"(actor.id eq "u0" or actor.id eq "u4") and not (severity ne "INFO")"#);
    let or = events(&app, &token, &format!("?filter={f}")).await?;
    ensure!(or.len() == 2, "{or:?}");

    // Retention: events older than the configured days go in the purge.
    app.clock.advance(91 * 86_400);
    gatehouse::startup::purge_system_log(&app.provider, 90).await;
    let kept = events(&app, &token, &format!("?since={}", iso(t0 - 1000))).await?;
    ensure!(
        !types(&kept).iter().any(|t| t == "test.event.seeded"),
        "{kept:?}"
    );
    Ok(())
}

async fn logs_errors_take_oktas_shape(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    for bad in [
        "?since=yesterday",
        "?until=2024-13-45T00:00:00Z",
        "?since=2024-05-02T00:00:00Z&until=2024-05-01T00:00:00Z",
        "?filter=eventType%20gt%20%22x%22",
        "?filter=published%20eq%20%22x%22",
        "?sortOrder=SIDEWAYS",
        "?limit=abc",
        "?limit=0",
        "?after=not-a-cursor",
    ] {
        let reply = logs(&app, &token, bad).await?;
        ensure!(reply.status == StatusCode::BAD_REQUEST, "{bad}: {reply:?}");
        let body = reply.json()?;
        ensure!(body["errorCode"] == "E0000001", "{bad}: {body}");
        ensure!(
            body["errorCauses"][0]["errorSummary"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{bad}: {body}"
        );
    }
    let anonymous = app.api(Method::GET, "/api/v1/logs", None, None).await?;
    ensure!(
        anonymous.status == StatusCode::UNAUTHORIZED,
        "{anonymous:?}"
    );
    ensure!(anonymous.json()?["errorCode"] == "E0000011");
    Ok(())
}
