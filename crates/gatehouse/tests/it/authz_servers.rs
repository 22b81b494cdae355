//! Custom authorization servers (`/api/v1/authorizationServers`): the management API in Okta's
//! shapes, and what its scopes, claims, access policies and rules do to authorize and token
//! requests.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    Auth, Browser, Callback, PASSWORD, REDIRECT_URI, Reply, Server, TestApp, http_client,
    jwt_parts, spawn_app,
};

backend_tests!(
    server_crud_in_okta_shape,
    default_server_ships_okta_defaults,
    config_crud_and_errors,
    policy_rules_decide_authorize_and_token,
    rule_lifetimes_and_refresh_window,
    client_credentials_default_scopes_and_policy,
    custom_claims_in_tokens,
    metadata_publish_in_discovery,
    custom_server_issuer_audience_and_preview,
);

/// Okta's `error_description` when no policy rule allows a request.
const POLICY_FAILED: &str =
    "Policy evaluation failed for this request, please check the policy configurations.";

const AS: &str = "/api/v1/authorizationServers";

async fn call(
    app: &TestApp,
    ssws: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Reply> {
    app.api_ssws(method, path, ssws, body.as_ref()).await
}

/// The JSON of a reply that must have `status`.
fn expect(reply: &Reply, status: u16) -> Result<Value> {
    ensure!(
        reply.status.as_u16() == status,
        "expected {status}: {reply:?}"
    );
    if reply.body.is_empty() {
        return Ok(Value::Null);
    }
    reply.json()
}

/// An Okta validation error (400 E0000001) naming `field`.
fn expect_validation(reply: &Reply, field: &str) -> Result<()> {
    let body = expect(reply, 400)?;
    ensure!(body["errorCode"] == "E0000001", "{body}");
    ensure!(
        body["errorSummary"] == format!("Api validation failed: {field}"),
        "{body}"
    );
    ensure!(
        body["errorCauses"][0]["errorSummary"].as_str().is_some(),
        "{body}"
    );
    Ok(())
}

async fn create_server(app: &TestApp, ssws: &str, name: &str, audience: &str) -> Result<Value> {
    let reply = call(
        app,
        ssws,
        Method::POST,
        AS,
        Some(json!({"name": name, "description": "test server", "audiences": [audience]})),
    )
    .await?;
    expect(&reply, 201)
}

async fn server_crud_in_okta_shape(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let created = create_server(&app, &ssws, "Payments", "api://payments").await?;
    let id = created["id"].as_str().context("id")?.to_owned();
    ensure!(id.starts_with("aus"), "{created}");
    ensure!(
        created["issuer"] == format!("{}/oauth2/{id}", app.base),
        "{created}"
    );
    ensure!(created["issuerMode"] == "DYNAMIC" && created["status"] == "ACTIVE");
    ensure!(created["audiences"] == json!(["api://payments"]));
    ensure!(
        created["credentials"]["signing"]["kid"].is_string(),
        "{created}"
    );
    ensure!(created["_links"]["rotateKey"]["href"].is_string());

    // Okta's system scopes come with it; no policy does.
    let scopes = expect(
        &call(&app, &ssws, Method::GET, &format!("{AS}/{id}/scopes"), None).await?,
        200,
    )?;
    let names: Vec<&str> = scopes
        .as_array()
        .context("list")?
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    for system in [
        "openid",
        "profile",
        "email",
        "address",
        "phone",
        "offline_access",
    ] {
        ensure!(names.contains(&system), "{system} missing: {names:?}");
    }
    let policies = expect(
        &call(
            &app,
            &ssws,
            Method::GET,
            &format!("{AS}/{id}/policies"),
            None,
        )
        .await?,
        200,
    )?;
    ensure!(policies == json!([]), "{policies}");

    // List (default server and this one), q, limit + after.
    let all = expect(&call(&app, &ssws, Method::GET, AS, None).await?, 200)?;
    let ids: Vec<&str> = all
        .as_array()
        .context("list")?
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    ensure!(
        ids.contains(&"default") && ids.contains(&id.as_str()) && !ids.contains(&"org"),
        "{ids:?}"
    );
    let q = expect(
        &call(&app, &ssws, Method::GET, &format!("{AS}?q=pay"), None).await?,
        200,
    )?;
    ensure!(
        q.as_array().map(Vec::len) == Some(1) && q[0]["id"] == id.as_str(),
        "{q}"
    );
    let page = call(&app, &ssws, Method::GET, &format!("{AS}?limit=1"), None).await?;
    let first = expect(&page, 200)?;
    ensure!(first.as_array().map(Vec::len) == Some(1));
    ensure!(
        page.header("link")
            .is_some_and(|l| l.contains("rel=\"next\"")),
        "{page:?}"
    );

    // Replace: issuer mode, audiences.
    let replaced = expect(
        &call(&app, &ssws, Method::PUT, &format!("{AS}/{id}"), Some(json!({
            "name": "Payments", "description": "changed", "audiences": ["api://pay2"], "issuerMode": "ORG_URL"
        }))).await?,
        200,
    )?;
    ensure!(replaced["issuerMode"] == "ORG_URL" && replaced["description"] == "changed");
    let got = expect(
        &call(&app, &ssws, Method::GET, &format!("{AS}/{id}"), None).await?,
        200,
    )?;
    ensure!(got["audiences"] == json!(["api://pay2"]), "{got}");

    // Errors in Okta's shape.
    expect_validation(
        &call(
            &app,
            &ssws,
            Method::POST,
            AS,
            Some(json!({"description": "x", "audiences": ["a"]})),
        )
        .await?,
        "name",
    )?;
    expect_validation(
        &call(
            &app,
            &ssws,
            Method::POST,
            AS,
            Some(json!({"name": "NoAud"})),
        )
        .await?,
        "audiences",
    )?;
    expect_validation(
        &call(
            &app,
            &ssws,
            Method::POST,
            AS,
            Some(json!({"name": "Payments", "audiences": ["a"]})),
        )
        .await?,
        "name",
    )?;
    expect_validation(
        &call(
            &app,
            &ssws,
            Method::POST,
            AS,
            Some(json!({"name": "C", "audiences": ["a"], "issuerMode": "CUSTOM_URL"})),
        )
        .await?,
        "issuerMode",
    )?;
    expect_validation(
        &call(
            &app,
            &ssws,
            Method::POST,
            AS,
            Some(json!({"name": "C", "audiences": ["a"], "issuerMode": "SOMETIMES"})),
        )
        .await?,
        "issuerMode",
    )?;
    let missing = expect(
        &call(&app, &ssws, Method::GET, &format!("{AS}/ausNope"), None).await?,
        404,
    )?;
    ensure!(missing["errorCode"] == "E0000007", "{missing}");
    expect(
        &call(&app, &ssws, Method::GET, &format!("{AS}/org"), None).await?,
        404,
    )?;
    expect(
        &call(
            &app,
            &ssws,
            Method::GET,
            &format!("{AS}/{id}/scopes/scpNope"),
            None,
        )
        .await?,
        404,
    )?;
    let unauth = app.api(Method::GET, AS, None, None).await?;
    ensure!(unauth.status == 401, "{unauth:?}");

    // Keys: rotation keeps the old key published (API and JWKS).
    let keys = expect(
        &call(
            &app,
            &ssws,
            Method::GET,
            &format!("{AS}/{id}/credentials/keys"),
            None,
        )
        .await?,
        200,
    )?;
    let old_kid = keys[0]["kid"].as_str().context("kid")?.to_owned();
    ensure!(
        keys[0]["status"] == "ACTIVE" && keys[0]["use"] == "sig" && keys[0]["kty"] == "RSA",
        "{keys}"
    );
    let rotated = expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{AS}/{id}/credentials/lifecycle/keyRotate"),
            Some(json!({"use": "sig"})),
        )
        .await?,
        200,
    )?;
    let rotated = rotated.as_array().context("keys")?;
    ensure!(rotated.len() == 2, "{rotated:?}");
    ensure!(
        rotated
            .iter()
            .any(|k| k["kid"] == old_kid.as_str() && k["status"] == "EXPIRED"),
        "{rotated:?}"
    );
    let new_kid = rotated
        .iter()
        .find(|k| k["status"] == "ACTIVE")
        .and_then(|k| k["kid"].as_str())
        .context("active")?
        .to_owned();
    ensure!(new_kid != old_kid);
    let jwks = app
        .get(&format!("{}/oauth2/{id}/v1/keys", app.base))
        .await?
        .json()?;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .context("keys")?
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    ensure!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{kids:?}"
    );

    // Lifecycle: an inactive server answers no protocol request and may then be deleted.
    let active_delete = call(&app, &ssws, Method::DELETE, &format!("{AS}/{id}"), None).await?;
    ensure!(active_delete.status == 403, "{active_delete:?}");
    expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{AS}/{id}/lifecycle/deactivate"),
            None,
        )
        .await?,
        204,
    )?;
    let disco = app
        .get(&format!(
            "{}/oauth2/{id}/.well-known/openid-configuration",
            app.base
        ))
        .await?;
    ensure!(
        disco.status != 200,
        "inactive server still answers: {disco:?}"
    );
    expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{AS}/{id}/lifecycle/activate"),
            None,
        )
        .await?,
        204,
    )?;
    // Discovery is cached a few seconds; the server's own record is read again.
    expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{AS}/{id}/lifecycle/deactivate"),
            None,
        )
        .await?,
        204,
    )?;
    expect(
        &call(&app, &ssws, Method::DELETE, &format!("{AS}/{id}"), None).await?,
        204,
    )?;
    expect(
        &call(&app, &ssws, Method::GET, &format!("{AS}/{id}"), None).await?,
        404,
    )?;
    Ok(())
}

