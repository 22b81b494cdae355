//! `gatehouse auth-server`: list the authorization servers, set their signing algorithm, add
//! scopes, rotate and list keys.

use gatehouse_core::Provider;
use gatehouse_core::domain::SigningAlg;
use gatehouse_core::services::auth_servers;
use serde_json::json;

use crate::cli::{Alg, AuthServerCommand, Output};

pub(super) async fn run(provider: &Provider, cmd: &AuthServerCommand) -> anyhow::Result<()> {
    match cmd {
        AuthServerCommand::List { output } => {
            let servers = auth_servers::list(provider).await?;
            match output {
                Output::Json => {
                    let rows: Vec<_> = servers
                        .iter()
                        .map(|s| json!({"id": s.id, "name": s.name, "kind": s.kind, "signingAlg": s.signing_alg}))
                        .collect();
                    println!("{}", serde_json::Value::Array(rows));
                }
                Output::Text => {
                    for s in servers {
                        println!("{}\t{}\t{}\t{}", s.id, s.kind, s.signing_alg, s.name);
                    }
                }
            }
        }
        AuthServerCommand::SetAlg { id, alg } => {
            let alg = match alg {
                Alg::Rs256 => SigningAlg::Rs256,
                Alg::Es256 => SigningAlg::Es256,
                Alg::EdDsa => SigningAlg::EdDsa,
            };
            let key = auth_servers::set_signing_alg(provider, id, alg).await?;
            println!(
                "Authorization server {id} signs with {alg}, key {} (older keys stay published; \
                 running nodes switch within 30 s)",
                key.kid
            );
        }
        AuthServerCommand::AddScope {
            id,
            name,
            default,
            publish,
        } => {
            use gatehouse_core::domain::{MetadataPublish, ScopeConsent};
            use gatehouse_core::services::auth_server_config::{ScopeSpec, create_scope};
            let scope = create_scope(
                provider,
                id,
                ScopeSpec {
                    name: name.clone(),
                    display_name: None,
                    description: None,
                    consent: ScopeConsent::Implicit,
                    default: *default,
                    metadata_publish: if *publish {
                        MetadataPublish::AllClients
                    } else {
                        MetadataPublish::NoClients
                    },
                    optional: false,
                },
            )
            .await?;
            println!(
                "Authorization server {id}: scope {} ({})",
                scope.name, scope.id
            );
        }
        AuthServerCommand::Claim(cmd) => super::auth_server_claims::run(provider, cmd).await?,
        AuthServerCommand::SetIss { id, mode } => {
            let on = *mode == crate::cli::OnOff::On;
            auth_servers::set_authorization_response_iss(provider, id, on).await?;
            println!(
                "Authorization server {id}: iss on error responses (RFC 9207) {}",
                if on { "on" } else { "off" }
            );
        }
        AuthServerCommand::RotateKey { id } => {
            let key = auth_servers::rotate_key(provider, id).await?;
            println!(
                "Authorization server {id}: new active {} key {}",
                key.alg, key.kid
            );
        }
        AuthServerCommand::Keys { id, output } => {
            let keys = auth_servers::keys(provider, id).await?;
            match output {
                Output::Json => {
                    let rows: Vec<_> = keys
                        .iter()
                        .map(|k| json!({"kid": k.kid, "alg": k.alg, "status": k.status, "created": k.created}))
                        .collect();
                    println!("{}", serde_json::Value::Array(rows));
                }
                Output::Text => {
                    for k in keys {
                        println!("{}\t{}\t{}", k.kid, k.alg, k.status);
                    }
                }
            }
        }
    }
    Ok(())
}
