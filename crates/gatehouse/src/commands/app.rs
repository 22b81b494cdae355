//! `gatehouse app`: create an OIDC app (and print how to configure its client), list apps.

use anyhow::Context as _;
use gatehouse_core::Provider;
use gatehouse_core::authz::model::GroupFilterType;
use gatehouse_core::domain::{ApplicationType, GroupsClaim, RotationType, TokenEndpointAuthMethod};
use gatehouse_core::services::apps::{self, OidcAppSpec};
use gatehouse_core::services::directory;
use gatehouse_core::services::system_log::Actor;
use gatehouse_core::store::Page;
use serde_json::json;

use super::rp_lines;
use crate::cli::{AppCommand, AppType, Output, RefreshRotation};
use crate::config::Settings;

/// The public base URL to print: `--public-url`, else the configured `public_url`, else what
/// the bind address serves (with a note: relying parties need the URL browsers use).
pub(super) fn public_base(settings: &Settings, flag: Option<&str>) -> String {
    if let Some(url) = flag.or(settings.public_url.as_deref()) {
        return url.trim_end_matches('/').to_owned();
    }
    let base = settings.display_base_url();
    eprintln!(
        "note: no public_url in the configuration; printing {base}. Set public_url (or pass \
         --public-url) to the URL browsers and relying parties use."
    );
    base
}

