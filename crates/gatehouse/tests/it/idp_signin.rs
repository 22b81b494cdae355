//! Signing in through an upstream OpenID Connect identity provider (a fake upstream on
//! loopback, see `idp_upstream.rs`): `idp=` on /authorize, state/nonce/PKCE, the callback,
//! JIT provisioning with groups, and every refusal — wrong `iss`, a bad signature, a missing
//! or wrong nonce, an expired token, another audience, a replayed state, a callback in another
//! browser — account linking by verified email only, and the second factor still asked after
//! the upstream. Plus `/api/v1/idps`' shapes and the console page.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use serde_json::{Value, json};

use crate::console::{admin_browser, assert_console_headers, page_with_csrf};
use crate::helpers::{
    Browser, GENERIC_LOGIN_FAILURE, REDIRECT_URI, STATE, Server, TestApp, s256,
    sign_with_foreign_key, spawn_app_with,
};
use crate::idp_upstream::{SentUpstream, UPSTREAM_SECRET, Upstream, create_idp, urlencode};
use crate::mfa_totp::{code_now, enroll_alice, submit_code};

backend_tests!(
    idp_sign_in_provisions_and_resumes_authorize,
    idp_refuses_bad_id_tokens_and_replays,
    idp_links_only_a_verified_email,
    idp_api_shapes_and_lifecycle,
    idp_console_adds_from_discovery,
);

async fn app_and_upstream(backend: Backend) -> Result<(TestApp, Upstream)> {
    let app = spawn_app_with(backend, |s| s.dev_jwks_uri_allow_loopback = true).await?;
    Ok((app, Upstream::start().await?))
}

/// Opens /authorize with `idp=` and expects the redirect upstream (and the CSRF cookie).
async fn go_upstream(app: &TestApp, browser: &Browser, idp: &str) -> Result<SentUpstream> {
    let url = app.authz(Server::Default).set("idp", idp).url();
    let reply = browser.get(&url).await?;
    ensure!(
        reply.status == 303,
        "expected a redirect upstream: {reply:?}"
    );
    ensure!(
        reply.set_cookie("gh_csrf").is_some(),
        "no CSRF cookie: {reply:?}"
    );
    SentUpstream::from_reply(&reply)
}

fn bob(nonce_claims: &Upstream, nonce: &str) -> Value {
    nonce_claims.claims(
        "up-bob",
        nonce,
        json!({
            "email": "bob@upstream.example",
            "email_verified": true,
            "given_name": "Bob",
            "family_name": "Builder",
            "groups": ["eng", "ops"],
        }),
    )
}

async fn idp_sign_in_provisions_and_resumes_authorize(backend: Backend) -> Result<()> {
    let (app, upstream) = app_and_upstream(backend).await?;
    let idp = create_idp(
        &app,
        &upstream,
        json!({"provisioning": {"action": "AUTO", "groups": {"action": "SYNC", "sourceAttributeName": "groups"}}}),
    )
    .await?;
    let browser = Browser::new()?;
    let sent = go_upstream(&app, &browser, &idp).await?;
    ensure!(
        sent.url
            .as_str()
            .starts_with(&format!("{}/authorize?", upstream.issuer()))
    );
    let q: std::collections::HashMap<_, _> = sent.url.query_pairs().into_owned().collect();
    ensure!(
        q.get("code_challenge_method").map(String::as_str) == Some("S256"),
        "{q:?}"
    );
    ensure!(
        q.get("client_id").map(String::as_str) == Some("gatehouse-at-upstream"),
        "{q:?}"
    );
    ensure!(sent.redirect_uri == format!("{}/oauth2/v1/authorize/callback", app.base));
    upstream.answer_with(upstream.key.sign(&bob(&upstream, &sent.nonce), true)?);

    let back = sent.come_back(&browser).await?;
    ensure!(
        back.status == 302,
        "expected the redirect to the client: {back:?}"
    );
    let location = back.location().context("no Location")?;
    ensure!(location.as_str().starts_with(REDIRECT_URI), "{location}");
    ensure!(
        location
            .query_pairs()
            .any(|(k, v)| k == "state" && v == STATE)
    );
    ensure!(location.query_pairs().any(|(k, _)| k == "code"));
    ensure!(back.set_cookie("gh_sid").is_some_and(|s| !s.is_empty()));

    // The code exchange sent the PKCE verifier of the challenge, our secret and redirect URI.
    let requests = upstream
        .token_requests
        .lock()
        .map(|r| r.clone())
        .unwrap_or_default();
    let form: std::collections::HashMap<_, _> = requests
        .last()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let verifier = form.get("code_verifier").context("no code_verifier")?;
    ensure!(
        s256(verifier) == sent.code_challenge,
        "PKCE verifier does not match"
    );
    ensure!(form.get("client_secret").map(String::as_str) == Some(UPSTREAM_SECRET));
    ensure!(form.get("redirect_uri") == Some(&sent.redirect_uri));

    let user = app
        .provider
        .store
        .find_user_by_login("bob@upstream.example")
        .await?
        .context("bob was not provisioned")?;
    ensure!(
        user.first_name == "Bob" && user.last_name == "Builder",
        "{user:?}"
    );
    let groups: Vec<String> = app
        .provider
        .store
        .list_user_groups(&user.id)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect();
    ensure!(
        groups.contains(&"eng".into()) && groups.contains(&"ops".into()),
        "{groups:?}"
    );

    // The same state again (a replay) is refused: it was spent.
    let replay = sent.come_back(&browser).await?;
    replay.assert_error_page("invalid_request");
    Ok(())
}

