//! More than one client secret per app, as Okta's `/api/v1/apps/{id}/credentials/secrets`
//! does it: a second secret works beside the first, a deactivated one is refused at once at
//! the token, introspection and revocation endpoints (`client_secret_basic`, `_post` and
//! `_jwt`), only an inactive one can be deleted, and the console does the same with CSRF.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::oauth2::client_auth::secret_context;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::client_keys::{JWT_BEARER, assertion_claims, sign_hs256};
use crate::console::{admin_browser, input_value, page_with_csrf};
use crate::helpers::{Auth, Reply, Server, TestApp, spawn_app};

backend_tests!(
    a_second_secret_rotates_without_downtime,
    client_secret_jwt_takes_any_active_secret,
    console_generates_deactivates_and_deletes_secrets,
);

/// Okta's `secret_hash` of a secret: keyed by the server, so only it can compute one.
fn fingerprint(app: &TestApp, app_id: &str, secret: &str) -> String {
    app.provider
        .secrets
        .fingerprint(&secret_context(app_id), secret.as_bytes())
}

fn secrets_path(app_id: &str) -> String {
    format!("/api/v1/apps/{app_id}/credentials/secrets")
}

async fn api(app: &TestApp, token: &str, method: Method, path: &str) -> Result<Reply> {
    app.api_ssws(method, path, token, None).await
}

fn ok(reply: &Reply, status: StatusCode) -> Result<Value> {
    ensure!(reply.status == status, "expected {status}: {reply:?}");
    reply.json()
}

/// An authorization code for the seeded web app, exchanged with these credentials.
async fn code_exchange(app: &TestApp, auth: Auth<'_>) -> Result<Reply> {
    let (_, callback) = app.sign_in_with(&app.authz(Server::Default)).await?;
    app.exchange(Server::Default, &callback.code()?, &[], auth)
        .await
}

async fn introspect_status(app: &TestApp, auth: Auth<'_>) -> Result<StatusCode> {
    Ok(app
        .post_form(Server::Default, "introspect", &[("token", "junk")], auth)
        .await?
        .status)
}

