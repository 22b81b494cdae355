//! `gatehouse idp …`: upstream OpenID Connect identity providers. `add-oidc` reads the
//! upstream's discovery document (`{issuer}/.well-known/openid-configuration`, fetched under
//! the `jwks_uri` SSRF rules) and creates the IdP with its endpoints.

use std::sync::Arc;

use clap::Subcommand;
use gatehouse_core::Provider;
use gatehouse_core::audit::Actor;
use gatehouse_core::domain::{
    AccountLinkAction, IdpStatus, IdpType, MatchType, ProvisioningAction, UpstreamAuthMethod,
};
use gatehouse_core::services::idps::admin::{self, IdpSpec};
use gatehouse_core::services::idps::discovery;
use serde_json::json;

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
    /// The client secret (or the environment variable GATEHOUSE_IDP_CLIENT_SECRET); not
    /// needed with --token-auth-method private_key_jwt.
    #[arg(long, env = "GATEHOUSE_IDP_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
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
    /// client_secret_post, client_secret_basic, client_secret_jwt (an HS256 assertion made
    /// with the secret) or private_key_jwt (Gatehouse generates the key and prints its public
    /// JWK to register upstream).
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
    provider.remote_jwks.install(fetcher, loopback);
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
            let mut settings = discovery::default_settings(issuer, client_id, groups_claim.clone());
            discovery::discover(provider, &mut settings).await?;
            settings.scopes = scopes.split_whitespace().map(str::to_owned).collect();
            settings.token_auth_method =
                UpstreamAuthMethod::parse(token_auth_method).ok_or_else(|| {
                    anyhow::anyhow!(
                        "--token-auth-method must be client_secret_post, client_secret_basic, client_secret_jwt or private_key_jwt"
                    )
                })?;
            if client_secret.is_none()
                && settings.token_auth_method != UpstreamAuthMethod::PrivateKeyJwt
            {
                anyhow::bail!(
                    "--client-secret is required unless --token-auth-method is private_key_jwt"
                );
            }
            if *no_provisioning {
                settings.provisioning = ProvisioningAction::Disabled;
            }
            if *no_account_link {
                settings.account_link = AccountLinkAction::Disabled;
            }
            settings.user_name_template = user_name_template.clone();
            settings.match_type = MatchType::parse(match_type).ok_or_else(|| {
                anyhow::anyhow!("--match-type must be USERNAME, EMAIL or USERNAME_OR_EMAIL")
            })?;
            settings.routing_domains = domains.clone();
            let host = url::Url::parse(issuer)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| issuer.clone());
            let spec = IdpSpec {
                name: name.clone().unwrap_or(host),
                kind,
                status: IdpStatus::Active,
                settings,
                client_secret: client_secret.clone(),
            };
            let idp = admin::create_idp(provider, &actor, spec).await?;
            let jwk = idp
                .settings
                .client_key
                .as_ref()
                .and_then(|k| serde_json::from_str::<serde_json::Value>(&k.public_jwk).ok());
            match output {
                Output::Json => println!(
                    "{}",
                    json!({"id": idp.id, "name": idp.name, "clientJwk": jwk})
                ),
                Output::Text => {
                    println!("Created identity provider {} ({})", idp.name, idp.id);
                    if let Some(jwk) = jwk {
                        println!(
                            "  register this public key at the upstream (private_key_jwt): {jwk}"
                        );
                        println!(
                            "  or its JWKS URI: <public_url>{}",
                            gatehouse_core::services::idps::client_key::jwks_path(&idp.id)
                        );
                    }
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
