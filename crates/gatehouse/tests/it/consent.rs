//! User consent (Okta's "Require consent"): the consent page after sign-in and with a live
//! session, Allow and Don't Allow, `prompt=consent` and `prompt=none`, the user grants API, and
//! the CSRF check of the page's form.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::authz::model::{MetadataPublish, ScopeConsent};
use gatehouse_core::domain::{ApplicationType, TokenEndpointAuthMethod};
use gatehouse_core::services::apps::{self, CreatedApp, OidcAppSpec, assign_group_to_app};
use gatehouse_core::services::auth_server_config::{ScopeSpec, create_scope};
use gatehouse_core::services::directory::find_group_by_id_or_name;
use gatehouse_core::services::system_log::Actor;
use gatehouse_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Auth, Authz, Browser, Callback, PASSWORD, REDIRECT_URI, Reply, Server, TestApp, Tokens,
    hidden_input, spawn_app,
};

backend_tests!(
    consent_page_after_sign_in_then_not_asked_again,
    prompt_consent_asks_again_and_trusted_apps_are_not_asked,
    dont_allow_is_access_denied,
    prompt_none_needing_consent_is_consent_required,
    revoking_grants_asks_again,
    dashboard_revoke_asks_again,
    consent_form_needs_its_csrf_token_and_session,
    apps_api_stores_consent_method,
);

const SCOPE: &str = "car:drive";
const SCOPES: &str = "openid profile car:drive";

/// The `default` server gets `car:drive` (consent REQUIRED) and an app that requires consent,
/// assigned to Everyone.
async fn setup(backend: Backend) -> Result<(TestApp, CreatedApp)> {
    let app = spawn_app(backend).await?;
    create_scope(
        &app.provider,
        "default",
        ScopeSpec {
            name: SCOPE.into(),
            display_name: Some("Drive your car".into()),
            description: Some("Start the engine and drive away.".into()),
            consent: ScopeConsent::Required,
            default: false,
            metadata_publish: MetadataPublish::NoClients,
            optional: false,
        },
    )
    .await?;
    let client = consent_app(&app, "Car Share", Some("REQUIRED")).await?;
    Ok((app, client))
}

async fn consent_app(app: &TestApp, label: &str, method: Option<&str>) -> Result<CreatedApp> {
    let mut spec = OidcAppSpec::new(label, ApplicationType::Web);
    spec.redirect_uris = vec![REDIRECT_URI.into()];
    spec.grant_types = vec!["authorization_code".into()];
    spec.token_endpoint_auth_method = Some(TokenEndpointAuthMethod::ClientSecretBasic);
    spec.consent_method = method.map(str::to_owned);
    spec.metadata.tos_uri = Some("https://carshare.example/tos".into());
    spec.metadata.policy_uri = Some("https://carshare.example/privacy".into());
    let created = apps::create(&app.provider, &Actor::system(), spec).await?;
    let everyone = find_group_by_id_or_name(&app.provider, "Everyone").await?;
    assign_group_to_app(&app.provider, &created.app, &everyone).await?;
    Ok(created)
}

fn authz(app: &TestApp, client: &CreatedApp) -> Authz {
    Authz::new(&app.base, Server::Default, &client.app.client_id).scope(SCOPES)
}

fn basic(client: &CreatedApp) -> Auth<'_> {
    Auth::Basic(
        &client.app.client_id,
        client.client_secret.as_deref().unwrap_or_default(),
    )
}

/// The consent form of a page, if it is the consent page.
struct ConsentForm {
    action: String,
    tx: String,
    csrf: String,
}

fn consent_form(page: &Reply) -> Result<ConsentForm> {
    ensure!(page.status == StatusCode::OK, "expected a page: {page:?}");
    ensure!(
        page.body.contains("id=\"consent-allow\""),
        "not the consent page: {page:?}"
    );
    let form = page.login_form().context("no form")?;
    ensure!(hidden_input(&page.body, "decision").is_none());
    Ok(ConsentForm {
        action: form.action,
        tx: form.tx,
        csrf: form.csrf,
    })
}

