//! Who is calling: the `Authorization` of every `/api/v1` request — an `SSWS <api token>`, or a
//! service app's org-server `Bearer <access token>`, which may only make the requests its
//! `okta.*` scopes allow (`403 E0000006` otherwise).

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use gatehouse_core::services::api_tokens::{self, ApiCaller};

use super::ApiOrigin;
use super::error::ApiError;
use crate::AppState;
use crate::routes::authorization_header;

/// The authenticated, authorized caller; extracting it rejects with `401 E0000011` or
/// `403 E0000006`.
pub struct Caller(pub ApiCaller);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ApiOrigin(origin) = ApiOrigin::from_request_parts(parts, state).await?;
        let header = authorization_header(&parts.headers);
        let caller = api_tokens::authenticate(&state.provider, header, &origin).await?;
        // Nested routers see a stripped path; the scope rules are written for the full one.
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path().to_owned(), |u| u.0.path().to_owned());
        caller.may(parts.method.as_str(), &path)?;
        Ok(Caller(caller))
    }
}
