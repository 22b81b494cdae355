//! Okta's `PASSWORD` policies in `/api/v1/policies` (the default one, group policies by
//! priority, Okta's JSON) and their enforcement wherever a password is set: user creation and
//! update (E0000001), `credentials/change_password` (E0000014, E0000080, history, minimum
//! age, other sessions ended), and the policy's lockout settings at sign-in.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::domain::{DEFAULT_PASSWORD_POLICY_ID, UserStatus};
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Browser, PASSWORD, Reply, Server, TestApp, spawn_app};
use crate::lockout::status_of;

backend_tests!(
    default_password_policy_in_okta_shape,
    new_passwords_follow_the_policy_of_the_users_groups,
    change_password_checks_old_history_and_age,
    lockout_follows_the_password_policy,
);

pub(crate) async fn ok(
    app: &TestApp,
    t: &str,
    m: Method,
    path: &str,
    body: Value,
) -> Result<Value> {
    let reply = app.api_ssws(m.clone(), path, t, Some(&body)).await?;
    ensure!(reply.status == StatusCode::OK, "{m} {path}: {reply:?}");
    reply.json()
}

/// Sets the default password policy's settings (a PUT with Okta's shape).
pub(crate) async fn set_default_policy(app: &TestApp, t: &str, password: Value) -> Result<Value> {
    let path = format!("/api/v1/policies/{DEFAULT_PASSWORD_POLICY_ID}");
    let body = json!({ "type": "PASSWORD", "name": "Default Policy",
                       "settings": { "password": password } });
    ok(app, t, Method::PUT, &path, body).await
}

