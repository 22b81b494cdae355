//! Passkeys (WebAuthn) over HTTP with a software authenticator ([`SoftKey`]): the begin
//! calls' options, CSRF and content-type refusals, the password asked again before an
//! enrollment, ceremony state used once, answers from another origin refused.
//!
//! The app is reached as `localhost`: a relying party id must be a host name.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Browser, PASSWORD, Reply, TestApp, hidden_input, spawn_app};
use crate::webauthn_soft::SoftKey;

backend_tests!(
    enrollment_begin_needs_csrf_json_and_the_password,
    enrollment_options_allow_any_authenticator,
    enrollment_state_is_used_once,
    enrollment_from_another_origin_is_refused,
);

/// The app's base URL with a host name instead of 127.0.0.1.
pub(crate) fn named_base(app: &TestApp) -> String {
    app.base.replace("127.0.0.1", "localhost")
}

/// Signs in on the hosted sign-in page at `base`, going to `from`.
pub(crate) async fn sign_in_at(
    browser: &Browser,
    base: &str,
    login: &str,
    from: &str,
) -> Result<Reply> {
    let from_q: String = url::form_urlencoded::byte_serialize(from.as_bytes()).collect();
    let page = browser
        .get(&format!("{base}/login/login.htm?fromURI={from_q}"))
        .await?;
    ensure!(page.status == StatusCode::OK, "{page:?}");
    let csrf = hidden_input(&page.body, "csrf").context("no csrf input")?;
    browser
        .post_form(
            &format!("{base}/login/login.htm"),
            &[
                ("csrf", &csrf),
                ("fromURI", from),
                ("username", login),
                ("password", PASSWORD),
            ],
        )
        .await
}

/// The value of `data-<name>="…"` in a page.
pub(crate) fn data_attr(html: &str, name: &str) -> Option<String> {
    let key = format!("data-{name}=\"");
    let start = html.find(&key)? + key.len();
    let end = html[start..].find('"')?;
    Some(
        html[start..start + end]
            .replace("&#x2f;", "/")
            .replace("&#47;", "/"),
    )
}

/// A signed-in browser on the passkeys page and the page's CSRF token.
pub(crate) async fn dashboard(app: &TestApp, base: &str) -> Result<(Browser, String)> {
    let browser = Browser::new()?;
    let signed_in = sign_in_at(
        &browser,
        base,
        &app.alice.login,
        "/enduser/settings/passkeys",
    )
    .await?;
    ensure!(signed_in.status == StatusCode::SEE_OTHER, "{signed_in:?}");
    let page = browser
        .get(&format!("{base}/enduser/settings/passkeys"))
        .await?;
    ensure!(page.status == StatusCode::OK, "{page:?}");
    let csrf = data_attr(&page.body, "csrf").context("no data-csrf on the passkeys page")?;
    Ok((browser, csrf))
}

/// POSTs JSON with the CSRF header (when given).
pub(crate) async fn post_json(
    browser: &Browser,
    url: &str,
    csrf: Option<&str>,
    body: &Value,
) -> Result<Reply> {
    let mut req = browser.client.post(url).json(body);
    if let Some(c) = csrf {
        req = req.header("x-csrf-token", c);
    }
    Reply::read(req.send().await?).await
}

async fn begin(browser: &Browser, base: &str, csrf: &str) -> Result<Value> {
    let r = post_json(
        browser,
        &format!("{base}/enduser/webauthn/register/begin"),
        Some(csrf),
        &json!({"password": PASSWORD}),
    )
    .await?;
    ensure!(r.status == StatusCode::OK, "{r:?}");
    ensure!(r.header("cache-control") == Some("no-store"), "{r:?}");
    r.json()
}

async fn finish(
    browser: &Browser,
    base: &str,
    csrf: &str,
    name: &str,
    credential: &Value,
) -> Result<Reply> {
    post_json(
        browser,
        &format!("{base}/enduser/webauthn/register/finish"),
        Some(csrf),
        &json!({"name": name, "credential": credential}),
    )
    .await
}

