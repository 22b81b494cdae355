//! `gatehouse user`: add and list users, make one an administrator, unlock one.

use std::io::BufRead as _;

use anyhow::{Context as _, bail};
use gatehouse_core::Provider;
use gatehouse_core::domain::UserStatus;
use gatehouse_core::services::admin_roles;
use gatehouse_core::services::directory;
use gatehouse_core::services::system_log::Actor;
use gatehouse_core::services::users::{self, Lifecycle, NewUser};
use gatehouse_core::store::Page;
use serde_json::json;

use crate::cli::{Output, UserCommand};

fn read_password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub(super) async fn run(
    provider: &Provider,
    settings: &crate::config::Settings,
    cmd: &UserCommand,
) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            login,
            email,
            first_name,
            last_name,
            password,
            password_stdin,
            output,
        } => {
            let password = match (password, password_stdin) {
                (Some(p), _) => p.clone(),
                (None, true) => read_password_from_stdin()?,
                (None, false) => bail!("give a password with --password-stdin (or --password)"),
            };
            let email = match email {
                Some(e) => e.clone(),
                None if login.contains('@') => login.clone(),
                None => bail!("--email is required when the login is not an email address"),
            };
            let user = users::create_user(
                provider,
                &Actor::system(),
                NewUser {
                    login: login.clone(),
                    email,
                    first_name: first_name.clone(),
                    last_name: last_name.clone(),
                    display_name: None,
                    password: Some(password),
                    activate: true,
                },
            )
            .await?;
            match output {
                Output::Json => println!(
                    "{}",
                    json!({"id": user.id, "login": user.login, "status": user.status.as_str()})
                ),
                Output::Text => println!(
                    "Created user {} ({}), status {}",
                    user.login, user.id, user.status
                ),
            }
        }
        UserCommand::List { output } => {
            let users = provider
                .store
                .list_users(Page {
                    after: None,
                    limit: 10_000,
                })
                .await?;
            match output {
                Output::Json => {
                    let rows: Vec<_> = users
                        .iter()
                        .map(|u| json!({"id": u.id, "login": u.login, "status": u.status.as_str()}))
                        .collect();
                    println!("{}", serde_json::Value::Array(rows));
                }
                Output::Text => {
                    for u in users {
                        println!("{}  {:<12} {}", u.id, u.status.as_str(), u.login);
                    }
                }
            }
        }
        UserCommand::Admin { user, revoke } => {
            let user = directory::find_user_by_id_or_login(provider, user).await?;
            if *revoke {
                admin_roles::revoke_super_admin(provider, &user).await?;
                println!("{} is no longer an administrator", user.login);
            } else {
                admin_roles::grant_super_admin(provider, &user).await?;
                println!("{} is an administrator (SUPER_ADMIN)", user.login);
            }
        }
        UserCommand::Unlock { user } => {
            let user = directory::find_user_by_id_or_login(provider, user).await?;
            let was = user.status;
            if !matches!(was, UserStatus::LockedOut | UserStatus::Active) {
                bail!(
                    "{} is {}, not locked out: only a LOCKED_OUT (or ACTIVE) user can be unlocked",
                    user.login,
                    was.as_str()
                );
            }
            users::lifecycle(provider, &Actor::system(), user.clone(), Lifecycle::Unlock).await?;
            if was == UserStatus::LockedOut {
                println!(
                    "{} is unlocked (ACTIVE); failed sign-ins forgiven",
                    user.login
                );
            } else {
                println!(
                    "{} was not locked out; failed sign-ins forgiven",
                    user.login
                );
            }
        }
        UserCommand::Activate {
            login,
            send_email,
            public_url,
        } => {
            let base = super::user_links::base_url(settings, public_url.as_deref());
            super::user_links::activate(provider, settings, &base, login, *send_email).await?;
        }
        UserCommand::ResetPassword {
            login,
            send_email,
            public_url,
        } => {
            let base = super::user_links::base_url(settings, public_url.as_deref());
            super::user_links::reset_password(provider, settings, &base, login, *send_email)
                .await?;
        }
    }
    Ok(())
}
