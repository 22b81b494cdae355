//! Outgoing mail: the installed transport (SMTP, installed by the binary when configured).
//! Kept apart from what sends (see [`crate::services::mail_delivery`]) so that
//! [`crate::Provider`] can hold the slot without importing the services that use it.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;

/// One message to one recipient, rendered (text and HTML alternatives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a mail was not sent, in words safe to log (no credentials, no link).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MailError(pub String);

/// Delivers mail (an SMTP relay).
#[async_trait]
pub trait MailTransport: Send + Sync {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}

/// The installed [`MailTransport`]: none until the binary installs one from the configuration.
#[derive(Default)]
pub struct MailSlot {
    inner: RwLock<Option<Arc<dyn MailTransport>>>,
}

impl std::fmt::Debug for MailSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSlot")
            .field("configured", &self.is_configured())
            .finish()
    }
}

impl MailSlot {
    pub fn install(&self, transport: Arc<dyn MailTransport>) {
        if let Ok(mut inner) = self.inner.write() {
            *inner = Some(transport);
        }
    }

    /// Whether mail can be sent at all (otherwise links are returned or printed instead).
    pub fn is_configured(&self) -> bool {
        self.get().is_some()
    }

    fn get(&self) -> Option<Arc<dyn MailTransport>> {
        self.inner.read().ok().and_then(|i| i.clone())
    }

    /// Sends now and waits (the `gatehouse email test` command).
    pub async fn send_now(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        match self.get() {
            Some(t) => t.send(mail).await,
            None => Err(MailError("no SMTP server is configured".into())),
        }
    }
}