async fn default_server_ships_okta_defaults(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let server = expect(
        &call(&app, &ssws, Method::GET, &format!("{AS}/default"), None).await?,
        200,
    )?;
    ensure!(server["audiences"] == json!(["api://default"]), "{server}");
    let policies = expect(
        &call(
            &app,
            &ssws,
            Method::GET,
            &format!("{AS}/default/policies"),
            None,
        )
        .await?,
        200,
    )?;
    ensure!(policies.as_array().map(Vec::len) == Some(1), "{policies}");
    let p = &policies[0];
    ensure!(
        p["name"] == "Default Policy"
            && p["type"] == "OAUTH_AUTHORIZATION_POLICY"
            && p["priority"] == 1,
        "{p}"
    );
    ensure!(
        p["conditions"]["clients"]["include"] == json!(["ALL_CLIENTS"]),
        "{p}"
    );
    let pid = p["id"].as_str().context("id")?;
    let rules = expect(
        &call(
            &app,
            &ssws,
            Method::GET,
            &format!("{AS}/default/policies/{pid}/rules"),
            None,
        )
        .await?,
        200,
    )?;
    let r = &rules[0];
    ensure!(
        r["name"] == "Default Policy Rule" && r["type"] == "RESOURCE_ACCESS",
        "{r}"
    );
    ensure!(r["conditions"]["scopes"]["include"] == json!(["*"]), "{r}");
    ensure!(
        r["conditions"]["people"]["groups"]["include"] == json!(["EVERYONE"]),
        "{r}"
    );
    ensure!(
        r["actions"]["token"]
            == json!({
                "accessTokenLifetimeMinutes": 60, "refreshTokenLifetimeMinutes": 0,
                "refreshTokenWindowMinutes": 10080, "inlineHook": null
            }),
        "{r}"
    );
    let grants = r["conditions"]["grantTypes"]["include"]
        .as_array()
        .context("grant types")?;
    ensure!(
        grants.iter().any(|g| g == "authorization_code")
            && grants.iter().any(|g| g == "client_credentials")
    );
    Ok(())
}

