//! The request's origin and path parameters, rejected in Okta's error shape.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::AppState;
use crate::origin::Origin;

/// The request's public origin, with Okta's error shape.
pub(crate) struct ApiOrigin(pub String);

impl FromRequestParts<AppState> for ApiOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Origin::from_request_parts(parts, state)
            .await
            .map(|o| ApiOrigin(o.0))
            .map_err(|e| ApiError::validation("Host", e.to_string()))
    }
}

/// Path parameters, with Okta's error shape.
pub(crate) struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| ApiError::validation("path", e.body_text()))
    }
}
