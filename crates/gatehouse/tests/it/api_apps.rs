//! Apps created through `/api/v1/apps` (with an SSWS token, as Okta's SDKs and Terraform do)
//! sign users in: assignment, the code flow for a web app and an SPA, deactivation, and a
//! rotated client secret.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Auth, Authz, Browser, PASSWORD, REDIRECT_URI, Reply, STATE, Server, TestApp, Tokens, VERIFIER,
    spawn_app,
};

backend_tests!(
    web_app_created_by_api_signs_users_in,
    netbox_terraform_app_from_seed_signs_users_in,
    spa_created_by_api_signs_users_in_with_pkce,
    failed_create_changes_nothing,
);

fn oidc_app(label: &str, application_type: &str, auth_method: &str) -> Value {
    json!({
        "name": "oidc_client",
        "label": label,
        "signOnMode": "OPENID_CONNECT",
        "credentials": { "oauthClient": {
            "autoKeyRotation": true,
            "token_endpoint_auth_method": auth_method,
        } },
        "settings": { "oauthClient": {
            "application_type": application_type,
            "redirect_uris": [REDIRECT_URI],
            "post_logout_redirect_uris": ["https://app.example.com/signed-out"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "consent_method": "TRUSTED",
            "issuer_mode": "DYNAMIC",
            "some_future_setting": { "ignored": true },
        } },
    })
}

fn ok_json(reply: &Reply) -> Result<Value> {
    ensure!(reply.status == StatusCode::OK, "expected 200: {reply:?}");
    reply.json()
}

async fn everyone_id(app: &TestApp, token: &str) -> Result<String> {
    let groups = ok_json(
        &app.api_ssws(Method::GET, "/api/v1/groups?q=Everyone", token, None)
            .await?,
    )?;
    groups[0]["id"]
        .as_str()
        .map(str::to_owned)
        .context("no Everyone group")
}

/// Signs alice in for `client_id` and returns where the browser was sent back to.
async fn sign_in(app: &TestApp, authz: &Authz) -> Result<crate::helpers::Callback> {
    Browser::new()?
        .sign_in(&authz.url(), &app.alice.login, PASSWORD)
        .await
}

async fn exchange(app: &TestApp, code: &str, auth: Auth<'_>) -> Result<Reply> {
    app.token(
        Server::Default,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ],
        auth,
    )
    .await
}