fn cause(reply: &Reply) -> Result<String> {
    let body = reply.json()?;
    body["errorCauses"][0]["errorSummary"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no errorCauses: {reply:?}"))
}

async fn create_user(app: &TestApp, t: &str, login: &str, password: &str) -> Result<Reply> {
    let body = json!({
        "profile": { "firstName": "Grace", "lastName": "Hopper", "email": login, "login": login },
        "credentials": { "password": { "value": password } },
    });
    app.api_ssws(Method::POST, "/api/v1/users?activate=true", t, Some(&body))
        .await
}

async fn default_password_policy_in_okta_shape(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let t = app.api_token().await?;
    let list = app
        .api_ssws(Method::GET, "/api/v1/policies?type=PASSWORD", &t, None)
        .await?;
    ensure!(list.status == StatusCode::OK, "{list:?}");
    let list = list.json()?;
    let p = &list[0];
    ensure!(list.as_array().map(Vec::len) == Some(1), "{list}");
    ensure!(
        p["id"] == DEFAULT_PASSWORD_POLICY_ID && p["type"] == "PASSWORD",
        "{p}"
    );
    ensure!(p["system"] == true && p["status"] == "ACTIVE", "{p}");
    let pw = &p["settings"]["password"];
    ensure!(pw["complexity"]["minLength"] == 8, "{p}");
    ensure!(
        pw["complexity"]["dictionary"]["common"]["exclude"] == false,
        "{p}"
    );
    ensure!(
        pw["age"]["historyCount"] == 0 && pw["age"]["maxAgeDays"] == 0,
        "{p}"
    );
    // Seeded from the `[security]` lockout settings.
    ensure!(
        pw["lockout"]["maxAttempts"] == app.provider.lockout.max_attempts,
        "{p}"
    );
    ensure!(
        p["conditions"]["people"]["groups"]["include"] == json!([]),
        "{p}"
    );

    let p = set_default_policy(
        &app,
        &t,
        json!({ "complexity": { "minLength": 12, "minUpperCase": 1, "minNumber": 1,
                                "excludeUsername": true, "excludeAttributes": ["lastName"],
                                "dictionary": { "common": { "exclude": true } } },
                "age": { "historyCount": 3, "maxAgeDays": 90, "minAgeMinutes": 5 },
                "lockout": { "maxAttempts": 4, "autoUnlockMinutes": 30 } }),
    )
    .await?;
    let pw = &p["settings"]["password"];
    ensure!(pw["complexity"]["minLength"] == 12, "{p}");
    ensure!(
        pw["complexity"]["excludeAttributes"] == json!(["lastName"]),
        "{p}"
    );
    ensure!(
        pw["complexity"]["dictionary"]["common"]["exclude"] == true,
        "{p}"
    );
    ensure!(
        pw["age"]["historyCount"] == 3 && pw["age"]["maxAgeDays"] == 90,
        "{p}"
    );
    ensure!(pw["lockout"]["maxAttempts"] == 4, "{p}");
    ensure!(pw["lockout"]["autoUnlockMinutes"] == 30, "{p}");

    // The default policy stays: no delete, no deactivate; bad settings are E0000001.
    let path = format!("/api/v1/policies/{DEFAULT_PASSWORD_POLICY_ID}");
    let del = app.api_ssws(Method::DELETE, &path, &t, None).await?;
    ensure!(del.status == StatusCode::FORBIDDEN, "{del:?}");
    let off = app
        .api_ssws(
            Method::POST,
            &format!("{path}/lifecycle/deactivate"),
            &t,
            None,
        )
        .await?;
    ensure!(off.status == StatusCode::FORBIDDEN, "{off:?}");
    let bad = json!({ "type": "PASSWORD", "name": "Default Policy",
                      "settings": { "password": { "age": { "historyCount": 99 } } } });
    let bad = app.api_ssws(Method::PUT, &path, &t, Some(&bad)).await?;
    ensure!(bad.status == StatusCode::BAD_REQUEST, "{bad:?}");
    ensure!(cause(&bad)?.contains("historyCount"), "{bad:?}");
    // The sign-on policies are where they were.
    let sign_on = app
        .api_ssws(Method::GET, "/api/v1/policies?type=OKTA_SIGN_ON", &t, None)
        .await?
        .json()?;
    ensure!(sign_on.as_array().map(Vec::len) == Some(1), "{sign_on}");
    Ok(())
}

async fn new_passwords_follow_the_policy_of_the_users_groups(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let t = app.api_token().await?;
    set_default_policy(
        &app,
        &t,
        json!({ "complexity": { "minLength": 10, "minUpperCase": 1, "minNumber": 1,
                                "excludeUsername": true, "excludeAttributes": ["lastName"],
                                "dictionary": { "common": { "exclude": true } } } }),
    )
    .await?;
    for (weak, why) in [
        ("Sh0rtPass", "at least 10 characters"),
        ("nouppercase123", "an uppercase letter"),
        ("Grace.Hopper42", "no parts of your username"),
        ("Xx-Hopper-2024", "does not include your last name"),
    ] {
        let r = create_user(&app, &t, "grace.hopper@example.com", weak).await?;
        ensure!(r.status == StatusCode::BAD_REQUEST, "{weak}: {r:?}");
        ensure!(r.json()?["errorCode"] == "E0000001", "{r:?}");
        let c = cause(&r)?;
        ensure!(
            c.starts_with("password: Password requirements were not met"),
            "{c}"
        );
        ensure!(c.contains(&format!("Missing: {why}")), "{weak}: {c}");
    }
    // A common password (on the shipped list) that meets every other rule.
    let r = create_user(&app, &t, "grace.hopper@example.com", "Password123").await?;
    ensure!(r.status == StatusCode::BAD_REQUEST, "{r:?}");
    ensure!(
        cause(&r)?.contains("Missing: not a commonly used password"),
        "{r:?}"
    );
    let ok_user = create_user(&app, &t, "grace.hopper@example.com", "Cobol-Compiler-1959").await?;
    ensure!(ok_user.status == StatusCode::OK, "{ok_user:?}");

    // A policy for a group, before the default: longer passwords for its members.
    let admins = app.create_group_with("Admins", &[&app.alice]).await?;
    let p = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/policies",
        json!({ "type": "PASSWORD", "name": "Admins", "priority": 1,
                "conditions": { "people": { "groups": { "include": [admins.id] } } },
                "settings": { "password": { "complexity": { "minLength": 20 } } } }),
    )
    .await?;
    ensure!(
        p["type"] == "PASSWORD" && p["priority"] == 1 && p["system"] == false,
        "{p}"
    );
    let list = app
        .api_ssws(Method::GET, "/api/v1/policies?type=PASSWORD", &t, None)
        .await?
        .json()?;
    ensure!(
        list[0]["name"] == "Admins" && list[1]["system"] == true,
        "{list}"
    );
    let alice = format!("/api/v1/users/{}", app.alice.id);
    let short = json!({ "credentials": { "password": { "value": "Nineteen-chars-1234" } } });
    let r = app.api_ssws(Method::POST, &alice, &t, Some(&short)).await?;
    ensure!(r.status == StatusCode::BAD_REQUEST, "{r:?}");
    ensure!(cause(&r)?.contains("at least 20 characters"), "{r:?}");
    let long = json!({ "credentials": { "password": { "value": "Twenty-characters-ok" } } });
    let r = app.api_ssws(Method::POST, &alice, &t, Some(&long)).await?;
    ensure!(r.status == StatusCode::OK, "{r:?}");
    // Deactivated, the group's policy no longer applies.
    let pid = p["id"].as_str().context("id")?;
    let off = app
        .api_ssws(
            Method::POST,
            &format!("/api/v1/policies/{pid}/lifecycle/deactivate"),
            &t,
            None,
        )
        .await?;
    ensure!(off.status == StatusCode::NO_CONTENT, "{off:?}");
    let r = app.api_ssws(Method::POST, &alice, &t, Some(&short)).await?;
    ensure!(r.status == StatusCode::OK, "{r:?}");
    let del = app
        .api_ssws(Method::DELETE, &format!("/api/v1/policies/{pid}"), &t, None)
        .await?;
    ensure!(del.status == StatusCode::NO_CONTENT, "{del:?}");
    Ok(())
}

