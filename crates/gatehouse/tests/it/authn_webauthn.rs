//! A passkey as the second factor of Okta's classic Authentication API, with the software
//! authenticator: `MFA_REQUIRED` lists it, verify with the `stateToken` alone answers
//! `MFA_CHALLENGE`, a wrong signature is refused (403 E0000068), the right assertion answers
//! `SUCCESS` with a `sessionToken` whose session carries `hwk` and `mfa`.

use anyhow::{Context as _, Result, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Browser, PASSWORD, REDIRECT_URI, Server, TestApp, spawn_app};
use crate::webauthn::{dashboard, enroll, named_base, post_json};
use crate::webauthn_soft::SoftKey;

backend_tests!(authn_verifies_a_passkey_factor);

async fn authn_json(browser: &Browser, url: &str, body: &Value) -> Result<(StatusCode, Value)> {
    let r = post_json(browser, url, None, body).await?;
    let status = r.status;
    Ok((status, r.json().unwrap_or(Value::Null)))
}

async fn mfa_required(app: &TestApp, base: &str, browser: &Browser) -> Result<(String, String)> {
    let body = json!({"username": app.alice.login, "password": PASSWORD});
    let (status, reply) = authn_json(browser, &format!("{base}/api/v1/authn"), &body).await?;
    ensure!(
        status == StatusCode::OK && reply["status"] == "MFA_REQUIRED",
        "{reply}"
    );
    let factor = reply["_embedded"]["factors"]
        .as_array()
        .context("factors")?
        .iter()
        .find(|f| f["factorType"] == "webauthn")
        .context("no webauthn factor listed")?;
    let id = factor["id"].as_str().context("factor id")?.to_owned();
    let state = reply["stateToken"]
        .as_str()
        .context("stateToken")?
        .to_owned();
    Ok((id, state))
}

async fn authn_verifies_a_passkey_factor(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let base = named_base(&app);
    let (dash, csrf) = dashboard(&app, &base).await?;
    let mut key = SoftKey::new()?;
    enroll(&dash, &base, &csrf, &key).await?;

    let browser = Browser::new()?;
    let (factor_id, state) = mfa_required(&app, &base, &browser).await?;
    let verify = format!("{base}/api/v1/authn/factors/{factor_id}/verify");
    let (status, challenge) = authn_json(&browser, &verify, &json!({"stateToken": state})).await?;
    ensure!(status == StatusCode::OK, "{challenge}");
    ensure!(challenge["status"] == "MFA_CHALLENGE", "{challenge}");
    ensure!(challenge["factorResult"] == "CHALLENGE", "{challenge}");
    let factor = &challenge["_embedded"]["factor"];
    ensure!(
        factor["profile"]["credentialId"] == key.credential_id_b64().as_str(),
        "{challenge}"
    );
    let nonce = factor["_embedded"]["challenge"]["challenge"]
        .as_str()
        .context("no challenge")?
        .to_owned();
    let options = json!({"publicKey": {"challenge": nonce}});
    let answer = key.assert(&options, &base, "localhost")?;
    let body = |signature: &Value| {
        json!({
            "stateToken": state,
            "clientData": answer["response"]["clientDataJSON"],
            "authenticatorData": answer["response"]["authenticatorData"],
            "signatureData": signature,
        })
    };
    // A signature over something else is a wrong answer.
    let forged = SoftKey::new()?.assert(&options, &base, "localhost")?;
    let (status, wrong) =
        authn_json(&browser, &verify, &body(&forged["response"]["signature"])).await?;
    ensure!(
        status == StatusCode::FORBIDDEN && wrong["errorCode"] == "E0000068",
        "{wrong}"
    );
    // The refused answer spent the ceremony: a new challenge, then the right assertion.
    let (_, again) = authn_json(&browser, &verify, &json!({"stateToken": state})).await?;
    let nonce = again["_embedded"]["factor"]["_embedded"]["challenge"]["challenge"]
        .as_str()
        .context("no second challenge")?
        .to_owned();
    let answer = key.assert(
        &json!({"publicKey": {"challenge": nonce}}),
        &base,
        "localhost",
    )?;
    let right = json!({
        "stateToken": state,
        "clientData": answer["response"]["clientDataJSON"],
        "authenticatorData": answer["response"]["authenticatorData"],
        "signatureData": answer["response"]["signature"],
    });
    let (status, done) = authn_json(&browser, &verify, &right).await?;
    ensure!(
        status == StatusCode::OK && done["status"] == "SUCCESS",
        "{done}"
    );
    let token = done["sessionToken"].as_str().context("sessionToken")?;

    // The token's session carries the passkey: the ID token's amr says so.
    let url = app.authz(Server::Org).set("sessionToken", token).url();
    let callback = Browser::new()?.authorize_redirect(&url).await?;
    ensure!(callback.target() == REDIRECT_URI, "{callback:?}");
    let reply = app
        .exchange(Server::Org, &callback.code()?, &[], app.basic())
        .await?;
    let tokens = crate::helpers::Tokens::from_reply(reply)?;
    let (_, claims) = crate::helpers::jwt_parts(tokens.id_token()?)?;
    let amr = claims["amr"].as_array().context("amr")?;
    ensure!(
        amr.contains(&json!("hwk")) && amr.contains(&json!("mfa")),
        "{claims}"
    );
    ensure!(claims["acr"] == "urn:okta:loa:2fa:any", "{claims}");
    Ok(())
}