async fn refused(
    app: &TestApp,
    upstream: &Upstream,
    idp: &str,
    token: impl Fn(&str) -> Result<String>,
) -> Result<()> {
    let browser = Browser::new()?;
    let sent = go_upstream(app, &browser, idp).await?;
    upstream.answer_with(token(&sent.nonce)?);
    let back = sent.come_back(&browser).await?;
    ensure!(
        back.status == 401,
        "expected the sign-in page again: {back:?}"
    );
    ensure!(back.body.contains(GENERIC_LOGIN_FAILURE), "{back:?}");
    ensure!(
        back.set_cookie("gh_sid").is_none(),
        "a session was opened: {back:?}"
    );
    Ok(())
}

async fn idp_refuses_bad_id_tokens_and_replays(backend: Backend) -> Result<()> {
    let (app, upstream) = app_and_upstream(backend).await?;
    let idp = create_idp(&app, &upstream, json!({})).await?;
    let sign = |claims: Value| upstream.key.sign(&claims, true);
    let with = |nonce: &str, k: &str, v: Value| {
        let mut c = bob(&upstream, nonce);
        c[k] = v;
        c
    };
    refused(&app, &upstream, &idp, |n| {
        sign(with(n, "iss", json!("https://evil.example")))
    })
    .await
    .context("wrong iss")?;
    refused(&app, &upstream, &idp, |n| {
        sign(with(n, "aud", json!("someone-else")))
    })
    .await
    .context("wrong aud")?;
    refused(&app, &upstream, &idp, |n| {
        sign(with(n, "nonce", json!("not-the-nonce")))
    })
    .await
    .context("wrong nonce")?;
    refused(&app, &upstream, &idp, |n| {
        let mut c = bob(&upstream, n);
        c.as_object_mut().map(|o| o.remove("nonce"));
        sign(c)
    })
    .await
    .context("missing nonce")?;
    refused(&app, &upstream, &idp, |n| {
        sign(with(n, "exp", json!(1_000_000)))
    })
    .await
    .context("expired")?;
    // Signed by a key that is not the upstream's, under the upstream key's kid.
    let foreign = {
        let browser = Browser::new()?;
        let sent = go_upstream(&app, &browser, &idp).await?;
        let token = sign_with_foreign_key("upstream-1", &bob(&upstream, &sent.nonce)).await?;
        upstream.answer_with(token);
        sent.come_back(&browser).await?
    };
    ensure!(
        foreign.status == 401 && foreign.body.contains(GENERIC_LOGIN_FAILURE),
        "bad signature: {foreign:?}"
    );
    ensure!(
        app.provider
            .store
            .find_user_by_login("bob@upstream.example")
            .await?
            .is_none(),
        "a refused sign-in provisioned a user"
    );

    // The callback in another browser (no CSRF cookie), and an unknown state: error pages.
    let browser = Browser::new()?;
    let sent = go_upstream(&app, &browser, &idp).await?;
    upstream.answer_with(sign(bob(&upstream, &sent.nonce))?);
    sent.come_back(&Browser::new()?)
        .await?
        .assert_error_page("invalid_request");
    // The state was spent by that attempt: the right browser cannot use it any more either.
    sent.come_back(&browser)
        .await?
        .assert_error_page("invalid_request");
    let unknown = format!(
        "{}?code=x&state={}",
        sent.redirect_uri,
        urlencode("made-up")
    );
    browser
        .get(&unknown)
        .await?
        .assert_error_page("invalid_request");
    Ok(())
}