pub(crate) async fn change_password(
    app: &TestApp,
    t: &str,
    user_id: &str,
    old: &str,
    new: &str,
) -> Result<Reply> {
    let body = json!({ "oldPassword": { "value": old }, "newPassword": { "value": new } });
    let path = format!("/api/v1/users/{user_id}/credentials/change_password?strict=true");
    app.api_ssws(Method::POST, &path, t, Some(&body)).await
}

async fn change_password_checks_old_history_and_age(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let t = app.api_token().await?;
    set_default_policy(
        &app,
        &t,
        json!({ "complexity": { "minLength": 10 },
                "age": { "historyCount": 2, "minAgeMinutes": 60 } }),
    )
    .await?;
    // Her password was set when she was created: past the minimum age first.
    app.clock.advance(3_601);
    // A session of alice's, to see it end.
    let browser = Browser::new()?;
    browser
        .sign_in(
            &app.authz(Server::Default).url(),
            &app.alice.login,
            PASSWORD,
        )
        .await?;

    let id = app.alice.id.clone();
    let wrong = change_password(&app, &t, &id, "not her password", "Brand-new-pass-1").await?;
    ensure!(wrong.status == StatusCode::FORBIDDEN, "{wrong:?}");
    ensure!(wrong.json()?["errorCode"] == "E0000014", "{wrong:?}");
    ensure!(cause(&wrong)?.starts_with("oldPassword:"), "{wrong:?}");
    let weak = change_password(&app, &t, &id, PASSWORD, "short").await?;
    ensure!(weak.status == StatusCode::FORBIDDEN, "{weak:?}");
    ensure!(weak.json()?["errorCode"] == "E0000080", "{weak:?}");
    ensure!(cause(&weak)?.contains("at least 10 characters"), "{weak:?}");
    // The current password is in the history.
    let same = change_password(&app, &t, &id, PASSWORD, PASSWORD).await?;
    ensure!(same.status == StatusCode::FORBIDDEN, "{same:?}");
    ensure!(cause(&same)?.contains("used too recently"), "{same:?}");

    let done = change_password(&app, &t, &id, PASSWORD, "Brand-new-pass-1").await?;
    ensure!(done.status == StatusCode::OK, "{done:?}");
    let body = done.json()?;
    ensure!(
        body["provider"]["type"] == "OKTA" && body["password"].is_object(),
        "{body}"
    );
    // Her session ended: the next authorize asks for the password again.
    let again = browser.get(&app.authz(Server::Default).url()).await?;
    ensure!(
        again.status == StatusCode::OK && again.login_form().is_some(),
        "{again:?}"
    );

    // Minimum age: not again within the hour.
    let soon = change_password(&app, &t, &id, "Brand-new-pass-1", "Another-pass-2").await?;
    ensure!(soon.status == StatusCode::FORBIDDEN, "{soon:?}");
    ensure!(cause(&soon)?.contains("changed too recently"), "{soon:?}");
    app.clock.advance(3_601);
    // History of 2: the original password is still remembered.
    let back = change_password(&app, &t, &id, "Brand-new-pass-1", PASSWORD).await?;
    ensure!(back.status == StatusCode::FORBIDDEN, "{back:?}");
    let next = change_password(&app, &t, &id, "Brand-new-pass-1", "Another-pass-2").await?;
    ensure!(next.status == StatusCode::OK, "{next:?}");
    app.clock.advance(3_601);
    // Two changes later, the original one is out of the history.
    let back = change_password(&app, &t, &id, "Another-pass-2", PASSWORD).await?;
    ensure!(back.status == StatusCode::OK, "{back:?}");
    Ok(())
}

async fn lockout_follows_the_password_policy(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let t = app.api_token().await?;
    set_default_policy(&app, &t, json!({ "lockout": { "maxAttempts": 2 } })).await?;
    for _ in 0..2 {
        let body = json!({ "username": app.alice.login, "password": "wrong-password" });
        let r = app
            .api(Method::POST, "/api/v1/authn", None, Some(&body))
            .await?;
        ensure!(r.status == StatusCode::UNAUTHORIZED, "{r:?}");
    }
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::LockedOut);
    // A group's policy with no lockout applies to its members instead.
    let bob = app.create_user("bob@example.com").await?;
    let free = app.create_group_with("No lockout", &[&bob]).await?;
    ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/policies",
        json!({ "type": "PASSWORD", "name": "No lockout",
                "conditions": { "people": { "groups": { "include": [free.id] } } },
                "settings": { "password": { "lockout": { "maxAttempts": 0 } } } }),
    )
    .await?;
    for _ in 0..4 {
        let body = json!({ "username": "bob@example.com", "password": "wrong-password" });
        let r = app
            .api(Method::POST, "/api/v1/authn", None, Some(&body))
            .await?;
        ensure!(r.status == StatusCode::UNAUTHORIZED, "{r:?}");
    }
    ensure!(status_of(&app, &bob.id).await? == UserStatus::Active);
    Ok(())
}
