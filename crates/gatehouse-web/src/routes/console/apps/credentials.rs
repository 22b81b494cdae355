//! The Client Credentials section: how the client authenticates, PKCE, and its secrets.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::domain::{AppStatus, TokenEndpointAuthMethod};
use gatehouse_core::services::apps;

use super::fields::spec_of;
use super::find_app;
use super::page::{PageExtras, app_page, back, refused};
use crate::AppState;
use crate::origin::Origin;
use crate::routes::console::{Admin, ConsoleError, FieldErrors};

pub(super) async fn save_credentials(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let mut spec = spec_of(&app);
    let current = app.settings.token_endpoint_auth_method;
    spec.token_endpoint_auth_method = Some(match form.get("client_auth") {
        // "Client secret" keeps the current way of sending it (Basic or POST).
        "client_secret"
            if matches!(
                current,
                TokenEndpointAuthMethod::ClientSecretBasic
                    | TokenEndpointAuthMethod::ClientSecretPost
            ) =>
        {
            current
        }
        "client_secret" => TokenEndpointAuthMethod::ClientSecretBasic,
        "private_key_jwt" => TokenEndpointAuthMethod::PrivateKeyJwt,
        "none" => TokenEndpointAuthMethod::None,
        _ => current,
    });
    spec.pkce_required = Some(form.checked("pkce_required"));
    let fields = [
        ("token_endpoint_auth_method", "client_auth"),
        ("jwks", "client_auth"),
        ("client_secret", "client_auth"),
        ("pkce_required", "pkce_required"),
    ];
    match apps::replace(&state.provider, &admin.0.actor(), app.clone(), spec).await {
        Ok(done) => match done.client_secret {
            // A client that just became confidential has a secret to show once.
            Some(secret) => {
                let extras = PageExtras::notice(
                    Some("Your changes were saved. A client secret was generated."),
                    Some(secret),
                );
                app_page(&state, &admin, &origin, done.app, extras, StatusCode::OK).await
            }
            None => Ok(back(&done.app, "saved", "tab-credentials")),
        },
        Err(e) => {
            let errors = FieldErrors::from_service(e, &fields, "client_auth")?;
            refused(&state, &admin, &origin, app, None, errors).await
        }
    }
}

pub(super) async fn new_secret(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let (app, secret) =
        apps::new_client_secret(&state.provider, &admin.0.actor(), app, None).await?;
    let extras = PageExtras::notice(
        Some("A new client secret was generated; the old ones no longer work."),
        secret.client_secret,
    );
    app_page(&state, &admin, &origin, app, extras, StatusCode::OK).await
}

/// "Generate new secret": a second secret beside the current one, both active.
pub(super) async fn add_secret(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let actor = admin.0.actor();
    match apps::add_client_secret(&state.provider, &actor, &app, None, AppStatus::Active).await {
        Ok(created) => {
            let extras = PageExtras::notice(
                Some(
                    "A new client secret was generated. The other one keeps working until you deactivate it.",
                ),
                created.client_secret,
            );
            app_page(&state, &admin, &origin, app, extras, StatusCode::OK).await
        }
        Err(e) => {
            let errors = FieldErrors::from_service(e, &[], "client_secrets")?;
            refused(&state, &admin, &origin, app, None, errors).await
        }
    }
}

/// Activate, deactivate or delete one client secret.
pub(super) async fn change_secret(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path((id, sid, op)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let actor = admin.0.actor();
    let p = &state.provider;
    let (result, notice) = match op.as_str() {
        "activate" => (
            apps::set_client_secret_status(p, &actor, &app, &sid, AppStatus::Active)
                .await
                .map(drop),
            "secret-activated",
        ),
        "deactivate" => (
            apps::set_client_secret_status(p, &actor, &app, &sid, AppStatus::Inactive)
                .await
                .map(drop),
            "secret-deactivated",
        ),
        "delete" => (
            apps::delete_client_secret(p, &actor, &app, &sid).await,
            "secret-deleted",
        ),
        _ => return Err(ConsoleError::NotFound),
    };
    match result {
        Ok(()) => Ok(back(&app, notice, "tab-credentials")),
        Err(e) => {
            let errors = FieldErrors::from_service(e, &[], "client_secrets")?;
            refused(&state, &admin, &origin, app, None, errors).await
        }
    }
}
