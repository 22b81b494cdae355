//! Security › API › Authorization Servers in the console: a server built there (settings,
//! issuer mode, scopes, claims, access policy and rule) is the one `/api/v1` shows and the one
//! that issues tokens; Token Preview; lifecycle and key rotation; field errors and CSRF.

use anyhow::{Context as _, Result, ensure};
use base64::Engine as _;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::console::{admin_browser, assert_console_headers, page_with_csrf};
use crate::helpers::{
    Browser, PASSWORD, REDIRECT_URI, Reply, TestApp, VERIFIER, http_client, s256, spawn_app,
};

backend_tests!(
    authorization_server_built_in_the_console_issues_its_tokens,
    authorization_server_forms_show_errors_next_to_their_fields,
    authorization_server_lifecycle_and_key_rotation,
);

fn api_path(id: &str, rest: &str) -> String {
    format!("/api/v1/authorizationServers/{id}{rest}")
}

async fn api_get(app: &TestApp, token: &str, path: &str) -> Result<Value> {
    let r = app.api_ssws(Method::GET, path, token, None).await?;
    ensure!(r.status == StatusCode::OK, "{path}: {r:?}");
    r.json()
}

/// Posts a console form and expects the 303 to `to` (a path prefix).
async fn post_ok(
    app: &TestApp,
    browser: &Browser,
    path: &str,
    form: &[(&str, &str)],
    to: &str,
) -> Result<String> {
    let r = browser
        .post_form(&format!("{}{path}", app.base), form)
        .await?;
    ensure!(r.status == StatusCode::SEE_OTHER, "{path}: {r:?}");
    let location = r.header("location").context("no location")?.to_owned();
    ensure!(location.starts_with(to), "{path} went to {location}");
    Ok(location)
}

/// Posts a console form that must be refused with `field`'s error shown next to it.
async fn post_refused(
    app: &TestApp,
    browser: &Browser,
    path: &str,
    form: &[(&str, &str)],
    field: &str,
) -> Result<Reply> {
    let r = browser
        .post_form(&format!("{}{path}", app.base), form)
        .await?;
    ensure!(
        r.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{path}: {r:?}"
    );
    ensure!(
        r.body.contains(&format!("id=\"{field}-error\""))
            && (r
                .body
                .contains(&format!("aria-describedby=\"{field}-error\""))
                || r.body.contains(&format!(" {field}-error\""))),
        "{path}: no error next to {field}: {}",
        r.body
    );
    assert_console_headers(&r.headers)?;
    Ok(r)
}

/// Creates a server in the console; returns its id.
async fn add_server(app: &TestApp, admin: &Browser, csrf: &str, audience: &str) -> Result<String> {
    let location = post_ok(
        app,
        admin,
        "/admin/oauth2/as",
        &[
            ("csrf", csrf),
            ("as_name", "OpenMetadata"),
            ("as_audience", audience),
            ("as_description", "For the SPA"),
        ],
        "/admin/oauth2/as/aus",
    )
    .await?;
    let id = location
        .strip_prefix("/admin/oauth2/as/")
        .and_then(|rest| rest.split('?').next())
        .context("no server id")?
        .to_owned();
    Ok(id)
}

