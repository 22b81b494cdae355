//! `/api/v1/apps` (OIDC apps): create, list, get, replace, lifecycle, delete (`crud.rs`), group
//! and user assignments (`assignments.rs`), client secrets (`secrets.rs`); and
//! `/api/v1/users/{id}/appLinks` (`app_links.rs`). Okta's JSON is read in `parse.rs` and
//! written in `render.rs`.

use axum::body::Bytes;
use gatehouse_core::domain::{App, User};
use gatehouse_core::services::directory;
use serde_json::json;

use super::{ApiError, JsonBody};
use crate::AppState;

mod app_links;
mod assignments;
mod crud;
mod parse;
mod render;
mod secrets;

pub(crate) use app_links::*;
pub(crate) use assignments::*;
pub(crate) use crud::*;
pub(crate) use secrets::*;

/// Okta's spec gives no app default ("server default"); 200 like users.
const DEFAULT_LIMIT: u32 = 200;
const MAX_LIMIT: u32 = 200;
const GROUPS_DEFAULT_LIMIT: u32 = 20;
const GROUPS_MAX_LIMIT: u32 = 200;
const USERS_DEFAULT_LIMIT: u32 = 50;
const USERS_MAX_LIMIT: u32 = 500;

fn required(field: &str) -> ApiError {
    ApiError::validation(field, "this field is required")
}

/// An optional string setting where `""` means unset (as some clients send).
fn opt_str(body: &JsonBody, path: &str) -> Result<Option<String>, ApiError> {
    Ok(body.str_opt(path)?.filter(|s| !s.is_empty()))
}

/// A JSON object body that may be empty (SDKs send `{}`, nothing, or octet-stream).
fn optional_body(bytes: &Bytes) -> Result<JsonBody, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(JsonBody(json!({})));
    }
    JsonBody::from_bytes(bytes)
}

async fn find(state: &AppState, id: &str) -> Result<App, ApiError> {
    Ok(directory::find_app_by_id_or_client_id(&state.provider, id).await?)
}

async fn find_user(state: &AppState, id: &str) -> Result<User, ApiError> {
    Ok(directory::find_user_by_id_or_login(&state.provider, id).await?)
}
