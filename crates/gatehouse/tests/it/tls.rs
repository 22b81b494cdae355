//! Built-in TLS: the server started with a `gatehouse dev-cert` certificate answers https, a
//! client that trusts only the dev CA verifies it, and issuers and endpoints are https.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, Result, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse::tls::{DevCert, TlsFiles, make_dev_cert};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{HTTP_TIMEOUT, TestApp, spawn_app_with};

backend_tests!(
    discovery_over_https_with_dev_cert,
    untrusted_and_plain_http_clients_fail,
    client_credentials_over_https,
);

struct TlsApp {
    app: TestApp,
    made: DevCert,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Drop for TlsApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn spawn_tls_app(backend: Backend) -> Result<TlsApp> {
    let dir = std::env::temp_dir().join(format!(
        "gatehouse-it-tls-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let made = make_dev_cert(&dir, &dir, &["id.gatehouse.test".into()])?;
    let files = TlsFiles {
        cert: made.cert.clone(),
        key: made.key.clone(),
    };
    let app = spawn_app_with(backend, |s| s.tls = Some(files)).await?;
    let addr: SocketAddr = app
        .base
        .strip_prefix("https://")
        .context("the base URL is not https")?
        .parse()?;
    Ok(TlsApp {
        app,
        made,
        addr,
        dir,
    })
}

/// A client whose only root is the dev CA; `localhost` and the extra name resolve to the server.
fn trusting_client(t: &TlsApp) -> Result<reqwest::Client> {
    let ca = std::fs::read(&t.made.ca_cert)?;
    Ok(reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca)?)
        .https_only(true)
        .resolve("localhost", t.addr)
        .resolve("id.gatehouse.test", t.addr)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HTTP_TIMEOUT)
        .build()?)
}

async fn discovery_over_https_with_dev_cert(backend: Backend) -> Result<()> {
    let t = spawn_tls_app(backend).await?;
    let client = trusting_client(&t)?;
    let port = t.addr.port();
    for host in [
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "id.gatehouse.test".to_owned(),
    ] {
        let origin = format!("https://{host}:{port}");
        let url = format!("{origin}/oauth2/default/.well-known/openid-configuration");
        let reply = client.get(&url).send().await.context(url.clone())?;
        ensure!(reply.status() == StatusCode::OK, "{url}: {reply:?}");
        let doc: Value = reply.json().await?;
        assert_eq!(doc["issuer"], format!("{origin}/oauth2/default"), "{doc}");
        for field in ["token_endpoint", "jwks_uri", "authorization_endpoint"] {
            let value = doc[field].as_str().unwrap_or_default();
            ensure!(value.starts_with(&origin), "{field} = {value}");
        }
        let keys: Value = client
            .get(doc["jwks_uri"].as_str().unwrap_or_default())
            .send()
            .await?
            .json()
            .await?;
        ensure!(
            keys["keys"].as_array().is_some_and(|k| !k.is_empty()),
            "{keys}"
        );
    }
    let org: Value = client
        .get(format!(
            "https://localhost:{port}/.well-known/openid-configuration"
        ))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(org["issuer"], format!("https://localhost:{port}"));
    Ok(())
}

async fn untrusted_and_plain_http_clients_fail(backend: Backend) -> Result<()> {
    let t = spawn_tls_app(backend).await?;
    let port = t.addr.port();
    // Web PKI roots only: the dev certificate must not verify.
    let untrusted = reqwest::Client::builder()
        .resolve("localhost", t.addr)
        .timeout(HTTP_TIMEOUT)
        .build()?;
    let result = untrusted
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await;
    ensure!(
        result.is_err(),
        "an untrusted certificate was accepted: {result:?}"
    );
    // A host name the certificate does not cover.
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(
            &t.made.ca_cert,
        )?)?)
        .resolve("other.example", t.addr)
        .timeout(HTTP_TIMEOUT)
        .build()?;
    let result = client
        .get(format!("https://other.example:{port}/healthz"))
        .send()
        .await;
    ensure!(
        result.is_err(),
        "a wrong host name was accepted: {result:?}"
    );
    // Plain http to the TLS port gets no HTTP answer.
    let plain = reqwest::Client::builder().timeout(HTTP_TIMEOUT).build()?;
    let result = plain
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await;
    ensure!(
        result.as_ref().map_or(true, |r| !r.status().is_success()),
        "plain http was served: {result:?}"
    );
    // And the trusting client works, so the failures above are about trust and names.
    let ok = trusting_client(&t)?
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await?;
    ensure!(ok.status().is_success(), "{ok:?}");
    Ok(())
}

/// A token from the https token endpoint carries the https issuer.
async fn client_credentials_over_https(backend: Backend) -> Result<()> {
    let t = spawn_tls_app(backend).await?;
    let client = trusting_client(&t)?;
    let origin = format!("https://localhost:{}", t.addr.port());
    let token = t.app.api_token().await?;
    t.app.add_default_scope("svc:default").await?;
    let created: Value = client
        .post(format!("{origin}/oauth2/v1/clients"))
        .header("authorization", format!("SSWS {token}"))
        .json(&serde_json::json!({
            "client_name": "tls service",
            "application_type": "service",
            "grant_types": ["client_credentials"],
            "response_types": ["token"],
            "token_endpoint_auth_method": "client_secret_basic",
        }))
        .send()
        .await?
        .json()
        .await?;
    let id = created["client_id"].as_str().context("client_id")?;
    let secret = created["client_secret"].as_str().context("client_secret")?;
    let reply = client
        .post(format!("{origin}/oauth2/default/v1/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    let status = reply.status();
    let body: Value = reply.json().await?;
    ensure!(status == StatusCode::OK, "{status} {body}");
    let at = body["access_token"].as_str().context("access_token")?;
    let payload = at.split('.').nth(1).context("not a JWT")?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?;
    assert_eq!(claims["iss"], format!("{origin}/oauth2/default"));
    Ok(())
}