fn jwt_claims(jwt: &str) -> Result<Value> {
    let payload = jwt.split('.').nth(1).context("not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?;
    Ok(serde_json::from_slice(&bytes)?)
}

async fn authorization_server_built_in_the_console_issues_its_tokens(
    backend: Backend,
) -> Result<()> {
    let app = spawn_app(backend).await?;
    let spa = app.create_spa("OpenMetadata").await?;
    let client_id = spa.app.client_id.clone();
    let admin = admin_browser(&app).await?;
    let token = app.api_token().await?;
    let (list, csrf) = page_with_csrf(&app, &admin, "/admin/oauth2/as/new").await?;
    assert_console_headers(&list.headers)?;

    // Add Authorization Server: Audience = the SPA's client ID; Dynamic issuer at first.
    let id = add_server(&app, &admin, &csrf, &client_id).await?;
    let server = api_get(&app, &token, &api_path(&id, "")).await?;
    ensure!(
        server["audiences"] == serde_json::json!([client_id]) && server["issuerMode"] == "DYNAMIC",
        "{server}"
    );
    let listed = admin.get(&format!("{}/admin/oauth2/as", app.base)).await?;
    ensure!(
        listed.body.contains(&format!("/admin/oauth2/as/{id}")),
        "{listed:?}"
    );

    // Settings: the issuer from Dynamic to Okta URL.
    post_ok(
        &app,
        &admin,
        &format!("/admin/oauth2/as/{id}"),
        &[
            ("csrf", &csrf),
            ("as_name", "OpenMetadata"),
            ("as_audience", &client_id),
            ("as_description", "For the OpenMetadata SPA"),
            ("as_issuer_mode", "ORG_URL"),
        ],
        &format!("/admin/oauth2/as/{id}?notice=saved"),
    )
    .await?;
    let server = api_get(&app, &token, &api_path(&id, "")).await?;
    ensure!(
        server["issuerMode"] == "ORG_URL" && server["description"] == "For the OpenMetadata SPA",
        "{server}"
    );
    let settings = admin
        .get(&format!("{}/admin/oauth2/as/{id}", app.base))
        .await?;
    ensure!(
        settings
            .body
            .contains("<option value=\"ORG_URL\" selected>"),
        "{}",
        settings.body
    );

    // Scopes: a default scope, not in the public metadata; edited, then a second one deleted.
    let scopes_path = format!("/admin/oauth2/as/{id}/scopes");
    post_ok(
        &app,
        &admin,
        &scopes_path,
        &[
            ("csrf", &csrf),
            ("scope_id", ""),
            ("scope_name", "openmetadata"),
            ("scope_description", "OpenMetadata APIs"),
            ("scope_default", "1"),
        ],
        &scopes_path,
    )
    .await?;
    let scopes = api_get(&app, &token, &api_path(&id, "/scopes")).await?;
    let scope = scopes
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == "openmetadata"))
        .context("no scope")?
        .clone();
    ensure!(
        scope["default"] == true
            && scope["metadataPublish"] == "NO_CLIENTS"
            && scope["consent"] == "IMPLICIT",
        "{scope}"
    );
    let scope_id = scope["id"].as_str().context("scope id")?.to_owned();
    let edit = admin
        .get(&format!("{}{scopes_path}?edit={scope_id}", app.base))
        .await?;
    ensure!(edit.body.contains("value=\"openmetadata\"") && edit.body.contains("Edit Scope"));
    post_ok(
        &app,
        &admin,
        &scopes_path,
        &[
            ("csrf", &csrf),
            ("scope_id", &scope_id),
            ("scope_name", "openmetadata"),
            ("scope_display_name", "Use OpenMetadata"),
            ("scope_default", "1"),
            ("scope_metadata", "1"),
            ("scope_consent", "1"),
        ],
        &scopes_path,
    )
    .await?;
    let scope = api_get(&app, &token, &api_path(&id, &format!("/scopes/{scope_id}"))).await?;
    ensure!(
        scope["metadataPublish"] == "ALL_CLIENTS"
            && scope["consent"] == "REQUIRED"
            && scope["displayName"] == "Use OpenMetadata",
        "{scope}"
    );
    // Consent stays off for the SPA (seed 003): back to Implicit.
    post_ok(
        &app,
        &admin,
        &scopes_path,
        &[
            ("csrf", &csrf),
            ("scope_id", &scope_id),
            ("scope_name", "openmetadata"),
            ("scope_default", "1"),
            ("scope_metadata", "1"),
        ],
        &scopes_path,
    )
    .await?;

    // Claims: a Groups claim (Starts with) in the ID token for the openmetadata scope.
    let claims_path = format!("/admin/oauth2/as/{id}/claims");
    post_ok(
        &app,
        &admin,
        &claims_path,
        &[
            ("csrf", &csrf),
            ("claim_id", ""),
            ("claim_name", "om_groups"),
            ("claim_token_type", "IDENTITY"),
            ("claim_include", "ALWAYS"),
            ("claim_value_type", "GROUPS"),
            ("claim_filter", "STARTS_WITH"),
            ("claim_value", "OM"),
            ("claim_include_in", "scopes"),
            ("claim_scopes", "openmetadata"),
        ],
        &claims_path,
    )
    .await?;
    post_ok(
        &app,
        &admin,
        &claims_path,
        &[
            ("csrf", &csrf),
            ("claim_id", ""),
            ("claim_name", "om_email"),
            ("claim_token_type", "RESOURCE"),
            ("claim_value_type", "EXPRESSION"),
            ("claim_value", "user.email"),
            ("claim_include_in", "any"),
        ],
        &claims_path,
    )
    .await?;
    let claims = api_get(&app, &token, &api_path(&id, "/claims")).await?;
    let groups_claim = claims
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "om_groups"))
        .context("no groups claim")?
        .clone();
    ensure!(
        groups_claim["claimType"] == "IDENTITY"
            && groups_claim["valueType"] == "GROUPS"
            && groups_claim["group_filter_type"] == "STARTS_WITH"
            && groups_claim["value"] == "OM"
            && groups_claim["alwaysIncludeInToken"] == true
            && groups_claim["conditions"]["scopes"] == serde_json::json!(["openmetadata"]),
        "{groups_claim}"
    );
    let claim_id = groups_claim["id"].as_str().context("claim id")?.to_owned();
    // Edit Claim: shown filled in; saved as the userinfo / id_token-request-only kind.
    let edit = admin
        .get(&format!("{}{claims_path}?edit={claim_id}", app.base))
        .await?;
    ensure!(
        edit.body.contains("Edit Claim")
            && edit
                .body
                .contains("<option value=\"STARTS_WITH\" selected>"),
        "{}",
        edit.body
    );
    post_ok(
        &app,
        &admin,
        &claims_path,
        &[
            ("csrf", &csrf),
            ("claim_id", &claim_id),
            ("claim_name", "om_groups"),
            ("claim_token_type", "IDENTITY"),
            ("claim_include", "USERINFO"),
            ("claim_value_type", "GROUPS"),
            ("claim_filter", "EQUALS"),
            ("claim_value", "OM Admins"),
            ("claim_include_in", "any"),
        ],
        &claims_path,
    )
    .await?;
    let edited = api_get(&app, &token, &api_path(&id, &format!("/claims/{claim_id}"))).await?;
    ensure!(
        edited["group_filter_type"] == "EQUALS"
            && edited["alwaysIncludeInToken"] == false
            && edited["value"] == "OM Admins"
            && edited["conditions"]["scopes"] == serde_json::json!([]),
        "{edited}"
    );
    post_ok(
        &app,
        &admin,
        &format!("{claims_path}/{claim_id}/delete"),
        &[("csrf", &csrf), ("confirm", "yes")],
        &claims_path,
    )
    .await?;
    let claims = api_get(&app, &token, &api_path(&id, "/claims")).await?;
    ensure!(
        claims
            .as_array()
            .is_some_and(|a| a.iter().all(|c| c["name"] != "om_groups")),
        "{claims}"
    );

    // Access Policies: one assigned to the SPA, then its rule.
    let policies_path = format!("/admin/oauth2/as/{id}/policies");
    let location = post_ok(
        &app,
        &admin,
        &policies_path,
        &[
            ("csrf", &csrf),
            ("policy_id", ""),
            ("policy_name", "OpenMetadata policy"),
            ("policy_description", "Sign-in to OpenMetadata"),
            ("policy_assign", "clients"),
            ("policy_clients", &client_id),
        ],
        &policies_path,
    )
    .await?;
    // Straight on to Add Rule, as in Okta.
    ensure!(location.contains("rule=new"), "{location}");
    let rule_form = admin.get(&format!("{}{location}", app.base)).await?;
    ensure!(
        rule_form.status == StatusCode::OK && rule_form.body.contains("Create Rule"),
        "{rule_form:?}"
    );
    let policies = api_get(&app, &token, &api_path(&id, "/policies")).await?;
    let policy = &policies[0];
    ensure!(
        policy["name"] == "OpenMetadata policy"
            && policy["conditions"]["clients"]["include"] == serde_json::json!([client_id]),
        "{policies}"
    );
    let policy_id = policy["id"].as_str().context("policy id")?.to_owned();
    post_ok(
        &app,
        &admin,
        &format!("{policies_path}/{policy_id}/rules"),
        &[
            ("csrf", &csrf),
            ("rule_id", ""),
            ("rule_name", "OpenMetadata sign-in"),
            ("rule_grants", "authorization_code"),
            ("rule_grants", "implicit"),
            ("rule_people", "any"),
            ("rule_scopes_mode", "any"),
            ("rule_access_lifetime", "30"),
            ("rule_refresh_lifetime", "0"),
            ("rule_refresh_window", "10080"),
        ],
        &policies_path,
    )
    .await?;
    let rules = api_get(
        &app,
        &token,
        &api_path(&id, &format!("/policies/{policy_id}/rules")),
    )
    .await?;
    let rule = &rules[0];
    ensure!(
        rule["conditions"]["grantTypes"]["include"]
            == serde_json::json!(["authorization_code", "implicit"])
            && rule["actions"]["token"]["accessTokenLifetimeMinutes"] == 30,
        "{rules}"
    );
    let page = admin.get(&format!("{}{policies_path}", app.base)).await?;
    ensure!(
        page.body.contains("OpenMetadata sign-in")
            && page.body.contains(&format!("OpenMetadata ({client_id})")),
        "{}",
        page.body
    );

    // Token Preview: the claims the SPA would get for alice.
    let preview = admin
        .post_form(
            &format!("{}/admin/oauth2/as/{id}/preview", app.base),
            &[
                ("csrf", &csrf),
                ("preview_client", &client_id),
                ("preview_grant", "authorization_code"),
                ("preview_user", &app.alice.id),
                ("preview_scopes", "openid"),
                ("preview_scopes", "openmetadata"),
            ],
        )
        .await?;
    ensure!(preview.status == StatusCode::OK, "{preview:?}");
    let issuer = format!("{}/oauth2/{id}", app.base);
    let body = html_unescape(&preview.body);
    ensure!(
        body.contains(&format!("\"aud\": \"{client_id}\""))
            && body.contains(&format!("\"iss\": \"{issuer}\""))
            && body.contains("\"om_email\": \"alice")
            && body.contains("OpenMetadata sign-in")
            && body.contains("id=\"preview-id-token\""),
        "{body}"
    );
    // A grant type no rule allows: the policy error.
    let refused = admin
        .post_form(
            &format!("{}/admin/oauth2/as/{id}/preview", app.base),
            &[
                ("csrf", &csrf),
                ("preview_client", &client_id),
                ("preview_grant", "password"),
                ("preview_user", &app.alice.id),
                ("preview_scopes", "openid"),
            ],
        )
        .await?;
    ensure!(
        refused.status == StatusCode::OK
            && refused.body.contains("id=\"preview-error\"")
            && refused.body.contains("access_denied"),
        "{refused:?}"
    );

    // The server issues what the console set up: PKCE code flow for the SPA.
    let authorize = format!(
        "{issuer}/v1/authorize?{}",
        serde_urlencoded::to_string([
            ("client_id", client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid email openmetadata"),
            ("state", "s-1"),
            ("nonce", "n-1"),
            ("code_challenge", &s256(VERIFIER)),
            ("code_challenge_method", "S256"),
        ])?
    );
    let browser = Browser::new()?;
    let callback = browser
        .sign_in(&authorize, &app.alice.login, PASSWORD)
        .await?;
    let code = callback.code()?;
    let tokens: Value = http_client()?
        .post(format!("{issuer}/v1/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", client_id.as_str()),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await?
        .json()
        .await?;
    let at = jwt_claims(tokens["access_token"].as_str().context("no access token")?)?;
    ensure!(
        at["aud"] == client_id.as_str()
            && at["iss"] == issuer.as_str()
            && at["scp"] == serde_json::json!(["openid", "email", "openmetadata"])
            && at["om_email"] == app.alice.email.as_str()
            && at["exp"]
                .as_i64()
                .zip(at["iat"].as_i64())
                .map(|(e, i)| e - i)
                == Some(1800),
        "{at}"
    );

    // Edit Rule: the form shows the rule; saving changes it in place.
    let rule_id = rule["id"].as_str().context("rule id")?;
    let edit = admin
        .get(&format!(
            "{}{policies_path}?policy={policy_id}&rule={rule_id}",
            app.base
        ))
        .await?;
    ensure!(
        edit.body.contains("Update Rule") && edit.body.contains("value=\"OpenMetadata sign-in\""),
        "{}",
        edit.body
    );
    post_ok(
        &app,
        &admin,
        &format!("{policies_path}/{policy_id}/rules"),
        &[
            ("csrf", &csrf),
            ("rule_id", rule_id),
            ("rule_name", "OpenMetadata sign-in"),
            ("rule_grants", "authorization_code"),
            ("rule_people", "selected"),
            ("rule_users", &app.alice.id),
            ("rule_scopes_mode", "selected"),
            ("rule_scopes", "openid"),
            ("rule_scopes", "openmetadata"),
            ("rule_access_lifetime", "45"),
            ("rule_refresh_lifetime", "20160"),
            ("rule_refresh_window", "10080"),
        ],
        &policies_path,
    )
    .await?;
    let edited = api_get(
        &app,
        &token,
        &api_path(&id, &format!("/policies/{policy_id}/rules/{rule_id}")),
    )
    .await?;
    ensure!(
        edited["conditions"]["people"]["users"]["include"] == serde_json::json!([app.alice.id])
            && edited["conditions"]["scopes"]["include"]
                == serde_json::json!(["openid", "openmetadata"])
            && edited["actions"]["token"]["accessTokenLifetimeMinutes"] == 45
            && edited["actions"]["token"]["refreshTokenLifetimeMinutes"] == 20160,
        "{edited}"
    );

    // Deleting the rule leaves the policy without one: the server refuses again.
    post_ok(
        &app,
        &admin,
        &format!("{policies_path}/{policy_id}/rules/{rule_id}/delete"),
        &[("csrf", &csrf), ("confirm", "yes")],
        &policies_path,
    )
    .await?;
    let rules = api_get(
        &app,
        &token,
        &api_path(&id, &format!("/policies/{policy_id}/rules")),
    )
    .await?;
    ensure!(rules.as_array().is_some_and(Vec::is_empty), "{rules}");
    post_ok(
        &app,
        &admin,
        &format!("{policies_path}/{policy_id}/delete"),
        &[("csrf", &csrf), ("confirm", "yes")],
        &policies_path,
    )
    .await?;
    let policies = api_get(&app, &token, &api_path(&id, "/policies")).await?;
    ensure!(policies.as_array().is_some_and(Vec::is_empty), "{policies}");
    Ok(())
}

/// The few entities askama escapes in the JSON it shows.
fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

async fn authorization_server_forms_show_errors_next_to_their_fields(
    backend: Backend,
) -> Result<()> {
    let app = spawn_app(backend).await?;
    let admin = admin_browser(&app).await?;
    let (_, csrf) = page_with_csrf(&app, &admin, "/admin/oauth2/as/new").await?;

    // No audience; then a name already taken.
    post_refused(
        &app,
        &admin,
        "/admin/oauth2/as",
        &[("csrf", &csrf), ("as_name", "API"), ("as_audience", "")],
        "as_audience",
    )
    .await?;
    let refused = post_refused(
        &app,
        &admin,
        "/admin/oauth2/as",
        &[
            ("csrf", &csrf),
            ("as_name", "default"),
            ("as_audience", "api://x"),
        ],
        "as_name",
    )
    .await?;
    ensure!(
        refused.body.contains("value=\"api://x\""),
        "the form keeps what was typed"
    );
    // A wrong CSRF token changes nothing.
    let forged = admin
        .post_form(
            &format!("{}/admin/oauth2/as", app.base),
            &[
                ("csrf", "forged"),
                ("as_name", "Forged"),
                ("as_audience", "api://f"),
            ],
        )
        .await?;
    ensure!(forged.status == StatusCode::FORBIDDEN, "{forged:?}");
    let id = add_server(&app, &admin, &csrf, "api://om").await?;
    let token = app.api_token().await?;
    let all = api_get(&app, &token, "/api/v1/authorizationServers").await?;
    ensure!(
        all.as_array()
            .is_some_and(|a| a.iter().all(|s| s["name"] != "Forged")),
        "{all}"
    );

    let base = format!("/admin/oauth2/as/{id}");
    post_refused(
        &app,
        &admin,
        &base,
        &[
            ("csrf", &csrf),
            ("as_name", "OpenMetadata"),
            ("as_audience", "api://om"),
            ("as_issuer_mode", "CUSTOM_URL"),
        ],
        "as_issuer_mode",
    )
    .await?;
    post_refused(
        &app,
        &admin,
        &format!("{base}/scopes"),
        &[
            ("csrf", &csrf),
            ("scope_id", ""),
            ("scope_name", "okta.users.read"),
        ],
        "scope_name",
    )
    .await?;
    // A system scope cannot be deleted: the refusal shows on the Scopes tab.
    let scopes = api_get(&app, &token, &api_path(&id, "/scopes")).await?;
    let openid = scopes
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == "openid"))
        .and_then(|s| s["id"].as_str())
        .context("no openid scope")?
        .to_owned();
    post_refused(
        &app,
        &admin,
        &format!("{base}/scopes/{openid}/delete"),
        &[("csrf", &csrf), ("confirm", "yes")],
        "scopes",
    )
    .await?;
    post_refused(
        &app,
        &admin,
        &format!("{base}/claims"),
        &[
            ("csrf", &csrf),
            ("claim_id", ""),
            ("claim_name", "sub"),
            ("claim_token_type", "RESOURCE"),
            ("claim_value_type", "EXPRESSION"),
            ("claim_value", "user.email"),
        ],
        "claim_name",
    )
    .await?;
    post_refused(
        &app,
        &admin,
        &format!("{base}/claims"),
        &[
            ("csrf", &csrf),
            ("claim_id", ""),
            ("claim_name", "g"),
            ("claim_token_type", "IDENTITY"),
            ("claim_value_type", "GROUPS"),
            ("claim_filter", "REGEX"),
            ("claim_value", "(["),
        ],
        "claim_value",
    )
    .await?;
    post_refused(
        &app,
        &admin,
        &format!("{base}/policies"),
        &[
            ("csrf", &csrf),
            ("policy_id", ""),
            ("policy_name", "P"),
            ("policy_assign", "clients"),
        ],
        "policy_clients",
    )
    .await?;
    post_refused(
        &app,
        &admin,
        &format!("{base}/policies"),
        &[
            ("csrf", &csrf),
            ("policy_id", ""),
            ("policy_name", ""),
            ("policy_assign", "all"),
        ],
        "policy_name",
    )
    .await?;
    let location = post_ok(
        &app,
        &admin,
        &format!("{base}/policies"),
        &[
            ("csrf", &csrf),
            ("policy_id", ""),
            ("policy_name", "P"),
            ("policy_assign", "all"),
        ],
        &format!("{base}/policies"),
    )
    .await?;
    let policies = api_get(&app, &token, &api_path(&id, "/policies")).await?;
    let policy_id = policies[0]["id"].as_str().context("policy id")?.to_owned();
    ensure!(location.contains(&policy_id), "{location}");
    let rules = format!("{base}/policies/{policy_id}/rules");
    let rule = |lifetime: &'static str, window: &'static str, grant: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("rule_id", String::new()),
            ("rule_name", "R".to_owned()),
            ("rule_grants", grant.to_owned()),
            ("rule_people", "any".to_owned()),
            ("rule_scopes_mode", "any".to_owned()),
            ("rule_access_lifetime", lifetime.to_owned()),
            ("rule_refresh_lifetime", "0".to_owned()),
            ("rule_refresh_window", window.to_owned()),
        ]
    };
    for (form, field) in [
        (
            rule("2", "10080", "authorization_code"),
            "rule_access_lifetime",
        ),
        (
            rule("sixty", "10080", "authorization_code"),
            "rule_access_lifetime",
        ),
        (rule("60", "1", "authorization_code"), "rule_refresh_window"),
        (rule("60", "10080", "refresh_token"), "rule_grants"),
    ] {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = post_refused(&app, &admin, &rules, &pairs, field).await?;
        ensure!(
            r.body.contains("id=\"rule-form\""),
            "the rule form stays open"
        );
    }
    let none = api_get(
        &app,
        &token,
        &api_path(&id, &format!("/policies/{policy_id}/rules")),
    )
    .await?;
    ensure!(none.as_array().is_some_and(Vec::is_empty), "{none}");
    post_refused(
        &app,
        &admin,
        &format!("{base}/preview"),
        &[
            ("csrf", &csrf),
            ("preview_client", ""),
            ("preview_grant", "authorization_code"),
        ],
        "preview_client",
    )
    .await?;
    post_refused(
        &app,
        &admin,
        &format!("{base}/preview"),
        &[
            ("csrf", &csrf),
            ("preview_client", app.client_id()),
            ("preview_grant", "authorization_code"),
            ("preview_user", ""),
        ],
        "preview_user",
    )
    .await?;
    // A NUL character (PostgreSQL text cannot hold one) is refused up front, never a 500.
    let nul = admin
        .post_form(
            &format!("{}{base}/policies", app.base),
            &[
                ("csrf", &csrf),
                ("policy_id", ""),
                ("policy_name", "P\0Q"),
                ("policy_assign", "all"),
            ],
        )
        .await?;
    ensure!(nul.status == StatusCode::BAD_REQUEST, "{nul:?}");
    for path in [
        "/admin/oauth2/as/%00".to_owned(),
        format!("{base}/claims?edit=%00"),
    ] {
        let r = admin.get(&format!("{}{path}", app.base)).await?;
        ensure!(r.status == StatusCode::BAD_REQUEST, "{path}: {r:?}");
    }
    // Unknown items are the not-found page, not a 500.
    for path in [
        format!("{base}/scopes?edit=scpNope"),
        format!("{base}/policies?policy=00pNope&rule=new"),
        "/admin/oauth2/as/ausNope/claims".to_owned(),
    ] {
        let r = admin.get(&format!("{}{path}", app.base)).await?;
        ensure!(r.status == StatusCode::NOT_FOUND, "{path}: {r:?}");
    }
    Ok(())
}

