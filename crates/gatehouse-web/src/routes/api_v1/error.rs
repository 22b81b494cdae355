//! Okta's error shape for every `/api/v1` error, in one place:
//! `{"errorCode","errorSummary","errorLink","errorId","errorCauses":[{"errorSummary"}]}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::crypto::random_token;
use gatehouse_core::services::api_tokens::ApiTokenError;
use gatehouse_core::services::directory::DirectoryError;
use gatehouse_core::services::filter::FilterError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// E0000001 (400): `field: message` becomes the one error cause.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// E0000003 (400): the body is not JSON (or not a JSON object).
    #[error("malformed body: {0}")]
    MalformedBody(String),
    /// E0000007 (404): `what` is e.g. `00u123 (User)`.
    #[error("not found: {0}")]
    NotFound(String),
    /// E0000011 (401).
    #[error("invalid token")]
    InvalidToken,
    /// E0000006 (403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// E0000022 (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// E0000047 (429): the caller's per-minute budget is spent.
    #[error("rate limit exceeded")]
    RateLimited,
    /// E0000056 (403): an ACTIVE app cannot be deleted.
    #[error("delete application forbidden: {0}")]
    DeleteActiveApp(String),
    /// 403 on a credentials change: E0000014 (wrong old password) or E0000080 (the new
    /// password breaks the policy), each with its error causes.
    #[error("credentials: {summary}")]
    Credentials {
        code: &'static str,
        summary: String,
        causes: Vec<String>,
    },
    /// E0000009 (500): logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
    /// 503: the database cannot be reached now (logged); worth retrying.
    #[error("service unavailable: {0}")]
    Unavailable(String),
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, String, Vec<String>) {
        match self {
            Self::Validation { field, message } => (
                StatusCode::BAD_REQUEST,
                "E0000001",
                format!("Api validation failed: {field}"),
                vec![format!("{field}: {message}")],
            ),
            Self::MalformedBody(detail) => (
                StatusCode::BAD_REQUEST,
                "E0000003",
                "The request body was not well-formed.".into(),
                vec![detail.clone()],
            ),
            Self::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "E0000007",
                format!("Not found: Resource not found: {what}"),
                vec![],
            ),
            Self::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                "E0000011",
                "Invalid token provided".into(),
                vec![],
            ),
            Self::Forbidden(detail) => (
                StatusCode::FORBIDDEN,
                "E0000006",
                "You do not have permission to perform the requested action".into(),
                vec![detail.clone()],
            ),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "E0000022",
                "The endpoint does not support the provided HTTP method".into(),
                vec![],
            ),
            Self::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                "E0000047",
                "API call exceeded rate limit due to too many requests.".into(),
                vec![],
            ),
            Self::DeleteActiveApp(id) => (
                StatusCode::FORBIDDEN,
                "E0000056",
                "Delete application forbidden.".into(),
                vec![format!(
                    "The app {id} is ACTIVE: deactivate it (POST /api/v1/apps/{id}/lifecycle/deactivate) before deleting it."
                )],
            ),
            Self::Credentials {
                code,
                summary,
                causes,
            } => (StatusCode::FORBIDDEN, code, summary.clone(), causes.clone()),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "E0000009",
                "Internal Server Error".into(),
                vec![],
            ),
            Self::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "E0000009",
                "Service temporarily unavailable. Try again later.".into(),
                vec![],
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(detail) => tracing::error!(error = %detail, "internal error in /api/v1"),
            Self::Unavailable(detail) => {
                tracing::warn!(error = %detail, "database unavailable: /api/v1 answered 503")
            }
            _ => {}
        }
        let (status, code, summary, causes) = self.parts();
        let causes: Vec<_> = causes
            .into_iter()
            .map(|c| json!({ "errorSummary": c }))
            .collect();
        let body = json!({
            "errorCode": code,
            "errorSummary": summary,
            "errorLink": code,
            "errorId": format!("oae{}", random_token(15)),
            "errorCauses": causes,
        });
        (status, Json(body)).into_response()
    }
}

impl From<DirectoryError> for ApiError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Invalid { field, message } => Self::validation(field, message),
            DirectoryError::Conflict { field } => Self::validation(
                field,
                "An object with this field already exists in the current organization",
            ),
            DirectoryError::NotFound(what) => Self::NotFound(what),
            DirectoryError::Missing { kind, key } => Self::NotFound(format!("{key} ({kind})")),
            DirectoryError::Forbidden(detail) => Self::Forbidden(detail),
            DirectoryError::StillActive(id) => Self::DeleteActiveApp(id),
            DirectoryError::Store(e) => e.into(),
            other @ DirectoryError::Password(_) => Self::Internal(other.to_string()),
        }
    }
}

impl From<ApiTokenError> for ApiError {
    fn from(e: ApiTokenError) -> Self {
        match e {
            ApiTokenError::InvalidToken => Self::InvalidToken,
            ApiTokenError::Invalid { field, message } => Self::validation(field, message),
            ApiTokenError::NotFound(id) => Self::NotFound(format!("{id} (ApiToken)")),
            ApiTokenError::Forbidden(detail) => Self::Forbidden(detail),
            ApiTokenError::Store(s) => s.into(),
        }
    }
}

impl From<gatehouse_core::store::StoreError> for ApiError {
    fn from(e: gatehouse_core::store::StoreError) -> Self {
        if gatehouse_core::store::is_unavailable(&e) {
            Self::Unavailable(e.to_string())
        } else {
            Self::Internal(e.to_string())
        }
    }
}

impl From<FilterError> for ApiError {
    fn from(e: FilterError) -> Self {
        Self::validation("filter", format!("Invalid search criteria: {}", e.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[tokio::test]
    async fn errors_have_okta_shape() -> Result<(), Box<dyn std::error::Error>> {
        let res = ApiError::validation("login", "taken").into_response();
        assert_eq!(res.status(), axum::http::StatusCode::BAD_REQUEST);
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 16).await?;
        let v: Value = serde_json::from_slice(&bytes)?;
        assert_eq!(v["errorCode"], "E0000001");
        assert_eq!(v["errorLink"], "E0000001");
        assert_eq!(v["errorSummary"], "Api validation failed: login");
        assert_eq!(v["errorCauses"][0]["errorSummary"], "login: taken");
        assert!(
            v["errorId"]
                .as_str()
                .is_some_and(|id| id.starts_with("oae"))
        );
        for (e, status, code) in [
            (ApiError::InvalidToken, 401, "E0000011"),
            (ApiError::NotFound("x (User)".into()), 404, "E0000007"),
            (ApiError::Forbidden("no".into()), 403, "E0000006"),
            (ApiError::MethodNotAllowed, 405, "E0000022"),
            (ApiError::MalformedBody("bad".into()), 400, "E0000003"),
        ] {
            let res = e.into_response();
            assert_eq!(res.status().as_u16(), status);
            let v: Value =
                serde_json::from_slice(&axum::body::to_bytes(res.into_body(), 1 << 16).await?)?;
            assert_eq!(v["errorCode"], code);
        }
        Ok(())
    }
}