async fn idp_links_only_a_verified_email(backend: Backend) -> Result<()> {
    let (app, upstream) = app_and_upstream(backend).await?;
    let idp = create_idp(&app, &upstream, json!({"subject": {"matchType": "EMAIL"}})).await?;
    let alice_claims = |nonce: &str, verified: bool| {
        upstream.claims(
            "up-alice",
            nonce,
            json!({"email": app.alice.email, "email_verified": verified, "given_name": "Alice", "family_name": "Upstream"}),
        )
    };
    refused(&app, &upstream, &idp, |n| {
        upstream.key.sign(&alice_claims(n, false), true)
    })
    .await
    .context("an unverified email must not link")?;
    ensure!(
        app.provider
            .store
            .user_source(&app.alice.id)
            .await?
            .is_none(),
        "alice was linked"
    );

    // Alice has a TOTP factor: after the upstream, the sign-in still asks for it.
    let token = app.api_token().await?;
    let (_, seed) = enroll_alice(&app, &token).await?;
    let browser = Browser::new()?;
    let sent = go_upstream(&app, &browser, &idp).await?;
    upstream.answer_with(upstream.key.sign(&alice_claims(&sent.nonce, true), true)?);
    let factor_page = sent.come_back(&browser).await?;
    ensure!(
        factor_page.status == 200 && factor_page.body.contains("Verify it"),
        "no factor step: {factor_page:?}"
    );
    ensure!(
        factor_page.set_cookie("gh_sid").is_none(),
        "a session before the factor"
    );
    let back = submit_code(&app, &browser, &factor_page, &code_now(&app, &seed, 0)).await?;
    ensure!(
        back.status == 302,
        "a verified email links, then the factor: {back:?}"
    );
    ensure!(
        back.location()
            .is_some_and(|l| l.as_str().starts_with(REDIRECT_URI)),
        "{back:?}"
    );
    let source = app
        .provider
        .store
        .user_source(&app.alice.id)
        .await?
        .context("not linked")?;
    ensure!(
        source.source == format!("idp:{idp}") && source.external_id == "up-alice",
        "{source:?}"
    );
    let alice = app
        .provider
        .store
        .find_user(&app.alice.id)
        .await?
        .context("alice")?;
    ensure!(
        alice.last_name == "Upstream",
        "profile not updated: {alice:?}"
    );
    Ok(())
}

async fn idp_api_shapes_and_lifecycle(backend: Backend) -> Result<()> {
    let (app, upstream) = app_and_upstream(backend).await?;
    let token = app.api_token().await?;
    let idp = create_idp(&app, &upstream, json!({})).await?;
    let got = app
        .api_ssws(
            reqwest::Method::GET,
            &format!("/api/v1/idps/{idp}"),
            &token,
            None,
        )
        .await?;
    ensure!(got.status == 200, "{got:?}");
    let body = got.json()?;
    ensure!(
        body["type"] == "OIDC" && body["status"] == "ACTIVE",
        "{body}"
    );
    ensure!(
        body["protocol"]["endpoints"]["token"]["url"] == format!("{}/token", upstream.issuer())
    );
    ensure!(body["protocol"]["credentials"]["client"]["client_id"] == "gatehouse-at-upstream");
    ensure!(
        body["protocol"]["credentials"]["client"]
            .get("client_secret")
            .is_none(),
        "secret returned: {body}"
    );
    ensure!(!got.body.contains(UPSTREAM_SECRET), "secret returned");
    ensure!(body["policy"]["subject"]["userNameTemplate"]["template"] == "idpuser.email");
    let listed = app
        .api_ssws(reqwest::Method::GET, "/api/v1/idps", &token, None)
        .await?
        .json()?;
    ensure!(listed.as_array().is_some_and(|a| a.len() == 1), "{listed}");

    // The sign-in page shows its button, and a routed domain goes upstream without a password.
    let browser = Browser::new()?;
    let page = browser.get(&app.authz(Server::Default).url()).await?;
    ensure!(
        page.body.contains("Sign in with Upstream"),
        "no button: {page:?}"
    );
    let form = page.login_form().context("no form")?;
    let routed = browser
        .post_form(
            &form.action,
            &[
                ("tx", &form.tx),
                ("csrf", &form.csrf),
                ("username", "x@upstream.example"),
                ("password", ""),
            ],
        )
        .await?;
    ensure!(routed.status == 303, "domain routing: {routed:?}");
    ensure!(
        routed
            .location()
            .is_some_and(|l| l.as_str().starts_with(&upstream.issuer()))
    );

    // Deactivated: no button, and idp= is refused.
    let off = app
        .api_ssws(
            reqwest::Method::POST,
            &format!("/api/v1/idps/{idp}/lifecycle/deactivate"),
            &token,
            None,
        )
        .await?;
    ensure!(off.json()?["status"] == "INACTIVE", "{off:?}");
    let page = Browser::new()?
        .get(&app.authz(Server::Default).url())
        .await?;
    ensure!(
        !page.body.contains("Sign in with Upstream"),
        "button of an inactive IdP"
    );
    let refused = Browser::new()?
        .get(&app.authz(Server::Default).set("idp", &idp).url())
        .await?;
    ensure!(refused.status == 302, "{refused:?}");
    ensure!(refused.location().is_some_and(|l| {
        l.query_pairs()
            .any(|(k, v)| k == "error" && v == "invalid_request")
    }));

    // Invalid bodies, and delete.
    let mut bad = upstream.idp_body("Bad", json!({}));
    bad["protocol"]["scopes"] = json!(["profile"]);
    let reply = app
        .api_ssws(reqwest::Method::POST, "/api/v1/idps", &token, Some(&bad))
        .await?;
    ensure!(reply.status == 400, "scopes without openid: {reply:?}");
    let mut bad = upstream.idp_body("Bad", json!({}));
    bad["protocol"]["endpoints"]["token"]["url"] = json!("http://10.0.0.1/token");
    let reply = app
        .api_ssws(reqwest::Method::POST, "/api/v1/idps", &token, Some(&bad))
        .await?;
    ensure!(reply.status == 400, "a private token endpoint: {reply:?}");
    let gone = app
        .api_ssws(
            reqwest::Method::DELETE,
            &format!("/api/v1/idps/{idp}"),
            &token,
            None,
        )
        .await?;
    ensure!(gone.status == 204, "{gone:?}");
    let missing = app
        .api_ssws(
            reqwest::Method::GET,
            &format!("/api/v1/idps/{idp}"),
            &token,
            None,
        )
        .await?;
    ensure!(missing.status == 404, "{missing:?}");
    Ok(())
}

