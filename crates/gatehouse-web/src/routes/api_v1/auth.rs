//! Who is calling: the `Authorization: SSWS <token>` of every `/api/v1` request.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use gatehouse_core::services::api_tokens::{self, ApiCaller};

use super::error::ApiError;
use crate::AppState;
use crate::routes::authorization_header;

/// The authenticated caller; extracting it rejects with `401 E0000011`.
pub struct Caller(pub ApiCaller);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = authorization_header(&parts.headers);
        Ok(Caller(
            api_tokens::authenticate(&state.provider, header).await?,
        ))
    }
}