async fn default_policy_and_rule(app: &TestApp, ssws: &str) -> Result<(String, String)> {
    let policies = expect(
        &call(
            app,
            ssws,
            Method::GET,
            &format!("{AS}/default/policies"),
            None,
        )
        .await?,
        200,
    )?;
    let pid = policies[0]["id"].as_str().context("policy id")?.to_owned();
    let rules = expect(
        &call(
            app,
            ssws,
            Method::GET,
            &format!("{AS}/default/policies/{pid}/rules"),
            None,
        )
        .await?,
        200,
    )?;
    let rid = rules[0]["id"].as_str().context("rule id")?.to_owned();
    Ok((pid, rid))
}

/// A rule body: `grants`, `scopes`, groups (`EVERYONE` or ids), access-token minutes.
fn rule_body(
    name: &str,
    priority: i64,
    grants: &[&str],
    scopes: &[&str],
    groups: &[&str],
    users: &[&str],
    minutes: i64,
) -> Value {
    json!({
        "type": "RESOURCE_ACCESS", "name": name, "priority": priority,
        "conditions": {
            "people": {"users": {"include": users, "exclude": []}, "groups": {"include": groups, "exclude": []}},
            "grantTypes": {"include": grants},
            "scopes": {"include": scopes},
        },
        "actions": {"token": {"accessTokenLifetimeMinutes": minutes, "refreshTokenLifetimeMinutes": 0, "refreshTokenWindowMinutes": 10080}},
    })
}

async fn put_rule(
    app: &TestApp,
    ssws: &str,
    server: &str,
    pid: &str,
    rid: &str,
    body: Value,
) -> Result<()> {
    let path = format!("{AS}/{server}/policies/{pid}/rules/{rid}");
    expect(&call(app, ssws, Method::PUT, &path, Some(body)).await?, 200)?;
    Ok(())
}

async fn add_rule(
    app: &TestApp,
    ssws: &str,
    server: &str,
    pid: &str,
    body: Value,
) -> Result<String> {
    let path = format!("{AS}/{server}/policies/{pid}/rules");
    let rule = expect(
        &call(app, ssws, Method::POST, &path, Some(body)).await?,
        201,
    )?;
    Ok(rule["id"].as_str().context("rule id")?.to_owned())
}

/// Signs alice in on the default server with `scope`; the callback.
async fn authorize_default(app: &TestApp, scope: &str) -> Result<Callback> {
    Ok(app
        .sign_in_with(&app.authz(Server::Default).scope(scope))
        .await?
        .1)
}

fn expect_policy_denied_callback(cb: &Callback) -> Result<()> {
    cb.expect_error("access_denied")?;
    ensure!(
        cb.param("error_description").as_deref() == Some(POLICY_FAILED),
        "{}",
        cb.url
    );
    Ok(())
}

fn expect_policy_denied_token(reply: &Reply) -> Result<()> {
    let body = expect(reply, 400)?;
    ensure!(
        body["error"] == "access_denied" && body["error_description"] == POLICY_FAILED,
        "{body}"
    );
    Ok(())
}

async fn code_tokens(app: &TestApp, cb: &Callback) -> Result<Value> {
    let reply = app
        .exchange(Server::Default, &cb.code()?, &[], app.basic())
        .await?;
    expect(&reply, 200)
}

