//! `gatehouse idp …`: upstream OpenID Connect identity providers. `add-oidc` reads the
//! upstream's discovery document (`{issuer}/.well-known/openid-configuration`, fetched under
//! the `jwks_uri` SSRF rules) and creates the IdP with its endpoints.

use std::sync::Arc;

use clap::Subcommand;
use gatehouse_core::Provider;
use gatehouse_core::audit::Actor;
use gatehouse_core::domain::{
    AccountLinkAction, ClaimMapping, GroupsAction, IdpSettings, IdpStatus, IdpType, IssuerMode,
    MatchType, ProvisioningAction, UpstreamAuthMethod,
};
use gatehouse_core::oauth2::remote_jwks::JwksFetcher;
use gatehouse_core::services::idps::admin::{self, IdpSpec};
use serde_json::{Value, json};

use crate::cli::Output;
use crate::config::Settings;
use crate::jwks_fetch::HttpJwksFetcher;

#[derive(Debug, Subcommand)]
pub enum IdpCommand {
    /// Add an OpenID Connect identity provider from its discovery document.
    AddOidc(Box<AddOidcArgs>),
    /// List the identity providers.
    List,
    /// Activate an identity provider (its button shows on the sign-in page).
    Activate { id: String },
    /// Deactivate an identity provider (nobody can sign in through it).
    Deactivate { id: String },
    /// Delete an identity provider (its users stay).
    Delete { id: String },
}

#[derive(Debug, clap::Args)]
pub struct AddOidcArgs {
    /// The upstream's issuer (its discovery document is at
    /// `<issuer>/.well-known/openid-configuration`).
    #[arg(long)]
    issuer: String,
    #[arg(long)]
    client_id: String,
    /// The client secret (or the environment variable GATEHOUSE_IDP_CLIENT_SECRET).
    #[arg(long, env = "GATEHOUSE_IDP_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
    /// The button's label ("Sign in with <name>"); the issuer's host by default.
    #[arg(long)]
    name: Option<String>,
    /// OIDC, GOOGLE or MICROSOFT.
    #[arg(long, default_value = "OIDC")]
    r#type: String,
    #[arg(long, default_value = "openid profile email")]
    scopes: String,
    /// The claim with the user's group names (groups are then synced).
    #[arg(long)]
    groups_claim: Option<String>,
    /// An email domain whose users are sent to this IdP from the sign-in page (repeatable).
    #[arg(long = "domain")]
    domains: Vec<String>,
    #[arg(long, default_value = "idpuser.email")]
    user_name_template: String,
    /// USERNAME, EMAIL or USERNAME_OR_EMAIL.
    #[arg(long, default_value = "USERNAME")]
    match_type: String,
    /// Do not link existing users (AUTO links by verified email).
    #[arg(long)]
    no_account_link: bool,
    /// Do not create users on their first sign-in.
    #[arg(long)]
    no_provisioning: bool,
    /// client_secret_post or client_secret_basic.
    #[arg(long, default_value = "client_secret_post")]
    token_auth_method: String,
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

pub(super) async fn run(
    provider: &Provider,
    settings: &Settings,
    cmd: &IdpCommand,
) -> anyhow::Result<()> {
    let loopback = settings.dev_jwks_uri_allow_loopback;
    let fetcher = Arc::new(HttpJwksFetcher::new(loopback));
    provider.remote_jwks.install(fetcher.clone(), loopback);
    let actor = Actor::system();
    match cmd {
        IdpCommand::AddOidc(args) => {
            let AddOidcArgs {
                issuer,
                client_id,
                client_secret,
                name,
                r#type,
                scopes,
                groups_claim,
                domains,
                user_name_template,
                match_type,
                no_account_link,
                no_provisioning,
                token_auth_method,
                output,
            } = args.as_ref();
            let kind = IdpType::parse(r#type)
                .ok_or_else(|| anyhow::anyhow!("--type must be OIDC, GOOGLE or MICROSOFT"))?;
            let discovery_url = format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            );
            let body = fetcher
                .fetch(&discovery_url)
                .await
                .map_err(|e| anyhow::anyhow!("{discovery_url}: {e}"))?;
            let doc: Value = serde_json::from_slice(&body)
                .map_err(|_| anyhow::anyhow!("{discovery_url} is not JSON"))?;
            let field = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
            let found_issuer = field("issuer").unwrap_or_default();
            if found_issuer != *issuer {
                anyhow::bail!(
                    "the discovery document's issuer is {found_issuer:?}, not {issuer:?}"
                );
            }
            let host = url::Url::parse(issuer)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| issuer.clone());
            let settings = IdpSettings {
                issuer: found_issuer,
                authorization_url: field("authorization_endpoint").unwrap_or_default(),
                token_url: field("token_endpoint").unwrap_or_default(),
                userinfo_url: field("userinfo_endpoint"),
                jwks_url: field("jwks_uri").unwrap_or_default(),
                scopes: scopes.split_whitespace().map(str::to_owned).collect(),
                client_id: client_id.clone(),
                token_auth_method: UpstreamAuthMethod::parse(token_auth_method).ok_or_else(
                    || {
                        anyhow::anyhow!(
                            "--token-auth-method must be client_secret_post or client_secret_basic"
                        )
                    },
                )?,
                issuer_mode: IssuerMode::OrgUrl,
                provisioning: if *no_provisioning {
                    ProvisioningAction::Disabled
                } else {
                    ProvisioningAction::Auto
                },
                groups_action: if groups_claim.is_some() {
                    GroupsAction::Sync
                } else {
                    GroupsAction::None
                },
                groups_claim: groups_claim.clone(),
                groups_filter: Vec::new(),
                account_link: if *no_account_link {
                    AccountLinkAction::Disabled
                } else {
                    AccountLinkAction::Auto
                },
                account_link_groups: Vec::new(),
                user_name_template: user_name_template.clone(),
                match_type: MatchType::parse(match_type).ok_or_else(|| {
                    anyhow::anyhow!("--match-type must be USERNAME, EMAIL or USERNAME_OR_EMAIL")
                })?,
                mapping: ClaimMapping::default(),
                routing_domains: domains.clone(),
                allow_password: false,
                max_clock_skew: 120,
            };
            let spec = IdpSpec {
                name: name.clone().unwrap_or(host),
                kind,
                status: IdpStatus::Active,
                settings,
                client_secret: Some(client_secret.clone()),
            };
            let idp = admin::create_idp(provider, &actor, spec).await?;
            match output {
                Output::Json => println!("{}", json!({"id": idp.id, "name": idp.name})),
                Output::Text => {
                    println!("Created identity provider {} ({})", idp.name, idp.id);
                    println!(
                        "  register this redirect URI at the upstream: <public_url>{}",
                        gatehouse_core::services::idps::start::CALLBACK_PATH
                    );
                }
            }
        }
        IdpCommand::List => {
            for idp in provider.store.list_idps().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    idp.id, idp.kind, idp.status, idp.name, idp.settings.issuer
                );
            }
        }
        IdpCommand::Activate { id } => {
            admin::set_status(provider, &actor, id, IdpStatus::Active).await?;
            println!("Activated {id}");
        }
        IdpCommand::Deactivate { id } => {
            admin::set_status(provider, &actor, id, IdpStatus::Inactive).await?;
            println!("Deactivated {id}");
        }
        IdpCommand::Delete { id } => {
            admin::delete_idp(provider, &actor, id).await?;
            println!("Deleted {id}");
        }
    }
    Ok(())
}
