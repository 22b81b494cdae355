//! The Assignments tab: groups and people assigned to the app.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use gatehouse_core::services::apps;
use gatehouse_core::services::directory::{self, DirectoryError};

use super::find_app;
use super::page::{back, refused};
use crate::AppState;
use crate::origin::Origin;
use crate::routes::console::{Admin, ConsoleError, FieldErrors, chosen};

pub(super) async fn assign_group(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let Some(group) = chosen(directory::find_group_by_id_or_name(
        &state.provider,
        form.get("group_id"),
    ))
    .await?
    else {
        let mut errors = FieldErrors::default();
        errors.add("group_id", "Choose a group to assign.");
        return refused(&state, &admin, &origin, app, None, errors).await;
    };
    apps::assign_group(&state.provider, &admin.0.actor(), &app, &group, None).await?;
    Ok(back(&app, "assigned", "tab-assignments"))
}

pub(super) async fn unassign_group(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, gid)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    apps::unassign_group(&state.provider, &admin.0.actor(), &app, &gid).await?;
    Ok(back(&app, "unassigned", "tab-assignments"))
}

pub(super) async fn assign_user(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let user = chosen(directory::find_user_by_id_or_login(
        &state.provider,
        form.get("user_id"),
    ))
    .await?;
    let result = match &user {
        Some(u) => apps::assign_user(&state.provider, &admin.0.actor(), &app, u).await,
        None => Err(DirectoryError::Invalid {
            field: "id",
            message: "choose a person to assign".into(),
        }),
    };
    match result {
        Ok(()) => Ok(back(&app, "assigned", "tab-assignments")),
        Err(e) => {
            let errors = FieldErrors::from_service(e, &[("id", "user_id")], "user_id")?;
            refused(&state, &admin, &origin, app, None, errors).await
        }
    }
}

pub(super) async fn unassign_user(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, uid)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let user = directory::find_user_by_id_or_login(&state.provider, &uid).await?;
    apps::unassign_user(&state.provider, &admin.0.actor(), &app, &user).await?;
    Ok(back(&app, "unassigned", "tab-assignments"))
}