async fn config_crud_and_errors(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let base = format!("{AS}/default");
    // Scopes: create with Okta's defaults, get, replace, delete.
    let scope = expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{base}/scopes"),
            Some(json!({"name": "car:drive", "description": "Drive"})),
        )
        .await?,
        201,
    )?;
    ensure!(
        scope["id"].as_str().is_some_and(|i| i.starts_with("scp")),
        "{scope}"
    );
    ensure!(
        scope["consent"] == "IMPLICIT"
            && scope["default"] == false
            && scope["metadataPublish"] == "NO_CLIENTS"
            && scope["system"] == false,
        "{scope}"
    );
    let sid = scope["id"].as_str().context("id")?;
    let replaced = expect(&call(&app, &ssws, Method::PUT, &format!("{base}/scopes/{sid}"), Some(json!({"name": "car:drive", "consent": "REQUIRED", "default": true, "metadataPublish": "ALL_CLIENTS"}))).await?, 200)?;
    ensure!(
        replaced["consent"] == "REQUIRED"
            && replaced["default"] == true
            && replaced["metadataPublish"] == "ALL_CLIENTS",
        "{replaced}"
    );
    expect_validation(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{base}/scopes"),
            Some(json!({"name": "car:drive"})),
        )
        .await?,
        "name",
    )?;
    expect_validation(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{base}/scopes"),
            Some(json!({"name": "has space"})),
        )
        .await?,
        "name",
    )?;
    expect_validation(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{base}/scopes"),
            Some(json!({"name": "x", "consent": "MAYBE"})),
        )
        .await?,
        "consent",
    )?;
    let scopes = expect(
        &call(&app, &ssws, Method::GET, &format!("{base}/scopes"), None).await?,
        200,
    )?;
    let openid = scopes
        .as_array()
        .context("list")?
        .iter()
        .find(|s| s["name"] == "openid")
        .context("openid")?;
    ensure!(openid["system"] == true, "{openid}");
    let system_delete = call(
        &app,
        &ssws,
        Method::DELETE,
        &format!(
            "{base}/scopes/{}",
            openid["id"].as_str().unwrap_or_default()
        ),
        None,
    )
    .await?;
    ensure!(
        system_delete.status == 403 && system_delete.json()?["errorCode"] == "E0000006",
        "{system_delete:?}"
    );
    expect(
        &call(
            &app,
            &ssws,
            Method::DELETE,
            &format!("{base}/scopes/{sid}"),
            None,
        )
        .await?,
        204,
    )?;
    expect(
        &call(
            &app,
            &ssws,
            Method::GET,
            &format!("{base}/scopes/{sid}"),
            None,
        )
        .await?,
        404,
    )?;

    // Policies and rules.
    expect_validation(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{base}/policies"),
            Some(json!({"name": "P", "conditions": {"clients": {"include": ["ALL_CLIENTS"]}}})),
        )
        .await?,
        "description",
    )?;
    expect_validation(&call(&app, &ssws, Method::POST, &format!("{base}/policies"), Some(json!({"name": "P", "description": "d", "conditions": {"clients": {"include": ["0oaNoSuchClient"]}}}))).await?, "conditions.clients.include")?;
    let policy = expect(&call(&app, &ssws, Method::POST, &format!("{base}/policies"), Some(json!({
        "type": "OAUTH_AUTHORIZATION_POLICY", "name": "Web only", "description": "the web app",
        "conditions": {"clients": {"include": [app.client_id()]}}
    }))).await?, 201)?;
    ensure!(
        policy["priority"] == 2
            && policy["status"] == "ACTIVE"
            && policy["type"] == "OAUTH_AUTHORIZATION_POLICY",
        "{policy}"
    );
    let pid = policy["id"].as_str().context("id")?.to_owned();
    let rules = format!("{base}/policies/{pid}/rules");
    let bad = |field: &'static str, body: Value| {
        let app = &app;
        let ssws = &ssws;
        let rules = rules.clone();
        async move {
            expect_validation(
                &call(app, ssws, Method::POST, &rules, Some(body)).await?,
                field,
            )
        }
    };
    bad(
        "conditions.grantTypes.include",
        rule_body("R", 1, &["magic"], &["*"], &["EVERYONE"], &[], 60),
    )
    .await?;
    bad(
        "conditions.scopes.include",
        rule_body(
            "R",
            1,
            &["authorization_code"],
            &["nope"],
            &["EVERYONE"],
            &[],
            60,
        ),
    )
    .await?;
    bad(
        "conditions.people.groups.include",
        rule_body(
            "R",
            1,
            &["authorization_code"],
            &["*"],
            &["00gNope"],
            &[],
            60,
        ),
    )
    .await?;
    bad(
        "actions.token.accessTokenLifetimeMinutes",
        rule_body(
            "R",
            1,
            &["authorization_code"],
            &["*"],
            &["EVERYONE"],
            &[],
            2,
        ),
    )
    .await?;
    let rid = add_rule(
        &app,
        &ssws,
        "default",
        &pid,
        rule_body(
            "R",
            1,
            &["authorization_code"],
            &["openid"],
            &["EVERYONE"],
            &[],
            30,
        ),
    )
    .await?;
    let rule = expect(
        &call(&app, &ssws, Method::GET, &format!("{rules}/{rid}"), None).await?,
        200,
    )?;
    ensure!(
        rule["actions"]["token"]["accessTokenLifetimeMinutes"] == 30 && rule["status"] == "ACTIVE",
        "{rule}"
    );
    expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{rules}/{rid}/lifecycle/deactivate"),
            None,
        )
        .await?,
        204,
    )?;
    let rule = expect(
        &call(&app, &ssws, Method::GET, &format!("{rules}/{rid}"), None).await?,
        200,
    )?;
    ensure!(rule["status"] == "INACTIVE", "{rule}");
    // Deleting the policy deletes its rules.
    expect(
        &call(
            &app,
            &ssws,
            Method::DELETE,
            &format!("{base}/policies/{pid}"),
            None,
        )
        .await?,
        204,
    )?;
    expect(
        &call(&app, &ssws, Method::GET, &format!("{rules}/{rid}"), None).await?,
        404,
    )?;
    expect(
        &call(
            &app,
            &ssws,
            Method::GET,
            &format!("{base}/policies/{pid}"),
            None,
        )
        .await?,
        404,
    )?;
    Ok(())
}

