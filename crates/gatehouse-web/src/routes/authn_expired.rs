//! The Authentication API's `PASSWORD_EXPIRED` state: `POST /api/v1/authn` answers it (with a
//! `stateToken` and the policy's complexity) when the right password has expired, and
//! `POST /api/v1/authn/credentials/change_password` `{stateToken, oldPassword, newPassword}`
//! takes the new password through the policy and answers as a correct password does (`SUCCESS`
//! with a `sessionToken`, or the second step the sign-on policies ask for).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::crypto::{random_token, verify_password};
use gatehouse_core::domain::{Timestamp, User};
use gatehouse_core::services::authn::{self, AuthnOutcome};
use gatehouse_core::services::directory::DirectoryError;
use gatehouse_core::services::passwords::{self, expired::ExpiredError};
use serde_json::{Value, json};

use super::authn::{
    authentication_failed, internal, no_store, okta_error, string_field, success, user_json,
};
use crate::AppState;
use crate::client_ip::Client;
use crate::origin::Origin;
use crate::routes::api_v1::okta_date;

/// Okta's `PASSWORD_EXPIRED` answer.
pub(crate) async fn password_expired(
    state: &AppState,
    origin: &str,
    state_token: &str,
    expires_at: Timestamp,
    user: &User,
) -> Response {
    let policy = match passwords::policy_for(&state.provider, Some(&user.id)).await {
        Ok(p) => p,
        Err(e) => return internal(&e.into()),
    };
    let c = &policy.settings.complexity;
    let body = json!({
        "stateToken": state_token,
        "expiresAt": okta_date(expires_at),
        "status": "PASSWORD_EXPIRED",
        "_embedded": {
            "user": user_json(user),
            "policy": {
                "complexity": {
                    "minLength": c.min_length,
                    "minLowerCase": c.min_lower_case,
                    "minUpperCase": c.min_upper_case,
                    "minNumber": c.min_number,
                    "minSymbol": c.min_symbol,
                    "excludeUsername": c.exclude_username,
                },
                "age": { "historyCount": policy.settings.age.history_count },
            },
        },
        "_links": {
            "next": {
                "name": "changePassword",
                "href": format!("{origin}/api/v1/authn/credentials/change_password"),
                "hints": { "allow": ["POST"] },
            },
            "cancel": {
                "href": format!("{origin}/api/v1/authn/cancel"),
                "hints": { "allow": ["POST"] },
            },
        },
    });
    no_store((StatusCode::OK, axum::Json(body)).into_response())
}

fn policy_refused(message: &str) -> Response {
    let body = json!({
        "errorCode": "E0000080",
        "errorSummary": "The password does not meet the complexity requirements of the current password policy.",
        "errorLink": "E0000080",
        "errorId": format!("oae{}", random_token(16)),
        "errorCauses": [{ "errorSummary": format!("password: {message}") }],
    });
    no_store((StatusCode::FORBIDDEN, axum::Json(body)).into_response())
}

fn invalid_state() -> Response {
    okta_error(
        StatusCode::UNAUTHORIZED,
        "E0000011",
        "Invalid token provided",
    )
}

pub(crate) async fn change_password_post(
    State(state): State<AppState>,
    Client(client): Client,
    Origin(origin): Origin,
    body: Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return okta_error(
            StatusCode::BAD_REQUEST,
            "E0000003",
            "The request body was not well-formed.",
        );
    };
    let (Some(token), Some(new_password)) = (
        string_field(&body, "stateToken"),
        string_field(&body, "newPassword"),
    ) else {
        return invalid_state();
    };
    // Okta asks for the old password again; when given, it must be right.
    if let Some(old) = string_field(&body, "oldPassword") {
        let user = match passwords::expired::state_user(&state.provider, &token).await {
            Ok(u) => u,
            Err(_) => return invalid_state(),
        };
        match verify_password(old, user.password_hash.clone()).await {
            Ok(true) => {}
            Ok(false) => return authentication_failed(),
            Err(e) => return internal(&gatehouse_core::oauth2::OAuthError::internal(e)),
        }
    }
    match authn::change_expired_password(&state.provider, &client, &token, new_password).await {
        Ok(Ok(AuthnOutcome::Success(done))) => success(&done),
        // The policies ask for a second factor now, as after any correct password.
        Ok(Ok(AuthnOutcome::Factor(step))) => super::authn_factors::factor_state(&origin, &step),
        Ok(Ok(AuthnOutcome::Refused | AuthnOutcome::PasswordExpired { .. })) => {
            authentication_failed()
        }
        Ok(Err(ExpiredError::InvalidState)) => invalid_state(),
        Ok(Err(ExpiredError::Directory(DirectoryError::Invalid { message, .. }))) => {
            policy_refused(&message)
        }
        Ok(Err(ExpiredError::Directory(e))) => {
            internal(&gatehouse_core::oauth2::OAuthError::internal(e))
        }
        Err(e) => internal(&e),
    }
}
