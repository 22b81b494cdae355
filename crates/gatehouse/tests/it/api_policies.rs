//! `/api/v1/policies` in Okta's shapes (sign-on and access policies, their rules, lifecycle,
//! the app assignment, the immutable default policy, `E0000001` validation errors, the
//! `okta.policies.*` scopes) and the evaluation a sign-in asks for, driven through the API.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::domain::{DEFAULT_SIGN_ON_POLICY_ID, DEFAULT_SIGN_ON_RULE_ID, User};
use gatehouse_core::services::sign_on_policy::{SignOnRequirement, evaluate};
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::client_keys::ClientKey;
use crate::helpers::{Reply, TestApp, spawn_app};
use crate::service_apps::{grant, org_token, register_service_app};

backend_tests!(
    sign_on_policies_and_rules_in_okta_shapes,
    access_policies_and_app_assignment,
    validation_errors_and_the_immutable_default_policy,
    evaluation_follows_the_policies_set_through_the_api,
    policy_scopes_for_service_apps,
);

async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Reply> {
    app.api_ssws(method, path, token, body.as_ref()).await
}

/// A 200 JSON answer.
async fn ok(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value> {
    let reply = call(app, token, method.clone(), path, body).await?;
    ensure!(reply.status == StatusCode::OK, "{method} {path}: {reply:?}");
    reply.json()
}

/// An Okta `E0000001` answer whose cause names `field`.
fn expect_validation(reply: &Reply, field: &str) -> Result<()> {
    ensure!(reply.status == StatusCode::BAD_REQUEST, "{reply:?}");
    let body = reply.json()?;
    ensure!(body["errorCode"] == "E0000001", "{reply:?}");
    let cause = body["errorCauses"][0]["errorSummary"]
        .as_str()
        .context("no errorCauses")?;
    ensure!(cause.starts_with(&format!("{field}: ")), "{cause}");
    Ok(())
}

fn id(v: &Value) -> Result<String> {
    v["id"].as_str().map(str::to_owned).context("no id")
}

async fn sign_on_policies_and_rules_in_okta_shapes(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let t = app.api_token().await?;
    let admins = app.create_group_with("Admins", &[&app.alice]).await?;

    let list = ok(
        &app,
        &t,
        Method::GET,
        "/api/v1/policies?type=OKTA_SIGN_ON",
        None,
    )
    .await?;
    let list = list.as_array().context("a list")?;
    ensure!(list.len() == 1, "{list:?}");
    let default = &list[0];
    ensure!(
        default["id"] == DEFAULT_SIGN_ON_POLICY_ID
            && default["type"] == "OKTA_SIGN_ON"
            && default["system"] == true
            && default["status"] == "ACTIVE"
            && default["name"] == "Default Policy"
            && default["_links"]["self"]["href"]
                == format!("{}/api/v1/policies/{DEFAULT_SIGN_ON_POLICY_ID}", app.base)
            && default["_links"]["rules"]["href"].is_string(),
        "{default}"
    );
    let rules = ok(
        &app,
        &t,
        Method::GET,
        &format!("/api/v1/policies/{DEFAULT_SIGN_ON_POLICY_ID}/rules"),
        None,
    )
    .await?;
    ensure!(
        rules[0]["id"] == DEFAULT_SIGN_ON_RULE_ID
            && rules[0]["type"] == "SIGN_ON"
            && rules[0]["actions"]["signon"]["access"] == "ALLOW"
            && rules[0]["actions"]["signon"]["requireFactor"] == false
            && rules[0]["actions"]["signon"]["session"]["maxSessionIdleMinutes"] == 120,
        "{rules}"
    );

    let created = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/policies",
        Some(json!({
            "type": "OKTA_SIGN_ON",
            "name": "Admins need MFA",
            "description": "second factor for admins",
            "conditions": {"people": {"groups": {"include": [admins.id]}}},
        })),
    )
    .await?;
    let pid = id(&created)?;
    ensure!(
        pid.starts_with("00p")
            && created["status"] == "ACTIVE"
            && created["system"] == false
            && created["priority"] == 1
            && created["conditions"]["people"]["groups"]["include"] == json!([admins.id])
            && created["created"]
                .as_str()
                .is_some_and(|d| d.ends_with('Z')),
        "{created}"
    );
    let rule = ok(
        &app,
        &t,
        Method::POST,
        &format!("/api/v1/policies/{pid}/rules"),
        Some(json!({
            "type": "SIGN_ON",
            "name": "MFA everywhere",
            "conditions": {"people": {"users": {"exclude": []}}, "network": {"connection": "ANYWHERE"}},
            "actions": {"signon": {
                "access": "ALLOW",
                "requireFactor": true,
                "factorPromptMode": "DEVICE",
                "factorLifetime": 1440,
                "rememberDeviceByDefault": true,
                "session": {"maxSessionIdleMinutes": 60, "maxSessionLifetimeMinutes": 480, "usePersistentCookie": false},
            }},
        })),
    )
    .await?;
    let rid = id(&rule)?;
    let signon = &rule["actions"]["signon"];
    ensure!(
        rid.starts_with("0pr")
            && rule["type"] == "SIGN_ON"
            && rule["status"] == "ACTIVE"
            && rule["priority"] == 1
            && signon["requireFactor"] == true
            && signon["factorPromptMode"] == "DEVICE"
            && signon["factorLifetime"] == 1440
            && signon["rememberDeviceByDefault"] == true
            && signon["session"]["maxSessionLifetimeMinutes"] == 480
            && signon["session"]["maxSessionIdleMinutes"] == 60,
        "{rule}"
    );
    let got = ok(
        &app,
        &t,
        Method::GET,
        &format!("/api/v1/policies/{pid}/rules/{rid}"),
        None,
    )
    .await?;
    ensure!(got == rule, "{got} != {rule}");

    // Replace: prompt every time, no remembered device.
    let replaced = ok(
        &app,
        &t,
        Method::PUT,
        &format!("/api/v1/policies/{pid}/rules/{rid}"),
        Some(json!({"name": "MFA always", "actions": {"signon": {"requireFactor": true, "factorPromptMode": "ALWAYS"}}})),
    )
    .await?;
    ensure!(
        replaced["name"] == "MFA always"
            && replaced["actions"]["signon"]["factorPromptMode"] == "ALWAYS"
            && replaced["actions"]["signon"]
                .get("factorLifetime")
                .is_none(),
        "{replaced}"
    );

    // Lifecycle: 204 without a body, then the status shows.
    for (path, status) in [
        (
            format!("/api/v1/policies/{pid}/rules/{rid}/lifecycle/deactivate"),
            "INACTIVE",
        ),
        (
            format!("/api/v1/policies/{pid}/lifecycle/deactivate"),
            "INACTIVE",
        ),
        (
            format!("/api/v1/policies/{pid}/lifecycle/activate"),
            "ACTIVE",
        ),
    ] {
        let reply = call(&app, &t, Method::POST, &path, None).await?;
        ensure!(
            reply.status == StatusCode::NO_CONTENT && reply.body.is_empty(),
            "{path}: {reply:?}"
        );
        let target = path
            .trim_end_matches("/lifecycle/deactivate")
            .trim_end_matches("/lifecycle/activate");
        let now = ok(&app, &t, Method::GET, target, None).await?;
        ensure!(now["status"] == status, "{path}: {now}");
    }
    let bad_op = call(
        &app,
        &t,
        Method::POST,
        &format!("/api/v1/policies/{pid}/lifecycle/pause"),
        None,
    )
    .await?;
    ensure!(bad_op.status == StatusCode::NOT_FOUND, "{bad_op:?}");

    // The new policy comes before the default one; an inactive filter finds nothing.
    let list = ok(
        &app,
        &t,
        Method::GET,
        "/api/v1/policies?type=OKTA_SIGN_ON",
        None,
    )
    .await?;
    ensure!(
        list[0]["id"] == pid.as_str() && list[1]["id"] == DEFAULT_SIGN_ON_POLICY_ID,
        "{list}"
    );
    let inactive = ok(
        &app,
        &t,
        Method::GET,
        "/api/v1/policies?type=OKTA_SIGN_ON&status=INACTIVE",
        None,
    )
    .await?;
    ensure!(inactive == json!([]), "{inactive}");

    let deleted = call(
        &app,
        &t,
        Method::DELETE,
        &format!("/api/v1/policies/{pid}/rules/{rid}"),
        None,
    )
    .await?;
    ensure!(deleted.status == StatusCode::NO_CONTENT, "{deleted:?}");
    let deleted = call(
        &app,
        &t,
        Method::DELETE,
        &format!("/api/v1/policies/{pid}"),
        None,
    )
    .await?;
    ensure!(deleted.status == StatusCode::NO_CONTENT, "{deleted:?}");
    let gone = call(
        &app,
        &t,
        Method::GET,
        &format!("/api/v1/policies/{pid}"),
        None,
    )
    .await?;
    ensure!(
        gone.status == StatusCode::NOT_FOUND && gone.json()?["errorCode"] == "E0000007",
        "{gone:?}"
    );
    Ok(())
}

