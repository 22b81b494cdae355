//! Creating an OIDC app (shared by the CLI, `/api/v1/apps` and dynamic client registration).

use crate::audit::{Actor, Entity, event_type as ev};
use crate::crypto::okta_id;
use crate::domain::*;
use crate::provider::Provider;
use crate::services::directory_rules::{DirectoryError, invalid};

use super::fetched_uris::check_fetched_uri_policy;
use super::secrets::{choose_secret, seal_secret};
use super::settings::build_settings;
use super::spec::{OidcAppSpec, validate_label};

/// A created app and its client secret in clear text, which is shown this once.
#[derive(Debug, Clone)]
pub struct CreatedApp {
    pub app: App,
    pub client_secret: Option<String>,
}

/// Okta's length rule for client ids.
const CLIENT_ID_LEN: std::ops::RangeInclusive<usize> = 6..=100;

fn validate_client_id(client_id: &str) -> Result<(), DirectoryError> {
    let ok = CLIENT_ID_LEN.contains(&client_id.len())
        && client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "client_id",
            "must be 6 to 100 characters of A-Z a-z 0-9 - . _ ~",
        ))
    }
}

/// Creates an OIDC app. The clear-text client secret is returned this once.
pub async fn create(
    provider: &Provider,
    actor: &Actor,
    spec: OidcAppSpec,
) -> Result<CreatedApp, DirectoryError> {
    let label = validate_label(&spec.label)?;
    let settings = build_settings(&spec)?;
    check_fetched_uri_policy(provider, &settings)?;
    if let Some(c) = &spec.client_id {
        validate_client_id(c)?;
    }
    let secret = choose_secret(
        settings.token_endpoint_auth_method,
        spec.client_secret.as_deref(),
    )?;
    let now = provider.now();
    let id = okta_id("0oa");
    let app = App {
        client_id: spec.client_id.clone().unwrap_or_else(|| id.clone()),
        id,
        name: "oidc_client".into(),
        label,
        status: if spec.active {
            AppStatus::Active
        } else {
            AppStatus::Inactive
        },
        settings,
        created: now,
        last_updated: now,
    };
    provider.store.create_app(&app).await?;
    if let Some(clear) = &secret {
        let sealed = seal_secret(provider, &app, clear, AppStatus::Active);
        if let Err(e) = provider
            .store
            .add_client_secret(&sealed, MAX_CLIENT_SECRETS)
            .await
        {
            // Without its secret the app is unusable: take it back.
            let _ = provider.store.delete_app(&app.id).await;
            return Err(e.into());
        }
    }
    provider.app_changed(&app.client_id);
    let target = vec![Entity::app(&app)];
    actor
        .record(provider, ev::APP_CREATE, "Add application", target)
        .await;
    Ok(CreatedApp {
        app,
        client_secret: secret,
    })
}

#[derive(Debug, Clone)]
pub struct NewOidcApp {
    pub label: String,
    pub application_type: ApplicationType,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Empty means the defaults for the application type.
    pub grant_types: Vec<String>,
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    pub initiate_login_uri: Option<String>,
    pub login_mode: Option<String>,
}

/// Creates an OIDC app with the CLI's options; the rules and defaults are
/// [`super::build_settings`], shared with `/api/v1/apps`.
pub async fn create_oidc_app(
    provider: &Provider,
    actor: &Actor,
    new: NewOidcApp,
) -> Result<CreatedApp, DirectoryError> {
    let mut spec = OidcAppSpec::new(new.label, new.application_type);
    spec.redirect_uris = new.redirect_uris;
    spec.post_logout_redirect_uris = new.post_logout_redirect_uris;
    spec.grant_types = new.grant_types;
    spec.token_endpoint_auth_method = new.token_endpoint_auth_method;
    spec.initiate_login_uri = new.initiate_login_uri;
    spec.login_mode = new.login_mode;
    create(provider, actor, spec).await
}
