//! Okta's management API, `/api/v1` (users, groups and OIDC apps so far). Handlers are thin: they parse
//! the request, call `gatehouse_core::services`, and render Okta's JSON. Every error takes
//! Okta's shape (`error.rs`), and every response carries `X-Okta-Request-Id` and the
//! `X-Rate-Limit-*` headers (`okta_headers.rs`).
//!
//! This file is the route table: one function per resource, merged in `router()`. The shared
//! pieces live beside it: `auth.rs` (the `Caller`), `extract.rs` (`ApiOrigin`, `ApiPath`),
//! `body.rs` (`JsonBody`), `query.rs` (`Query`, `pagination_links`), `dates.rs` (`okta_date`).

mod app_grants;
mod apps;
pub(crate) mod audit;
mod auth;
mod authorization_servers;
mod body;
mod dates;
mod error;
mod extract;
mod factors;
mod factors_openapi;
mod groups;
mod idps;
mod idps_json;
mod idps_openapi;
mod log_body;
mod logs;
mod okta_headers;
mod openapi;
mod policies;
mod policies_json;
mod policies_openapi;
mod policies_password;
mod query;
mod sessions;
mod trusted_origins;
mod user_grants;
mod user_json;
mod user_links;
mod user_sessions;
mod users;
mod users_credentials;

use axum::Router;
use axum::extract::{OriginalUri, Request};
use axum::middleware;
use axum::routing::{delete, get, post, put};

use crate::AppState;
pub(crate) use auth::Caller;
pub(crate) use body::JsonBody;
pub(crate) use dates::okta_date;
pub use error::ApiError;
pub(crate) use extract::{ApiOrigin, ApiPath};
pub(crate) use okta_headers::okta_headers;
pub(crate) use query::{Query, pagination_links};

pub fn router(state: &AppState) -> Router<AppState> {
    let api = Router::new()
        .merge(users_routes())
        .merge(groups_routes())
        .merge(apps_routes())
        .merge(sessions_routes())
        .merge(trusted_origins_routes())
        .merge(idps_routes())
        .merge(authorization_servers_routes())
        .merge(policies::routes())
        .route("/logs", get(logs::list))
        .route("/openapi.json", get(openapi::document))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found);
    Router::new()
        .nest("/api/v1", api)
        .layer(middleware::from_fn_with_state(state.clone(), okta_headers))
}

fn users_routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(users::list).post(users::create))
        .route(
            "/users/{id}",
            get(users::get)
                .post(users::update_partial)
                .put(users::update_full)
                .delete(users::delete),
        )
        .route("/users/{id}/groups", get(users::groups))
        .merge(factors_routes())
        .route("/users/{id}/lifecycle/{op}", post(users::lifecycle))
        .route(
            "/users/{id}/credentials/forgot_password",
            post(user_links::forgot_password),
        )
        .route("/users/{id}/sessions", delete(user_sessions::clear))
        .route(
            "/users/{id}/credentials/change_password",
            post(users_credentials::change_password),
        )
        .route("/users/{id}/appLinks", get(apps::app_links))
        .route(
            "/users/{id}/grants",
            get(user_grants::list).delete(user_grants::delete_all),
        )
        .route(
            "/users/{id}/grants/{grant_id}",
            get(user_grants::get).delete(user_grants::delete),
        )
        .route("/users/{id}/clients", get(user_grants::clients))
        .route(
            "/users/{id}/clients/{client_id}/grants",
            get(user_grants::client_grants).delete(user_grants::delete_client_grants),
        )
}

fn groups_routes() -> Router<AppState> {
    Router::new()
        .route("/groups", get(groups::list).post(groups::create))
        .route(
            "/groups/{id}",
            get(groups::get).put(groups::update).delete(groups::delete),
        )
        .route("/groups/{id}/users", get(groups::members))
        .route(
            "/groups/{gid}/users/{uid}",
            put(groups::add_member).delete(groups::remove_member),
        )
}