async fn a_second_secret_rotates_without_downtime(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let id = app.web.app.id.clone();
    let client_id = app.client_id().to_owned();
    let old = app.client_secret().to_owned();

    // The app's one secret, by its hash only.
    let listed = ok(
        &api(&app, &token, Method::GET, &secrets_path(&id)).await?,
        StatusCode::OK,
    )?;
    let first = listed[0].clone();
    ensure!(
        listed.as_array().map(Vec::len) == Some(1)
            && first["status"] == "ACTIVE"
            && first["secret_hash"] == fingerprint(&app, &id, &old).as_str()
            && first.get("client_secret").is_none()
            && first["id"].as_str().is_some_and(|i| i.starts_with("ocs"))
            && first["_links"]["deactivate"]["href"]
                .as_str()
                .is_some_and(|h| h.ends_with("/lifecycle/deactivate")),
        "{listed}"
    );
    let first_id = first["id"].as_str().context("id")?.to_owned();

    // A second one, generated: shown once, both work.
    let created = ok(
        &api(&app, &token, Method::POST, &secrets_path(&id)).await?,
        StatusCode::CREATED,
    )?;
    let new = created["client_secret"]
        .as_str()
        .context("client_secret")?
        .to_owned();
    let second_id = created["id"].as_str().context("id")?.to_owned();
    ensure!(
        created["status"] == "ACTIVE"
            && new != old
            && created["secret_hash"] == fingerprint(&app, &id, &new).as_str(),
        "{created}"
    );
    let reply = code_exchange(&app, Auth::Basic(&client_id, &new)).await?;
    ensure!(reply.status == StatusCode::OK, "new secret: {reply:?}");
    ensure!(introspect_status(&app, Auth::Basic(&client_id, &old)).await? == StatusCode::OK);
    ensure!(introspect_status(&app, Auth::Post(&client_id, &new)).await? == StatusCode::OK);
    ensure!(
        introspect_status(&app, Auth::Basic(&client_id, "not-a-secret-at-all")).await?
            == StatusCode::UNAUTHORIZED
    );
    // Stored sealed: neither value is in the store in clear.
    let stored = app.provider.store.list_client_secrets(&id).await?;
    ensure!(
        stored.len() == 2
            && stored
                .iter()
                .all(|s| !s.secret_sealed.contains(&old) && !s.secret_sealed.contains(&new))
    );

    // Okta's limits: two secrets; an active one is not deleted.
    let third = api(&app, &token, Method::POST, &secrets_path(&id)).await?;
    ensure!(
        third.status == StatusCode::BAD_REQUEST && third.json()?["errorCode"] == "E0000001",
        "{third:?}"
    );
    let delete_active = api(
        &app,
        &token,
        Method::DELETE,
        &format!("{}/{first_id}", secrets_path(&id)),
    )
    .await?;
    ensure!(
        delete_active.status == StatusCode::BAD_REQUEST,
        "{delete_active:?}"
    );

    // Deactivating the old one refuses it at once (the client cache is dropped), everywhere.
    let off = ok(
        &api(
            &app,
            &token,
            Method::POST,
            &format!("{}/{first_id}/lifecycle/deactivate", secrets_path(&id)),
        )
        .await?,
        StatusCode::OK,
    )?;
    ensure!(
        off["status"] == "INACTIVE"
            && off["_links"]["activate"].is_object()
            && off["_links"]["delete"].is_object(),
        "{off}"
    );
    let refused = code_exchange(&app, Auth::Basic(&client_id, &old)).await?;
    refused.expect_oauth_error(401, "invalid_client")?;
    ensure!(
        introspect_status(&app, Auth::Post(&client_id, &old)).await? == StatusCode::UNAUTHORIZED
    );
    let revoke = app
        .post_form(
            Server::Default,
            "revoke",
            &[("token", "junk")],
            Auth::Basic(&client_id, &old),
        )
        .await?;
    ensure!(revoke.status == StatusCode::UNAUTHORIZED, "{revoke:?}");
    ensure!(introspect_status(&app, Auth::Basic(&client_id, &new)).await? == StatusCode::OK);

    // The last active secret stays active.
    let last = api(
        &app,
        &token,
        Method::POST,
        &format!("{}/{second_id}/lifecycle/deactivate", secrets_path(&id)),
    )
    .await?;
    ensure!(last.status == StatusCode::BAD_REQUEST, "{last:?}");

    // Reactivated, it works again; deactivated and deleted, it is gone.
    let path = |op: &str| format!("{}/{first_id}/lifecycle/{op}", secrets_path(&id));
    ok(
        &api(&app, &token, Method::POST, &path("activate")).await?,
        StatusCode::OK,
    )?;
    ensure!(introspect_status(&app, Auth::Basic(&client_id, &old)).await? == StatusCode::OK);
    ok(
        &api(&app, &token, Method::POST, &path("deactivate")).await?,
        StatusCode::OK,
    )?;
    let one = format!("{}/{first_id}", secrets_path(&id));
    let deleted = api(&app, &token, Method::DELETE, &one).await?;
    ensure!(deleted.status == StatusCode::NO_CONTENT, "{deleted:?}");
    let gone = api(&app, &token, Method::GET, &one).await?;
    ensure!(gone.status == StatusCode::NOT_FOUND, "{gone:?}");
    let listed = ok(
        &api(&app, &token, Method::GET, &secrets_path(&id)).await?,
        StatusCode::OK,
    )?;
    ensure!(
        listed.as_array().map(Vec::len) == Some(1) && listed[0]["id"] == second_id.as_str(),
        "{listed}"
    );

    // A chosen secret can be given, and an INACTIVE one created.
    let chosen = "a-chosen-secret-of-enough-length";
    let given = api_json(
        &app,
        &token,
        &secrets_path(&id),
        &json!({ "client_secret": chosen, "status": "INACTIVE" }),
    )
    .await?;
    let given = ok(&given, StatusCode::CREATED)?;
    ensure!(
        given["client_secret"] == chosen && given["status"] == "INACTIVE",
        "{given}"
    );
    ensure!(
        introspect_status(&app, Auth::Basic(&client_id, chosen)).await? == StatusCode::UNAUTHORIZED
    );

    // The old "new secret" of dynamic client registration still replaces them all.
    let rotated = app
        .api(
            Method::POST,
            &format!("/oauth2/v1/clients/{client_id}/lifecycle/newSecret"),
            Some(&format!("SSWS {token}")),
            None,
        )
        .await?;
    let rotated = ok(&rotated, StatusCode::OK)?;
    let newest = rotated["client_secret"].as_str().context("client_secret")?;
    ensure!(introspect_status(&app, Auth::Basic(&client_id, newest)).await? == StatusCode::OK);
    ensure!(
        introspect_status(&app, Auth::Basic(&client_id, &new)).await? == StatusCode::UNAUTHORIZED
    );
    ensure!(app.provider.store.list_client_secrets(&id).await?.len() == 1);

    // Each change is in the System Log, by the API caller, without a secret value.
    let logs = ok(
        &api(
            &app,
            &token,
            Method::GET,
            "/api/v1/logs?filter=eventType%20eq%20%22application.lifecycle.update%22&limit=100",
        )
        .await?,
        StatusCode::OK,
    )?;
    let messages: Vec<&str> = logs
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["displayMessage"].as_str())
                .collect()
        })
        .unwrap_or_default();
    for m in [
        "Create client secret",
        "Deactivate client secret",
        "Activate client secret",
        "Delete client secret",
        "Regenerate client secret",
    ] {
        ensure!(messages.contains(&m), "no {m:?} in {messages:?}");
    }
    let text = logs.to_string();
    ensure!(!text.contains(&old) && !text.contains(&new) && !text.contains(chosen));
    ensure!(
        logs.as_array().is_some_and(|a| a.iter().any(|e| {
            e["displayMessage"] == "Delete client secret"
                && e["actor"]["alternateId"] == "it-admin@example.com"
                && e["target"][1]["id"] == first_id.as_str()
        })),
        "{logs}"
    );
    Ok(())
}

