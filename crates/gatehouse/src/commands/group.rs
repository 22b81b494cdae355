//! `gatehouse group`: add a group, add a member to one.

use gatehouse_core::Provider;
use gatehouse_core::services::system_log::Actor;
use gatehouse_core::services::{directory, groups};
use serde_json::json;

use crate::cli::{GroupCommand, Output};

pub(super) async fn run(provider: &Provider, cmd: &GroupCommand) -> anyhow::Result<()> {
    match cmd {
        GroupCommand::Add {
            name,
            description,
            output,
        } => {
            let group = groups::create_group(provider, &Actor::system(), name, description).await?;
            match output {
                Output::Json => println!("{}", json!({"id": group.id, "name": group.name})),
                Output::Text => println!("Created group {} ({})", group.name, group.id),
            }
        }
        GroupCommand::AddMember { group, user } => {
            let g = directory::find_group_by_id_or_name(provider, group).await?;
            let u = directory::find_user_by_id_or_login(provider, user).await?;
            groups::add_group_member(provider, &Actor::system(), &g, &u).await?;
            println!("Added {} to {}", u.login, g.name);
        }
    }
    Ok(())
}
