//! The General and Sign On tabs' forms, activation and deletion.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use gatehouse_core::authz::model::GroupFilterType;
use gatehouse_core::domain::{AppStatus, GroupsClaim, IssuerMode};
use gatehouse_core::services::apps;

use super::fields::{AppFields, GENERAL_FIELDS, spec_of};
use super::find_app;
use super::page::{back, refused};
use crate::AppState;
use crate::origin::Origin;
use crate::routes::console::{Admin, ConsoleError, FieldErrors, see_other};

pub(super) async fn save_general(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let fields = AppFields::of_form(&form, app.settings.application_type);
    let mut spec = spec_of(&app);
    if let Err(errors) = fields.apply(&mut spec) {
        return refused(&state, &admin, &origin, app, Some(fields), errors).await;
    }
    match apps::replace(&state.provider, &admin.0.actor(), app.clone(), spec).await {
        Ok(done) => Ok(back(&done.app, "saved", "tab-general")),
        Err(e) => {
            let errors = FieldErrors::from_service(e, GENERAL_FIELDS, "label")?;
            refused(&state, &admin, &origin, app, Some(fields), errors).await
        }
    }
}

pub(super) async fn save_sign_on(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let mut spec = spec_of(&app);
    let Some(mode) = IssuerMode::parse(form.get("issuer_mode")) else {
        let mut errors = FieldErrors::default();
        errors.add("issuer_mode", "Choose Dynamic or Okta URL.");
        return refused(&state, &admin, &origin, app, None, errors).await;
    };
    spec.issuer_mode = Some(mode);
    // The groups claim filter: no name and no value means none.
    let name = form.get("groups_claim_name").to_owned();
    let value = form.get("groups_claim_value").to_owned();
    spec.groups_claim = Some(if name.is_empty() && value.is_empty() {
        None
    } else {
        let Some(filter_type) = GroupFilterType::parse(form.get("groups_claim_filter")) else {
            let mut errors = FieldErrors::default();
            errors.add("groups_claim_filter", "Choose how group names are matched.");
            return refused(&state, &admin, &origin, app, None, errors).await;
        };
        Some(GroupsClaim {
            name,
            filter_type,
            value,
        })
    });
    match apps::replace(&state.provider, &admin.0.actor(), app.clone(), spec).await {
        Ok(done) => Ok(back(&done.app, "saved", "tab-sign-on")),
        Err(e) => {
            let fields = [
                ("groups_claim_name", "groups_claim_name"),
                ("groups_claim_value", "groups_claim_value"),
            ];
            let errors = FieldErrors::from_service(e, &fields, "issuer_mode")?;
            refused(&state, &admin, &origin, app, None, errors).await
        }
    }
}

pub(super) async fn lifecycle(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, op)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let (status, notice) = match op.as_str() {
        "activate" => (AppStatus::Active, "activated"),
        "deactivate" => (AppStatus::Inactive, "deactivated"),
        _ => return Err(ConsoleError::NotFound),
    };
    let app = apps::set_status(&state.provider, &admin.0.actor(), app, status).await?;
    Ok(back(&app, notice, "tab-general"))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    apps::delete(&state.provider, &admin.0.actor(), &app).await?;
    Ok(see_other("/admin/apps/active?notice=deleted"))
}
