//! The HTTP calls to upstream identity providers' token and userinfo endpoints, under the
//! rules of [`crate::jwks_fetch`] (the upstream's keys are fetched by that fetcher itself):
//! https only (plain http only to loopback with `dev_jwks_uri_allow_loopback`), every resolved
//! address public, the connection pinned to the vetted address, no redirects, no proxies,
//! short timeouts and a body cap.

use async_trait::async_trait;
use gatehouse_core::oauth2::remote_jwks::check_uri;
use gatehouse_core::services::idps::upstream::{UpstreamError, UpstreamHttp};

use crate::jwks_fetch::{
    CONNECT_TIMEOUT, HttpJwksFetcher, MAX_BODY_BYTES, TOTAL_TIMEOUT, describe,
};

pub struct HttpUpstream {
    vetting: HttpJwksFetcher,
    allow_loopback: bool,
    user_agent: String,
}

impl HttpUpstream {
    pub fn new(allow_loopback: bool) -> Self {
        Self {
            vetting: HttpJwksFetcher::new(allow_loopback),
            allow_loopback,
            user_agent: format!(
                "Gatehouse/{} (identity provider client)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }

    async fn client(&self, url: &url::Url) -> Result<reqwest::Client, UpstreamError> {
        check_uri(url, self.allow_loopback).map_err(|e| UpstreamError(e.to_string()))?;
        let addr = self
            .vetting
            .vetted_address(url)
            .await
            .map_err(|e| UpstreamError(e.to_string()))?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            .user_agent(self.user_agent.clone())
            .https_only(url.scheme() == "https");
        if let Some(url::Host::Domain(host)) = url.host() {
            builder = builder.resolve(host, addr);
        }
        builder
            .build()
            .map_err(|e| UpstreamError(format!("HTTP client: {e}")))
    }
}

fn parse(url: &str) -> Result<url::Url, UpstreamError> {
    url::Url::parse(url).map_err(|_| UpstreamError("the endpoint is not a URL".into()))
}

async fn read(mut response: reqwest::Response) -> Result<(u16, Vec<u8>), UpstreamError> {
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| UpstreamError(describe(&e)))?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(UpstreamError(format!(
                "the response is larger than {MAX_BODY_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

#[async_trait]
impl UpstreamHttp for HttpUpstream {
    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Result<(u16, Vec<u8>), UpstreamError> {
        let url = parse(url)?;
        let client = self.client(&url).await?;
        let mut request = client
            .post(url)
            .header("accept", "application/json")
            .form(form);
        if let Some((user, password)) = basic {
            // RFC 6749 §2.3.1: each part form-urlencoded before Basic.
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            request = request.basic_auth(enc(user), Some(enc(password)));
        }
        let response = request
            .send()
            .await
            .map_err(|e| UpstreamError(describe(&e)))?;
        read(response).await
    }

    async fn get(&self, url: &str, bearer: Option<&str>) -> Result<(u16, Vec<u8>), UpstreamError> {
        let url = parse(url)?;
        let client = self.client(&url).await?;
        let mut request = client.get(url).header("accept", "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| UpstreamError(describe(&e)))?;
        read(response).await
    }
}
