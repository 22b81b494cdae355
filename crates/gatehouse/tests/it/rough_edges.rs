//! Rough edges found by independent clients (issue 23): `iss` on error responses (RFC 9207 as a
//! per-server setting), the System Log entry of an unassigned user's refusal, userinfo's groups
//! following the same filter as the ID token, the https session cookie for cross-site SPAs, and
//! destructive console actions asking first.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::authz::model::{ClaimType, ClaimValueType, GroupFilterType};
use gatehouse_core::domain::{AppStatus, GroupsClaim, UserStatus};
use gatehouse_core::services::auth_server_config::{ClaimSpec, create_claim};
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::console::{admin_browser, page_with_csrf};
use crate::helpers::{
    Authz, Browser, PASSWORD, Server, TestApp, http_client, jwt_parts, spawn_app, spawn_app_with,
};

backend_tests!(
    error_responses_carry_iss_only_with_rfc9207,
    unassigned_sign_in_is_in_the_system_log,
    userinfo_groups_follow_the_groups_claim_filter,
    https_session_cookie_is_cross_site_and_delete_needs_a_trusted_origin,
    destructive_console_actions_ask_first,
    cli_prints_rp_lines_and_manages_service_apps_and_claims,
);

/// Bob, a valid user, and an app only Alice's team may use.
async fn restricted_app(app: &TestApp) -> Result<(gatehouse_core::domain::User, String)> {
    let bob = app.create_user("bob@example.com").await?;
    let restricted = app.create_web_app("Alice only").await?;
    let group = app.create_group_with("Alice's team", &[&app.alice]).await?;
    gatehouse_core::services::apps::assign_group_to_app(&app.provider, &restricted.app, &group)
        .await?;
    Ok((bob, restricted.app.client_id))
}

async fn iss_supported(app: &TestApp, server: Server) -> Result<Value> {
    let doc = app
        .get(&format!(
            "{}/.well-known/openid-configuration",
            app.issuer(server)
        ))
        .await?
        .json()?;
    Ok(doc["authorization_response_iss_parameter_supported"].clone())
}

async fn error_responses_carry_iss_only_with_rfc9207(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let (bob, client_id) = restricted_app(&app).await?;
    let refused = |server: Server| Authz::new(&app.base, server, &client_id).url();
    // Okta's way by default: the error has no iss, and discovery does not claim RFC 9207.
    for server in Server::ALL {
        let cb = Browser::new()?
            .sign_in(&refused(server), &bob.login, PASSWORD)
            .await?;
        cb.expect_error("access_denied")?;
        ensure!(iss_supported(&app, server).await? == json!(false));
        // A successful response still names its issuer.
        let (_, ok) = app.sign_in_with(&app.authz(server)).await?;
        ensure!(ok.param("iss") == Some(app.issuer(server)), "{ok:?}");
    }
    // RFC 9207 on the default server, through the management API.
    let token = app.api_token().await?;
    let path = "/api/v1/authorizationServers/default";
    let mut body = app
        .api_ssws(Method::GET, path, &token, None)
        .await?
        .json()?;
    ensure!(body["authorizationResponseIss"] == json!(false), "{body}");
    body["authorizationResponseIss"] = json!(true);
    let put = app.api_ssws(Method::PUT, path, &token, Some(&body)).await?;
    ensure!(put.status == StatusCode::OK, "{put:?}");
    ensure!(put.json()?["authorizationResponseIss"] == json!(true));
    // A replace that does not mention it keeps it.
    let mut again = put.json()?;
    again
        .as_object_mut()
        .context("server JSON")?
        .remove("authorizationResponseIss");
    let put = app
        .api_ssws(Method::PUT, path, &token, Some(&again))
        .await?;
    ensure!(
        put.json()?["authorizationResponseIss"] == json!(true),
        "{put:?}"
    );
    ensure!(iss_supported(&app, Server::Default).await? == json!(true));
    let cb = Browser::new()?
        .sign_in(&refused(Server::Default), &bob.login, PASSWORD)
        .await?;
    let issuer = app.issuer(Server::Default);
    cb.expect_error_with_iss("access_denied", Some(&issuer))?;
    // The org server is unchanged until it is set too (`gatehouse auth-server set-iss`).
    ensure!(iss_supported(&app, Server::Org).await? == json!(false));
    gatehouse_core::services::auth_servers::set_authorization_response_iss(
        &app.provider,
        "org",
        true,
    )
    .await?;
    ensure!(iss_supported(&app, Server::Org).await? == json!(true));
    let cb = Browser::new()?
        .sign_in(&refused(Server::Org), &bob.login, PASSWORD)
        .await?;
    cb.expect_error_with_iss("access_denied", Some(&app.issuer(Server::Org)))?;
    Ok(())
}

