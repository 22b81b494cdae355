//! The lifecycle operations that hand out a one-time link: `lifecycle/activate`,
//! `lifecycle/reactivate`, `lifecycle/reset_password` and `credentials/forgot_password`.
//! With `sendEmail=true` (Okta's default) and SMTP configured the link is mailed and the answer
//! is `{}`; otherwise the link is in the answer (Okta's `sendEmail=false` shape).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use gatehouse_core::services::system_log::ClientInfo;
use gatehouse_core::services::user_links::{self, IssuedLink};
use gatehouse_core::services::users::Lifecycle;
use serde_json::json;

use super::audit;
use super::auth::Caller;
use super::users::resolve_for_change;
use super::{ApiError, ApiOrigin, ApiPath, Query};
use crate::AppState;
use crate::client_ip::Client;
use crate::mail::deliver;

fn activation_json(link: Option<IssuedLink>, origin: &str) -> Response {
    match link {
        Some(l) => Json(json!({
            "activationUrl": l.url(origin),
            "activationToken": l.token,
        }))
        .into_response(),
        None => Json(json!({})).into_response(),
    }
}

fn reset_json(link: Option<IssuedLink>, origin: &str) -> Response {
    match link {
        Some(l) => Json(json!({ "resetPasswordUrl": l.url(origin) })).into_response(),
        None => Json(json!({})).into_response(),
    }
}

/// `lifecycle/activate` and `lifecycle/reactivate` (called by `users::lifecycle`).
pub(crate) async fn activate(
    state: &AppState,
    caller: &Caller,
    client: &ClientInfo,
    origin: &str,
    query: &Query,
    id: &str,
    op: Lifecycle,
) -> Result<Response, ApiError> {
    let send = query.bool("sendEmail", true)?;
    let user = resolve_for_change(state, caller, id).await?;
    let actor = audit::actor(caller, client);
    let (user, link) = user_links::activate(&state.provider, &actor, user, op).await?;
    let link = link.and_then(|l| deliver(state, &user, l, origin, send));
    Ok(activation_json(link, origin))
}

/// `lifecycle/reset_password` (called by `users::lifecycle`).
pub(crate) async fn reset_password(
    state: &AppState,
    caller: &Caller,
    client: &ClientInfo,
    origin: &str,
    query: &Query,
    id: &str,
) -> Result<Response, ApiError> {
    let send = query.bool("sendEmail", true)?;
    let user = resolve_for_change(state, caller, id).await?;
    if caller.0.user().is_some_and(|me| me.id == user.id) {
        // RECOVERY would end the token's own access mid-session.
        return Err(ApiError::Forbidden(
            "An API token cannot reset its own user's password.".into(),
        ));
    }
    let actor = audit::actor(caller, client);
    let (user, link) = user_links::reset_password(&state.provider, &actor, user).await?;
    Ok(reset_json(
        deliver(state, &user, link, origin, send),
        origin,
    ))
}

/// `POST /api/v1/users?activate=true` without a password: the user is PROVISIONED and gets
/// their activation mail, as in Okta.
pub(crate) async fn after_create(
    state: &AppState,
    user: &gatehouse_core::domain::User,
    origin: &str,
) -> Result<(), ApiError> {
    if let Some(link) = user_links::activation_link(&state.provider, user).await? {
        let _ = deliver(state, user, link, origin, true);
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/credentials/forgot_password",
    tag = "Users",
    summary = "Start a password reset (a one-time link, mailed or returned)",
    params(
        ("id" = String, Path, description = "A user id, a login, or `me`"),
        ("sendEmail" = Option<bool>, Query, description = "Mail the link (default true); false returns it"),
    ),
    responses(
        (status = 200, description = "`{}`, or `{\"resetPasswordUrl\"}` with sendEmail=false", body = Object),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn forgot_password(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    query: Query,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let send = query.bool("sendEmail", true)?;
    let user = resolve_for_change(&state, &caller, &id).await?;
    let actor = audit::actor(&caller, &client);
    let link = user_links::forgot_password(&state.provider, &actor, &user)
        .await?
        .ok_or_else(|| ApiError::Forbidden("This user's password cannot be reset.".into()))?;
    Ok(reset_json(
        deliver(&state, &user, link, &origin, send),
        &origin,
    ))
}