async fn access_policies_and_app_assignment(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let t = app.api_token().await?;
    let created = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/policies",
        Some(json!({"type": "ACCESS_POLICY", "name": "Payroll app", "description": "2FA"})),
    )
    .await?;
    let pid = id(&created)?;
    ensure!(
        created["type"] == "ACCESS_POLICY" && created["conditions"].is_null(),
        "{created}"
    );
    // Okta's catch-all rule comes with it.
    let rules = ok(
        &app,
        &t,
        Method::GET,
        &format!("/api/v1/policies/{pid}/rules"),
        None,
    )
    .await?;
    ensure!(
        rules.as_array().map(Vec::len) == Some(1)
            && rules[0]["name"] == "Catch-all Rule"
            && rules[0]["system"] == true
            && rules[0]["type"] == "ACCESS_POLICY"
            && rules[0]["actions"]["appSignOn"]["access"] == "ALLOW"
            && rules[0]["actions"]["appSignOn"]["verificationMethod"]["factorMode"] == "1FA",
        "{rules}"
    );
    let rule = ok(
        &app,
        &t,
        Method::POST,
        &format!("/api/v1/policies/{pid}/rules"),
        Some(json!({
            "name": "2FA every 30 minutes",
            "type": "ACCESS_POLICY",
            "actions": {"appSignOn": {"access": "ALLOW", "verificationMethod": {
                "type": "ASSURANCE", "factorMode": "2FA", "reauthenticateIn": "PT30M", "constraints": []}}},
        })),
    )
    .await?;
    let method = &rule["actions"]["appSignOn"]["verificationMethod"];
    ensure!(
        method["factorMode"] == "2FA"
            && method["reauthenticateIn"] == "PT30M"
            && method["type"] == "ASSURANCE"
            && rule["priority"] == 1,
        "{rule}"
    );
    let bad = call(
        &app,
        &t,
        Method::POST,
        &format!("/api/v1/policies/{pid}/rules"),
        Some(json!({"name": "x", "actions": {"appSignOn": {"verificationMethod": {"factorMode": "2FA", "reauthenticateIn": "two hours"}}}})),
    )
    .await?;
    expect_validation(
        &bad,
        "actions.appSignOn.verificationMethod.reauthenticateIn",
    )?;
    let bad = call(
        &app,
        &t,
        Method::POST,
        &format!("/api/v1/policies/{pid}/rules"),
        Some(json!({"name": "x", "actions": {"appSignOn": {"verificationMethod": {"factorMode": "3FA"}}}})),
    )
    .await?;
    expect_validation(&bad, "actions.appSignOn.verificationMethod.factorMode")?;

    // The app's access policy: 204, replaceable; only an ACCESS_POLICY; unknown app 404.
    let app_id = app.web.app.id.clone();
    let put = call(
        &app,
        &t,
        Method::PUT,
        &format!("/api/v1/apps/{app_id}/policies/{pid}"),
        None,
    )
    .await?;
    ensure!(
        put.status == StatusCode::NO_CONTENT && put.body.is_empty(),
        "{put:?}"
    );
    let apps = ok(
        &app,
        &t,
        Method::GET,
        &format!("/api/v1/policies/{pid}/app"),
        None,
    )
    .await?;
    ensure!(apps[0]["id"] == app_id.as_str(), "{apps}");
    let wrong_type = call(
        &app,
        &t,
        Method::PUT,
        &format!("/api/v1/apps/{app_id}/policies/{DEFAULT_SIGN_ON_POLICY_ID}"),
        None,
    )
    .await?;
    expect_validation(&wrong_type, "policyId")?;
    let no_app = call(
        &app,
        &t,
        Method::PUT,
        &format!("/api/v1/apps/0oanothere/policies/{pid}"),
        None,
    )
    .await?;
    ensure!(no_app.status == StatusCode::NOT_FOUND, "{no_app:?}");
    // The catch-all rule keeps its conditions and cannot go; the policy can.
    let catch_all = id(&rules[0])?;
    let del = call(
        &app,
        &t,
        Method::DELETE,
        &format!("/api/v1/policies/{pid}/rules/{catch_all}"),
        None,
    )
    .await?;
    expect_validation(&del, "rule")?;
    let deny_all = ok(
        &app,
        &t,
        Method::PUT,
        &format!("/api/v1/policies/{pid}/rules/{catch_all}"),
        Some(json!({"name": "Catch-all Rule", "actions": {"appSignOn": {"access": "DENY"}}})),
    )
    .await?;
    ensure!(
        deny_all["actions"]["appSignOn"]["access"] == "DENY",
        "{deny_all}"
    );
    let del = call(
        &app,
        &t,
        Method::DELETE,
        &format!("/api/v1/policies/{pid}"),
        None,
    )
    .await?;
    ensure!(del.status == StatusCode::NO_CONTENT, "{del:?}");
    ensure!(
        app.provider
            .store
            .find_app_access_policy(&app_id)
            .await?
            .is_none()
    );
    Ok(())
}

