//! The calls Gatehouse makes to an upstream IdP: its token endpoint (a form POST) and its
//! userinfo endpoint (a GET with the access token). This crate does no I/O: the binary
//! installs an [`UpstreamHttp`] with the same SSRF rules, timeouts and size cap as the
//! `jwks_uri` fetcher (the upstream's keys go through [`crate::oauth2::remote_jwks`] itself).

use std::sync::{Arc, RwLock};

use async_trait::async_trait;

/// Why an upstream call failed (for the log; the person sees a generic message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UpstreamError(pub String);

#[async_trait]
pub trait UpstreamHttp: Send + Sync {
    /// POSTs `form` (`application/x-www-form-urlencoded`), with HTTP Basic `basic` if given;
    /// the status and body.
    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Result<(u16, Vec<u8>), UpstreamError>;
    /// GETs `url` with `Authorization: Bearer <bearer>` if given; the status and body.
    async fn get(&self, url: &str, bearer: Option<&str>) -> Result<(u16, Vec<u8>), UpstreamError>;
}

/// Where the binary installs its client; empty (every call fails) until then.
#[derive(Default)]
pub struct UpstreamSlot {
    inner: RwLock<Option<Arc<dyn UpstreamHttp>>>,
}

impl UpstreamSlot {
    pub fn install(&self, http: Arc<dyn UpstreamHttp>) {
        if let Ok(mut slot) = self.inner.write() {
            *slot = Some(http);
        }
    }

    pub fn get(&self) -> Result<Arc<dyn UpstreamHttp>, UpstreamError> {
        self.inner
            .read()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(|| UpstreamError("no upstream HTTP client is installed".into()))
    }
}
