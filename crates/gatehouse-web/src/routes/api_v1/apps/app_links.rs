//! `/api/v1/users/{id}/appLinks`: the apps a user may launch.

use axum::Json;
use axum::extract::State;
use gatehouse_core::services::apps;
use serde_json::{Value, json};

use super::find_user;
use crate::AppState;
use crate::routes::api_v1::auth::Caller;
use crate::routes::api_v1::{ApiError, ApiPath};

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/appLinks",
    tag = "Users",
    summary = "A user's app tiles",
    params(
        ("id" = String, Path, description = "A user id, a login, or `me`"),
    ),
    responses(
        (status = 200, description = "App links", body = Vec<super::super::openapi::AppLinkDoc>),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn app_links(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let key = if id == "me" {
        caller
            .0
            .user()
            .map(|u| u.id.clone())
            .ok_or_else(|| ApiError::NotFound("me (User)".into()))?
    } else {
        id
    };
    let user = find_user(&state, &key).await?;
    let found = apps::user_apps(&state.provider, &user).await?;
    let links: Vec<_> = found
        .iter()
        .enumerate()
        .map(|(i, app)| {
            let hidden = app.settings.login_mode == "DISABLED";
            json!({
                "id": format!("{}-{}", app.id, user.id),
                "appAssignmentId": format!("{}-{}", app.id, user.id),
                "appInstanceId": app.id,
                "appName": app.name,
                "label": app.label,
                "linkUrl": app.settings.initiate_login_uri.clone().unwrap_or_default(),
                "logoUrl": app.settings.metadata.logo_uri.clone().unwrap_or_default(),
                "credentialsSetup": false,
                "hidden": hidden,
                "sortOrder": i,
            })
        })
        .collect();
    Ok(Json(Value::Array(links)))
}