async fn policy_rules_decide_authorize_and_token(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let (pid, rid) = default_policy_and_rule(&app, &ssws).await?;

    // A code obtained while the default rule allows everything...
    let cb = authorize_default(&app, "openid profile").await?;
    // ...is refused at the token endpoint once no rule allows authorization_code.
    put_rule(
        &app,
        &ssws,
        "default",
        &pid,
        &rid,
        rule_body(
            "Default Policy Rule",
            1,
            &["client_credentials"],
            &["*"],
            &["EVERYONE"],
            &[],
            60,
        ),
    )
    .await?;
    expect_policy_denied_token(
        &app.exchange(Server::Default, &cb.code()?, &[], app.basic())
            .await?,
    )?;
    // And at authorize: an error redirect.
    expect_policy_denied_callback(&authorize_default(&app, "openid profile").await?)?;

    // A second rule (priority 2) for a group alice is in decides, with its lifetime.
    let engineers = app.create_group_with("Engineers", &[&app.alice]).await?;
    let r2 = add_rule(
        &app,
        &ssws,
        "default",
        &pid,
        rule_body(
            "Engineers",
            2,
            &["authorization_code"],
            &["openid", "profile", "email"],
            &[&engineers.id],
            &[],
            5,
        ),
    )
    .await?;
    let tokens = code_tokens(&app, &authorize_default(&app, "openid profile").await?).await?;
    ensure!(tokens["expires_in"] == 300, "{tokens}");
    let (_, at) = jwt_parts(tokens["access_token"].as_str().context("at")?)?;
    ensure!(
        at["exp"]
            .as_i64()
            .zip(at["iat"].as_i64())
            .map(|(e, i)| e - i)
            == Some(300),
        "{at}"
    );

    // Priority: rule 1 allowing the grant again (10 minutes) wins over rule 2.
    put_rule(
        &app,
        &ssws,
        "default",
        &pid,
        &rid,
        rule_body(
            "Default Policy Rule",
            1,
            &["authorization_code"],
            &["*"],
            &["EVERYONE"],
            &[],
            10,
        ),
    )
    .await?;
    let tokens = code_tokens(&app, &authorize_default(&app, "openid profile").await?).await?;
    ensure!(tokens["expires_in"] == 600, "{tokens}");

    // Scopes: rule 1 now allows only openid; rule 2 covers openid profile email but not phone.
    put_rule(
        &app,
        &ssws,
        "default",
        &pid,
        &rid,
        rule_body(
            "Default Policy Rule",
            1,
            &["authorization_code"],
            &["openid"],
            &["EVERYONE"],
            &[],
            10,
        ),
    )
    .await?;
    let tokens = code_tokens(&app, &authorize_default(&app, "openid profile").await?).await?;
    ensure!(
        tokens["expires_in"] == 300,
        "rule 2 should decide: {tokens}"
    );
    expect_policy_denied_callback(&authorize_default(&app, "openid phone").await?)?;

    // People: rule 1 for bob only, rule 2 deactivated: alice is refused.
    let bob = app.create_user("bob@example.com").await?;
    put_rule(
        &app,
        &ssws,
        "default",
        &pid,
        &rid,
        rule_body(
            "Default Policy Rule",
            1,
            &["authorization_code"],
            &["*"],
            &[],
            &[&bob.id],
            10,
        ),
    )
    .await?;
    expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{AS}/default/policies/{pid}/rules/{r2}/lifecycle/deactivate"),
            None,
        )
        .await?,
        204,
    )?;
    expect_policy_denied_callback(&authorize_default(&app, "openid").await?)?;

    // Unknown scopes are invalid_scope, before any policy.
    let cb = authorize_default(&app, "openid no:such:scope").await;
    match cb {
        Ok(cb) => cb.expect_error("invalid_scope")?,
        Err(_) => {
            let reply = Browser::new()?
                .get(
                    &app.authz(Server::Default)
                        .scope("openid no:such:scope")
                        .url(),
                )
                .await?;
            let loc = reply
                .location()
                .context("no redirect for an unknown scope")?;
            ensure!(
                loc.query()
                    .is_some_and(|q| q.contains("error=invalid_scope")),
                "{loc}"
            );
        }
    }

    // Policies: the first by priority that includes the client is the one. A higher-priority
    // policy for the client with no matching rule: refused, though the default policy would allow.
    put_rule(
        &app,
        &ssws,
        "default",
        &pid,
        &rid,
        rule_body(
            "Default Policy Rule",
            1,
            &["authorization_code"],
            &["*"],
            &["EVERYONE"],
            &[],
            10,
        ),
    )
    .await?;
    code_tokens(&app, &authorize_default(&app, "openid").await?).await?;
    let first = expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{AS}/default/policies"),
            Some(json!({
                "name": "Web first", "description": "d", "priority": 1,
                "conditions": {"clients": {"include": [app.client_id()]}}
            })),
        )
        .await?,
        201,
    )?;
    let first_id = first["id"].as_str().context("id")?;
    add_rule(
        &app,
        &ssws,
        "default",
        first_id,
        rule_body(
            "cc only",
            1,
            &["client_credentials"],
            &["*"],
            &["EVERYONE"],
            &[],
            10,
        ),
    )
    .await?;
    expect_policy_denied_callback(&authorize_default(&app, "openid").await?)?;
    // Deactivated, it no longer counts.
    expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{AS}/default/policies/{first_id}/lifecycle/deactivate"),
            None,
        )
        .await?,
        204,
    )?;
    code_tokens(&app, &authorize_default(&app, "openid").await?).await?;
    Ok(())
}

