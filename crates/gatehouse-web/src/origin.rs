//! The public origin of a request, from which issuers and endpoint URLs are built.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::AppState;
use crate::error::WebError;

/// `scheme://host[:port]` (plus a path prefix if the configured public URL has one): with a
/// public URL configured, the public URL or the configured custom domain the request came in
/// on; without one (development), what the request's `Host` says.
pub struct Origin(pub String);

impl FromRequestParts<AppState> for Origin {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Borrowed from the request: the origin is the one string made (on every request).
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let trusted =
            peer.is_some_and(|ip| crate::client_ip::is_trusted(&state.config.trusted_proxies, ip));
        let forwarded = |name: &str| {
            if trusted {
                header(name).and_then(|v| v.split(',').next().map(str::trim))
            } else {
                None
            }
        };
        let scheme = forwarded("x-forwarded-proto")
            .filter(|s| *s == "https" || *s == "http")
            .unwrap_or(if state.config.https { "https" } else { "http" });
        let host = forwarded("x-forwarded-host")
            .or_else(|| header("host"))
            .or_else(|| parts.uri.authority().map(|a| a.as_str()));
        if let Some(public) = &state.config.public_url {
            // With a public URL, a request's host counts only if it is a configured custom
            // domain; any other Host (forged or not) gets the public URL.
            let custom = host.and_then(|h| state.provider.domains.custom_domain_for_host(h));
            return Ok(Origin(
                custom.unwrap_or(public).trim_end_matches('/').to_owned(),
            ));
        }
        let host =
            host.ok_or_else(|| WebError::BadRequest("The request has no Host header.".into()))?;
        if !is_valid_host(host) {
            return Err(WebError::BadRequest("The Host header is not valid.".into()));
        }
        Ok(Origin(format!("{scheme}://{host}")))
    }
}

/// A host name or address with an optional port; nothing that could smuggle a path or userinfo.
fn is_valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}
