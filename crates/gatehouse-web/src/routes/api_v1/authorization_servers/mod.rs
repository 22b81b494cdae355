//! `/api/v1/authorizationServers`: Okta's custom authorization servers with their keys,
//! scopes, claims, access policies and rules. Handlers parse Okta's JSON into the specs of
//! `gatehouse_core::services::{auth_servers, auth_server_config}` and render the results.

use gatehouse_core::domain::AppStatus;
use gatehouse_core::services::auth_servers::AuthServerError;
use serde_json::{Value, json};

use super::ApiError;

mod items;
mod parse;
mod preview;
mod render;
mod rules;
mod schemas;
mod servers;

pub(crate) use items::*;
use parse::*;
pub(crate) use preview::*;
use render::*;
pub(crate) use rules::*;
pub(crate) use schemas::*;
pub(crate) use servers::*;

const DEFAULT_LIMIT: u32 = 200;
const MAX_LIMIT: u32 = 200;
/// Okta rotates automatically every 90 days; Gatehouse shows that schedule.
const ROTATION_PERIOD: i64 = 90 * 24 * 3600;

impl From<AuthServerError> for ApiError {
    fn from(e: AuthServerError) -> Self {
        match e {
            AuthServerError::NotFound(id) => Self::NotFound(format!("{id} (AuthorizationServer)")),
            AuthServerError::Missing { kind, id } => Self::NotFound(format!("{id} ({kind})")),
            AuthServerError::Invalid { field, message } => Self::validation(field, message),
            AuthServerError::Forbidden(detail) => Self::Forbidden(detail),
            other @ (AuthServerError::Keys(_) | AuthServerError::Store(_)) => {
                Self::Internal(other.to_string())
            }
        }
    }
}

fn hints(href: String, methods: &[&str]) -> Value {
    json!({ "href": href, "hints": { "allow": methods } })
}

fn status_from_op(op: &str, path: &str) -> Result<AppStatus, ApiError> {
    match op {
        "activate" => Ok(AppStatus::Active),
        "deactivate" => Ok(AppStatus::Inactive),
        _ => Err(ApiError::NotFound(format!("{path} (POST)"))),
    }
}

fn base(origin: &str, id: &str) -> String {
    format!("{origin}/api/v1/authorizationServers/{id}")
}