async fn rule_lifetimes_and_refresh_window(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let (pid, rid) = default_policy_and_rule(&app, &ssws).await?;
    let mut body = rule_body(
        "Default Policy Rule",
        1,
        &["authorization_code"],
        &["*"],
        &["EVERYONE"],
        &[],
        5,
    );
    body["actions"]["token"]["refreshTokenLifetimeMinutes"] = json!(120);
    body["actions"]["token"]["refreshTokenWindowMinutes"] = json!(60);
    put_rule(&app, &ssws, "default", &pid, &rid, body).await?;

    let tokens = code_tokens(
        &app,
        &authorize_default(&app, "openid offline_access").await?,
    )
    .await?;
    ensure!(tokens["expires_in"] == 300, "{tokens}");
    let rt = tokens["refresh_token"]
        .as_str()
        .context("no refresh token")?
        .to_owned();
    // Each use restarts the 60-minute idle window...
    for _ in 0..2 {
        app.clock.advance(59 * 60);
        let reply = app.refresh(Server::Default, &rt, None, app.basic()).await?;
        let refreshed = expect(&reply, 200)?;
        ensure!(refreshed["expires_in"] == 300, "{refreshed}");
    }
    // ...within the 120-minute lifetime (118 minutes have passed).
    app.clock.advance(3 * 60);
    app.refresh(Server::Default, &rt, None, app.basic())
        .await?
        .expect_oauth_error(400, "invalid_grant")?;

    // Unused for longer than the window: expired.
    let tokens = code_tokens(
        &app,
        &authorize_default(&app, "openid offline_access").await?,
    )
    .await?;
    let rt = tokens["refresh_token"]
        .as_str()
        .context("no refresh token")?
        .to_owned();
    app.clock.advance(61 * 60);
    app.refresh(Server::Default, &rt, None, app.basic())
        .await?
        .expect_oauth_error(400, "invalid_grant")?;
    Ok(())
}

async fn client_credentials_default_scopes_and_policy(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    let client = app.register_client(&ssws, &json!({
        "client_name": "reports", "application_type": "service",
        "grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_basic",
    })).await?;
    let id = client["client_id"].as_str().context("client_id")?;
    let secret = client["client_secret"].as_str().context("client_secret")?;
    let cc = |scope: Option<&'static str>| {
        let app = &app;
        async move {
            let mut form = vec![("grant_type", "client_credentials")];
            if let Some(s) = scope {
                form.push(("scope", s));
            }
            app.token(Server::Default, &form, Auth::Basic(id, secret))
                .await
        }
    };
    // No scope and no default scope on the server.
    let reply = cc(None).await?;
    ensure!(
        reply.oauth_error().as_deref() == Some("invalid_scope"),
        "{reply:?}"
    );
    ensure!(reply.body.contains("default scopes"), "{reply:?}");
    // Unknown scope.
    let reply = cc(Some("reports:read")).await?;
    ensure!(
        reply.oauth_error().as_deref() == Some("invalid_scope"),
        "{reply:?}"
    );
    // A default scope is granted when none is asked for.
    expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{AS}/default/scopes"),
            Some(json!({"name": "reports:read", "default": true})),
        )
        .await?,
        201,
    )?;
    expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{AS}/default/scopes"),
            Some(json!({"name": "reports:write"})),
        )
        .await?,
        201,
    )?;
    let body = expect(&cc(None).await?, 200)?;
    ensure!(body["scope"] == "reports:read", "{body}");
    let (_, at) = jwt_parts(body["access_token"].as_str().context("at")?)?;
    ensure!(
        at["scp"] == json!(["reports:read"]) && at["aud"] == "api://default",
        "{at}"
    );
    let body = expect(&cc(Some("reports:write")).await?, 200)?;
    ensure!(body["scope"] == "reports:write", "{body}");
    // The policy decides: without client_credentials in any rule, access_denied.
    let (pid, rid) = default_policy_and_rule(&app, &ssws).await?;
    put_rule(
        &app,
        &ssws,
        "default",
        &pid,
        &rid,
        rule_body(
            "Default Policy Rule",
            1,
            &["authorization_code"],
            &["*"],
            &["EVERYONE"],
            &[],
            60,
        ),
    )
    .await?;
    expect_policy_denied_token(&cc(None).await?)?;
    // A rule for it, limited to reports:read, with its own lifetime.
    add_rule(
        &app,
        &ssws,
        "default",
        &pid,
        rule_body(
            "reports",
            2,
            &["client_credentials"],
            &["reports:read"],
            &["EVERYONE"],
            &[],
            15,
        ),
    )
    .await?;
    let body = expect(&cc(None).await?, 200)?;
    ensure!(body["expires_in"] == 900, "{body}");
    expect_policy_denied_token(&cc(Some("reports:write")).await?)?;
    Ok(())
}

async fn add_claim(app: &TestApp, ssws: &str, body: Value) -> Result<Value> {
    expect(
        &call(
            app,
            ssws,
            Method::POST,
            &format!("{AS}/default/claims"),
            Some(body),
        )
        .await?,
        201,
    )
}