async fn idp_console_adds_from_discovery(backend: Backend) -> Result<()> {
    let (app, upstream) = app_and_upstream(backend).await?;
    let admin = admin_browser(&app).await?;
    let path = "/admin/access/identity-providers";
    let (page, csrf) = page_with_csrf(&app, &admin, path).await?;
    assert_console_headers(&page.headers)?;
    ensure!(
        page.body.contains("/oauth2/v1/authorize/callback"),
        "no redirect URI shown"
    );
    let url = format!("{}{path}", app.base);
    let issuer = upstream.issuer();
    let form = [
        ("csrf", csrf.as_str()),
        ("kind", "OIDC"),
        ("name", "Console IdP"),
        ("issuer", issuer.as_str()),
        ("client_id", "gatehouse-at-upstream"),
        ("client_secret", UPSTREAM_SECRET),
        ("domains", "console.example"),
    ];
    let missing_csrf = admin.post_form(&url, &form[1..]).await?;
    ensure!(missing_csrf.status == 403, "{missing_csrf:?}");
    let added = admin.post_form(&url, &form).await?;
    ensure!(added.status == 303, "{added:?}");
    let idps = app.provider.store.list_idps().await?;
    let idp = idps.first().context("not added")?;
    ensure!(
        idp.name == "Console IdP" && idp.settings.token_url == format!("{issuer}/token"),
        "{idp:?}"
    );
    ensure!(
        idp.settings.routing_domains == ["console.example"],
        "{idp:?}"
    );
    ensure!(
        idp.client_secret_sealed
            .as_deref()
            .is_some_and(|s| !s.contains(UPSTREAM_SECRET))
    );
    // A wrong issuer is shown next to its field.
    let mut bad = form;
    bad[2] = ("name", "Other");
    bad[3] = ("issuer", "http://127.0.0.1:9/nothing");
    let refused = admin.post_form(&url, &bad).await?;
    ensure!(
        refused.status == 422 && refused.body.contains("issuer-error"),
        "{refused:?}"
    );
    let off = admin
        .post_form(
            &format!("{url}/{}/deactivate", idp.id),
            // The console asks before deactivating (`confirm.rs`); this is the "yes".
            &[("csrf", csrf.as_str()), ("confirm", "yes")],
        )
        .await?;
    ensure!(off.status == 303, "{off:?}");
    let idp = app
        .provider
        .store
        .find_idp(&idp.id)
        .await?
        .context("gone")?;
    ensure!(idp.status == gatehouse_core::domain::IdpStatus::Inactive);
    Ok(())
}