async fn web_app_created_by_api_signs_users_in(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let created = ok_json(
        &app.api_ssws(
            Method::POST,
            "/api/v1/apps",
            &token,
            Some(&oidc_app("API web app", "web", "client_secret_basic")),
        )
        .await?,
    )?;
    let id = created["id"].as_str().context("id")?.to_owned();
    let client_id = created["credentials"]["oauthClient"]["client_id"]
        .as_str()
        .context("client_id")?
        .to_owned();
    let secret = created["credentials"]["oauthClient"]["client_secret"]
        .as_str()
        .context("client_secret")?
        .to_owned();
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(client_id, id);

    // Stored sealed, never in clear.
    let stored = app
        .provider
        .store
        .find_app(&id)
        .await?
        .context("stored app")?;
    let sealed = app.provider.store.list_client_secrets(&stored.id).await?;
    assert!(sealed.len() == 1 && !sealed[0].secret_sealed.contains(&secret));

    // Not assigned yet: Okta answers access_denied.
    let authz = Authz::new(&app.base, Server::Default, &client_id).pkce();
    let callback = sign_in(&app, &authz).await?;
    assert_eq!(callback.param("error").as_deref(), Some("access_denied"));

    // Assign Everyone through the API, then the code flow completes.
    let everyone = everyone_id(&app, &token).await?;
    ok_json(
        &app.api_ssws(
            Method::PUT,
            &format!("/api/v1/apps/{id}/groups/{everyone}"),
            &token,
            Some(&json!({})),
        )
        .await?,
    )?;
    // Okta lists users assigned through a group too, with scope GROUP.
    let users = ok_json(
        &app.api_ssws(
            Method::GET,
            &format!("/api/v1/apps/{id}/users"),
            &token,
            None,
        )
        .await?,
    )?;
    let alice = users
        .as_array()
        .and_then(|u| u.iter().find(|u| u["id"] == app.alice.id.as_str()))
        .context("alice is listed")?;
    assert_eq!(alice["scope"], "GROUP");
    assert_eq!(alice["credentials"]["userName"], app.alice.login.as_str());

    let authz = authz.scope("openid profile email offline_access");
    let callback = sign_in(&app, &authz).await?;
    assert_eq!(callback.param("state").as_deref(), Some(STATE));
    let tokens = Tokens::from_reply(
        exchange(&app, &callback.code()?, Auth::Basic(&client_id, &secret)).await?,
    )?;
    let claims = app
        .verify_jwt(Server::Default, tokens.id_token()?, &client_id)
        .await?;
    assert_eq!(claims["sub"], app.alice.id.as_str());
    let refresh = tokens.refresh_token.clone().context("refresh token")?;
    let refresh_with = async |secret: &str, refresh: &str| {
        app.token(
            Server::Default,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            Auth::Basic(&client_id, secret),
        )
        .await
    };

    // A second secret works beside the first; once the first is deactivated, it is refused.
    let new = app
        .api_ssws(
            Method::POST,
            &format!("/api/v1/apps/{id}/credentials/secrets"),
            &token,
            None,
        )
        .await?;
    ensure!(new.status == StatusCode::CREATED, "{new:?}");
    let new_secret = new.json()?["client_secret"]
        .as_str()
        .context("new client_secret")?
        .to_owned();
    assert_ne!(new_secret, secret);
    let new_id = new.json()?["id"].as_str().context("id")?.to_owned();
    let both = Tokens::from_reply(refresh_with(&secret, &refresh).await?)?;
    let refresh = both.refresh_token.clone().context("rotated refresh")?;
    let listed = ok_json(
        &app.api_ssws(
            Method::GET,
            &format!("/api/v1/apps/{id}/credentials/secrets"),
            &token,
            None,
        )
        .await?,
    )?;
    let old_id = listed
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] != new_id.as_str()))
        .and_then(|x| x["id"].as_str())
        .context("the first secret")?
        .to_owned();
    ok_json(
        &app.api_ssws(
            Method::POST,
            &format!("/api/v1/apps/{id}/credentials/secrets/{old_id}/lifecycle/deactivate"),
            &token,
            None,
        )
        .await?,
    )?;
    let old = refresh_with(&secret, &refresh).await?;
    assert_eq!(
        old.oauth_error().as_deref(),
        Some("invalid_client"),
        "{old:?}"
    );
    let renewed = Tokens::from_reply(refresh_with(&new_secret, &refresh).await?)?;
    let refresh = renewed.refresh_token.clone().context("rotated refresh")?;

    // Deactivated through the API: neither authorize nor the token endpoint accept the client.
    let done = app
        .api_ssws(
            Method::POST,
            &format!("/api/v1/apps/{id}/lifecycle/deactivate"),
            &token,
            None,
        )
        .await?;
    ok_json(&done)?;
    let page = Browser::new()?.get(&authz.url()).await?;
    page.assert_error_page("invalid_client");
    let refused = refresh_with(&new_secret, &refresh).await?;
    assert_eq!(
        refused.oauth_error().as_deref(),
        Some("invalid_client"),
        "{refused:?}"
    );

    // Reactivated, it works again; deleted (after deactivation), it is gone.
    ok_json(
        &app.api_ssws(
            Method::POST,
            &format!("/api/v1/apps/{id}/lifecycle/activate"),
            &token,
            None,
        )
        .await?,
    )?;
    Tokens::from_reply(refresh_with(&new_secret, &refresh).await?)?;
    let active_delete = app
        .api_ssws(Method::DELETE, &format!("/api/v1/apps/{id}"), &token, None)
        .await?;
    assert_eq!(active_delete.status, StatusCode::FORBIDDEN);
    assert_eq!(active_delete.json()?["errorCode"], "E0000056");
    app.api_ssws(
        Method::POST,
        &format!("/api/v1/apps/{id}/lifecycle/deactivate"),
        &token,
        None,
    )
    .await?;
    let deleted = app
        .api_ssws(Method::DELETE, &format!("/api/v1/apps/{id}"), &token, None)
        .await?;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    assert!(app.provider.store.find_app(&id).await?.is_none());
    Ok(())
}