async fn custom_claims_in_tokens(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    for name in ["Admins", "admin-ops", "Users", "Sales"] {
        app.create_group_with(name, &[&app.alice]).await?;
    }
    let claims = [
        json!({"name": "mail", "claimType": "RESOURCE", "valueType": "EXPRESSION", "value": "user.email"}),
        json!({"name": "tenant", "claimType": "RESOURCE", "valueType": "EXPRESSION", "value": "\"acme\""}),
        json!({"name": "login_id", "claimType": "IDENTITY", "valueType": "EXPRESSION", "value": "user.login", "alwaysIncludeInToken": true}),
        json!({"name": "userinfo_only", "claimType": "IDENTITY", "valueType": "EXPRESSION", "value": "user.firstName", "alwaysIncludeInToken": false}),
        json!({"name": "with_profile", "claimType": "RESOURCE", "valueType": "EXPRESSION", "value": "user.lastName", "conditions": {"scopes": ["profile"]}}),
        json!({"name": "g_sw", "claimType": "RESOURCE", "valueType": "GROUPS", "value": "admin", "group_filter_type": "STARTS_WITH"}),
        json!({"name": "g_eq", "claimType": "RESOURCE", "valueType": "GROUPS", "value": "Users", "group_filter_type": "EQUALS"}),
        json!({"name": "g_co", "claimType": "IDENTITY", "valueType": "GROUPS", "value": "ops", "group_filter_type": "CONTAINS", "alwaysIncludeInToken": true}),
        json!({"name": "g_re", "claimType": "RESOURCE", "valueType": "GROUPS", "value": "S.*s", "group_filter_type": "REGEX"}),
        json!({"name": "off", "claimType": "RESOURCE", "valueType": "EXPRESSION", "value": "user.email", "status": "INACTIVE"}),
    ];
    for c in &claims {
        let created = add_claim(&app, &ssws, c.clone()).await?;
        ensure!(
            created["id"].is_string() && created["claimType"] == c["claimType"],
            "{created}"
        );
    }
    let listed = expect(
        &call(
            &app,
            &ssws,
            Method::GET,
            &format!("{AS}/default/claims"),
            None,
        )
        .await?,
        200,
    )?;
    let g_sw = listed
        .as_array()
        .context("list")?
        .iter()
        .find(|c| c["name"] == "g_sw")
        .context("g_sw")?;
    ensure!(
        g_sw["group_filter_type"] == "STARTS_WITH" && g_sw["alwaysIncludeInToken"] == true,
        "{g_sw}"
    );

    let tokens = code_tokens(&app, &authorize_default(&app, "openid email").await?).await?;
    let (_, at) = jwt_parts(tokens["access_token"].as_str().context("at")?)?;
    let (_, id) = jwt_parts(tokens["id_token"].as_str().context("id")?)?;
    ensure!(
        at["mail"] == app.alice.email.as_str() && at["tenant"] == "acme",
        "{at}"
    );
    ensure!(at["g_sw"] == json!(["Admins", "admin-ops"]), "{at}");
    ensure!(at["g_eq"] == json!(["Users"]), "{at}");
    ensure!(at["g_re"] == json!(["Sales"]), "{at}");
    ensure!(
        at.get("with_profile").is_none() && at.get("off").is_none() && at.get("login_id").is_none(),
        "{at}"
    );
    ensure!(
        id["login_id"] == app.alice.login.as_str() && id["g_co"] == json!(["admin-ops"]),
        "{id}"
    );
    ensure!(
        id.get("userinfo_only").is_none() && id.get("mail").is_none(),
        "{id}"
    );
    let tokens = code_tokens(&app, &authorize_default(&app, "openid profile").await?).await?;
    let (_, at) = jwt_parts(tokens["access_token"].as_str().context("at")?)?;
    ensure!(at["with_profile"] == app.alice.last_name.as_str(), "{at}");

    // Bad claims.
    let bad = |field: &'static str, body: Value| {
        let app = &app;
        let ssws = &ssws;
        async move {
            expect_validation(
                &call(
                    app,
                    ssws,
                    Method::POST,
                    &format!("{AS}/default/claims"),
                    Some(body),
                )
                .await?,
                field,
            )
        }
    };
    bad(
        "value",
        json!({"name": "x", "claimType": "RESOURCE", "value": "user.salary"}),
    )
    .await?;
    bad(
        "value",
        json!({"name": "x", "claimType": "RESOURCE", "value": "String.len(user.email)"}),
    )
    .await?;
    bad(
        "name",
        json!({"name": "sub", "claimType": "RESOURCE", "value": "user.email"}),
    )
    .await?;
    bad(
        "group_filter_type",
        json!({"name": "x", "claimType": "RESOURCE", "valueType": "GROUPS", "value": "a"}),
    )
    .await?;
    bad("value", json!({"name": "x", "claimType": "RESOURCE", "valueType": "GROUPS", "value": "(", "group_filter_type": "REGEX"})).await?;
    bad(
        "claimType",
        json!({"name": "x", "claimType": "BOTH", "value": "user.email"}),
    )
    .await?;
    bad("conditions.scopes", json!({"name": "x", "claimType": "RESOURCE", "value": "user.email", "conditions": {"scopes": ["nope"]}})).await?;
    bad(
        "name",
        json!({"name": "mail", "claimType": "RESOURCE", "value": "user.login"}),
    )
    .await?;
    Ok(())
}

async fn metadata_publish_in_discovery(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{AS}/default/scopes"),
            Some(json!({"name": "pub:read", "metadataPublish": "ALL_CLIENTS"})),
        )
        .await?,
        201,
    )?;
    expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{AS}/default/scopes"),
            Some(json!({"name": "hidden:read"})),
        )
        .await?,
        201,
    )?;
    for doc in ["openid-configuration", "oauth-authorization-server"] {
        let meta = app
            .get(&format!("{}/oauth2/default/.well-known/{doc}", app.base))
            .await?
            .json()?;
        let scopes: Vec<&str> = meta["scopes_supported"]
            .as_array()
            .context("scopes_supported")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        ensure!(
            scopes.contains(&"pub:read") && scopes.contains(&"openid"),
            "{doc}: {scopes:?}"
        );
        ensure!(!scopes.contains(&"hidden:read"), "{doc}: {scopes:?}");
    }
    Ok(())
}

