//! `DELETE /api/v1/users/{id}/sessions`: Okta's "clear user sessions", the kill switch that
//! signs a user out everywhere while leaving the account active.

use axum::extract::State;
use axum::http::StatusCode;
use gatehouse_core::services::sessions::{self, EndReason, EndSessions};

use super::auth::Caller;
use super::users::resolve_for_change;
use super::{ApiError, ApiPath, Query, audit};
use crate::AppState;
use crate::client_ip::Client;

#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/sessions",
    tag = "Users",
    summary = "Clear the user's sessions",
    description = "Ends every sign-in session of the user (and tells the apps they signed in to, \
        by back-channel logout). With `oauthTokens=true`, also revokes the refresh and access \
        tokens issued to the user: refreshes get `invalid_grant`, introspection says inactive.",
    params(
        ("id" = String, Path, description = "A user id, a login, or `me`"),
        ("oauthTokens" = Option<bool>, Query, description = "Also revoke the user's OAuth tokens (default false)"),
    ),
    responses(
        (status = 204, description = "Cleared"),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn clear(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
    query: Query,
) -> Result<StatusCode, ApiError> {
    let oauth_tokens = query.bool("oauthTokens", false)?;
    let user = resolve_for_change(&state, &caller, &id).await?;
    let end = EndSessions {
        oauth_tokens,
        api_tokens: false,
        except_session: None,
    };
    let actor = audit::actor(&caller, &client);
    sessions::end_all_for_user(&state.provider, &actor, &user, end, EndReason::Cleared).await?;
    Ok(StatusCode::NO_CONTENT)
}