async fn api_json(app: &TestApp, token: &str, path: &str, body: &Value) -> Result<Reply> {
    app.api_ssws(Method::POST, path, token, Some(body)).await
}

async fn client_secret_jwt_takes_any_active_secret(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    app.add_default_scope("svc:rotate").await?;
    let client = app
        .register_secret_service_app(&token, "hmac rotation", "client_secret_jwt")
        .await?;
    let client_id = client["client_id"].as_str().context("client_id")?;
    let first = client["client_secret"].as_str().context("client_secret")?;
    let stored = app
        .provider
        .store
        .find_app_by_client_id(client_id)
        .await?
        .context("app")?;
    let created = ok(
        &api(&app, &token, Method::POST, &secrets_path(&stored.id)).await?,
        StatusCode::CREATED,
    )?;
    let second = created["client_secret"].as_str().context("client_secret")?;
    let token_url = app.endpoint(Server::Default, "token");
    let now = {
        use gatehouse_core::provider::Clock as _;
        app.clock.now()
    };
    let with = async |secret: &str| -> Result<Reply> {
        let assertion = sign_hs256(
            &assertion_claims(client_id, &token_url, now),
            secret.as_bytes(),
        )?;
        app.token(
            Server::Default,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &assertion),
            ],
            Auth::None,
        )
        .await
    };
    ensure!(with(first).await?.status == StatusCode::OK);
    ensure!(with(second).await?.status == StatusCode::OK);
    with("neither of the two secrets")
        .await?
        .expect_oauth_error(401, "invalid_client")?;

    let listed = ok(
        &api(&app, &token, Method::GET, &secrets_path(&stored.id)).await?,
        StatusCode::OK,
    )?;
    // Secrets made in the same second list in either order: find the first by its hash.
    let first_id = listed
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|x| x["secret_hash"] == fingerprint(&app, &stored.id, first).as_str())
        })
        .and_then(|x| x["id"].as_str())
        .context("the first secret")?;
    ok(
        &api(
            &app,
            &token,
            Method::POST,
            &format!(
                "{}/{first_id}/lifecycle/deactivate",
                secrets_path(&stored.id)
            ),
        )
        .await?,
        StatusCode::OK,
    )?;
    with(first)
        .await?
        .expect_oauth_error(401, "invalid_client")?;
    ensure!(with(second).await?.status == StatusCode::OK);
    Ok(())
}

