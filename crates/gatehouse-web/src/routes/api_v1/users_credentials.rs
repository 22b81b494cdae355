//! A user's password through `/api/v1/users`: `POST …/credentials/change_password` (old and
//! new password, Okta's E0000014 / E0000080 errors) and the `credentials.password.hash` of a
//! user imported with their hash (Okta's BCRYPT, SHA-1/256/512, PBKDF2 shapes).

use axum::Json;
use axum::extract::State;
use gatehouse_core::crypto::imported_hash::{self, OktaHash};
use gatehouse_core::services::directory::DirectoryError;
use gatehouse_core::services::passwords::SetBy;
use gatehouse_core::services::passwords::change::{ChangeError, change_password as change};
use serde_json::{Value, json};

use super::audit;
use super::auth::Caller;
use super::users::resolve_for_change;
use super::{ApiError, ApiPath, JsonBody, Query};
use crate::AppState;
use crate::client_ip::Client;

/// `credentials.password.hash`, checked and in its stored form; `None` when absent.
pub(crate) fn imported_password_hash(body: &JsonBody) -> Result<Option<String>, ApiError> {
    const P: &str = "credentials.password.hash";
    if body.object(P)?.is_none() {
        return Ok(None);
    }
    if body.str_opt("credentials.password.value")?.is_some() {
        return Err(ApiError::validation(
            "password",
            "give either a password value or a hash, not both",
        ));
    }
    let number = |field: &str| -> Result<Option<u32>, ApiError> {
        match body.i64_opt(&format!("{P}.{field}"))? {
            None => Ok(None),
            Some(n) => u32::try_from(n)
                .map(Some)
                .map_err(|_| ApiError::validation(field.to_owned(), "must be a whole number")),
        }
    };
    let h = OktaHash {
        algorithm: body
            .str_opt(&format!("{P}.algorithm"))?
            .ok_or_else(|| ApiError::validation("algorithm", "this field is required"))?,
        work_factor: number("workFactor")?,
        salt: body.str_opt(&format!("{P}.salt"))?,
        salt_order: body.str_opt(&format!("{P}.saltOrder"))?,
        value: body
            .str_opt(&format!("{P}.value"))?
            .ok_or_else(|| ApiError::validation("value", "this field is required"))?,
        // Okta's field is `iterationCount`; `iterations` is accepted too.
        iterations: number("iterationCount")?.or(number("iterations")?),
        digest_algorithm: body.str_opt(&format!("{P}.digestAlgorithm"))?,
    };
    imported_hash::import(&h)
        .map(Some)
        .map_err(|m| ApiError::validation("password.hash", m))
}

/// Okta's answer to a refused change: E0000014 for a wrong old password, E0000080 for a new
/// password the policy refuses (each with the reason as its error cause).
pub(crate) fn change_error(e: ChangeError) -> ApiError {
    match e {
        ChangeError::WrongOldPassword => ApiError::Credentials {
            code: "E0000014",
            summary: "Update of credentials failed".into(),
            causes: vec!["oldPassword: Old Password is not correct".into()],
        },
        ChangeError::NotAllowed(status) => ApiError::Forbidden(format!(
            "The password of a user whose status is {status} cannot be changed."
        )),
        ChangeError::Directory(DirectoryError::Invalid { field, message }) => {
            ApiError::Credentials {
                code: "E0000080",
                summary: "The password does not meet the complexity requirements of the current password policy.".into(),
                causes: vec![format!("{field}: {message}")],
            }
        }
        ChangeError::Directory(other) => other.into(),
    }
}

/// `POST /api/v1/users/{id}/credentials/change_password`
/// `{"oldPassword":{"value"},"newPassword":{"value"}}`: the user's credentials object.
#[utoipa::path(post, path = "/api/v1/users/{id}/credentials/change_password", tag = "Users",
    summary = "Change a user's password with the old one (the user's sessions end)",
    params(("id" = String, Path, description = "A user id, a login, or `me`"), ("strict" = Option<bool>, Query, description = "`true`: the policy's minimum age applies too")),
    responses((status = 200, description = "The user's credentials"), super::openapi::ApiErrors))]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
    query: Query,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    // Okta checks the minimum age only with `strict=true`.
    let by = if query.bool("strict", false)? {
        SetBy::User
    } else {
        SetBy::Admin
    };
    let old = body
        .str_opt("oldPassword.value")?
        .ok_or_else(|| ApiError::validation("oldPassword", "this field is required"))?;
    let new = body
        .str_opt("newPassword.value")?
        .ok_or_else(|| ApiError::validation("newPassword", "this field is required"))?;
    let user = resolve_for_change(&state, &caller, &id).await?;
    let actor = audit::actor(&caller, &client);
    change(&state.provider, &actor, user, &old, new, by)
        .await
        .map_err(change_error)?;
    Ok(Json(json!({
        "password": {},
        "provider": { "type": "OKTA", "name": "OKTA" },
    })))
}