/// Enrolls `key` for Alice through the dashboard's calls; returns the factor JSON.
pub(crate) async fn enroll(
    browser: &Browser,
    base: &str,
    csrf: &str,
    key: &SoftKey,
) -> Result<Value> {
    let options = begin(browser, base, csrf).await?;
    let done = finish(
        browser,
        base,
        csrf,
        "Soft key",
        &key.register(&options, base)?,
    )
    .await?;
    ensure!(done.status == StatusCode::OK, "{done:?}");
    done.json()
}

async fn enrollment_begin_needs_csrf_json_and_the_password(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let base = named_base(&app);
    let (browser, csrf) = dashboard(&app, &base).await?;
    let url = format!("{base}/enduser/webauthn/register/begin");
    let body = json!({"password": PASSWORD});

    let missing = post_json(&browser, &url, None, &body).await?;
    ensure!(missing.status == StatusCode::FORBIDDEN, "{missing:?}");
    let wrong = post_json(&browser, &url, Some("forged"), &body).await?;
    ensure!(wrong.status == StatusCode::FORBIDDEN, "{wrong:?}");
    // A cross-site form cannot send JSON: a form-encoded body is refused even with the token.
    let form = Reply::read(
        browser
            .client
            .post(&url)
            .header("x-csrf-token", &csrf)
            .form(&[("password", PASSWORD)])
            .send()
            .await?,
    )
    .await?;
    ensure!(
        form.status == StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{form:?}"
    );
    // Another browser's session cannot use this session's token.
    let (other, _) = dashboard(&app, &base).await?;
    let stolen = post_json(&other, &url, Some(&csrf), &body).await?;
    ensure!(stolen.status == StatusCode::FORBIDDEN, "{stolen:?}");

    let bad_password = post_json(&browser, &url, Some(&csrf), &json!({"password": "nope"})).await?;
    ensure!(
        bad_password.status == StatusCode::UNAUTHORIZED,
        "{bad_password:?}"
    );
    // ...and it counted toward the lockout like a failed sign-in.
    let failures: i64 = sqlx_failures(&app).await?;
    ensure!(failures >= 1, "failures recorded: {failures}");

    // Not signed in: no JSON for anonymous callers.
    let anonymous = post_json(&Browser::new()?, &url, Some(&csrf), &body).await?;
    ensure!(anonymous.status != StatusCode::OK, "{anonymous:?}");
    Ok(())
}

/// Alice's consecutive sign-in failures as the store counts them.
async fn sqlx_failures(app: &TestApp) -> Result<i64> {
    let n = app
        .provider
        .store
        .record_signin_failure(&app.alice.id, app.provider.now())
        .await?;
    // That call counted one more; report the failures before it.
    app.provider
        .store
        .reset_signin_failures(&app.alice.id)
        .await?;
    Ok(i64::try_from(n)? - 1)
}

async fn enrollment_options_allow_any_authenticator(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let base = named_base(&app);
    let (browser, csrf) = dashboard(&app, &base).await?;
    let options = begin(&browser, &base, &csrf).await?;
    let pk = &options["publicKey"];
    ensure!(pk["rp"]["id"] == "localhost", "{options}");
    ensure!(pk["user"]["name"] == app.alice.login.as_str(), "{options}");
    ensure!(
        pk["challenge"].as_str().is_some_and(|c| c.len() >= 43),
        "{options}"
    );
    let sel = &pk["authenticatorSelection"];
    ensure!(sel["userVerification"] == "preferred", "{options}");
    ensure!(sel["residentKey"] == "preferred", "{options}");
    ensure!(
        sel.get("authenticatorAttachment")
            .is_none_or(Value::is_null),
        "{options}"
    );
    ensure!(pk.get("hints").is_none(), "{options}");
    ensure!(
        pk["pubKeyCredParams"]
            .as_array()
            .is_some_and(|a| a.iter().any(|p| p["alg"] == -7)),
        "{options}"
    );

    // Once a key is enrolled, the next enrollment excludes it.
    let key = SoftKey::new()?;
    enroll(&browser, &base, &csrf, &key).await?;
    let again = begin(&browser, &base, &csrf).await?;
    let excluded = again["publicKey"]["excludeCredentials"]
        .as_array()
        .context("no excludeCredentials")?;
    ensure!(
        excluded
            .iter()
            .any(|c| c["id"] == key.credential_id_b64().as_str()),
        "{again}"
    );
    Ok(())
}

