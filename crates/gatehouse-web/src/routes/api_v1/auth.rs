//! Who is calling: the `Authorization` of every `/api/v1` request — an `SSWS <api token>`, or a
//! service app's org-server `Bearer <access token>`, which may only make the requests its
//! `okta.*` scopes allow (`403 E0000006` otherwise).

use axum::extract::{FromRequestParts, MatchedPath};
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
        // Scopes are decided on the route the router matched (its template, e.g.
        // `/api/v1/apps/{id}/grants`), never on the raw path: `//`, `%2F` or a trailing `/`
        // cannot then make the check and the routing see two different requests. A request
        // that matched no route gets no rights.
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        caller.may(parts.method.as_str(), route)?;
        Ok(Caller(caller))
    }
}
