//! An app after its creation: replacement of its label and settings, activation and
//! deactivation, deletion.

use crate::audit::{Actor, Entity, event_type as ev};
use crate::domain::*;
use crate::provider::Provider;
use crate::services::directory_rules::{DirectoryError, invalid};

use super::create::CreatedApp;
use super::fetched_uris::check_fetched_uri_policy;
use super::secrets::{choose_secret, reveal_secret, seal_secret, uses_secret};
use super::settings::build_settings;
use super::spec::{OidcAppSpec, validate_label};

/// Replaces the app's label and settings (Okta's `PUT /api/v1/apps/{id}`); the status and the
/// client id stay. A client that becomes confidential gets a new secret, returned this once; a
/// chosen `client_secret` replaces the current one; one that becomes public loses its secret.
pub async fn replace(
    provider: &Provider,
    actor: &Actor,
    mut app: App,
    spec: OidcAppSpec,
) -> Result<CreatedApp, DirectoryError> {
    let label = validate_label(&spec.label)?;
    let mut settings = build_settings(&spec)?;
    if spec.groups_claim.is_none() {
        settings.groups_claim = app.settings.groups_claim.clone();
    }
    check_fetched_uri_policy(provider, &settings)?;
    if spec.client_id.as_ref().is_some_and(|c| *c != app.client_id) {
        return Err(invalid(
            "client_id",
            "the client id of an app cannot change",
        ));
    }
    let method = settings.token_endpoint_auth_method;
    let current = provider.store.list_client_secrets(&app.id).await?;
    // The secrets to put in place of the current ones, if they change.
    let mut replacement = None;
    let mut new_secret = None;
    if !uses_secret(method) {
        choose_secret(method, spec.client_secret.as_deref())?;
        if !current.is_empty() {
            replacement = Some(Vec::new());
        }
    } else if spec.client_secret.is_some() || current.is_empty() {
        let secret = choose_secret(method, spec.client_secret.as_deref())?;
        // Re-sending one of the current secrets (as SDKs echo it back) changes nothing.
        let known = current
            .iter()
            .filter_map(|s| reveal_secret(provider, s))
            .any(|c| secret.as_deref() == Some(c.as_str()));
        if let (Some(clear), false) = (&secret, known) {
            replacement = Some(vec![seal_secret(provider, &app, clear, AppStatus::Active)]);
            new_secret = secret;
        }
    }
    app.label = label;
    app.settings = settings;
    app.last_updated = provider.now();
    provider.store.update_app(&app).await?;
    if let Some(secrets) = &replacement {
        provider
            .store
            .replace_client_secrets(&app.id, secrets)
            .await?;
    }
    provider.app_changed(&app.client_id);
    let target = vec![Entity::app(&app)];
    actor
        .record(provider, ev::APP_UPDATE, "Update application", target)
        .await;
    Ok(CreatedApp {
        app,
        client_secret: new_secret,
    })
}

/// Activates or deactivates the app. An INACTIVE app's client cannot sign anyone in, nor
/// authenticate at the token endpoint.
pub async fn set_status(
    provider: &Provider,
    actor: &Actor,
    mut app: App,
    status: AppStatus,
) -> Result<App, DirectoryError> {
    if app.status != status {
        app.status = status;
        app.last_updated = provider.now();
        provider.store.update_app(&app).await?;
        provider.app_changed(&app.client_id);
    }
    let (event, message) = match status {
        AppStatus::Active => (ev::APP_ACTIVATE, "Activate application"),
        AppStatus::Inactive => (ev::APP_DEACTIVATE, "Deactivate application"),
    };
    actor
        .record(provider, event, message, vec![Entity::app(&app)])
        .await;
    Ok(app)
}

/// Deletes an INACTIVE app with its assignments; an ACTIVE one must be deactivated first.
pub async fn delete(provider: &Provider, actor: &Actor, app: &App) -> Result<(), DirectoryError> {
    if app.status == AppStatus::Active {
        return Err(DirectoryError::StillActive(app.id.clone()));
    }
    provider.store.delete_app(&app.id).await?;
    provider.app_changed(&app.client_id);
    let target = vec![Entity::app(app)];
    actor
        .record(provider, ev::APP_DELETE, "Delete application", target)
        .await;
    Ok(())
}