async fn validation_errors_and_the_immutable_default_policy(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let t = app.api_token().await?;
    let no_type = call(&app, &t, Method::GET, "/api/v1/policies", None).await?;
    expect_validation(&no_type, "type")?;
    let odd_type = call(
        &app,
        &t,
        Method::GET,
        "/api/v1/policies?type=IDP_DISCOVERY",
        None,
    )
    .await?;
    expect_validation(&odd_type, "type")?;
    for (body, field) in [
        (json!({"type": "OKTA_SIGN_ON"}), "name"),
        (json!({"name": "x"}), "type"),
        (json!({"type": "MFA_ENROLL", "name": "x"}), "type"),
        (
            json!({"type": "OKTA_SIGN_ON", "name": "x", "status": "PAUSED"}),
            "status",
        ),
        (
            json!({"type": "OKTA_SIGN_ON", "name": "x", "priority": 0}),
            "priority",
        ),
        (
            json!({"type": "OKTA_SIGN_ON", "name": "x", "conditions": {"people": {"groups": {"include": ["00gnothere"]}}}}),
            "conditions.people.groups.include",
        ),
    ] {
        let reply = call(
            &app,
            &t,
            Method::POST,
            "/api/v1/policies",
            Some(body.clone()),
        )
        .await?;
        expect_validation(&reply, field).with_context(|| body.to_string())?;
    }
    let p = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/policies",
        Some(json!({"type": "OKTA_SIGN_ON", "name": "dup"})),
    )
    .await?;
    let dup = call(
        &app,
        &t,
        Method::POST,
        "/api/v1/policies",
        Some(json!({"type": "OKTA_SIGN_ON", "name": "dup"})),
    )
    .await?;
    expect_validation(&dup, "name")?;
    let pid = id(&p)?;
    let rules_path = format!("/api/v1/policies/{pid}/rules");
    for (body, field) in [
        (
            json!({"actions": {"signon": {"requireFactor": true}}}),
            "name",
        ),
        (
            json!({"name": "r", "actions": {"signon": {"requireFactor": true, "factorPromptMode": "DEVICE"}}}),
            "actions.signon.factorLifetime",
        ),
        (
            json!({"name": "r", "actions": {"signon": {"requireFactor": true, "factorPromptMode": "SOMETIMES"}}}),
            "actions.signon.factorPromptMode",
        ),
        (
            json!({"name": "r", "actions": {"signon": {"access": "MAYBE"}}}),
            "actions.signon.access",
        ),
        (
            json!({"name": "r", "actions": {"signon": {"requireFactor": "yes"}}}),
            "actions.signon.requireFactor",
        ),
        (
            json!({"name": "r", "actions": {"signon": {"session": {"maxSessionLifetimeMinutes": -5}}}}),
            "actions.signon.session.maxSessionLifetimeMinutes",
        ),
        (
            json!({"name": "r", "actions": {"appSignOn": {"access": "ALLOW"}}}),
            "actions",
        ),
    ] {
        let reply = call(&app, &t, Method::POST, &rules_path, Some(body.clone())).await?;
        expect_validation(&reply, field).with_context(|| body.to_string())?;
    }
    let not_json = app
        .api(
            Method::POST,
            "/api/v1/policies",
            Some(&format!("SSWS {t}")),
            Some(&json!(["x"])),
        )
        .await?;
    ensure!(not_json.json()?["errorCode"] == "E0000003", "{not_json:?}");

    // The default policy and its default rule are immutable, as in Okta; rules may be added.
    let default = format!("/api/v1/policies/{DEFAULT_SIGN_ON_POLICY_ID}");
    let del = call(&app, &t, Method::DELETE, &default, None).await?;
    expect_validation(&del, "policy")?;
    let put = call(
        &app,
        &t,
        Method::PUT,
        &default,
        Some(json!({"name": "Mine now"})),
    )
    .await?;
    expect_validation(&put, "policy")?;
    let off = call(
        &app,
        &t,
        Method::POST,
        &format!("{default}/lifecycle/deactivate"),
        None,
    )
    .await?;
    expect_validation(&off, "status")?;
    let rule = format!("{default}/rules/{DEFAULT_SIGN_ON_RULE_ID}");
    let del = call(&app, &t, Method::DELETE, &rule, None).await?;
    expect_validation(&del, "rule")?;
    let put = call(
        &app,
        &t,
        Method::PUT,
        &rule,
        Some(json!({"name": "x", "actions": {"signon": {"requireFactor": true}}})),
    )
    .await?;
    expect_validation(&put, "rule")?;
    let added = ok(
        &app,
        &t,
        Method::POST,
        &format!("{default}/rules"),
        Some(json!({"name": "MFA for all", "actions": {"signon": {"requireFactor": true, "factorPromptMode": "SESSION", "factorLifetime": 15}}})),
    )
    .await?;
    ensure!(
        added["actions"]["signon"]["factorLifetime"] == 15,
        "{added}"
    );
    let still = ok(&app, &t, Method::GET, &default, None).await?;
    ensure!(
        still["name"] == "Default Policy" && still["status"] == "ACTIVE",
        "{still}"
    );
    let missing = call(
        &app,
        &t,
        Method::GET,
        &format!("{default}/rules/0prnothere"),
        None,
    )
    .await?;
    ensure!(missing.status == StatusCode::NOT_FOUND, "{missing:?}");
    Ok(())
}