/// The `action` of the console form that posts to `…/secrets/{id}/{op}`.
fn secret_action(id: &str, op: &str) -> String {
    format!("secrets/{id}/{op}")
}

async fn console_generates_deactivates_and_deletes_secrets(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let admin = admin_browser(&app).await?;
    let id = app.web.app.id.clone();
    let client_id = app.client_id().to_owned();
    let old = app.client_secret().to_owned();
    let path = format!("/admin/app/oidc_client/instance/{id}/");
    let base = format!("{}{path}", app.base);

    let (page, csrf) = page_with_csrf(&app, &admin, &path).await?;
    ensure!(input_value(&page.body, "client-secret").as_deref() == Some(old.as_str()));
    ensure!(page.body.contains("id=\"generate-secret\""));

    // Without the CSRF token nothing changes.
    let forged = admin.post_form(&format!("{base}secrets"), &[]).await?;
    ensure!(forged.status == StatusCode::FORBIDDEN, "{forged:?}");
    ensure!(app.provider.store.list_client_secrets(&id).await?.len() == 1);

    // "Generate new secret": shown once with a copy button; both listed, both active.
    let generated = admin
        .post_form(&format!("{base}secrets"), &[("csrf", &csrf)])
        .await?;
    ensure!(generated.status == StatusCode::OK, "{generated:?}");
    let new = input_value(&generated.body, "new-client-secret").context("no new secret")?;
    ensure!(new != old && generated.body.contains("data-copy=\"new-client-secret\""));
    ensure!(introspect_status(&app, Auth::Basic(&client_id, &new)).await? == StatusCode::OK);
    ensure!(introspect_status(&app, Auth::Basic(&client_id, &old)).await? == StatusCode::OK);
    let (page, csrf) = page_with_csrf(&app, &admin, &path).await?;
    let mut shown = [
        input_value(&page.body, "client-secret").unwrap_or_default(),
        input_value(&page.body, "client-secret-2").unwrap_or_default(),
    ];
    shown.sort();
    let mut both = [old.clone(), new.clone()];
    both.sort();
    ensure!(shown == both, "{shown:?}");
    ensure!(
        !page.body.contains("id=\"generate-secret\""),
        "a third secret is not offered"
    );
    // Which stored secret is the old one, by its hash.
    let views =
        gatehouse_core::services::apps::list_client_secrets(&app.provider, &app.web.app).await?;
    let (first, second) = match views
        .iter()
        .position(|v| v.secret_hash == fingerprint(&app, &app.web.app.id, &old))
    {
        Some(0) => (views[0].secret.id.clone(), views[1].secret.id.clone()),
        Some(_) => (views[1].secret.id.clone(), views[0].secret.id.clone()),
        None => anyhow::bail!("the old secret is not listed"),
    };
    ensure!(page.body.contains(&secret_action(&first, "deactivate")));
    ensure!(page.body.contains(&secret_action(&second, "deactivate")));

    // Deactivate the old one: refused at once; the new one cannot be deactivated now.
    let off = admin
        .post_form(
            &format!("{base}{}", secret_action(&first, "deactivate")),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await?;
    ensure!(off.status == StatusCode::SEE_OTHER, "{off:?}");
    ensure!(
        introspect_status(&app, Auth::Basic(&client_id, &old)).await? == StatusCode::UNAUTHORIZED
    );
    let (page, csrf) = page_with_csrf(&app, &admin, &path).await?;
    ensure!(page.body.contains("Inactive"));
    ensure!(!page.body.contains(&secret_action(&second, "deactivate")));
    ensure!(page.body.contains(&secret_action(&first, "delete")));

    // Delete it.
    let deleted = admin
        .post_form(
            &format!("{base}{}", secret_action(&first, "delete")),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await?;
    ensure!(deleted.status == StatusCode::SEE_OTHER, "{deleted:?}");
    let left = app.provider.store.list_client_secrets(&id).await?;
    ensure!(left.len() == 1 && left[0].id == second);
    let (page, _) = page_with_csrf(&app, &admin, &path).await?;
    ensure!(input_value(&page.body, "client-secret").as_deref() == Some(new.as_str()));
    ensure!(page.body.contains("id=\"generate-secret\""));
    Ok(())
}