async fn enrollment_state_is_used_once(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let base = named_base(&app);
    let (browser, csrf) = dashboard(&app, &base).await?;
    let key = SoftKey::new()?;
    let options = begin(&browser, &base, &csrf).await?;
    let answer = key.register(&options, &base)?;

    let missing_csrf = post_json(
        &browser,
        &format!("{base}/enduser/webauthn/register/finish"),
        None,
        &json!({"name": "x", "credential": answer}),
    )
    .await?;
    ensure!(
        missing_csrf.status == StatusCode::FORBIDDEN,
        "{missing_csrf:?}"
    );

    let done = finish(&browser, &base, &csrf, "  My key \u{7} ", &answer).await?;
    ensure!(done.status == StatusCode::OK, "{done:?}");
    let factor = done.json()?;
    ensure!(factor["factorType"] == "webauthn", "{factor}");
    ensure!(factor["provider"] == "FIDO", "{factor}");
    ensure!(factor["status"] == "ACTIVE", "{factor}");
    ensure!(
        factor["profile"]["authenticatorName"] == "My key",
        "{factor}"
    );
    ensure!(
        factor["profile"]["credentialId"] == key.credential_id_b64().as_str(),
        "{factor}"
    );

    // The same answer again: the ceremony is gone.
    let replay = finish(&browser, &base, &csrf, "again", &answer).await?;
    ensure!(replay.status == StatusCode::BAD_REQUEST, "{replay:?}");
    ensure!(replay.json()?["errorCode"] == "E0000011", "{replay:?}");

    // The page lists it; the store has exactly one.
    let page = browser
        .get(&format!("{base}/enduser/settings/passkeys"))
        .await?;
    ensure!(page.body.contains("My key"), "{page:?}");
    let factors = app.provider.store.list_factors(&app.alice.id).await?;
    ensure!(factors.len() == 1, "{factors:?}");
    // The System Log has the activation, by Alice, of that factor.
    let token = app.api_token().await?;
    let logs = app
        .api_ssws(
            reqwest::Method::GET,
            "/api/v1/logs?filter=eventType+eq+%22user.mfa.factor.activate%22",
            &token,
            None,
        )
        .await?;
    let logs = logs.json()?;
    ensure!(
        logs.as_array()
            .is_some_and(
                |a| a.iter().any(|e| e["actor"]["id"] == app.alice.id.as_str()
                    && e["target"]
                        .as_array()
                        .is_some_and(|t| t.iter().any(|t| t["id"] == factors[0].id.as_str())))
            ),
        "{logs}"
    );
    Ok(())
}

async fn enrollment_from_another_origin_is_refused(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let base = named_base(&app);
    let (browser, csrf) = dashboard(&app, &base).await?;
    let key = SoftKey::new()?;
    let options = begin(&browser, &base, &csrf).await?;
    let phished = key.register(&options, "http://localhost.evil.example")?;
    let refused = finish(&browser, &base, &csrf, "x", &phished).await?;
    ensure!(refused.status == StatusCode::FORBIDDEN, "{refused:?}");
    // The refusal used up the ceremony: even the right answer needs a new begin.
    let late = finish(&browser, &base, &csrf, "x", &key.register(&options, &base)?).await?;
    ensure!(late.status == StatusCode::BAD_REQUEST, "{late:?}");
    let fresh = begin(&browser, &base, &csrf).await?;
    let ok = finish(&browser, &base, &csrf, "x", &key.register(&fresh, &base)?).await?;
    ensure!(ok.status == StatusCode::OK, "{ok:?}");
    ensure!(
        app.provider.store.list_factors(&app.alice.id).await?.len() == 1,
        "one factor"
    );
    Ok(())
}