/// Signs alice in and expects the consent page (the sign-in sets the session cookie with it).
async fn sign_in_to_consent(
    browser: &Browser,
    url: &str,
    app: &TestApp,
) -> Result<(Reply, ConsentForm)> {
    let login = browser.open_login(url).await?;
    let page = browser.submit(&login, &app.alice.login, PASSWORD).await?;
    ensure!(
        page.set_cookie("gh_sid").is_some_and(|s| !s.is_empty()),
        "the sign-in opened no session: {page:?}"
    );
    ensure!(page.set_cookie("gh_csrf").is_some(), "{page:?}");
    let form = consent_form(&page)?;
    Ok((page, form))
}

async fn answer(browser: &Browser, form: &ConsentForm, decision: &str) -> Result<Callback> {
    let reply = browser
        .post_form(
            &form.action,
            &[
                ("tx", &form.tx),
                ("csrf", &form.csrf),
                ("decision", decision),
            ],
        )
        .await?;
    ensure!(
        reply.status == StatusCode::FOUND,
        "expected a redirect: {reply:?}"
    );
    Ok(Callback {
        url: reply.location().context("no Location")?,
    })
}

async fn scopes_of(app: &TestApp, client: &CreatedApp, callback: &Callback) -> Result<String> {
    let tokens = Tokens::from_reply(
        app.exchange(Server::Default, &callback.code()?, &[], basic(client))
            .await?,
    )?;
    Ok(tokens.response["scope"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

async fn grants(app: &TestApp, token: &str) -> Result<Vec<Value>> {
    let reply = app
        .api_ssws(
            Method::GET,
            &format!("/api/v1/users/{}/grants?expand=scope", app.alice.id),
            token,
            None,
        )
        .await?;
    ensure!(reply.status == StatusCode::OK, "{reply:?}");
    Ok(reply.json()?.as_array().cloned().unwrap_or_default())
}

async fn consent_page_after_sign_in_then_not_asked_again(backend: Backend) -> Result<()> {
    let (app, client) = setup(backend).await?;
    let browser = Browser::new()?;
    let (page, form) = sign_in_to_consent(&browser, &authz(&app, &client).url(), &app).await?;
    // The app, the scope's phrase and description, and the app's links.
    for text in [
        "Car Share",
        "Drive your car",
        "Start the engine and drive away.",
        "https://carshare.example/tos",
        "https://carshare.example/privacy",
        "data-scope=\"car:drive\"",
    ] {
        ensure!(page.body.contains(text), "the page lacks {text}: {page:?}");
    }
    // openid and profile are implicit: not listed.
    ensure!(!page.body.contains("data-scope=\"openid\""), "{page:?}");
    let csp = page.header("content-security-policy").unwrap_or_default();
    ensure!(
        csp.contains("script-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    ensure!(
        form.action == format!("{}/login/consent", app.base),
        "{}",
        form.action
    );

    let callback = answer(&browser, &form, "allow").await?;
    ensure!(callback.target() == REDIRECT_URI, "{}", callback.url);
    let scopes = scopes_of(&app, &client, &callback).await?;
    ensure!(scopes.split(' ').any(|s| s == SCOPE), "scopes: {scopes}");

    // One grant, in Okta's shape.
    let token = app.api_token().await?;
    let list = grants(&app, &token).await?;
    ensure!(list.len() == 1, "{list:?}");
    let g = &list[0];
    ensure!(g["clientId"] == client.app.client_id.as_str(), "{g}");
    ensure!(g["userId"] == app.alice.id.as_str(), "{g}");
    ensure!(g["issuer"] == app.issuer(Server::Default).as_str(), "{g}");
    ensure!(g["source"] == "END_USER" && g["status"] == "ACTIVE", "{g}");
    ensure!(g["_embedded"]["scope"]["name"] == SCOPE, "{g}");
    ensure!(
        g["id"].as_str().is_some_and(|id| id.starts_with("oag")),
        "{g}"
    );
    let logged = app
        .api_ssws(
            Method::GET,
            "/api/v1/logs?filter=eventType%20eq%20%22app.oauth2.as.consent.grant%22",
            &token,
            None,
        )
        .await?;
    ensure!(
        logged.json()?.as_array().is_some_and(|a| a.len() == 1),
        "{logged:?}"
    );

    // The same browser again: the session and the grant, so straight back with a code.
    let again = browser
        .authorize_redirect(&authz(&app, &client).url())
        .await?;
    ensure!(scopes_of(&app, &client, &again).await?.contains(SCOPE));
    // A new sign-in (another browser) is not asked either.
    let other = Browser::new()?;
    let callback = other
        .sign_in(&authz(&app, &client).url(), &app.alice.login, PASSWORD)
        .await?;
    callback.code()?;
    Ok(())
}

async fn prompt_consent_asks_again_and_trusted_apps_are_not_asked(backend: Backend) -> Result<()> {
    let (app, client) = setup(backend).await?;
    let browser = Browser::new()?;
    let (_, form) = sign_in_to_consent(&browser, &authz(&app, &client).url(), &app).await?;
    answer(&browser, &form, "allow").await?.code()?;
    // prompt=consent: asked again, with the live session (no sign-in form).
    let page = browser
        .get(&authz(&app, &client).set("prompt", "consent").url())
        .await?;
    let form = consent_form(&page)?;
    ensure!(page.set_cookie("gh_csrf").is_some(), "{page:?}");
    let callback = answer(&browser, &form, "allow").await?;
    ensure!(scopes_of(&app, &client, &callback).await?.contains(SCOPE));
    // Still one grant per scope.
    ensure!(grants(&app, &app.api_token().await?).await?.len() == 1);

    // A trusted app asking for the same scope: never asked, on sign-in or with the session.
    let trusted = consent_app(&app, "Trusted", None).await?;
    ensure!(trusted.app.settings.consent_method.as_str() == "TRUSTED");
    let fresh = Browser::new()?;
    let callback = fresh
        .sign_in(&authz(&app, &trusted).url(), &app.alice.login, PASSWORD)
        .await?;
    ensure!(scopes_of(&app, &trusted, &callback).await?.contains(SCOPE));
    let callback = fresh
        .authorize_redirect(&authz(&app, &trusted).url())
        .await?;
    callback.code()?;
    // Implicit scopes only: a consent app is not asked either.
    let plain = Authz::new(&app.base, Server::Default, &client.app.client_id);
    fresh.authorize_redirect(&plain.url()).await?.code()?;
    Ok(())
}

async fn dont_allow_is_access_denied(backend: Backend) -> Result<()> {
    let (app, client) = setup(backend).await?;
    let browser = Browser::new()?;
    let (_, form) = sign_in_to_consent(&browser, &authz(&app, &client).url(), &app).await?;
    let callback = answer(&browser, &form, "deny").await?;
    callback.expect_error("access_denied")?;
    ensure!(grants(&app, &app.api_token().await?).await?.is_empty());
    // The transaction is used up: answering again is refused.
    let replay = browser
        .post_form(
            &form.action,
            &[
                ("tx", &form.tx),
                ("csrf", &form.csrf),
                ("decision", "allow"),
            ],
        )
        .await?;
    replay.assert_error_page("invalid_request");
    // Asked again next time.
    let page = browser.get(&authz(&app, &client).url()).await?;
    consent_form(&page)?;
    Ok(())
}

async fn prompt_none_needing_consent_is_consent_required(backend: Backend) -> Result<()> {
    let (app, client) = setup(backend).await?;
    // Signed in (to another app), but no consent yet.
    let (browser, first) = app.sign_in_with(&app.authz(Server::Default)).await?;
    first.code()?;
    let callback = browser
        .authorize_redirect(&authz(&app, &client).set("prompt", "none").url())
        .await?;
    callback.expect_error("consent_required")?;
    // Once granted, prompt=none works silently.
    let page = browser.get(&authz(&app, &client).url()).await?;
    let form = consent_form(&page)?;
    answer(&browser, &form, "allow").await?.code()?;
    let silent = browser
        .authorize_redirect(&authz(&app, &client).set("prompt", "none").url())
        .await?;
    ensure!(scopes_of(&app, &client, &silent).await?.contains(SCOPE));
    Ok(())
}

async fn revoking_grants_asks_again(backend: Backend) -> Result<()> {
    let (app, client) = setup(backend).await?;
    let token = app.api_token().await?;
    let browser = Browser::new()?;
    let (_, form) = sign_in_to_consent(&browser, &authz(&app, &client).url(), &app).await?;
    answer(&browser, &form, "allow").await?.code()?;
    let user = &app.alice.id;
    let cid = &client.app.client_id;

    // The clients and per-client lists.
    let clients = app
        .api_ssws(
            Method::GET,
            &format!("/api/v1/users/{user}/clients"),
            &token,
            None,
        )
        .await?
        .json()?;
    ensure!(
        clients.as_array().is_some_and(|a| a.len() == 1),
        "{clients}"
    );
    ensure!(clients[0]["client_id"] == cid.as_str() && clients[0]["client_name"] == "Car Share");
    let per_client = app
        .api_ssws(
            Method::GET,
            &format!("/api/v1/users/{user}/clients/{cid}/grants"),
            &token,
            None,
        )
        .await?
        .json()?;
    let gid = per_client[0]["id"].as_str().context("grant id")?.to_owned();
    let one = app
        .api_ssws(
            Method::GET,
            &format!("/api/v1/users/{user}/grants/{gid}"),
            &token,
            None,
        )
        .await?;
    ensure!(
        one.status == StatusCode::OK && one.json()?["id"] == gid.as_str(),
        "{one:?}"
    );
    let by_scope = app
        .api_ssws(
            Method::GET,
            &format!("/api/v1/users/{user}/grants?scopeId=nope"),
            &token,
            None,
        )
        .await?
        .json()?;
    ensure!(by_scope.as_array().is_some_and(Vec::is_empty), "{by_scope}");

    // Revoke one grant: asked again with the session.
    let gone = app
        .api_ssws(
            Method::DELETE,
            &format!("/api/v1/users/{user}/grants/{gid}"),
            &token,
            None,
        )
        .await?;
    ensure!(gone.status == StatusCode::NO_CONTENT, "{gone:?}");
    let missing = app
        .api_ssws(
            Method::GET,
            &format!("/api/v1/users/{user}/grants/{gid}"),
            &token,
            None,
        )
        .await?;
    ensure!(missing.status == StatusCode::NOT_FOUND, "{missing:?}");
    let revoked = app
        .api_ssws(
            Method::GET,
            "/api/v1/logs?filter=eventType%20eq%20%22app.oauth2.as.consent.revoke%22",
            &token,
            None,
        )
        .await?;
    ensure!(
        revoked.json()?.as_array().is_some_and(|a| a.len() == 1),
        "{revoked:?}"
    );
    let page = browser.get(&authz(&app, &client).url()).await?;
    answer(&browser, &consent_form(&page)?, "allow")
        .await?
        .code()?;

    // Revoke per client, then all: asked again each time.
    let gone = app
        .api_ssws(
            Method::DELETE,
            &format!("/api/v1/users/{user}/clients/{cid}/grants"),
            &token,
            None,
        )
        .await?;
    ensure!(gone.status == StatusCode::NO_CONTENT, "{gone:?}");
    ensure!(grants(&app, &token).await?.is_empty());
    let page = browser.get(&authz(&app, &client).url()).await?;
    answer(&browser, &consent_form(&page)?, "allow")
        .await?
        .code()?;
    let gone = app
        .api_ssws(
            Method::DELETE,
            &format!("/api/v1/users/{user}/grants"),
            &token,
            None,
        )
        .await?;
    ensure!(gone.status == StatusCode::NO_CONTENT, "{gone:?}");
    ensure!(grants(&app, &token).await?.is_empty());
    let page = browser.get(&authz(&app, &client).url()).await?;
    consent_form(&page)?;
    Ok(())
}

async fn consent_form_needs_its_csrf_token_and_session(backend: Backend) -> Result<()> {
    let (app, client) = setup(backend).await?;
    let browser = Browser::new()?;
    let (_, form) = sign_in_to_consent(&browser, &authz(&app, &client).url(), &app).await?;
    // Without the form's CSRF token, or with another one: refused, nothing granted.
    for csrf in ["", "forged-token"] {
        let reply = browser
            .post_form(
                &form.action,
                &[("tx", &form.tx), ("csrf", csrf), ("decision", "allow")],
            )
            .await?;
        reply.assert_error_page("invalid_request");
    }
    // The right form fields from a client without the cookies (another browser): refused.
    let stranger = Browser::new()?;
    let reply = stranger
        .post_form(
            &form.action,
            &[
                ("tx", &form.tx),
                ("csrf", &form.csrf),
                ("decision", "allow"),
            ],
        )
        .await?;
    reply.assert_error_page("invalid_request");
    // No decision: a bad request.
    let reply = browser
        .post_form(&form.action, &[("tx", &form.tx), ("csrf", &form.csrf)])
        .await?;
    ensure!(reply.status == StatusCode::BAD_REQUEST, "{reply:?}");
    ensure!(grants(&app, &app.api_token().await?).await?.is_empty());
    // The sign-in form does not accept the consent transaction.
    let reply = browser
        .post_form(
            &format!("{}/login", app.base),
            &[
                ("tx", &form.tx),
                ("csrf", &form.csrf),
                ("username", &app.alice.login),
                ("password", PASSWORD),
            ],
        )
        .await?;
    reply.assert_error_page("invalid_request");
    Ok(())
}

async fn apps_api_stores_consent_method(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let token = app.api_token().await?;
    let body = json!({
        "name": "oidc_client",
        "label": "Consenting",
        "signOnMode": "OPENID_CONNECT",
        "credentials": { "oauthClient": { "token_endpoint_auth_method": "client_secret_basic" } },
        "settings": { "oauthClient": {
            "application_type": "web",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "consent_method": "REQUIRED",
            "tos_uri": "https://c.example/tos",
        } },
    });
    let created = app
        .api_ssws(Method::POST, "/api/v1/apps", &token, Some(&body))
        .await?;
    ensure!(created.status == StatusCode::OK, "{created:?}");
    let v = created.json()?;
    ensure!(
        v["settings"]["oauthClient"]["consent_method"] == "REQUIRED",
        "{v}"
    );
    ensure!(
        v["settings"]["oauthClient"]["tos_uri"] == "https://c.example/tos",
        "{v}"
    );
    let mut bad = body.clone();
    bad["settings"]["oauthClient"]["consent_method"] = json!("SOMETIMES");
    let refused = app
        .api_ssws(Method::POST, "/api/v1/apps", &token, Some(&bad))
        .await?;
    ensure!(refused.status == StatusCode::BAD_REQUEST, "{refused:?}");
    ensure!(refused.body.contains("consent_method"), "{refused:?}");
    Ok(())
}

/// The end-user dashboard lists the app the user allowed; its Revoke button (CSRF-checked)
/// removes the grants, and the next authorize asks again.
async fn dashboard_revoke_asks_again(backend: Backend) -> Result<()> {
    let (app, client) = setup(backend).await?;
    let token = app.api_token().await?;
    let browser = Browser::new()?;
    let (_, form) = sign_in_to_consent(&browser, &authz(&app, &client).url(), &app).await?;
    answer(&browser, &form, "allow").await?.code()?;
    let cid = &client.app.client_id;
    let revoke_path = format!("/app/UserHome/consents/{cid}/revoke");

    let home = browser.get(&format!("{}/app/UserHome", app.base)).await?;
    ensure!(home.status == StatusCode::OK, "{home:?}");
    ensure!(
        home.body.contains("Car Share") && home.body.contains(&revoke_path),
        "the dashboard lists the allowed app with Revoke: {home:?}"
    );
    let csrf = hidden_input(&home.body, "csrf").context("no csrf on the dashboard")?;

    let forged = browser
        .post_form(&format!("{}{revoke_path}", app.base), &[("csrf", "forged")])
        .await?;
    ensure!(
        forged.status != StatusCode::SEE_OTHER,
        "a wrong CSRF token is refused: {forged:?}"
    );
    ensure!(
        grants(&app, &token).await?.len() == 1,
        "nothing revoked yet"
    );

    let revoked = browser
        .post_form(
            &format!("{}{revoke_path}", app.base),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await?;
    ensure!(revoked.status == StatusCode::SEE_OTHER, "{revoked:?}");
    ensure!(
        grants(&app, &token).await?.is_empty(),
        "the grants are gone"
    );

    // The live session, but no grant: the consent page again.
    let again = browser.get(&authz(&app, &client).url()).await?;
    ensure!(
        again.status == StatusCode::OK && again.body.contains("data-scope=\"car:drive\""),
        "asked again after revoking: {again:?}"
    );
    Ok(())
}