async fn groups_of(app: &TestApp, user: &User) -> Result<Vec<String>> {
    Ok(app
        .provider
        .store
        .list_user_groups(&user.id)
        .await?
        .into_iter()
        .map(|g| g.id)
        .collect())
}

async fn requirement(
    app: &TestApp,
    user: &User,
    client_id: Option<&str>,
) -> Result<SignOnRequirement> {
    let groups = groups_of(app, user).await?;
    Ok(evaluate(app.provider.store.as_ref(), user, &groups, client_id).await?)
}

async fn evaluation_follows_the_policies_set_through_the_api(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let t = app.api_token().await?;
    let bob = app.create_user("bob@example.com").await?;
    let admins = app.create_group_with("Admins", &[&app.alice]).await?;
    let web = app.client_id().to_owned();
    let other = app.create_web_app("other").await?;
    let other_client = other.app.client_id.clone();

    // Nothing but the default policy: the password alone.
    ensure!(requirement(&app, &app.alice, Some(&web)).await? == SignOnRequirement::default());

    // Admins need a factor (device remembered a day, sessions at most 8 hours).
    let p = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/policies",
        Some(json!({
            "type": "OKTA_SIGN_ON", "name": "Admins",
            "conditions": {"people": {"groups": {"include": [admins.id]}}},
        })),
    )
    .await?;
    let pid = id(&p)?;
    ok(&app, &t, Method::POST, &format!("/api/v1/policies/{pid}/rules"), Some(json!({
        "name": "MFA", "actions": {"signon": {"requireFactor": true, "factorPromptMode": "DEVICE",
        "factorLifetime": 1440, "session": {"maxSessionLifetimeMinutes": 480}}},
    }))).await?;
    let alice = requirement(&app, &app.alice, Some(&web)).await?;
    ensure!(
        alice
            == SignOnRequirement {
                require_mfa: true,
                reauthenticate_after: Some(480 * 60),
                remember_device_for: Some(86_400),
                remember_device_by_default: false,
            },
        "{alice:?}"
    );
    ensure!(requirement(&app, &bob, Some(&web)).await? == SignOnRequirement::default());

    // The web app needs 2FA every 30 minutes, for everyone; the other app does not.
    let a = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/policies",
        Some(json!({"type": "ACCESS_POLICY", "name": "web"})),
    )
    .await?;
    let aid = id(&a)?;
    ok(&app, &t, Method::POST, &format!("/api/v1/policies/{aid}/rules"), Some(json!({
        "name": "2FA", "actions": {"appSignOn": {"access": "ALLOW", "verificationMethod": {"factorMode": "2FA", "reauthenticateIn": "PT30M"}}},
    }))).await?;
    let put = call(
        &app,
        &t,
        Method::PUT,
        &format!("/api/v1/apps/{}/policies/{aid}", app.web.app.id),
        None,
    )
    .await?;
    ensure!(put.status == StatusCode::NO_CONTENT, "{put:?}");
    let bob_web = requirement(&app, &bob, Some(&web)).await?;
    ensure!(
        bob_web
            == SignOnRequirement {
                require_mfa: true,
                reauthenticate_after: Some(1_800),
                remember_device_for: None,
                remember_device_by_default: false,
            },
        "{bob_web:?}"
    );
    ensure!(requirement(&app, &bob, Some(&other_client)).await? == SignOnRequirement::default());
    ensure!(requirement(&app, &bob, None).await? == SignOnRequirement::default());
    // The shorter interval wins for alice; the device is still remembered (sign-on rule).
    let alice_web = requirement(&app, &app.alice, Some(&web)).await?;
    ensure!(
        alice_web.reauthenticate_after == Some(1_800)
            && alice_web.remember_device_for == Some(86_400)
    );

    // Deactivated policies stop counting.
    for path in [
        format!("/api/v1/policies/{pid}/lifecycle/deactivate"),
        format!("/api/v1/policies/{aid}/lifecycle/deactivate"),
    ] {
        let r = call(&app, &t, Method::POST, &path, None).await?;
        ensure!(r.status == StatusCode::NO_CONTENT, "{r:?}");
    }
    ensure!(requirement(&app, &app.alice, Some(&web)).await? == SignOnRequirement::default());
    Ok(())
}

