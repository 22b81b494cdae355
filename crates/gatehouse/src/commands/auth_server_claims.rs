//! `gatehouse auth-server claim add|list|remove`: a custom server's claims, as the console's
//! Claims tab and `/api/v1/authorizationServers/{id}/claims` edit them.

use anyhow::Context as _;
use gatehouse_core::Provider;
use gatehouse_core::authz::model::{ClaimType, ClaimValueType, GroupFilterType, OAuthClaim};
use gatehouse_core::domain::AppStatus;
use gatehouse_core::services::auth_server_config::{self, ClaimSpec, create_claim};
use serde_json::json;

use crate::cli::{ClaimCommand, ClaimToken, Output};

pub(super) async fn run(provider: &Provider, cmd: &ClaimCommand) -> anyhow::Result<()> {
    match cmd {
        ClaimCommand::Add {
            id,
            name,
            value,
            groups,
            token,
            scopes,
            always,
        } => {
            let (value_type, value, group_filter_type) = match (value, groups) {
                (_, Some(filter)) => {
                    let (kind, operand) = filter
                        .split_once(':')
                        .and_then(|(k, v)| Some((GroupFilterType::parse(k)?, v)))
                        .with_context(|| {
                            format!("--groups '{filter}': use STARTS_WITH:, EQUALS:, CONTAINS: or REGEX: and a value")
                        })?;
                    (ClaimValueType::Groups, operand.to_owned(), Some(kind))
                }
                (Some(expr), None) => (ClaimValueType::Expression, expr.clone(), None),
                (None, None) => anyhow::bail!("give --value or --groups"),
            };
            let claim = create_claim(
                provider,
                id,
                ClaimSpec {
                    name: name.clone(),
                    status: AppStatus::Active,
                    claim_type: match token {
                        ClaimToken::Id => ClaimType::Identity,
                        ClaimToken::Access => ClaimType::Resource,
                    },
                    value_type,
                    value,
                    group_filter_type,
                    always_include_in_token: *always,
                    scopes: scopes.clone(),
                },
            )
            .await?;
            println!(
                "Authorization server {id}: claim {} ({}, {}) {}",
                claim.name,
                claim.claim_type.as_str(),
                claim.value_type.as_str(),
                claim.id
            );
        }
        ClaimCommand::List { id, output } => {
            let claims: Vec<OAuthClaim> = auth_server_config::list(provider, id).await?;
            match output {
                Output::Json => {
                    let rows: Vec<_> = claims
                        .iter()
                        .map(|c| {
                            json!({"id": c.id, "name": c.name, "claimType": c.claim_type.as_str(),
                                   "valueType": c.value_type.as_str(), "value": c.value,
                                   "group_filter_type": c.group_filter_type.map(|g| g.as_str()),
                                   "alwaysIncludeInToken": c.always_include_in_token,
                                   "conditions": {"scopes": c.scopes}, "status": c.status.as_str(),
                                   "system": c.system})
                        })
                        .collect();
                    println!("{}", serde_json::Value::Array(rows));
                }
                Output::Text => {
                    for c in claims {
                        let filter = c
                            .group_filter_type
                            .map(|g| format!("{}:", g.as_str()))
                            .unwrap_or_default();
                        let scopes = if c.scopes.is_empty() {
                            "any scope".to_owned()
                        } else {
                            c.scopes.join(" ")
                        };
                        println!(
                            "{}\t{}\t{}\t{filter}{}\t{scopes}",
                            c.id,
                            c.name,
                            c.claim_type.as_str(),
                            c.value
                        );
                    }
                }
            }
        }
        ClaimCommand::Remove { id, claim } => {
            let claims: Vec<OAuthClaim> = auth_server_config::list(provider, id).await?;
            let doomed: Vec<&OAuthClaim> = claims
                .iter()
                .filter(|c| c.id == *claim || c.name == *claim)
                .collect();
            anyhow::ensure!(
                !doomed.is_empty(),
                "authorization server {id} has no claim '{claim}'"
            );
            for c in doomed {
                auth_server_config::delete::<OAuthClaim>(provider, id, &c.id).await?;
                println!(
                    "Authorization server {id}: removed claim {} ({})",
                    c.name, c.id
                );
            }
        }
    }
    Ok(())
}