/// Signs alice in on custom server `id` and redeems the code; the token response.
async fn custom_server_tokens(app: &TestApp, id: &str, scope: &str) -> Result<Value> {
    let query = serde_urlencoded::to_string([
        ("client_id", app.client_id()),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", scope),
        ("state", crate::helpers::STATE),
        ("nonce", crate::helpers::NONCE),
    ])?;
    let url = format!("{}/oauth2/{id}/v1/authorize?{query}", app.base);
    let cb = Browser::new()?
        .sign_in(&url, &app.alice.login, PASSWORD)
        .await?;
    let form = serde_urlencoded::to_string([
        ("grant_type", "authorization_code"),
        ("code", cb.code()?.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ])?;
    let res = http_client()?
        .post(format!("{}/oauth2/{id}/v1/token", app.base))
        .basic_auth(app.client_id(), Some(app.client_secret()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await?;
    let reply = Reply::read(res).await?;
    expect(&reply, 200)
}

async fn custom_server_issuer_audience_and_preview(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let ssws = app.api_token().await?;
    // Seed 003: a server whose audience is the SPA's client id, Okta URL issuer, a default
    // scope, a policy for the client with a rule.
    let server = create_server(&app, &ssws, "OpenMetadata", app.client_id()).await?;
    let id = server["id"].as_str().context("id")?.to_owned();
    let path = format!("{AS}/{id}");
    expect(&call(&app, &ssws, Method::PUT, &path, Some(json!({"name": "OpenMetadata", "description": "om", "audiences": [app.client_id()], "issuerMode": "ORG_URL"}))).await?, 200)?;
    expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{path}/scopes"),
            Some(json!({"name": "om:read", "default": true})),
        )
        .await?,
        201,
    )?;
    expect(&call(&app, &ssws, Method::POST, &format!("{path}/claims"), Some(json!({"name": "email_claim", "claimType": "IDENTITY", "value": "user.email", "alwaysIncludeInToken": true}))).await?, 201)?;
    let policy = expect(&call(&app, &ssws, Method::POST, &format!("{path}/policies"), Some(json!({
        "name": "OM", "description": "OpenMetadata UI", "conditions": {"clients": {"include": [app.client_id()]}}
    }))).await?, 201)?;
    let pid = policy["id"].as_str().context("id")?;
    // Before any rule: preview and protocol agree that nothing allows it.
    let preview_body = json!({"clientId": app.client_id(), "userId": app.alice.id, "grantType": "authorization_code", "scopes": ["openid", "om:read"]});
    let preview = expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{path}/tokenPreview"),
            Some(preview_body.clone()),
        )
        .await?,
        200,
    )?;
    ensure!(
        preview["error"]["error"] == "access_denied"
            && preview["error"]["error_description"] == POLICY_FAILED,
        "{preview}"
    );
    ensure!(
        preview["policy"]["id"] == pid && preview["rule"].is_null(),
        "{preview}"
    );
    ensure!(
        preview["error"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("OM")),
        "{preview}"
    );
    let rid = add_rule(
        &app,
        &ssws,
        &id,
        pid,
        rule_body(
            "UI",
            1,
            &["authorization_code"],
            &["*"],
            &["EVERYONE"],
            &[],
            20,
        ),
    )
    .await?;

    let tokens = custom_server_tokens(&app, &id, "openid om:read").await?;
    let issuer = format!("{}/oauth2/{id}", app.base);
    let at = app.get(&format!("{issuer}/v1/keys",)).await?.json()?;
    ensure!(at["keys"].as_array().is_some_and(|k| !k.is_empty()));
    let (_, claims) = jwt_parts(tokens["access_token"].as_str().context("at")?)?;
    ensure!(
        claims["iss"] == issuer.as_str() && claims["aud"] == app.client_id(),
        "{claims}"
    );
    ensure!(
        claims["scp"] == json!(["openid", "om:read"]) && tokens["expires_in"] == 1200,
        "{claims} {tokens}"
    );
    let (_, id_claims) = jwt_parts(tokens["id_token"].as_str().context("id")?)?;
    ensure!(
        id_claims["iss"] == issuer.as_str() && id_claims["email_claim"] == app.alice.email.as_str(),
        "{id_claims}"
    );
    let disco = app
        .get(&format!("{issuer}/.well-known/openid-configuration"))
        .await?
        .json()?;
    ensure!(disco["issuer"] == issuer.as_str(), "{disco}");

    // The preview now shows the rule and the claims the tokens got.
    let preview = expect(
        &call(
            &app,
            &ssws,
            Method::POST,
            &format!("{path}/tokenPreview"),
            Some(preview_body),
        )
        .await?,
        200,
    )?;
    ensure!(
        preview["error"].is_null() && preview["rule"]["id"] == rid.as_str(),
        "{preview}"
    );
    ensure!(
        preview["accessToken"]["aud"] == app.client_id()
            && preview["accessToken"]["exp"]
                .as_i64()
                .zip(preview["accessToken"]["iat"].as_i64())
                .map(|(e, i)| e - i)
                == Some(1200),
        "{preview}"
    );
    ensure!(
        preview["idToken"]["email_claim"] == app.alice.email.as_str()
            && preview["idToken"]["sub"] == app.alice.id.as_str(),
        "{preview}"
    );
    let bad = call(
        &app,
        &ssws,
        Method::POST,
        &format!("{path}/tokenPreview"),
        Some(json!({"clientId": "nope", "grantType": "client_credentials"})),
    )
    .await?;
    expect_validation(&bad, "clientId")?;
    let unknown = expect(&call(&app, &ssws, Method::POST, &format!("{path}/tokenPreview"), Some(json!({"clientId": app.client_id(), "userId": app.alice.id, "grantType": "authorization_code", "scopes": ["nope"]}))).await?, 200)?;
    ensure!(unknown["error"]["error"] == "invalid_scope", "{unknown}");
    Ok(())
}
