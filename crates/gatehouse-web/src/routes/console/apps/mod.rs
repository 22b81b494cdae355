//! Applications › Applications: the list, "Create App Integration", and an app's page with
//! its tabs (General, Client Credentials, Sign On, Assignments, Okta API Scopes). One file per
//! job: `list.rs` (dashboard, list, the type choice), `create.rs` (the wizard), `fields.rs` (the
//! General settings form model), `page.rs` (the app's page), `general.rs` (General and Sign On
//! tabs, lifecycle, delete), `credentials.rs` (client authentication and secrets),
//! `assignments.rs` (groups and people), `scopes.rs` (Okta API scope grants).

mod assignments;
mod create;
mod credentials;
mod fields;
mod general;
mod list;
mod page;
mod scopes;

use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};
use gatehouse_core::domain::{App, ApplicationType, Group};
use gatehouse_core::services::{directory, groups};

use super::{ConsoleError, see_other};
use crate::AppState;

pub(crate) use list::dashboard;

pub fn router() -> Router<AppState> {
    let app = "/admin/app/oidc_client/instance/{id}";
    Router::new()
        .route(
            "/admin/apps",
            get(|| async { see_other("/admin/apps/active") }),
        )
        .route("/admin/apps/active", get(list::list))
        .route("/admin/apps/create", get(list::create_choice))
        .route(
            "/admin/apps/oauth2-wizard/create",
            get(create::new_form).post(create::create),
        )
        // The page's forms post to paths relative to it, so it lives at the trailing slash.
        .route(
            app,
            get(|Path(id): Path<String>| async move {
                see_other(&format!("/admin/app/oidc_client/instance/{id}/"))
            }),
        )
        .route(&format!("{app}/"), get(page::show))
        .route(&format!("{app}/general"), post(general::save_general))
        .route(
            &format!("{app}/credentials"),
            post(credentials::save_credentials),
        )
        .route(&format!("{app}/secret"), post(credentials::new_secret))
        .route(&format!("{app}/secrets"), post(credentials::add_secret))
        .route(
            &format!("{app}/secrets/{{sid}}/{{op}}"),
            post(credentials::change_secret),
        )
        .route(&format!("{app}/sign-on"), post(general::save_sign_on))
        .route(&format!("{app}/lifecycle/{{op}}"), post(general::lifecycle))
        .route(&format!("{app}/delete"), post(general::delete))
        .route(&format!("{app}/groups"), post(assignments::assign_group))
        .route(
            &format!("{app}/groups/{{gid}}/remove"),
            post(assignments::unassign_group),
        )
        .route(&format!("{app}/users"), post(assignments::assign_user))
        .route(
            &format!("{app}/users/{{uid}}/remove"),
            post(assignments::unassign_user),
        )
        .route(&format!("{app}/grants"), post(scopes::grant_scope))
        .route(
            &format!("{app}/grants/{{grant}}/revoke"),
            post(scopes::revoke_scope),
        )
}

pub(crate) fn app_path(app: &App) -> String {
    format!("/admin/app/oidc_client/instance/{}/", app.id)
}

/// How the console names an application type (Okta's words).
pub(crate) fn type_label(t: ApplicationType) -> &'static str {
    match t {
        ApplicationType::Web => "Web Application",
        ApplicationType::Browser => "Single-Page Application",
        ApplicationType::Service => "API Services",
        ApplicationType::Native => "Native Application",
    }
}

/// The wizard's `applicationType` values.
fn parse_type(s: &str) -> Option<ApplicationType> {
    match s {
        "web" => Some(ApplicationType::Web),
        "browser" => Some(ApplicationType::Browser),
        "service" => Some(ApplicationType::Service),
        _ => None,
    }
}

/// A group or person offered in a picker.
struct Choice {
    id: String,
    name: String,
}

async fn all_groups(state: &AppState) -> Result<Vec<Group>, ConsoleError> {
    Ok(groups::list_groups(&state.provider, None, None, 500)
        .await?
        .0)
}

async fn find_app(state: &AppState, id: &str) -> Result<App, ConsoleError> {
    Ok(directory::find_app_by_id_or_client_id(&state.provider, id).await?)
}
