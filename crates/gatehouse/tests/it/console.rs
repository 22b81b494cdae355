//! The admin console and end-user pages: who may use them, CSRF, forms that end up in the
//! same records `/api/v1` shows, field errors, the API token shown once, dashboard tiles, and
//! the branded sign-in page.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::services::admin_roles::grant_super_admin;
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::helpers::{Browser, PASSWORD, Reply, TestApp, hidden_input, spawn_app, spawn_app_with};

backend_tests!(
    console_needs_an_administrator,
    console_forms_refuse_a_wrong_csrf_token,
    app_created_in_the_console_is_the_api_app,
    console_shows_errors_next_to_their_fields,
    api_token_is_shown_once_and_acts_as_the_admin,
    dashboard_tiles_launch_the_initiate_login_uri,
    sign_in_page_carries_the_branding,
);

pub(crate) const ADMIN: &str = "root@example.com";

/// Signs in on the hosted sign-in page (no authorize request) and returns where it sent us.
pub(crate) async fn console_sign_in(
    app: &TestApp,
    browser: &Browser,
    login: &str,
    from: &str,
) -> Result<Reply> {
    let page = browser
        .get(&format!(
            "{}/login/login.htm?fromURI={}",
            app.base,
            urlencode(from)
        ))
        .await?;
    ensure!(page.status == StatusCode::OK, "{page:?}");
    let csrf = hidden_input(&page.body, "csrf").context("no csrf input")?;
    ensure!(
        hidden_input(&page.body, "fromURI").as_deref() == Some(from),
        "{page:?}"
    );
    browser
        .post_form(
            &format!("{}/login/login.htm", app.base),
            &[
                ("csrf", &csrf),
                ("fromURI", from),
                ("username", login),
                ("password", PASSWORD),
            ],
        )
        .await
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A super administrator signed in to the console.
pub(crate) async fn admin_browser(app: &TestApp) -> Result<Browser> {
    let admin = app.create_user(ADMIN).await?;
    grant_super_admin(&app.provider, &admin).await?;
    let browser = Browser::new()?;
    let signed_in = console_sign_in(app, &browser, ADMIN, "/admin/apps/active").await?;
    ensure!(signed_in.status == StatusCode::SEE_OTHER, "{signed_in:?}");
    ensure!(
        signed_in.header("location") == Some("/admin/apps/active"),
        "{signed_in:?}"
    );
    Ok(browser)
}

/// A console page and the CSRF token of its forms.
pub(crate) async fn page_with_csrf(
    app: &TestApp,
    browser: &Browser,
    path: &str,
) -> Result<(Reply, String)> {
    let page = browser.get(&format!("{}{path}", app.base)).await?;
    ensure!(page.status == StatusCode::OK, "{path}: {page:?}");
    let csrf = hidden_input(&page.body, "csrf").with_context(|| format!("no csrf on {path}"))?;
    Ok((page, csrf))
}

pub(crate) fn assert_console_headers(headers: &HeaderMap) -> Result<()> {
    let csp = headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ensure!(
        csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && csp.contains("form-action 'self'"),
        "CSP: {csp}"
    );
    ensure!(headers.get("x-frame-options").is_some_and(|v| v == "DENY"));
    Ok(())
}

/// The value of `<input id="{id}" … value="…">`.
pub(crate) fn input_value(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = html[..at].rfind('<')?;
    let tag = &html[start..start + html[start..].find('>')?];
    let v = tag.split("value=\"").nth(1)?;
    Some(v[..v.find('"')?].to_owned())
}

async fn console_needs_an_administrator(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let anonymous = Browser::new()?;
    let r = anonymous
        .get(&format!("{}/admin/apps/active", app.base))
        .await?;
    ensure!(r.status == StatusCode::SEE_OTHER, "{r:?}");
    ensure!(
        r.header("location") == Some("/login/login.htm?fromURI=%2Fadmin%2Fapps%2Factive"),
        "{r:?}"
    );
    // A sign-in page that would send us elsewhere after signing in goes home instead.
    let evil = anonymous
        .get(&format!(
            "{}/login/login.htm?fromURI=//evil.example/x",
            app.base
        ))
        .await?;
    ensure!(
        hidden_input(&evil.body, "fromURI").as_deref() == Some("/app/UserHome"),
        "{evil:?}"
    );

    // alice is no administrator: her sign-in lands on her dashboard, and the console is a 403.
    let alice = Browser::new()?;
    let r = console_sign_in(&app, &alice, &app.alice.login, "/admin/apps/active").await?;
    ensure!(r.header("location") == Some("/app/UserHome"), "{r:?}");
    for path in [
        "/admin/dashboard",
        "/admin/apps/active",
        "/admin/people",
        "/admin/access/api/tokens",
    ] {
        let r = alice.get(&format!("{}{path}", app.base)).await?;
        ensure!(r.status == StatusCode::FORBIDDEN, "{path}: {r:?}");
        assert_console_headers(&r.headers)?;
    }
    let home = alice.get(&format!("{}/app/UserHome", app.base)).await?;
    ensure!(
        home.status == StatusCode::OK && home.body.contains("My Apps"),
        "{home:?}"
    );

    let admin = admin_browser(&app).await?;
    for path in [
        "/admin/dashboard",
        "/admin/apps/active",
        "/admin/apps/create",
        "/admin/apps/oauth2-wizard/create?applicationType=browser",
        "/admin/people",
        "/admin/groups",
        "/admin/oauth2/as",
        "/admin/oauth2/as/default",
        "/admin/access/api/tokens",
        "/admin/access/api/trusted_origins",
        "/report/system_log_2",
    ] {
        let r = admin.get(&format!("{}{path}", app.base)).await?;
        ensure!(r.status == StatusCode::OK, "{path}: {r:?}");
        assert_console_headers(&r.headers)?;
    }
    // Signing out ends the session: the console asks to sign in again.
    admin.get(&format!("{}/login/signout", app.base)).await?;
    let r = admin.get(&format!("{}/admin/dashboard", app.base)).await?;
    ensure!(r.status == StatusCode::SEE_OTHER, "{r:?}");
    Ok(())
}

async fn console_forms_refuse_a_wrong_csrf_token(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let admin = admin_browser(&app).await?;
    let create = format!("{}/admin/groups", app.base);
    let (_, csrf) = page_with_csrf(&app, &admin, "/admin/groups").await?;

    let missing = admin.post_form(&create, &[("name", "Forged")]).await?;
    ensure!(missing.status == StatusCode::FORBIDDEN, "{missing:?}");
    let wrong = admin
        .post_form(&create, &[("csrf", "x"), ("name", "Forged")])
        .await?;
    ensure!(wrong.status == StatusCode::FORBIDDEN, "{wrong:?}");
    // Another administrator's token is no good in this session.
    let other = app.create_user("other.admin@example.com").await?;
    grant_super_admin(&app.provider, &other).await?;
    let second = Browser::new()?;
    console_sign_in(&app, &second, &other.login, "/admin/groups").await?;
    let (_, foreign) = page_with_csrf(&app, &second, "/admin/groups").await?;
    ensure!(foreign != csrf, "CSRF tokens must differ per session");
    let foreign_try = admin
        .post_form(&create, &[("csrf", &foreign), ("name", "Forged")])
        .await?;
    ensure!(
        foreign_try.status == StatusCode::FORBIDDEN,
        "{foreign_try:?}"
    );
    ensure!(
        app.provider
            .store
            .find_group_by_name("Forged")
            .await?
            .is_none(),
        "a refused form must change nothing"
    );
    let ok = admin
        .post_form(&create, &[("csrf", &csrf), ("name", "Real")])
        .await?;
    ensure!(ok.status == StatusCode::SEE_OTHER, "{ok:?}");
    ensure!(
        app.provider
            .store
            .find_group_by_name("Real")
            .await?
            .is_some()
    );

    // The sign-in form itself: without its cookie, a posted form is refused.
    let stranger = Browser::new()?;
    let r = stranger
        .post_form(
            &format!("{}/login/login.htm", app.base),
            &[
                ("csrf", "guess"),
                ("username", ADMIN),
                ("password", PASSWORD),
            ],
        )
        .await?;
    ensure!(
        r.status == StatusCode::FORBIDDEN && r.set_cookie("gh_sid").is_none(),
        "{r:?}"
    );
    Ok(())
}

async fn app_created_in_the_console_is_the_api_app(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let admin = admin_browser(&app).await?;
    let (form_page, csrf) = page_with_csrf(
        &app,
        &admin,
        "/admin/apps/oauth2-wizard/create?applicationType=web",
    )
    .await?;
    // Okta's defaults: Authorization Code on, the rest off, everyone may use it.
    ensure!(form_page.body.contains(
        "id=\"grant_authorization_code\" name=\"grant_authorization_code\" value=\"1\" checked"
    ));
    ensure!(
        form_page
            .body
            .contains("id=\"access-everyone\" name=\"access\" value=\"everyone\" checked")
    );
    let created = admin
        .post_form(
            &format!("{}/admin/apps/oauth2-wizard/create", app.base),
            &[
                ("csrf", &csrf),
                ("applicationType", "web"),
                ("label", "NetBox Cloud"),
                ("grant_authorization_code", "1"),
                ("grant_refresh_token", "1"),
                ("rotation", "ROTATE"),
                ("leeway", "20"),
                ("grant_implicit", "1"),
                ("implicit_id_token", "1"),
                (
                    "redirect_uris",
                    "https://netbox.example.com/oauth/complete/okta-openidconnect/\r\nhttps://netbox.example.com/other/",
                ),
                ("post_logout_redirect_uris", "https://netbox.example.com/oauth/disconnect/okta-openidconnect/"),
                ("login_mode", "SPEC"),
                ("initiate_login_uri", "https://netbox.example.com/oauth/login/okta-openidconnect/"),
                ("access", "everyone"),
            ],
        )
        .await?;
    ensure!(created.status == StatusCode::SEE_OTHER, "{created:?}");
    let location = created
        .header("location")
        .context("no location")?
        .to_owned();
    let id = location
        .strip_prefix("/admin/app/oidc_client/instance/")
        .and_then(|rest| rest.split('/').next())
        .context("not an app page")?
        .to_owned();
    let page = admin.get(&format!("{}{location}", app.base)).await?;
    ensure!(
        page.status == StatusCode::OK && page.body.contains("NetBox Cloud"),
        "{page:?}"
    );
    let client_id = input_value(&page.body, "client-id").context("no client id field")?;
    let secret = input_value(&page.body, "client-secret").context("no client secret field")?;

    let token = app.api_token().await?;
    let api = app
        .api_ssws(
            reqwest::Method::GET,
            &format!("/api/v1/apps/{id}"),
            &token,
            None,
        )
        .await?
        .json()?;
    let oauth = &api["settings"]["oauthClient"];
    ensure!(
        api["label"] == "NetBox Cloud" && api["status"] == "ACTIVE",
        "{api}"
    );
    ensure!(
        api["credentials"]["oauthClient"]["client_id"] == client_id.as_str(),
        "{api}"
    );
    ensure!(
        oauth["grant_types"]
            == serde_json::json!(["authorization_code", "refresh_token", "implicit"]),
        "{api}"
    );
    ensure!(
        oauth["response_types"] == serde_json::json!(["code", "id_token"]),
        "{api}"
    );
    ensure!(
        oauth["redirect_uris"][1] == "https://netbox.example.com/other/",
        "{api}"
    );
    ensure!(
        oauth["refresh_token"]["rotation_type"] == "ROTATE"
            && oauth["refresh_token"]["leeway"] == 20,
        "{api}"
    );
    ensure!(oauth["idp_initiated_login"]["mode"] == "SPEC", "{api}");
    ensure!(
        oauth["initiate_login_uri"] == "https://netbox.example.com/oauth/login/okta-openidconnect/",
        "{api}"
    );
    let groups = app
        .api_ssws(
            reqwest::Method::GET,
            &format!("/api/v1/apps/{id}/groups"),
            &token,
            None,
        )
        .await?
        .json()?;
    let everyone = app
        .provider
        .store
        .find_group_by_name("Everyone")
        .await?
        .context("Everyone")?;
    ensure!(groups[0]["id"] == everyone.id.as_str(), "{groups}");
    // The secret shown on the Client Credentials tab is the one the token endpoint takes.
    let stored = app.provider.store.find_app(&id).await?.context("app")?;
    ensure!(
        gatehouse_core::services::apps::current_client_secret(&app.provider, &stored)
            .await?
            .as_deref()
            == Some(secret.as_str())
    );

    // Okta API Scopes: grant, then revoke, as /api/v1/apps/{id}/grants shows.
    let (_, csrf) = page_with_csrf(&app, &admin, &location).await?;
    let base = format!("{}/admin/app/oidc_client/instance/{id}", app.base);
    let granted = admin
        .post_form(
            &format!("{base}/grants"),
            &[("csrf", &csrf), ("scope", "okta.users.read")],
        )
        .await?;
    ensure!(granted.status == StatusCode::SEE_OTHER, "{granted:?}");
    let grants = app
        .api_ssws(
            reqwest::Method::GET,
            &format!("/api/v1/apps/{id}/grants"),
            &token,
            None,
        )
        .await?
        .json()?;
    ensure!(grants[0]["scopeId"] == "okta.users.read", "{grants}");
    let grant_id = grants[0]["id"].as_str().context("grant id")?.to_owned();
    admin
        .post_form(
            &format!("{base}/grants/{grant_id}/revoke"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await?;
    let grants = app
        .api_ssws(
            reqwest::Method::GET,
            &format!("/api/v1/apps/{id}/grants"),
            &token,
            None,
        )
        .await?
        .json()?;
    ensure!(grants == Value::Array(vec![]), "{grants}");

    // Deactivate and delete from the console: gone from the API too.
    admin
        .post_form(
            &format!("{base}/lifecycle/deactivate"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await?;
    let deleted = admin
        .post_form(
            &format!("{base}/delete"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await?;
    ensure!(deleted.status == StatusCode::SEE_OTHER, "{deleted:?}");
    let gone = app
        .api_ssws(
            reqwest::Method::GET,
            &format!("/api/v1/apps/{id}"),
            &token,
            None,
        )
        .await?;
    ensure!(gone.status == StatusCode::NOT_FOUND, "{gone:?}");
    Ok(())
}

/// A field's error paragraph and the field marked invalid.
fn has_field_error(page: &Reply, field: &str) -> bool {
    let described = page
        .body
        .contains(&format!("aria-describedby=\"{field}-error\""))
        || page.body.contains(&format!(" {field}-error\""));
    page.body
        .contains(&format!("id=\"{field}-error\" role=\"alert\""))
        && described
}

async fn console_shows_errors_next_to_their_fields(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let admin = admin_browser(&app).await?;
    let (_, csrf) = page_with_csrf(
        &app,
        &admin,
        "/admin/apps/oauth2-wizard/create?applicationType=web",
    )
    .await?;
    let wizard = format!("{}/admin/apps/oauth2-wizard/create", app.base);
    let base = [
        ("csrf", csrf.as_str()),
        ("applicationType", "web"),
        ("grant_authorization_code", "1"),
        ("access", "skip"),
    ];
    for (extra, field) in [
        (
            vec![("label", ""), ("redirect_uris", "https://a.example/cb")],
            "label",
        ),
        (
            vec![
                ("label", "A"),
                ("redirect_uris", "https://a.example/cb#frag"),
            ],
            "redirect_uris",
        ),
        (vec![("label", "A"), ("redirect_uris", "")], "redirect_uris"),
        (
            vec![
                ("label", "A"),
                ("redirect_uris", "https://a.example/cb"),
                ("grant_refresh_token", "1"),
                ("leeway", "soon"),
            ],
            "leeway",
        ),
        (
            vec![
                ("label", "A"),
                ("redirect_uris", "https://a.example/cb"),
                ("grant_refresh_token", "1"),
                ("leeway", "90"),
            ],
            "leeway",
        ),
        (
            vec![
                ("label", "A"),
                ("redirect_uris", "https://a.example/cb"),
                ("grant_implicit", "1"),
            ],
            "implicit",
        ),
        (
            vec![
                ("label", "A"),
                ("redirect_uris", "https://a.example/cb"),
                ("login_mode", "SPEC"),
            ],
            "initiate_login_uri",
        ),
    ] {
        let mut form: Vec<(&str, &str)> = base.to_vec();
        form.extend(extra);
        let r = admin.post_form(&wizard, &form).await?;
        ensure!(
            r.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {r:?}"
        );
        ensure!(
            has_field_error(&r, field),
            "no error next to {field}: {r:?}"
        );
        // What was typed stays in the form.
        ensure!(
            r.body.contains("https://a.example/cb") || field == "label" || field == "redirect_uris"
        );
    }
    ensure!(
        app.provider
            .store
            .list_apps(gatehouse_core::store::Page {
                after: None,
                limit: 10
            })
            .await?
            .len()
            == 1
    );

    let (_, csrf) = page_with_csrf(&app, &admin, "/admin/people/new").await?;
    let people = format!("{}/admin/people/new", app.base);
    let person = |login: &'static str, password: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("first_name", "Jane".to_owned()),
            ("last_name", "Doe".to_owned()),
            ("login", login.to_owned()),
            ("password_mode", "admin".to_owned()),
            ("password", password.to_owned()),
            ("activate", "1".to_owned()),
        ]
    };
    for (form, field) in [
        (person("jdoe@example.com", "short"), "password"),
        (person("jd", "long enough password"), "login"),
        (person(ADMIN, "long enough password"), "login"),
    ] {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = admin.post_form(&people, &pairs).await?;
        ensure!(
            r.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {r:?}"
        );
        ensure!(
            has_field_error(&r, field),
            "no error next to {field}: {r:?}"
        );
    }

    let (_, csrf) = page_with_csrf(&app, &admin, "/admin/access/api/trusted_origins").await?;
    let r = admin
        .post_form(
            &format!("{}/admin/access/api/trusted_origins", app.base),
            &[
                ("csrf", &csrf),
                ("name", "Collate"),
                ("origin", "https://collate.example/path"),
                ("cors", "1"),
            ],
        )
        .await?;
    ensure!(
        r.status == StatusCode::UNPROCESSABLE_ENTITY && has_field_error(&r, "origin"),
        "{r:?}"
    );
    let r = admin
        .post_form(
            &format!("{}/admin/access/api/trusted_origins", app.base),
            &[
                ("csrf", &csrf),
                ("name", "Collate"),
                ("origin", "https://collate.example"),
            ],
        )
        .await?;
    ensure!(
        r.status == StatusCode::UNPROCESSABLE_ENTITY && has_field_error(&r, "scopes"),
        "{r:?}"
    );
    Ok(())
}

async fn api_token_is_shown_once_and_acts_as_the_admin(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let admin = admin_browser(&app).await?;
    let tokens = format!("{}/admin/access/api/tokens", app.base);
    let (_, csrf) = page_with_csrf(&app, &admin, "/admin/access/api/tokens").await?;
    let empty = admin
        .post_form(&tokens, &[("csrf", &csrf), ("name", " ")])
        .await?;
    ensure!(
        empty.status == StatusCode::UNPROCESSABLE_ENTITY && has_field_error(&empty, "name"),
        "{empty:?}"
    );

    let created = admin
        .post_form(
            &tokens,
            &[("csrf", &csrf), ("name", "OpenMetadata ingestion")],
        )
        .await?;
    ensure!(created.status == StatusCode::OK, "{created:?}");
    ensure!(created.header("cache-control") == Some("no-store"));
    let value = input_value(&created.body, "token-value").context("token value not shown")?;
    ensure!(value.starts_with("00") && value.len() == 42, "{value}");

    let me = app
        .api_ssws(reqwest::Method::GET, "/api/v1/users/me", &value, None)
        .await?;
    ensure!(me.status == StatusCode::OK, "{me:?}");
    ensure!(me.json()?["profile"]["login"] == ADMIN, "{me:?}");

    let again = admin.get(&tokens).await?;
    ensure!(
        again.body.contains("OpenMetadata ingestion"),
        "the list names the token"
    );
    ensure!(
        !again.body.contains(&value),
        "the token value must be shown only once"
    );

    let id = app
        .provider
        .store
        .list_api_tokens()
        .await?
        .into_iter()
        .find(|t| t.name == "OpenMetadata ingestion")
        .context("token")?
        .id;
    let revoked = admin
        .post_form(
            &format!("{tokens}/{id}/revoke"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await?;
    ensure!(revoked.status == StatusCode::SEE_OTHER, "{revoked:?}");
    let refused = app
        .api_ssws(reqwest::Method::GET, "/api/v1/users/me", &value, None)
        .await?;
    ensure!(refused.status == StatusCode::UNAUTHORIZED, "{refused:?}");
    Ok(())
}

async fn dashboard_tiles_launch_the_initiate_login_uri(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let admin = admin_browser(&app).await?;
    let (_, csrf) = page_with_csrf(
        &app,
        &admin,
        "/admin/apps/oauth2-wizard/create?applicationType=web",
    )
    .await?;
    let form = |label: &'static str, mode: &'static str, access: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("applicationType", "web".to_owned()),
            ("label", label.to_owned()),
            ("grant_authorization_code", "1".to_owned()),
            (
                "redirect_uris",
                "https://netbox.example.com/oauth/complete/okta-openidconnect/".to_owned(),
            ),
            ("login_mode", mode.to_owned()),
            (
                "initiate_login_uri",
                "https://netbox.example.com/oauth/login/okta-openidconnect/".to_owned(),
            ),
            ("access", access.to_owned()),
        ]
    };
    let mut ids = Vec::new();
    for f in [
        form("NetBox", "SPEC", "everyone"),
        form("App only", "DISABLED", "everyone"),
        form("Unassigned", "SPEC", "skip"),
    ] {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = admin
            .post_form(
                &format!("{}/admin/apps/oauth2-wizard/create", app.base),
                &pairs,
            )
            .await?;
        ensure!(r.status == StatusCode::SEE_OTHER, "{r:?}");
        let loc = r.header("location").context("location")?;
        ids.push(loc.split('/').nth(5).context("id")?.to_owned());
    }
    let alice = Browser::new()?;
    console_sign_in(&app, &alice, &app.alice.login, "/app/UserHome").await?;
    let home = alice.get(&format!("{}/app/UserHome", app.base)).await?;
    ensure!(home.body.contains("data-tile=\"NetBox\""), "{home:?}");
    ensure!(
        !home.body.contains("data-tile=\"App only\"")
            && !home.body.contains("data-tile=\"Unassigned\""),
        "{home:?}"
    );
    let launch = alice
        .get(&format!("{}/home/oidc_client/{}", app.base, ids[0]))
        .await?;
    ensure!(launch.status == StatusCode::SEE_OTHER, "{launch:?}");
    let expected = format!(
        "https://netbox.example.com/oauth/login/okta-openidconnect/?iss={}",
        urlencode(&app.base)
    );
    ensure!(
        launch.header("location") == Some(expected.as_str()),
        "{launch:?}"
    );
    let unassigned = alice
        .get(&format!("{}/home/oidc_client/{}", app.base, ids[2]))
        .await?;
    ensure!(unassigned.status == StatusCode::NOT_FOUND, "{unassigned:?}");
    let profile = alice.get(&format!("{}/enduser/settings", app.base)).await?;
    ensure!(profile.body.contains(&app.alice.login), "{profile:?}");
    Ok(())
}

async fn sign_in_page_carries_the_branding(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| {
        s.branding.org_name = "Acme Networks".into();
        s.branding.primary_color = "#0a7d3b".into();
        s.branding.logo_url = Some("https://cdn.acme.example/logo.svg".into());
    })
    .await?;
    let page = Browser::new()?
        .get(&format!("{}/login/login.htm", app.base))
        .await?;
    ensure!(page.body.contains("Acme Networks"), "{page:?}");
    ensure!(page.body.contains("--accent: #0a7d3b"), "{page:?}");
    ensure!(
        page.body
            .contains("src=\"https://cdn.acme.example/logo.svg\" alt=\"Acme Networks logo\""),
        "{page:?}"
    );
    ensure!(
        page.body.contains("<label for=\"username\">")
            && page.body.contains("<label for=\"password\">")
    );
    let brand = Browser::new()?
        .get(&format!("{}/console/assets/brand.css", app.base))
        .await?;
    ensure!(brand.body.contains("#0a7d3b"), "{brand:?}");
    Ok(())
}
