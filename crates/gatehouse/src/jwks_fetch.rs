//! Fetching a client's `jwks_uri` (and its `request_uri` and `sector_identifier_uri`
//! documents), built so that a client cannot aim the server at anything it should not reach
//! (SSRF):
//! * https only; plain http only to a loopback address, and only with the development setting
//!   `dev_jwks_uri_allow_loopback` (so local tests can serve keys);
//! * the host is resolved here and *every* address must be public (no loopback, private,
//!   link-local/metadata, CGNAT, multicast or reserved range; see [`is_public_ip`]), else the
//!   fetch is refused before any connection;
//! * the connection goes to the vetted address (the resolver is bypassed for the request), so a
//!   second DNS answer cannot rebind it; TLS still verifies the host name;
//! * no redirects, no proxies, short timeouts, and a cap on the body size.
//!
//! The same rules govern the one outbound POST: back-channel logout tokens sent to an app's
//! `backchannel_logout_uri` ([`JwksFetcher::post_logout_token`]).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use gatehouse_core::oauth2::remote_jwks::{JwksFetchError, JwksFetcher, check_uri, is_public_ip};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(5);
pub const DNS_TIMEOUT: Duration = Duration::from_secs(3);
/// A set of 20 RSA-4096 keys is about 16 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct HttpJwksFetcher {
    allow_loopback: bool,
    user_agent: String,
}

impl HttpJwksFetcher {
    pub fn new(allow_loopback: bool) -> Self {
        Self {
            allow_loopback,
            user_agent: format!("Gatehouse/{} (client metadata)", env!("CARGO_PKG_VERSION")),
        }
    }

    /// The address to connect to, after every resolved address passed the rules.
    pub(crate) async fn vetted_address(
        &self,
        url: &url::Url,
    ) -> Result<SocketAddr, JwksFetchError> {
        let refuse = |m: String| JwksFetchError::Refused(m);
        let port = url
            .port_or_known_default()
            .ok_or_else(|| refuse("it has no port".into()))?;
        let addrs: Vec<SocketAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            Some(url::Host::Domain(host)) => {
                tokio::time::timeout(DNS_TIMEOUT, tokio::net::lookup_host((host, port)))
                    .await
                    .map_err(|_| JwksFetchError::Failed("resolving the host timed out".into()))?
                    .map_err(|_| JwksFetchError::Failed("the host does not resolve".into()))?
                    .collect()
            }
            None => return Err(refuse("it has no host".into())),
        };
        if addrs.is_empty() {
            return Err(JwksFetchError::Failed("the host does not resolve".into()));
        }
        let plain_http = url.scheme() == "http";
        for addr in &addrs {
            let ip = addr.ip();
            let loopback_ok = self.allow_loopback && ip.is_loopback();
            if plain_http && !loopback_ok {
                return Err(refuse(format!(
                    "http is allowed only to loopback, and the host resolves to {ip}"
                )));
            }
            if !is_public_ip(ip) && !loopback_ok {
                return Err(refuse(format!(
                    "the host resolves to {ip}, a private, loopback, link-local or reserved address"
                )));
            }
        }
        Ok(addrs[0])
    }

    /// A client for `url` that connects only to its vetted address: no redirects, no proxies,
    /// short timeouts.
    async fn client_for(&self, url: &url::Url) -> Result<reqwest::Client, JwksFetchError> {
        check_uri(url, self.allow_loopback)?;
        let addr = self.vetted_address(url).await?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            .user_agent(self.user_agent.clone())
            .https_only(url.scheme() == "https");
        if let Some(url::Host::Domain(host)) = url.host() {
            // Connect to the address vetted above, not to whatever a new lookup returns.
            builder = builder.resolve(host, addr);
        }
        builder
            .build()
            .map_err(|e| JwksFetchError::Failed(format!("HTTP client: {e}")))
    }
}

#[async_trait]
impl JwksFetcher for HttpJwksFetcher {
    async fn fetch(&self, uri: &str) -> Result<Vec<u8>, JwksFetchError> {
        let url =
            url::Url::parse(uri).map_err(|_| JwksFetchError::Refused("it is not a URL".into()))?;
        let client = self.client_for(&url).await?;
        let mut response = client
            .get(url)
            .header(
                "accept",
                "application/jwk-set+json, application/oauth-authz-req+jwt, application/jwt, application/json;q=0.9",
            )
            .send()
            .await
            .map_err(|e| JwksFetchError::Failed(describe(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(JwksFetchError::Failed(format!(
                "the server answered {}",
                status.as_u16()
            )));
        }
        let too_big = || {
            JwksFetchError::Failed(format!(
                "the document is larger than {MAX_BODY_BYTES} bytes"
            ))
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(too_big());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| JwksFetchError::Failed(describe(&e)))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Back-Channel Logout 1.0 §2.5: `POST` with `logout_token` form-encoded; any 2xx is
    /// success (the body is not read).
    async fn post_logout_token(&self, uri: &str, token: &str) -> Result<(), JwksFetchError> {
        let url =
            url::Url::parse(uri).map_err(|_| JwksFetchError::Refused("it is not a URL".into()))?;
        let client = self.client_for(&url).await?;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("logout_token", token)
            .finish();
        let response = client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cache-control", "no-store")
            .body(body)
            .send()
            .await
            .map_err(|e| JwksFetchError::Failed(describe(&e)))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(JwksFetchError::Failed(format!(
                "the app answered {}",
                status.as_u16()
            )))
        }
    }
}

/// A short reason without the URL (it is logged next to the client id already).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the request timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else if e.is_redirect() {
        "redirects are not followed".into()
    } else {
        "the request failed".into()
    }
}