async fn unassigned_sign_in_is_in_the_system_log(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let (bob, client_id) = restricted_app(&app).await?;
    Browser::new()?
        .sign_in(
            &Authz::new(&app.base, Server::Org, &client_id).url(),
            &bob.login,
            PASSWORD,
        )
        .await?
        .expect_error("access_denied")?;
    let token = app.api_token().await?;
    let filter: String = url::form_urlencoded::byte_serialize(
        br#"eventType eq "app.generic.unauth_app_access_attempt""#,
    )
    .collect();
    let logs = app
        .api_ssws(
            Method::GET,
            &format!("/api/v1/logs?filter={filter}"),
            &token,
            None,
        )
        .await?
        .json()?;
    let events = logs.as_array().context("logs")?;
    ensure!(events.len() == 1, "{logs}");
    let e = &events[0];
    ensure!(e["outcome"]["result"] == "FAILURE", "{e}");
    ensure!(e["actor"]["alternateId"] == bob.login.as_str(), "{e}");
    ensure!(
        e["displayMessage"] == "User attempted unauthorized access to app",
        "{e}"
    );
    ensure!(
        e["target"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["alternateId"] == client_id.as_str())),
        "{e}"
    );
    Ok(())
}

async fn userinfo_groups_follow_the_groups_claim_filter(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    app.create_group_with("nb-admins", &[&app.alice]).await?;
    app.create_group_with("payroll", &[&app.alice]).await?;
    // Org server: the app's groups claim (Sign On tab) filters userinfo as it does ID tokens.
    let mut web = app.web.app.clone();
    web.settings.groups_claim = Some(GroupsClaim {
        name: "groups".into(),
        filter_type: GroupFilterType::StartsWith,
        value: "nb-".into(),
    });
    app.provider.store.update_app(&web).await?;
    app.provider.app_changed(&web.client_id);
    let tokens = app
        .sign_in_and_exchange(Server::Org, "openid profile groups")
        .await?;
    let (_, id_claims) = jwt_parts(tokens.id_token()?)?;
    ensure!(id_claims["groups"] == json!(["nb-admins"]), "{id_claims}");
    let info = app
        .userinfo(Server::Org, &tokens.access_token)
        .await?
        .json()?;
    ensure!(info["groups"] == json!(["nb-admins"]), "{info}");
    // Custom server: its own GROUPS claim filters userinfo too.
    // The default server has a `groups` scope (as Okta seeds it); its claim filters.
    create_claim(
        &app.provider,
        "default",
        ClaimSpec {
            name: "groups".into(),
            status: AppStatus::Active,
            claim_type: ClaimType::Identity,
            value_type: ClaimValueType::Groups,
            value: "nb-".into(),
            group_filter_type: Some(GroupFilterType::StartsWith),
            always_include_in_token: true,
            scopes: vec!["groups".into()],
        },
    )
    .await?;
    let tokens = app
        .sign_in_and_exchange(Server::Default, "openid profile groups")
        .await?;
    let info = app
        .userinfo(Server::Default, &tokens.access_token)
        .await?
        .json()?;
    ensure!(info["groups"] == json!(["nb-admins"]), "{info}");
    Ok(())
}

fn set_cookies(reply: &crate::helpers::Reply) -> Vec<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

