//! The CLI commands, one file per command group. Each is a thin adapter over
//! `gatehouse_core::services`; `serve` and `dev-cert` are here.

use std::io::Write as _;

use crate::cli::{Cli, Command, DevCertArgs, ServeArgs};
use crate::config::Settings;
use crate::startup::{Application, open_provider, redact_url};

mod app;
mod app_service;
mod auth_server;
mod auth_server_claims;
pub mod doctor;
mod group;
pub mod idp;
pub mod ldap;
pub mod password_policy;
pub mod policy;
mod rp_lines;
mod token;
mod user;
mod user_links;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        None => serve(&cli, &ServeArgs::default()).await,
        Some(Command::Serve(args)) => serve(&cli, args).await,
        Some(Command::User(cmd)) => {
            let settings = Settings::load(&cli, None)?;
            let provider = open_provider(&settings).await?;
            user::run(&provider, &settings, cmd).await
        }
        Some(Command::Email(cmd)) => {
            let settings = Settings::load(&cli, None)?;
            let provider = open_provider(&settings).await?;
            user_links::email(&provider, &settings, cmd).await
        }
        Some(Command::Group(cmd)) => {
            let provider = open_provider(&Settings::load(&cli, None)?).await?;
            group::run(&provider, cmd).await
        }
        Some(Command::App(cmd)) => {
            let settings = Settings::load(&cli, None)?;
            let provider = open_provider(&settings).await?;
            app::run(&provider, &settings, cmd).await
        }
        Some(Command::Token(cmd)) => {
            let provider = open_provider(&Settings::load(&cli, None)?).await?;
            token::run(&provider, cmd).await
        }
        Some(Command::DevCert(args)) => dev_cert(&Settings::load(&cli, None)?, args),
        Some(Command::AuthServer(cmd)) => {
            let provider = open_provider(&Settings::load(&cli, None)?).await?;
            auth_server::run(&provider, cmd).await
        }
        Some(Command::Idp(cmd)) => {
            let settings = Settings::load(&cli, None)?;
            let provider = open_provider(&settings).await?;
            idp::run(&provider, &settings, cmd).await
        }
        Some(Command::Ldap(cmd)) => {
            let provider = open_provider(&Settings::load(&cli, None)?).await?;
            ldap::run(&provider, &cli, cmd).await
        }
        Some(Command::Logs(args)) => {
            let provider = open_provider(&Settings::load(&cli, None)?).await?;
            crate::logs_cmd::logs(&provider, args).await
        }
        Some(Command::Policy(cmd)) => {
            let provider = open_provider(&Settings::load(&cli, None)?).await?;
            policy::run(&provider, cmd).await
        }
        Some(Command::Backup(args)) => {
            crate::backup::backup(&Settings::load(&cli, None)?, args).await
        }
        Some(Command::Restore(args)) => {
            crate::backup::restore(&Settings::load(&cli, None)?, args).await
        }
        Some(Command::Doctor(args)) => {
            let settings = Settings::load(&cli, None)?;
            let provider = open_provider(&settings).await?;
            doctor::run(&provider, settings.public_url.as_deref(), args).await
        }
        Some(Command::Import(cmd)) => {
            let provider = open_provider(&Settings::load(&cli, None)?).await?;
            crate::import::run(&provider, cmd).await
        }
    }
}

async fn serve(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let settings = Settings::load(cli, Some(args))?;
    let app = Application::build(&settings).await?;
    let addr = app.local_addr()?;
    let scheme = app.scheme();
    let base = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{addr}"));
    let admin = crate::startup::create_bootstrap_admin(&app.provider()).await?;
    // The default PASSWORD policy, seeded from `[security]`'s lockout settings at first start.
    gatehouse_core::services::passwords::manage::ensure_default(&app.provider()).await?;
    let _ldap_sync = ldap::start(cli, &app.provider())?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Gatehouse {} listening on {scheme}://{addr}",
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(
        out,
        "  database:          {}",
        redact_url(&settings.database_url)
    )?;
    writeln!(out, "  org issuer:        {base}")?;
    writeln!(out, "  default issuer:    {base}/oauth2/default")?;
    writeln!(
        out,
        "  discovery:         {base}/.well-known/openid-configuration"
    )?;
    if let Some((login, password)) = admin {
        writeln!(
            out,
            "  first start: bootstrap administrator created (shown once, change it):"
        )?;
        writeln!(out, "    login:    {login}")?;
        writeln!(out, "    password: {password}")?;
    }
    out.flush()?;
    drop(out);
    app.run_until_stopped().await
}

fn dev_cert(settings: &Settings, args: &DevCertArgs) -> anyhow::Result<()> {
    let out_dir = args.out_dir.as_deref().unwrap_or(&settings.data_dir);
    let made = crate::tls::make_dev_cert(&settings.data_dir, out_dir, &args.names)?;
    print!(
        "{}",
        crate::tls::dev_cert_instructions(&made, &settings.bind)
    );
    Ok(())
}
