//! The CLI commands. Each is a thin adapter over `gatehouse_core::services`.

use std::io::{BufRead as _, Write as _};

use anyhow::{Context as _, bail};
use gatehouse_core::Provider;
use gatehouse_core::authz::model::GroupFilterType;
use gatehouse_core::domain::{
    ApplicationType, GroupsClaim, RotationType, SigningAlg, TokenEndpointAuthMethod, UserStatus,
};
use gatehouse_core::services::apps::{self, OidcAppSpec};
use gatehouse_core::services::directory::{self, NewUser};
use gatehouse_core::services::system_log::{Actor, ClientInfo};
use gatehouse_core::services::users::{self, Lifecycle};
use gatehouse_core::services::{admin_roles, api_tokens, auth_servers};
use gatehouse_core::store::Page;
use serde_json::json;

use crate::cli::{
    Alg, AppCommand, AppType, AuthServerCommand, Cli, Command, DevCertArgs, GroupCommand, Output,
    RefreshRotation, ServeArgs, TokenCommand, UserCommand,
};
use crate::config::Settings;
use crate::startup::{Application, open_provider, redact_url};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        None => serve(&cli, &ServeArgs::default()).await,
        Some(Command::Serve(args)) => serve(&cli, args).await,
        Some(Command::User(cmd)) => {
            let provider = open_provider(&Settings::load(&cli, None)?).await?;
            user(&provider, cmd).await
        }
        Some(Command::Group(cmd)) => {
            let provider = open_provider(&Settings::load(&cli, None)?).await?;
            group(&provider, cmd).await
        }
        Some(Command::App(cmd)) => {
            let settings = Settings::load(&cli, None)?;
            let provider = open_provider(&settings).await?;
            app(&provider, &settings, cmd).await
        }
        Some(Command::Token(cmd)) => {
            let provider = open_provider(&Settings::load(&cli, None)?).await?;
            token(&provider, cmd).await
        }
        Some(Command::DevCert(args)) => dev_cert(&Settings::load(&cli, None)?, args),
        Some(Command::AuthServer(cmd)) => {
            let provider = open_provider(&Settings::load(&cli, None)?).await?;
            auth_server(&provider, cmd).await
        }
        Some(Command::Logs(args)) => {
            let provider = open_provider(&Settings::load(&cli, None)?).await?;
            crate::logs_cmd::logs(&provider, args).await
        }
        Some(Command::Backup(args)) => {
            crate::backup::backup(&Settings::load(&cli, None)?, args).await
        }
        Some(Command::Restore(args)) => {
            crate::backup::restore(&Settings::load(&cli, None)?, args).await
        }
        Some(Command::Import(cmd)) => {
            let provider = open_provider(&Settings::load(&cli, None)?).await?;
            crate::import::run(&provider, cmd).await
        }
    }
}

async fn auth_server(provider: &Provider, cmd: &AuthServerCommand) -> anyhow::Result<()> {
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

async fn token(provider: &Provider, cmd: &TokenCommand) -> anyhow::Result<()> {
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

fn read_password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn user(provider: &Provider, cmd: &UserCommand) -> anyhow::Result<()> {
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
            let user = directory::create_user(
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
    }
    Ok(())
}

async fn group(provider: &Provider, cmd: &GroupCommand) -> anyhow::Result<()> {
    match cmd {
        GroupCommand::Add {
            name,
            description,
            output,
        } => {
            let group =
                directory::create_group(provider, &Actor::system(), name, description).await?;
            match output {
                Output::Json => println!("{}", json!({"id": group.id, "name": group.name})),
                Output::Text => println!("Created group {} ({})", group.name, group.id),
            }
        }
        GroupCommand::AddMember { group, user } => {
            let g = directory::find_group_by_id_or_name(provider, group).await?;
            let u = directory::find_user_by_id_or_login(provider, user).await?;
            directory::add_group_member(provider, &Actor::system(), &g, &u).await?;
            println!("Added {} to {}", u.login, g.name);
        }
    }
    Ok(())
}

async fn app(provider: &Provider, settings: &Settings, cmd: &AppCommand) -> anyhow::Result<()> {
    match cmd {
        AppCommand::CreateOidc {
            r#type,
            label,
            redirect_uris,
            post_logout_redirect_uris,
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
                directory::assign_group_to_app(provider, &created.app, g).await?;
            }
            let base = public_url
                .clone()
                .map(|u| u.trim_end_matches('/').to_owned())
                .unwrap_or_else(|| settings.display_base_url());
            let a = &created.app;
            match output {
                Output::Json => println!(
                    "{}",
                    json!({"app_id": a.id, "client_id": a.client_id, "client_secret": created.client_secret, "label": a.label,
                           "org_issuer": base, "default_issuer": format!("{base}/oauth2/default")})
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
                    println!("  Gatehouse domain (Okta domain): {base}");
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
                    if let Some(secret) = &created.client_secret {
                        println!();
                        println!("NetBox configuration.py (python-social-auth, Okta backend):");
                        println!(
                            "  REMOTE_AUTH_BACKEND = 'social_core.backends.okta_openidconnect.OktaOpenIdConnect'"
                        );
                        println!("  SOCIAL_AUTH_OKTA_OPENIDCONNECT_KEY = '{}'", a.client_id);
                        println!("  SOCIAL_AUTH_OKTA_OPENIDCONNECT_SECRET = '{secret}'");
                        println!("  SOCIAL_AUTH_OKTA_OPENIDCONNECT_API_URL = '{base}/oauth2/'");
                        println!(
                            "  # or the default custom authorization server: '{base}/oauth2/default/'"
                        );
                        println!();
                        println!(
                            "Generic OIDC (social_core.backends.open_id_connect.OpenIdConnectAuth):"
                        );
                        println!("  SOCIAL_AUTH_OIDC_KEY = '{}'", a.client_id);
                        println!("  SOCIAL_AUTH_OIDC_SECRET = '{secret}'");
                        println!("  SOCIAL_AUTH_OIDC_OIDC_ENDPOINT = '{base}/oauth2/default'");
                    }
                }
            }
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
