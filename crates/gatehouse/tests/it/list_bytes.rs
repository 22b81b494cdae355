//! The exact bytes of list pages. `GET /api/v1/logs`: each stored body as `serde_json::Value`
//! writes it (keys sorted, the last of a repeated key, strings and numbers re-written), a body
//! that is not JSON or is `null` left out. `GET /api/v1/users`: Okta's `User`, keys in Okta's
//! order, written out here by hand.

use anyhow::{Result, ensure};
use gatehouse_core::domain::{LogEventRecord, User};
use gatehouse_core::services::system_log::{self, Entity, Event, LogRequest, okta_date_ms};
use gatehouse_core::services::users::search_users;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

backend_tests!(
    logs_page_bytes_are_the_stored_bodies_as_values,
    users_page_bytes_are_oktas_user,
);

/// Bodies Gatehouse did not write itself: out-of-order and repeated keys, whitespace, escapes
/// that `Value` re-writes, numbers of every kind, nesting, and two that are left out.
const ODD_BODIES: &[&str] = &[
    r#" { "z" : 1, "a" : [ 1.50, -0, 1e2, 18446744073709551615, -9223372036854775808 ], "m" : { "b" : null, "a" : true } } "#,
    r#"{"k":"\u00e9\/\t\"\\ \ud83d\ude00 é","k":"last","\u0061":"escaped key","é":"ü","":{}}"#,
    r#"{"deep":[[[{"y":[],"x":{"d":"\u001f","c":[false,{"b":2,"a":1}]}}]]],"n":-12.25e-3}"#,
    r#"[1,"array body",{"b":1,"a":0}]"#,
    r#""a string body""#,
    r#"12"#,
    "null",
    "{not json",
    r#"{"trailing":1} x"#,
];

async fn logs_page_bytes_are_the_stored_bodies_as_values(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let since = app.provider.now() * 1000 - 1;
    for i in 0..3 {
        let event = Event::new(
            "test.event.bytes",
            "Bytes \"quoted\" é",
            Entity::user(&app.alice),
        )
        .target(Entity::new(format!("t{i}"), "AppInstance"))
        .debug("n", json!(i))
        .debug("float", json!(0.1 + f64::from(i)))
        .debug("nested", json!({"z": [1, {"b": "\u{7f}\u{1}"}], "a": null}));
        system_log::record(&app.provider, event).await;
    }
    // After the recorded events (their `published` carries the wall clock's milliseconds).
    let published_ms = app.provider.now() * 1000 + 1000;
    let odd: Vec<LogEventRecord> = ODD_BODIES
        .iter()
        .enumerate()
        .map(|(i, body)| LogEventRecord {
            uuid: format!("odd-{i}"),
            published_ms,
            event_type: "test.event.odd".into(),
            severity: "INFO".into(),
            outcome_result: "SUCCESS".into(),
            actor_id: None,
            actor_alternate_id: None,
            target_ids: vec![],
            search_text: String::new(),
            body: (*body).to_owned(),
        })
        .collect();
    app.provider.store.append_log_events(&odd).await?;

    for sort in ["ASCENDING", "DESCENDING"] {
        let request = LogRequest {
            since: Some(okta_date_ms(since)),
            until: Some(okta_date_ms(published_ms + 1)),
            sort_order: Some(sort.into()),
            limit: Some("1000".into()),
            ..LogRequest::default()
        };
        let page = system_log::list(&app.provider, &request).await?;
        ensure!(
            page.events.len() >= 3 + ODD_BODIES.len(),
            "{}",
            page.events.len()
        );
        let reference: Vec<Value> = page
            .events
            .iter()
            .map(|e| serde_json::from_str(&e.event.body).unwrap_or(Value::Null))
            .filter(|v| !v.is_null())
            .collect();
        let expected = serde_json::to_string(&Value::Array(reference))?;
        let enc =
            |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
        let path = format!(
            "/api/v1/logs?since={}&until={}&sortOrder={sort}&limit=1000",
            enc(request.since.as_deref().unwrap_or_default()),
            enc(request.until.as_deref().unwrap_or_default()),
        );
        page_bytes_are(&app, &token, &path, &expected)
            .await
            .map_err(|e| e.context(sort))?;
    }
    Ok(())
}

/// One user as Okta's `User` JSON, field by field.
fn user_bytes(origin: &str, u: &User) -> String {
    let s = |v: &str| serde_json::to_string(v).unwrap_or_default();
    let date = |t: i64| s(&okta_date_ms(t * 1000));
    let opt = |t: Option<i64>| t.map_or_else(|| "null".to_owned(), date);
    let display = u
        .display_name
        .as_deref()
        .map(|d| format!(",\"displayName\":{}", s(d)))
        .unwrap_or_default();
    let password = if u.password_hash.is_some() {
        "\"password\":{},"
    } else {
        ""
    };
    format!(
        "{{\"id\":{},\"status\":{},\"created\":{},\"activated\":{},\"statusChanged\":{},\
         \"lastLogin\":{},\"lastUpdated\":{},\"passwordChanged\":{},\
         \"type\":{{\"id\":\"otydefault0000000000\"}},\
         \"profile\":{{\"firstName\":{},\"lastName\":{},\"login\":{},\"email\":{}{display}}},\
         \"credentials\":{{{password}\"provider\":{{\"type\":\"OKTA\",\"name\":\"OKTA\"}}}},\
         \"_links\":{{\"self\":{{\"href\":{}}}}}}}",
        s(&u.id),
        s(u.status.as_str()),
        date(u.created),
        opt(u.activated),
        opt(u.status_changed),
        opt(u.last_login),
        date(u.last_updated),
        opt(u.password_changed),
        s(&u.first_name),
        s(&u.last_name),
        s(&u.login),
        s(&u.email),
        s(&format!("{origin}/api/v1/users/{}", u.id)),
    )
}

async fn users_page_bytes_are_oktas_user(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let created = app
        .api_ssws(
            Method::POST,
            "/api/v1/users?activate=false",
            &token,
            Some(&json!({"profile": {
                "firstName": "Zoë \"Q\"",
                "lastName": "O'Brien/\\ 😀",
                "email": "zoe@example.com",
                "login": "zoe@example.com",
                "displayName": "Zoë </script>",
            }})),
        )
        .await?;
    ensure!(created.status == StatusCode::OK, "{created:?}");
    let (users, _) = search_users(&app.provider, None, None, 200).await?;
    ensure!(users.len() >= 2, "{}", users.len());
    let expected = format!(
        "[{}]",
        users
            .iter()
            .map(|u| user_bytes(&app.base, u))
            .collect::<Vec<_>>()
            .join(",")
    );
    page_bytes_are(&app, &token, "/api/v1/users?limit=200", &expected).await
}

/// `GET path` answers 200, `application/json`, and exactly `expected`.
async fn page_bytes_are(app: &TestApp, token: &str, path: &str, expected: &str) -> Result<()> {
    let reply = app.api_ssws(Method::GET, path, token, None).await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    ensure!(
        reply.header("content-type") == Some("application/json"),
        "{reply:?}"
    );
    ensure!(
        reply.body == expected,
        "\n got      {}\n expected {expected}",
        reply.body
    );
    Ok(())
}