async fn authorization_server_lifecycle_and_key_rotation(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let admin = admin_browser(&app).await?;
    let (_, csrf) = page_with_csrf(&app, &admin, "/admin/oauth2/as/new").await?;
    let id = add_server(&app, &admin, &csrf, "api://om").await?;
    let token = app.api_token().await?;
    let base = format!("/admin/oauth2/as/{id}");
    let discovery = format!("{}/oauth2/{id}/.well-known/openid-configuration", app.base);
    let client = http_client()?;
    ensure!(client.get(&discovery).send().await?.status() == StatusCode::OK);

    // Rotate keys: a new active key, the old one still listed.
    let before = api_get(&app, &token, &api_path(&id, "/credentials/keys")).await?;
    post_ok(
        &app,
        &admin,
        &format!("{base}/rotate"),
        &[("csrf", &csrf)],
        &base,
    )
    .await?;
    let after = api_get(&app, &token, &api_path(&id, "/credentials/keys")).await?;
    let active = |keys: &Value| {
        keys.as_array()
            .and_then(|a| a.iter().find(|k| k["status"] == "ACTIVE"))
            .map(|k| k["kid"].clone())
    };
    ensure!(
        active(&before).is_some() && active(&after).is_some() && active(&before) != active(&after),
        "{before} / {after}"
    );
    let page = admin.get(&format!("{}{base}", app.base)).await?;
    for k in after.as_array().into_iter().flatten() {
        let kid = k["kid"].as_str().context("kid")?;
        ensure!(page.body.contains(kid), "key {kid} not listed");
    }

    // An active server cannot be deleted; deactivated, it answers no requests.
    let r = admin
        .post_form(
            &format!("{}{base}/delete", app.base),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await?;
    ensure!(r.status == StatusCode::BAD_REQUEST, "{r:?}");
    post_ok(
        &app,
        &admin,
        &format!("{base}/lifecycle/deactivate"),
        &[("csrf", &csrf), ("confirm", "yes")],
        &base,
    )
    .await?;
    ensure!(api_get(&app, &token, &api_path(&id, "")).await?["status"] == "INACTIVE");
    ensure!(client.get(&discovery).send().await?.status() != StatusCode::OK);
    let page = admin.get(&format!("{}{base}", app.base)).await?;
    ensure!(
        page.status == StatusCode::OK && page.body.contains("INACTIVE"),
        "{page:?}"
    );
    post_ok(
        &app,
        &admin,
        &format!("{base}/lifecycle/activate"),
        &[("csrf", &csrf)],
        &base,
    )
    .await?;
    ensure!(client.get(&discovery).send().await?.status() == StatusCode::OK);
    post_ok(
        &app,
        &admin,
        &format!("{base}/lifecycle/deactivate"),
        &[("csrf", &csrf), ("confirm", "yes")],
        &base,
    )
    .await?;
    post_ok(
        &app,
        &admin,
        &format!("{base}/delete"),
        &[("csrf", &csrf), ("confirm", "yes")],
        "/admin/oauth2/as?notice=server-deleted",
    )
    .await?;
    let r = app
        .api_ssws(Method::GET, &api_path(&id, ""), &token, None)
        .await?;
    ensure!(r.status == StatusCode::NOT_FOUND, "{r:?}");
    let r = admin.get(&format!("{}{base}", app.base)).await?;
    ensure!(r.status == StatusCode::NOT_FOUND, "{r:?}");
    Ok(())
}