async fn https_session_cookie_is_cross_site_and_delete_needs_a_trusted_origin(
    backend: Backend,
) -> Result<()> {
    let public = "https://id.example.test";
    let app = spawn_app_with(backend, |s| s.public_url = Some(public.into())).await?;
    let authn = app
        .api(
            Method::POST,
            "/api/v1/authn",
            None,
            Some(&json!({"username": app.alice.login, "password": PASSWORD})),
        )
        .await?
        .json()?;
    let session_token = authn["sessionToken"].as_str().context("sessionToken")?;
    let q = serde_urlencoded::to_string([
        ("token", session_token),
        ("redirectUrl", &format!("{public}/app/UserHome")),
    ])?;
    let client = http_client()?;
    let reply = crate::helpers::Reply::read(
        client
            .get(format!("{}/login/sessionCookieRedirect?{q}", app.base))
            .send()
            .await?,
    )
    .await?;
    ensure!(reply.status == StatusCode::FOUND, "{reply:?}");
    let all = set_cookies(&reply);
    let session = all
        .iter()
        .find(|c| c.starts_with("__Host-gh_sid="))
        .with_context(|| format!("no __Host- cookie: {all:?}"))?;
    ensure!(
        session.contains("SameSite=None")
            && session.contains("Secure")
            && session.contains("Path=/")
            && session.contains("HttpOnly")
            && !session.contains("Domain"),
        "{session}"
    );
    let value = reply.set_cookie("__Host-gh_sid").context("value")?;
    let me = |cookie: String, method: Method, origin: Option<&'static str>| {
        let client = client.clone();
        let url = format!("{}/api/v1/sessions/me", app.base);
        async move {
            let mut req = client.request(method, url).header("cookie", cookie);
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            crate::helpers::Reply::read(req.send().await?).await
        }
    };
    let host_cookie = format!("__Host-gh_sid={value}");
    ensure!(me(host_cookie.clone(), Method::GET, None).await?.status == StatusCode::OK);
    // A session cookie from before (named gh_sid) still counts.
    ensure!(
        me(format!("gh_sid={value}"), Method::GET, None)
            .await?
            .status
            == StatusCode::OK
    );
    // Another site that is not a trusted origin cannot end it, even with the cookie.
    let spa = "https://spa.other.example";
    let refused = me(host_cookie.clone(), Method::DELETE, Some(spa)).await?;
    ensure!(refused.status == StatusCode::FORBIDDEN, "{refused:?}");
    ensure!(me(host_cookie.clone(), Method::GET, None).await?.status == StatusCode::OK);
    // Once trusted for CORS, it can (OpenMetadata's logout from its own site).
    let token = app.api_token().await?;
    let created = app
        .api_ssws(
            Method::POST,
            "/api/v1/trustedOrigins",
            &token,
            Some(&json!({"name": "OM", "origin": spa, "scopes": [{"type": "CORS"}]})),
        )
        .await?;
    ensure!(created.status.is_success(), "{created:?}");
    let ended = me(host_cookie.clone(), Method::DELETE, Some(spa)).await?;
    ensure!(ended.status == StatusCode::NO_CONTENT, "{ended:?}");
    ensure!(
        ended.header("access-control-allow-origin") == Some(spa),
        "{ended:?}"
    );
    let cleared = set_cookies(&ended);
    ensure!(
        cleared
            .iter()
            .any(|c| c.starts_with("__Host-gh_sid=;") && c.contains("Max-Age=0"))
            && cleared.iter().any(|c| c.starts_with("gh_sid=;")),
        "{cleared:?}"
    );
    ensure!(me(host_cookie, Method::GET, None).await?.status == StatusCode::NOT_FOUND);
    Ok(())
}

