//! Outgoing mail over SMTP (the `lettre` crate): the `[smtp]` settings (and `GATEHOUSE_SMTP_*`),
//! and the transport installed into the engine. STARTTLS (port 587, the default), implicit TLS
//! (`tls`, port 465) or, for a relay on loopback only, plain (`none`); optional AUTH.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use gatehouse_core::services::mail::{MailError, MailTransport, OutgoingMail};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

/// `[smtp]` in the config file; every key is optional (no `host`: mail is off).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpFileConfig {
    pub host: Option<String>,
    pub port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    pub security: Option<String>,
    pub username: Option<String>,
    /// A file whose first line is the password (or `GATEHOUSE_SMTP_PASSWORD`).
    pub password_file: Option<PathBuf>,
    /// The sender, e.g. `Example ID <id@example.com>`.
    pub from: Option<String>,
    /// Seconds to wait for the relay (default 15).
    pub timeout_seconds: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    StartTls,
    Tls,
    None,
}

/// Resolved SMTP settings. `Debug` never shows the password.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    password: Option<String>,
    pub from: Mailbox,
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `[smtp]` with `GATEHOUSE_SMTP_*` over it; `None` when no host is set (mail off).
pub fn load(file: Option<&SmtpFileConfig>) -> anyhow::Result<Option<SmtpSettings>> {
    let file = file.cloned().unwrap_or_default();
    let Some(host) = env("GATEHOUSE_SMTP_HOST").or(file.host) else {
        return Ok(None);
    };
    let security = match env("GATEHOUSE_SMTP_SECURITY")
        .or(file.security)
        .as_deref()
        .map(str::trim)
    {
        None | Some("starttls") => Security::StartTls,
        Some("tls") => Security::Tls,
        Some("none") => Security::None,
        Some(other) => anyhow::bail!("smtp.security '{other}' is not starttls, tls or none"),
    };
    let port = match env("GATEHOUSE_SMTP_PORT") {
        Some(p) => p
            .trim()
            .parse()
            .with_context(|| format!("GATEHOUSE_SMTP_PORT: '{p}' is not a port"))?,
        None => file.port.unwrap_or(match security {
            Security::StartTls => 587,
            Security::Tls => 465,
            Security::None => 25,
        }),
    };
    let password = match (
        env("GATEHOUSE_SMTP_PASSWORD"),
        env("GATEHOUSE_SMTP_PASSWORD_FILE")
            .map(PathBuf::from)
            .or(file.password_file),
    ) {
        (Some(p), _) => Some(p),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!("cannot read the SMTP password file {}", path.display())
            })?;
            Some(text.lines().next().unwrap_or_default().to_owned())
        }
        (None, None) => None,
    };
    let username = env("GATEHOUSE_SMTP_USERNAME").or(file.username);
    anyhow::ensure!(
        username.is_none() || password.is_some(),
        "smtp.username is set but no password: set GATEHOUSE_SMTP_PASSWORD or smtp.password_file"
    );
    let from_text = env("GATEHOUSE_SMTP_FROM").or(file.from).context(
        "[smtp] needs from (or GATEHOUSE_SMTP_FROM), e.g. \"Example ID <id@example.com>\"",
    )?;
    let from: Mailbox = from_text
        .parse()
        .with_context(|| format!("smtp.from '{from_text}' is not a mail address"))?;
    let timeout = Duration::from_secs(file.timeout_seconds.unwrap_or(15).clamp(1, 300));
    Ok(Some(SmtpSettings {
        host: host.trim().to_owned(),
        port,
        security,
        username,
        password,
        from,
        timeout,
    }))
}

/// The SMTP transport the engine sends through.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(s: &SmtpSettings) -> anyhow::Result<Self> {
        let builder = match s.security {
            Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)?,
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)?,
            Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
        };
        let mut builder = builder.port(s.port).timeout(Some(s.timeout));
        if let (Some(user), Some(pass)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from: s.from.clone(),
        })
    }

    pub fn install(provider: &gatehouse_core::Provider, s: &SmtpSettings) -> anyhow::Result<()> {
        provider.mail.install(Arc::new(Self::new(s)?));
        Ok(())
    }
}

#[async_trait]
impl MailTransport for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| MailError("the recipient's address is not valid".into()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| MailError(format!("the message could not be built: {e}")))?;
        // lettre's errors name the relay and the SMTP reply, never the credentials.
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError(format!("SMTP: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(host: Option<&str>) -> SmtpFileConfig {
        SmtpFileConfig {
            host: host.map(str::to_owned),
            from: Some("Example ID <id@example.com>".into()),
            ..Default::default()
        }
    }

    #[test]
    fn smtp_settings_from_the_file() -> anyhow::Result<()> {
        if std::env::vars().any(|(k, _)| k.starts_with("GATEHOUSE_SMTP_")) {
            return Ok(()); // the environment would win over the file
        }
        assert!(load(None)?.is_none());
        assert!(load(Some(&file(None)))?.is_none());
        let s = load(Some(&file(Some("smtp.example.com"))))?.context("settings")?;
        assert_eq!((s.security, s.port), (Security::StartTls, 587));
        assert_eq!(s.from.email.to_string(), "id@example.com");
        let tls = SmtpFileConfig {
            security: Some("tls".into()),
            ..file(Some("smtp.example.com"))
        };
        assert_eq!(load(Some(&tls))?.map(|s| s.port), Some(465));
        for bad in [
            SmtpFileConfig {
                security: Some("ssl".into()),
                ..file(Some("h"))
            },
            SmtpFileConfig {
                from: Some("not an address".into()),
                ..file(Some("h"))
            },
            SmtpFileConfig {
                from: None,
                ..file(Some("h"))
            },
            SmtpFileConfig {
                username: Some("u".into()),
                ..file(Some("h"))
            },
        ] {
            assert!(load(Some(&bad)).is_err(), "{bad:?}");
        }
        // The password never shows in Debug.
        let with_password = SmtpSettings {
            password: Some("hunter2-secret".into()),
            ..s
        };
        assert!(!format!("{with_password:?}").contains("hunter2"));
        Ok(())
    }
}
