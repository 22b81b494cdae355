//! `gatehouse user activate|reset-password` (print, and optionally mail, a one-time link) and
//! `gatehouse email test`.

use anyhow::bail;
use gatehouse_core::Provider;
use gatehouse_core::domain::{User, UserStatus};
use gatehouse_core::services::directory;
use gatehouse_core::services::system_log::Actor;
use gatehouse_core::services::user_links::{self, IssuedLink};
use gatehouse_core::services::users::Lifecycle;

use crate::cli::EmailCommand;
use crate::config::Settings;

/// `--public-url`, else the configured public URL, else what the bind address serves.
pub(super) fn base_url(settings: &Settings, public_url: Option<&str>) -> String {
    public_url
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| settings.display_base_url())
}

/// Prints the link, and mails it when asked (waiting for the relay's answer).
async fn hand_out(
    provider: &Provider,
    settings: &Settings,
    base: &str,
    user: &User,
    link: &IssuedLink,
    send_email: bool,
) -> anyhow::Result<()> {
    println!("{}", link.url(base));
    if send_email {
        if !provider.mail.is_configured() {
            bail!("no SMTP server is configured ([smtp] host): the link above was not mailed");
        }
        let mail =
            gatehouse_web::mail::link_mail(&settings.branding, user, link, base, provider.now())?;
        provider.mail.send_now(&mail).await?;
        eprintln!("mailed to {}", user.email);
    }
    Ok(())
}

pub(super) async fn activate(
    provider: &Provider,
    settings: &Settings,
    base: &str,
    login: &str,
    send_email: bool,
) -> anyhow::Result<()> {
    let user = directory::find_user_by_id_or_login(provider, login).await?;
    let op = match user.status {
        UserStatus::Provisioned => Lifecycle::Reactivate,
        UserStatus::Staged | UserStatus::Deprovisioned => Lifecycle::Activate,
        other => bail!(
            "{} is {other}: only a STAGED, PROVISIONED or DEPROVISIONED user can be activated",
            user.login
        ),
    };
    let (user, link) = user_links::activate(provider, &Actor::system(), user, op).await?;
    match link {
        Some(link) => hand_out(provider, settings, base, &user, &link, send_email).await,
        None => {
            eprintln!(
                "{} is {} (they already have a password)",
                user.login, user.status
            );
            Ok(())
        }
    }
}

pub(super) async fn reset_password(
    provider: &Provider,
    settings: &Settings,
    base: &str,
    login: &str,
    send_email: bool,
) -> anyhow::Result<()> {
    let user = directory::find_user_by_id_or_login(provider, login).await?;
    let (user, link) = user_links::reset_password(provider, &Actor::system(), user).await?;
    hand_out(provider, settings, base, &user, &link, send_email).await
}

pub(super) async fn email(
    provider: &Provider,
    settings: &Settings,
    cmd: &EmailCommand,
) -> anyhow::Result<()> {
    match cmd {
        EmailCommand::Test { to } => {
            if !provider.mail.is_configured() {
                bail!(
                    "no SMTP server is configured: set [smtp] host and from (or GATEHOUSE_SMTP_HOST, GATEHOUSE_SMTP_FROM)"
                );
            }
            let mail = gatehouse_web::mail::test_mail(
                &settings.branding,
                to,
                &settings.display_base_url(),
            )?;
            provider.mail.send_now(&mail).await?;
            println!("test mail sent to {to}");
        }
    }
    Ok(())
}