async fn destructive_console_actions_ask_first(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let carol = app.create_user("carol@example.com").await?;
    let admin = admin_browser(&app).await?;
    let (page, csrf) = page_with_csrf(
        &app,
        &admin,
        &format!("/admin/user/profile/view/{}", carol.id),
    )
    .await?;
    ensure!(page.status == StatusCode::OK);
    let deactivate = format!("{}/admin/user/{}/lifecycle/deactivate", app.base, carol.id);
    // The button's POST asks first and changes nothing.
    let ask = admin.post_form(&deactivate, &[("csrf", &csrf)]).await?;
    ensure!(ask.status == StatusCode::OK, "{ask:?}");
    ensure!(ask.body.contains("Deactivate this person?"), "{ask:?}");
    ensure!(
        ask.body.contains(r#"name="confirm" value="yes""#)
            && ask.body.contains(&format!(r#"name="csrf" value="{csrf}""#)),
        "the confirmation posts the same fields with confirm=yes: {ask:?}"
    );
    let status = |id: String| {
        let provider = app.provider.clone();
        async move {
            Ok::<_, anyhow::Error>(provider.store.find_user(&id).await?.context("user")?.status)
        }
    };
    ensure!(status(carol.id.clone()).await? == UserStatus::Active);
    // A forged token gets no confirmation page, and nothing happens.
    let forged = admin.post_form(&deactivate, &[("csrf", "forged")]).await?;
    ensure!(
        !forged.body.contains("Deactivate this person?"),
        "{forged:?}"
    );
    ensure!(status(carol.id.clone()).await? == UserStatus::Active);
    // Confirmed: done.
    let done = admin
        .post_form(&deactivate, &[("csrf", &csrf), ("confirm", "yes")])
        .await?;
    ensure!(done.status == StatusCode::SEE_OTHER, "{done:?}");
    ensure!(status(carol.id.clone()).await? == UserStatus::Deprovisioned);
    // The others too: deleting a trusted origin, a group; revoking an API token.
    let group = app.create_group_with("Temp", &[]).await?;
    let ask = admin
        .post_form(
            &format!("{}/admin/group/{}/delete", app.base, group.id),
            &[("csrf", &csrf)],
        )
        .await?;
    ensure!(ask.body.contains("Delete this group?"), "{ask:?}");
    ensure!(
        app.provider.store.find_group(&group.id).await?.is_some(),
        "asking deleted the group"
    );
    // The console shows the Okta domain without its scheme, the org URL with it.
    let apps_page = admin.get(&format!("{}/admin/dashboard", app.base)).await?;
    let domain = app.base.trim_start_matches("http://");
    ensure!(
        apps_page
            .body
            .contains(&format!(r#"id="okta-domain" value="{domain}""#))
            && apps_page
                .body
                .contains(&format!(r#"id="org-url" value="{}""#, app.base)),
        "{apps_page:?}"
    );
    Ok(())
}

/// `gatehouse` on the test's database with a config file that has `public_url`.
/// The command's success, its stdout (a `--output json` answer, alone), and stdout after stderr
/// for the messages of failed checks.
fn cli(app: &TestApp, dir: &std::path::Path, args: &[&str]) -> Result<(bool, String)> {
    let (ok, _, text) = cli_with_stdout(app, dir, args)?;
    Ok((ok, text))
}

fn cli_with_stdout(
    app: &TestApp,
    dir: &std::path::Path,
    args: &[&str],
) -> Result<(bool, String, String)> {
    let out = tokio::task::block_in_place(|| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--config")
            .arg(dir.join("gatehouse.toml"))
            .args(["--database-url", &app.database_url])
            .args(args)
            .env("GATEHOUSE_ENCRYPTION_KEY", &app.encryption_key)
            .env_remove("GATEHOUSE_PUBLIC_URL")
            .output()
    })?;
    // A warning the command logs (sqlx's slow statement on a loaded PostgreSQL) goes to stderr:
    // it is in the text for failed checks, never in the JSON parsed from stdout.
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = format!("{}{stdout}", String::from_utf8_lossy(&out.stderr));
    Ok((out.status.success(), stdout, text))
}

async fn cli_prints_rp_lines_and_manages_service_apps_and_claims(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let dir = std::env::temp_dir().join(format!("gh-edges-cli-{}", app.web.app.id));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("gatehouse.toml"),
        "public_url = \"https://id.example.com\"\n",
    )?;
    let result = async {
        // The public URL comes from the config, with no --public-url.
        let (ok, out) = cli(
            &app,
            &dir,
            &[
                "app",
                "create-oidc",
                "--type",
                "web",
                "--label",
                "NetBox",
                "--redirect-uri",
                "https://netbox.example.com/oauth/complete/oidc/",
            ],
        )?;
        ensure!(ok, "{out}");
        for line in [
            "Okta domain:  id.example.com",
            "Org issuer:   https://id.example.com",
            "discovery:  https://id.example.com/.well-known/openid-configuration",
            "discovery:  https://id.example.com/oauth2/default/.well-known/openid-configuration",
            "SOCIAL_AUTH_OKTA_OPENIDCONNECT_API_URL = 'https://id.example.com/oauth2/'",
            "SOCIAL_AUTH_OIDC_OIDC_ENDPOINT = 'https://id.example.com'",
            "authority: https://id.example.com",
            "callbackUrl: https://netbox.example.com/callback",
            "OIDCProviderMetadataURL https://id.example.com/.well-known/openid-configuration",
        ] {
            ensure!(out.contains(line), "missing {line:?} in:\n{out}");
        }
        ensure!(!out.contains("127.0.0.1:8080"), "{out}");
        // A service app with private_key_jwt and an Okta API scope.
        let key = crate::client_keys::ClientKey::rsa("svc-1")?;
        let jwks = dir.join("jwks.json");
        std::fs::write(&jwks, json!({"keys": [key.jwk]}).to_string())?;
        let jwks = jwks.to_string_lossy().into_owned();
        let (ok, out) = cli(
            &app,
            &dir,
            &[
                "app",
                "create-service",
                "--label",
                "Ingestion",
                "--jwks",
                &jwks,
                "--grant-scope",
                "okta.users.read",
                "--output",
                "json",
            ],
        )?;
        ensure!(ok, "{out}");
        let created: Value = serde_json::from_str(out.lines().last().unwrap_or_default())
            .with_context(|| format!("no JSON on the last line of:\n{out}"))?;
        ensure!(
            created["token_endpoint_auth_method"] == "private_key_jwt",
            "{created}"
        );
        ensure!(created["client_secret"].is_null(), "{created}");
        let client_id = created["client_id"].as_str().context("client id")?;
        let stored = app
            .provider
            .store
            .find_app_by_client_id(client_id)
            .await?
            .context("the service app")?;
        ensure!(stored.settings.grant_types == ["client_credentials"]);
        let grants = gatehouse_core::services::app_grants::list(&app.provider, &stored).await?;
        ensure!(
            grants.len() == 1 && grants[0].scope_id == "okta.users.read",
            "{grants:?}"
        );
        // Claims of a custom server.
        let (ok, out) = cli(
            &app,
            &dir,
            &[
                "auth-server",
                "claim",
                "add",
                "--id",
                "default",
                "--name",
                "team",
                "--groups",
                "STARTS_WITH:nb-",
                "--scope",
                "groups",
            ],
        )?;
        ensure!(ok, "{out}");
        let (ok, json, out) = cli_with_stdout(
            &app,
            &dir,
            &[
                "auth-server",
                "claim",
                "list",
                "--id",
                "default",
                "--output",
                "json",
            ],
        )?;
        ensure!(ok, "{out}");
        let claims: Value =
            serde_json::from_str(&json).with_context(|| format!("not JSON on stdout: {out}"))?;
        let team = claims
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == "team"))
            .with_context(|| format!("{claims}"))?;
        ensure!(
            team["valueType"] == "GROUPS"
                && team["group_filter_type"] == "STARTS_WITH"
                && team["conditions"]["scopes"] == json!(["groups"]),
            "{team}"
        );
        let (ok, out) = cli(
            &app,
            &dir,
            &["auth-server", "claim", "remove", "--id", "default", "team"],
        )?;
        ensure!(ok, "{out}");
        let (_, out) = cli(
            &app,
            &dir,
            &["auth-server", "claim", "list", "--id", "default"],
        )?;
        ensure!(!out.contains("\tteam\t"), "{out}");
        // RFC 9207 per server from the CLI.
        let (ok, out) = cli(
            &app,
            &dir,
            &["auth-server", "set-iss", "--id", "org", "--mode", "on"],
        )?;
        ensure!(ok, "{out}");
        let org = app
            .provider
            .store
            .find_auth_server("org")
            .await?
            .context("org")?;
        ensure!(org.authorization_response_iss);
        Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}