async fn policy_scopes_for_service_apps(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let key = ClientKey::rsa("k")?;
    let client_id = register_service_app(&app, &ssws, &key).await?;
    grant(&app, &ssws, &client_id, "okta.policies.read").await?;
    let reply = org_token(&app, &key, &client_id, "okta.policies.read").await?;
    ensure!(reply.status == 200, "{reply:?}");
    let at = reply.json()?["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access_token")?;
    let bearer = format!("Bearer {at}");
    let list = app
        .api(
            Method::GET,
            "/api/v1/policies?type=OKTA_SIGN_ON",
            Some(&bearer),
            None,
        )
        .await?;
    ensure!(list.status == StatusCode::OK, "{list:?}");
    let create = app
        .api(
            Method::POST,
            "/api/v1/policies",
            Some(&bearer),
            Some(&json!({"type": "OKTA_SIGN_ON", "name": "x"})),
        )
        .await?;
    ensure!(create.status == StatusCode::FORBIDDEN, "{create:?}");
    grant(&app, &ssws, &client_id, "okta.policies.manage").await?;
    let reply = org_token(&app, &key, &client_id, "okta.policies.manage").await?;
    let at = reply.json()?["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access_token")?;
    let create = app
        .api(
            Method::POST,
            "/api/v1/policies",
            Some(&format!("Bearer {at}")),
            Some(&json!({"type": "OKTA_SIGN_ON", "name": "x"})),
        )
        .await?;
    ensure!(create.status == StatusCode::OK, "{create:?}");
    Ok(())
}