fn apps_routes() -> Router<AppState> {
    Router::new()
        .route("/apps", get(apps::list).post(apps::create))
        .route(
            "/apps/{id}",
            get(apps::get).put(apps::replace).delete(apps::delete),
        )
        .route("/apps/{id}/lifecycle/{op}", post(apps::lifecycle))
        .route("/apps/{id}/groups", get(apps::list_groups))
        .route(
            "/apps/{id}/groups/{gid}",
            get(apps::get_group)
                .put(apps::assign_group)
                .delete(apps::unassign_group),
        )
        .route(
            "/apps/{id}/users",
            get(apps::list_users).post(apps::assign_user),
        )
        .route(
            "/apps/{id}/users/{uid}",
            get(apps::get_user).delete(apps::unassign_user),
        )
        .route(
            "/apps/{id}/credentials/secrets",
            get(apps::list_secrets).post(apps::new_secret),
        )
        .route(
            "/apps/{id}/credentials/secrets/{sid}",
            get(apps::get_secret).delete(apps::delete_secret),
        )
        .route(
            "/apps/{id}/credentials/secrets/{sid}/lifecycle/{op}",
            post(apps::secret_lifecycle),
        )
        .route(
            "/apps/{id}/grants",
            get(app_grants::list).post(app_grants::create),
        )
        .route(
            "/apps/{id}/grants/{grant_id}",
            get(app_grants::get).delete(app_grants::delete),
        )
}

fn sessions_routes() -> Router<AppState> {
    Router::new().route(
        "/sessions/me",
        get(sessions::get_me).delete(sessions::delete_me),
    )
}

fn trusted_origins_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/trustedOrigins",
            get(trusted_origins::list).post(trusted_origins::create),
        )
        .route(
            "/trustedOrigins/{id}",
            get(trusted_origins::get)
                .put(trusted_origins::replace)
                .delete(trusted_origins::delete),
        )
        .route(
            "/trustedOrigins/{id}/lifecycle/{op}",
            post(trusted_origins::lifecycle),
        )
}

fn idps_routes() -> Router<AppState> {
    Router::new()
        .route("/idps", get(idps::list).post(idps::create))
        .route(
            "/idps/{id}",
            get(idps::get).put(idps::replace).delete(idps::delete),
        )
        .route("/idps/{id}/lifecycle/{op}", post(idps::lifecycle))
}

fn factors_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/users/{id}/factors",
            get(factors::list).post(factors::enroll),
        )
        .route("/users/{id}/factors/catalog", get(factors::catalog))
        .route(
            "/users/{id}/factors/{fid}",
            get(factors::get).delete(factors::delete),
        )
        .route(
            "/users/{id}/factors/{fid}/lifecycle/activate",
            post(factors::activate),
        )
        .route("/users/{id}/factors/{fid}/verify", post(factors::verify))
}

fn authorization_servers_routes() -> Router<AppState> {
    use authorization_servers as a;
    Router::new()
        .route("/authorizationServers", get(a::list).post(a::create))
        .route(
            "/authorizationServers/{id}",
            get(a::get).put(a::replace).delete(a::delete),
        )
        .route(
            "/authorizationServers/{id}/lifecycle/{op}",
            post(a::lifecycle),
        )
        .route(
            "/authorizationServers/{id}/credentials/keys",
            get(a::list_keys),
        )
        .route(
            "/authorizationServers/{id}/credentials/lifecycle/keyRotate",
            post(a::rotate_key),
        )
        .route(
            "/authorizationServers/{id}/scopes",
            get(a::list_scopes).post(a::create_scope),
        )
        .route(
            "/authorizationServers/{id}/scopes/{item}",
            get(a::get_scope)
                .put(a::replace_scope)
                .delete(a::delete_scope),
        )
        .route(
            "/authorizationServers/{id}/claims",
            get(a::list_claims).post(a::create_claim),
        )
        .route(
            "/authorizationServers/{id}/claims/{item}",
            get(a::get_claim)
                .put(a::replace_claim)
                .delete(a::delete_claim),
        )
        .route(
            "/authorizationServers/{id}/policies",
            get(a::list_policies).post(a::create_policy),
        )
        .route(
            "/authorizationServers/{id}/policies/{item}",
            get(a::get_policy)
                .put(a::replace_policy)
                .delete(a::delete_policy),
        )
        .route(
            "/authorizationServers/{id}/policies/{item}/lifecycle/{op}",
            post(a::policy_lifecycle),
        )
        .route(
            "/authorizationServers/{id}/policies/{policy}/rules",
            get(a::list_rules).post(a::create_rule),
        )
        .route(
            "/authorizationServers/{id}/policies/{policy}/rules/{item}",
            get(a::get_rule).put(a::replace_rule).delete(a::delete_rule),
        )
        .route(
            "/authorizationServers/{id}/policies/{policy}/rules/{item}/lifecycle/{op}",
            post(a::rule_lifecycle),
        )
        .route(
            "/authorizationServers/{id}/tokenPreview",
            post(a::token_preview),
        )
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

async fn not_found(OriginalUri(uri): OriginalUri, req: Request) -> ApiError {
    ApiError::NotFound(format!("{} ({})", uri.path(), req.method()))
}
