//! The Okta API Scopes tab: granting and revoking `okta.*` scopes to the app.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use gatehouse_core::services::app_grants;

use super::find_app;
use super::page::{back, refused};
use crate::AppState;
use crate::origin::Origin;
use crate::routes::console::{Admin, ConsoleError, FieldErrors};

pub(super) async fn grant_scope(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let org = state
        .provider
        .server_context(&origin, None)
        .await
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let result = app_grants::grant(
        &state.provider,
        &app,
        form.get("scope"),
        &org.issuer,
        &org.issuer,
        Some(&admin.0.current.user),
    )
    .await;
    match result {
        Ok(_) => Ok(back(&app, "granted", "tab-scopes")),
        Err(e) => {
            let errors = FieldErrors::from_service(e, &[("scopeId", "scope")], "scope")?;
            refused(&state, &admin, &origin, app, None, errors).await
        }
    }
}

pub(super) async fn revoke_scope(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, grant)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    app_grants::revoke(&state.provider, &app, &grant).await?;
    Ok(back(&app, "revoked", "tab-scopes"))
}