pub(super) async fn run(
    provider: &Provider,
    settings: &Settings,
    cmd: &AppCommand,
) -> anyhow::Result<()> {
    match cmd {
        AppCommand::CreateOidc {
            r#type,
            label,
            redirect_uris,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            backchannel_logout_session_required,
            grant_types,
            auth_method,
            initiate_login_uri,
            consent,
            tos_uri,
            policy_uri,
            refresh_rotation,
            refresh_leeway,
            groups_claim_name,
            groups_claim_filter,
            assign_groups,
            public_url,
            output,
        } => {
            let application_type = match r#type {
                AppType::Web => ApplicationType::Web,
                AppType::Spa => ApplicationType::Browser,
                AppType::Native => ApplicationType::Native,
            };
            let token_endpoint_auth_method = match auth_method.as_deref() {
                None => None,
                Some(m) => Some(TokenEndpointAuthMethod::parse(m).with_context(|| {
                    format!("unknown --auth-method '{m}' (client_secret_basic, client_secret_post or none)")
                })?),
            };
            let grant_types = if grant_types.is_empty() {
                vec!["authorization_code".to_owned(), "refresh_token".to_owned()]
            } else {
                grant_types.clone()
            };
            // Resolve groups first so a typo creates nothing.
            let mut groups = Vec::new();
            for g in assign_groups {
                groups.push(
                    directory::find_group_by_id_or_name(provider, g)
                        .await
                        .with_context(|| format!("no group named '{g}'"))?,
                );
            }
            let mut spec = OidcAppSpec::new(label.clone(), application_type);
            spec.redirect_uris = redirect_uris.clone();
            spec.post_logout_redirect_uris = post_logout_redirect_uris.clone();
            spec.backchannel_logout_uri = backchannel_logout_uri.clone();
            spec.backchannel_logout_session_required = *backchannel_logout_session_required;
            spec.grant_types = grant_types;
            spec.token_endpoint_auth_method = token_endpoint_auth_method;
            spec.initiate_login_uri = initiate_login_uri.clone();
            spec.consent_method = consent.map(|c| {
                match c {
                    crate::cli::Consent::Required => "REQUIRED",
                    crate::cli::Consent::Trusted => "TRUSTED",
                }
                .to_owned()
            });
            spec.metadata.tos_uri = tos_uri.clone();
            spec.metadata.policy_uri = policy_uri.clone();
            spec.refresh_rotation = refresh_rotation.map(|r| match r {
                RefreshRotation::Rotate => RotationType::Rotate,
                RefreshRotation::Static => RotationType::Static,
            });
            spec.refresh_leeway = *refresh_leeway;
            if let (Some(name), Some(filter)) = (groups_claim_name, groups_claim_filter) {
                let (kind, value) = filter
                    .split_once(':')
                    .and_then(|(k, v)| Some((GroupFilterType::parse(k)?, v)))
                    .with_context(|| {
                        format!("--groups-claim-filter '{filter}': use STARTS_WITH:, EQUALS:, CONTAINS: or REGEX: and a value")
                    })?;
                spec.groups_claim = Some(Some(GroupsClaim {
                    name: name.clone(),
                    filter_type: kind,
                    value: value.to_owned(),
                }));
            }
            let created = apps::create(provider, &Actor::system(), spec).await?;
            for g in &groups {
                apps::assign_group_to_app(provider, &created.app, g).await?;
            }
            let base = public_base(settings, public_url.as_deref());
            let a = &created.app;
            match output {
                Output::Json => println!(
                    "{}",
                    json!({"app_id": a.id, "client_id": a.client_id, "client_secret": created.client_secret, "label": a.label,
                           "org_issuer": base, "default_issuer": format!("{base}/oauth2/default"),
                           "org_discovery": format!("{base}/.well-known/openid-configuration"),
                           "default_discovery": format!("{base}/oauth2/default/.well-known/openid-configuration")})
                ),
                Output::Text => {
                    println!(
                        "Created OIDC app \"{}\" ({})",
                        a.label, a.settings.application_type
                    );
                    println!("  Client ID:      {}", a.client_id);
                    if let Some(secret) = &created.client_secret {
                        println!("  Client secret:  {secret}");
                    }
                    println!(
                        "  Sign-in redirect URIs:  {}",
                        a.settings.redirect_uris.join(", ")
                    );
                    if !a.settings.post_logout_redirect_uris.is_empty() {
                        println!(
                            "  Sign-out redirect URIs: {}",
                            a.settings.post_logout_redirect_uris.join(", ")
                        );
                    }
                    if a.allows_grant("refresh_token") {
                        let policy = a.settings.refresh_policy();
                        println!(
                            "  Refresh token:          {} (leeway {} s)",
                            policy.rotation_type, policy.leeway
                        );
                    }
                    let names: Vec<_> = groups.iter().map(|g| g.name.as_str()).collect();
                    println!(
                        "  Assigned to: {}",
                        if names.is_empty() {
                            "nobody yet (use --assign Everyone)".into()
                        } else {
                            names.join(", ")
                        }
                    );
                    println!();
                    println!("{}", rp_lines::issuers(&base));
                    println!();
                    println!(
                        "{}",
                        rp_lines::lines(&rp_lines::RpConfig {
                            client_id: &a.client_id,
                            client_secret: created.client_secret.as_deref(),
                            issuer: &base,
                            rp_url: &rp_lines::rp_url_of(a.settings.redirect_uris.first()),
                            scopes: "openid profile email groups",
                        })
                    );
                }
            }
        }
        AppCommand::CreateService {
            label,
            jwks,
            grant_scopes,
            public_url,
            output,
        } => {
            let base = public_base(settings, public_url.as_deref());
            super::app_service::create(
                provider,
                &base,
                label,
                jwks.as_deref(),
                grant_scopes,
                *output,
            )
            .await?;
        }
        AppCommand::List { output } => {
            let apps = provider
                .store
                .list_apps(Page {
                    after: None,
                    limit: 10_000,
                })
                .await?;
            match output {
                Output::Json => {
                    let rows: Vec<_> = apps
                        .iter()
                        .map(|a| json!({"app_id": a.id, "client_id": a.client_id, "label": a.label, "type": a.settings.application_type.as_str()}))
                        .collect();
                    println!("{}", serde_json::Value::Array(rows));
                }
                Output::Text => {
                    for a in apps {
                        println!(
                            "{}  {:<8} {}",
                            a.client_id,
                            a.settings.application_type.as_str(),
                            a.label
                        );
                    }
                }
            }
        }
    }
    Ok(())
}
