//! `gatehouse app create-service`: a service app (`client_credentials`), authenticated with a
//! signed JWT (`private_key_jwt`, its public keys given as a JWKS file) or a client secret, with
//! the Okta API scopes it may ask the org server for.

use std::path::Path;

use anyhow::Context as _;
use gatehouse_core::Provider;
use gatehouse_core::domain::{ApplicationType, TokenEndpointAuthMethod};
use gatehouse_core::services::app_grants;
use gatehouse_core::services::apps::{self, OidcAppSpec};
use gatehouse_core::services::system_log::Actor;
use serde_json::json;

use crate::cli::Output;

pub(super) async fn create(
    provider: &Provider,
    base: &str,
    label: &str,
    jwks: Option<&Path>,
    grant_scopes: &[String],
    output: Output,
) -> anyhow::Result<()> {
    let mut spec = OidcAppSpec::new(label.to_owned(), ApplicationType::Service);
    spec.grant_types = vec!["client_credentials".to_owned()];
    if let Some(path) = jwks {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read --jwks {}", path.display()))?;
        let keys: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("--jwks {}: not JSON", path.display()))?;
        spec.jwks = Some(keys);
        spec.token_endpoint_auth_method = Some(TokenEndpointAuthMethod::PrivateKeyJwt);
    } else {
        spec.token_endpoint_auth_method = Some(TokenEndpointAuthMethod::ClientSecretBasic);
    }
    let created = apps::create(provider, &Actor::system(), spec).await?;
    let app = &created.app;
    for scope in grant_scopes {
        app_grants::grant(provider, app, scope, base, base, None)
            .await
            .with_context(|| format!("--grant-scope {scope}"))?;
    }
    let token_url = format!("{base}/oauth2/v1/token");
    let default_token_url = format!("{base}/oauth2/default/v1/token");
    match output {
        Output::Json => println!(
            "{}",
            json!({"app_id": app.id, "client_id": app.client_id, "client_secret": created.client_secret,
                   "label": app.label, "token_endpoint_auth_method": app.settings.token_endpoint_auth_method.as_str(),
                   "granted_scopes": grant_scopes, "org_token_endpoint": token_url,
                   "default_token_endpoint": default_token_url})
        ),
        Output::Text => {
            println!("Created service app \"{}\"", app.label);
            println!("  Client ID:      {}", app.client_id);
            match &created.client_secret {
                Some(secret) => println!("  Client secret:  {secret}  (client_secret_basic)"),
                None => {
                    println!("  Client authentication: private_key_jwt (the keys in the JWKS file)")
                }
            }
            if !grant_scopes.is_empty() {
                println!("  Okta API scopes granted: {}", grant_scopes.join(" "));
            }
            println!();
            println!("{}", super::rp_lines::issuers(base));
            println!("Token endpoints:");
            println!("  org server (Okta API scopes, /api/v1): {token_url}");
            println!("  default server (your own scopes):      {default_token_url}");
            println!();
            println!("# OpenMetadata ingestion bot (securityConfig of an Okta bot)");
            println!("clientId: {}", app.client_id);
            println!("orgURL: {default_token_url}");
            println!("# privateKey: the private half of a key in the JWKS file; email: the bot's");
            println!();
            println!("# Any OAuth 2.0 client: POST {token_url} grant_type=client_credentials");
        }
    }
    Ok(())
}
