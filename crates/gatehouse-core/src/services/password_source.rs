//! The installed client that asks a source org's `POST /api/v1/authn` whether a password is
//! right (see [`crate::services::password_migration`]); kept apart so that [`crate::Provider`]
//! can hold one without importing the services that use it.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;

/// The source org could not give an answer (down, timed out, rate limited, an unexpected
/// response). Not a wrong password: it is not counted against the user.
#[derive(Debug, thiserror::Error)]
#[error("the source org could not be asked: {0}")]
pub struct SourceUnavailable(pub String);

/// Checks a login and password against a source org's primary authentication.
#[async_trait]
pub trait SourceAuthenticator: Send + Sync {
    /// `Ok(true)`: the source accepted the password; `Ok(false)`: it refused it.
    async fn verify(
        &self,
        org_url: &str,
        login: &str,
        password: &str,
    ) -> Result<bool, SourceUnavailable>;
}

struct NotInstalled;

#[async_trait]
impl SourceAuthenticator for NotInstalled {
    async fn verify(&self, _: &str, _: &str, _: &str) -> Result<bool, SourceUnavailable> {
        Err(SourceUnavailable("no source client is installed".into()))
    }
}

/// The installed [`SourceAuthenticator`] (none until the binary installs one).
pub struct PasswordSource {
    inner: RwLock<Arc<dyn SourceAuthenticator>>,
}

impl Default for PasswordSource {
    fn default() -> Self {
        Self {
            inner: RwLock::new(Arc::new(NotInstalled)),
        }
    }
}

impl std::fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordSource").finish_non_exhaustive()
    }
}

impl PasswordSource {
    pub fn install(&self, source: Arc<dyn SourceAuthenticator>) {
        if let Ok(mut inner) = self.inner.write() {
            *inner = source;
        }
    }

    pub(crate) fn get(&self) -> Arc<dyn SourceAuthenticator> {
        match self.inner.read() {
            Ok(inner) => inner.clone(),
            Err(_) => Arc::new(NotInstalled),
        }
    }
}
