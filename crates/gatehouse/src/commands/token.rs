//! `gatehouse token`: create, list and revoke management API tokens.

use anyhow::Context as _;
use gatehouse_core::Provider;
use gatehouse_core::services::api_tokens;
use gatehouse_core::services::directory;
use gatehouse_core::services::system_log::{Actor, ClientInfo};
use gatehouse_core::store::Page;
use serde_json::json;

use crate::cli::{Output, TokenCommand};

pub(super) async fn run(provider: &Provider, cmd: &TokenCommand) -> anyhow::Result<()> {
    let date = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    };
    match cmd {
        TokenCommand::Create { name, user, output } => {
            let owner = match user {
                Some(u) => directory::find_user_by_id_or_login(provider, u).await?,
                None => {
                    match gatehouse_core::services::bootstrap::bootstrap_admin(provider).await? {
                        Some(u) => u,
                        None => provider
                            .store
                            .list_users(Page {
                                after: None,
                                limit: 1,
                            })
                            .await?
                            .into_iter()
                            .next()
                            .context(
                                "there are no users yet: add one first (gatehouse user add)",
                            )?,
                    }
                }
            };
            // The CLI acts for the administrator the token is made for.
            let actor = Actor::user(&owner, &ClientInfo::default());
            let created = api_tokens::create_api_token(provider, &actor, name, &owner).await?;
            let t = &created.token;
            match output {
                Output::Json => println!(
                    "{}",
                    json!({"id": t.id, "name": t.name, "token": created.value,
                           "user_id": owner.id, "user": owner.login, "created": date(t.created)})
                ),
                Output::Text => {
                    println!(
                        "Created API token \"{}\" ({}) acting as {}",
                        t.name, t.id, owner.login
                    );
                    println!("  Token (shown once): {}", created.value);
                    println!("  Use it as:  Authorization: SSWS {}", created.value);
                }
            }
        }
        TokenCommand::List { output } => {
            let tokens = api_tokens::list_api_tokens(provider).await?;
            match output {
                Output::Json => {
                    let rows: Vec<_> = tokens
                        .iter()
                        .map(|t| {
                            json!({"id": t.id, "name": t.name, "user_id": t.user_id,
                                        "created": date(t.created),
                                        "last_used": t.last_used.map(date),
                                        "revoked": t.revoked_at.is_some()})
                        })
                        .collect();
                    println!("{}", serde_json::Value::Array(rows));
                }
                Output::Text => {
                    for t in tokens {
                        let state = if t.revoked_at.is_some() {
                            "REVOKED"
                        } else {
                            "ACTIVE"
                        };
                        let used = t.last_used.map(date).unwrap_or_else(|| "never".into());
                        println!("{}  {:<8} last used {:<25} {}", t.id, state, used, t.name);
                    }
                }
            }
        }
        TokenCommand::Revoke { id } => {
            api_tokens::revoke_api_token(provider, &Actor::system(), id).await?;
            println!("Revoked API token {id}");
        }
    }
    Ok(())
}