/// seeds/001: Terraform's `okta_app_oauth` for NetBox (web; authorization_code,
/// client_credentials and implicit; code, token and id_token; login_mode SPEC with a login URI),
/// assigned to `Everyone` with `okta_app_group_assignment`; NetBox then uses the code flow.
async fn netbox_terraform_app_from_seed_signs_users_in(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let hostname = "netbox.example.com";
    let body = json!({
        "name": "oidc_client",
        "label": "NetBox",
        "signOnMode": "OPENID_CONNECT",
        "visibility": { "autoSubmitToolbar": false, "hide": { "iOS": false, "web": false } },
        "credentials": { "oauthClient": {
            "autoKeyRotation": true,
            "token_endpoint_auth_method": "client_secret_basic",
        } },
        "settings": { "oauthClient": {
            "application_type": "web",
            "grant_types": ["authorization_code", "client_credentials", "implicit"],
            "response_types": ["code", "token", "id_token"],
            "initiate_login_uri": format!("https://{hostname}/oauth/login/okta-openidconnect/"),
            "idp_initiated_login": { "mode": "SPEC", "default_scope": [] },
            "redirect_uris": [REDIRECT_URI],
            "post_logout_redirect_uris": [format!("http://{hostname}/disconnect/okta-openidconnect/")],
        } },
    });
    let created = ok_json(
        &app.api_ssws(
            Method::POST,
            "/api/v1/apps?activate=true",
            &token,
            Some(&body),
        )
        .await?,
    )?;
    let id = created["id"].as_str().context("id")?.to_owned();
    let secret = created["credentials"]["oauthClient"]["client_secret"]
        .as_str()
        .context("client_secret")?
        .to_owned();
    let settings = &created["settings"]["oauthClient"];
    assert_eq!(settings["idp_initiated_login"]["mode"], "SPEC");
    assert_eq!(
        settings["grant_types"],
        json!(["authorization_code", "client_credentials", "implicit"])
    );
    assert_eq!(created["visibility"]["hide"]["web"], false);
    let everyone = everyone_id(&app, &token).await?;
    ok_json(
        &app.api_ssws(
            Method::PUT,
            &format!("/api/v1/apps/{id}/groups/{everyone}"),
            &token,
            Some(&json!({ "priority": 0, "profile": {} })),
        )
        .await?,
    )?;
    let callback = sign_in(&app, &Authz::new(&app.base, Server::Org, &id)).await?;
    let reply = app
        .token(
            Server::Org,
            &[
                ("grant_type", "authorization_code"),
                ("code", &callback.code()?),
                ("redirect_uri", REDIRECT_URI),
            ],
            Auth::Basic(&id, &secret),
        )
        .await?;
    let tokens = Tokens::from_reply(reply)?;
    let claims = app.verify_jwt(Server::Org, tokens.id_token()?, &id).await?;
    assert_eq!(claims["preferred_username"], app.alice.login.as_str());
    Ok(())
}

async fn spa_created_by_api_signs_users_in_with_pkce(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let created = ok_json(
        &app.api_ssws(
            Method::POST,
            "/api/v1/apps",
            &token,
            Some(&oidc_app("API SPA", "browser", "none")),
        )
        .await?,
    )?;
    let id = created["id"].as_str().context("id")?.to_owned();
    let oauth = &created["credentials"]["oauthClient"];
    assert!(oauth.get("client_secret").is_none(), "{created}");
    assert_eq!(oauth["pkce_required"], true);

    // Assign alice directly.
    let assigned = ok_json(
        &app.api_ssws(
            Method::POST,
            &format!("/api/v1/apps/{id}/users"),
            &token,
            Some(&json!({ "id": app.alice.id, "scope": "USER" })),
        )
        .await?,
    )?;
    assert_eq!(assigned["scope"], "USER");

    // PKCE is required.
    let no_pkce = Authz::new(&app.base, Server::Default, &id);
    let callback = Browser::new()?.authorize_redirect(&no_pkce.url()).await?;
    assert_eq!(callback.param("error").as_deref(), Some("invalid_request"));

    let callback = sign_in(&app, &no_pkce.pkce()).await?;
    let tokens = Tokens::from_reply(exchange(&app, &callback.code()?, Auth::Public(&id)).await?)?;
    let claims = app
        .verify_jwt(Server::Default, tokens.id_token()?, &id)
        .await?;
    assert_eq!(claims["sub"], app.alice.id.as_str());

    // Unassigned again: access_denied.
    let gone = app
        .api_ssws(
            Method::DELETE,
            &format!("/api/v1/apps/{id}/users/{}", app.alice.id),
            &token,
            None,
        )
        .await?;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{gone:?}");
    let callback = sign_in(&app, &Authz::new(&app.base, Server::Default, &id).pkce()).await?;
    assert_eq!(callback.param("error").as_deref(), Some("access_denied"));
    Ok(())
}

