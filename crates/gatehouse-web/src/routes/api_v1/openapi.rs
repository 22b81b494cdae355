//! The OpenAPI document of `/api/v1`, generated from the handlers' `#[utoipa::path]`
//! annotations and the schemas below, served at `/api/v1/openapi.json`.
//!
//! Handlers build Okta's JSON by hand (its shapes are looser than Rust types); these schemas
//! describe what they return, and schemathesis (in the test command) checks every response
//! against them, so a drift fails the build.

use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{groups, sessions, users};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse management API",
        description = "Okta's management API (`/api/v1`) as Gatehouse implements it. Authorise with \
                       `Authorization: SSWS <api token>`.",
        version = "1"
    ),
    paths(
        users::list,
        users::create,
        users::get,
        users::update_partial,
        users::update_full,
        users::delete,
        users::lifecycle,
        users::groups,
        groups::list,
        groups::create,
        groups::get,
        groups::update,
        groups::delete,
        groups::members,
        groups::add_member,
        groups::remove_member,
        sessions::get_me,
        sessions::delete_me,
    ),
    components(schemas(
        OktaError,
        ErrorCause,
        UserDoc,
        UserProfileDoc,
        CreateUserBody,
        UpdateUserBody,
        GroupDoc,
        GroupBody,
        GroupProfileDoc,
        SessionDoc,
    )),
    modifiers(&SswsAuth),
    security(("SSWS" = []))
)]
pub struct ApiDoc;

struct SswsAuth;

impl Modify for SswsAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "SSWS",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`SSWS <api token>`",
            ))),
        );
    }
}

pub(crate) async fn document() -> Json<Value> {
    Json(serde_json::to_value(ApiDoc::openapi()).unwrap_or_default())
}

/// Every `/api/v1` error: Okta's shape.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Error)]
#[allow(dead_code)]
pub(crate) struct OktaError {
    #[schema(example = "E0000007")]
    error_code: String,
    error_summary: String,
    error_link: String,
    error_id: String,
    error_causes: Vec<ErrorCause>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct ErrorCause {
    error_summary: String,
}

/// A user's base profile.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UserProfile)]
#[allow(dead_code)]
pub(crate) struct UserProfileDoc {
    #[schema(min_length = 5, max_length = 100, example = "jane.doe@example.com")]
    login: String,
    #[schema(
        format = "email",
        min_length = 5,
        max_length = 100,
        example = "jane.doe@example.com"
    )]
    email: String,
    #[schema(min_length = 1, max_length = 50, example = "Jane")]
    first_name: String,
    #[schema(min_length = 1, max_length = 50, example = "Doe")]
    last_name: String,
    display_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = User)]
#[allow(dead_code)]
pub(crate) struct UserDoc {
    id: String,
    #[schema(
        pattern = "^(STAGED|PROVISIONED|ACTIVE|RECOVERY|PASSWORD_EXPIRED|LOCKED_OUT|SUSPENDED|DEPROVISIONED)$"
    )]
    status: String,
    created: String,
    activated: Option<String>,
    status_changed: Option<String>,
    last_login: Option<String>,
    last_updated: String,
    password_changed: Option<String>,
    #[schema(value_type = Object)]
    r#type: Value,
    profile: UserProfileDoc,
    #[schema(value_type = Object)]
    credentials: Value,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// `POST /api/v1/users`: a profile, optionally a password and groups.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct CreateUserBody {
    profile: UserProfileDoc,
    #[schema(value_type = Option<Object>, example = json!({"password": {"value": "correct horse battery staple"}}))]
    credentials: Option<Value>,
    group_ids: Option<Vec<String>>,
}

/// `POST` (partial) or `PUT` (full) `/api/v1/users/{id}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct UpdateUserBody {
    #[schema(value_type = Option<Object>)]
    profile: Option<Value>,
    #[schema(value_type = Option<Object>)]
    credentials: Option<Value>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Group)]
#[allow(dead_code)]
pub(crate) struct GroupDoc {
    id: String,
    created: String,
    last_updated: String,
    last_membership_updated: String,
    object_class: Vec<String>,
    #[schema(pattern = "^(OKTA_GROUP|APP_GROUP|BUILT_IN)$")]
    r#type: String,
    profile: GroupProfileDoc,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// `POST` / `PUT` `/api/v1/groups[/{id}]`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct GroupBody {
    profile: GroupProfileDoc,
}

#[derive(Serialize, ToSchema)]
#[schema(as = GroupProfile)]
#[allow(dead_code)]
pub(crate) struct GroupProfileDoc {
    #[schema(min_length = 1, max_length = 255, example = "Engineering")]
    name: String,
    #[schema(max_length = 1024)]
    description: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Session)]
#[allow(dead_code)]
pub(crate) struct SessionDoc {
    id: String,
    user_id: String,
    login: String,
    created_at: String,
    expires_at: String,
    status: String,
    amr: Vec<String>,
    #[schema(value_type = Object)]
    idp: Value,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}