async fn failed_create_changes_nothing(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let before = app.provider.store.list_apps(ALL).await?.len();
    let mut bad_bodies = vec![
        json!({ "label": "no name" }),
        json!({ "name": "bookmark", "label": "x" }),
        json!({ "name": "oidc_client", "label": 7 }),
        json!({ "name": "oidc_client", "label": "x", "settings": "nope" }),
        json!({ "name": "oidc_client", "label": "x",
                "settings": { "oauthClient": { "redirect_uris": "https://a.example/cb" } } }),
        json!({ "name": "oidc_client", "label": "x",
                "credentials": { "oauthClient": { "pkce_required": "yes" } } }),
        json!({ "name": "oidc_client", "label": "x",
                "settings": { "oauthClient": { "application_type": "desktop" } } }),
    ];
    for (field, value) in [
        ("redirect_uris", json!(["javascript:alert(1)"])),
        ("redirect_uris", json!(["https://a.example/cb#x"])),
        ("redirect_uris", json!(["/relative/cb"])),
        ("grant_types", json!(["authorization_code", "password"])),
        ("response_types", json!(["code", "token"])),
    ] {
        let mut body = oidc_app("bad", "web", "client_secret_basic");
        body["settings"]["oauthClient"][field] = value;
        bad_bodies.push(body);
    }
    bad_bodies.push(oidc_app("bad SPA", "browser", "client_secret_post"));
    let mut service = oidc_app("bad service", "service", "client_secret_basic");
    service["settings"]["oauthClient"]["grant_types"] = json!(["client_credentials"]);
    bad_bodies.push(service);

    for body in &bad_bodies {
        let reply = app
            .api_ssws(Method::POST, "/api/v1/apps", &token, Some(body))
            .await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {reply:?}");
        let err = reply.json()?;
        assert_eq!(err["errorCode"], "E0000001", "{body}: {err}");
        assert!(
            err["errorCauses"][0]["errorSummary"]
                .as_str()
                .is_some_and(|s| s.contains(':')),
            "the cause names the field: {err}"
        );
    }
    assert_eq!(app.provider.store.list_apps(ALL).await?.len(), before);

    // A failed replace leaves the app as it was.
    let created = ok_json(
        &app.api_ssws(
            Method::POST,
            "/api/v1/apps",
            &token,
            Some(&oidc_app("good", "web", "client_secret_basic")),
        )
        .await?,
    )?;
    let id = created["id"].as_str().context("id")?;
    let mut bad = oidc_app("renamed", "web", "client_secret_basic");
    bad["settings"]["oauthClient"]["redirect_uris"] = json!(["data:text/html,x"]);
    let reply = app
        .api_ssws(
            Method::PUT,
            &format!("/api/v1/apps/{id}"),
            &token,
            Some(&bad),
        )
        .await?;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    let got = ok_json(
        &app.api_ssws(Method::GET, &format!("/api/v1/apps/{id}"), &token, None)
            .await?,
    )?;
    assert_eq!(got["label"], "good");
    assert_eq!(
        got["settings"]["oauthClient"]["redirect_uris"],
        json!([REDIRECT_URI])
    );
    Ok(())
}

const ALL: gatehouse_core::store::Page<'static> = gatehouse_core::store::Page {
    after: None,
    limit: 1000,
};
