//! The app's page: its tabs as one template, and the page again with a notice, a secret shown
//! once, or a form's errors.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::domain::*;
use gatehouse_core::oauth2::scope::OKTA_API_SCOPES;
use gatehouse_core::services::apps::{self, AssignmentScope};
use gatehouse_core::services::directory::DirectoryError;
use gatehouse_core::services::{app_grants, users};
use serde::Deserialize;

use super::fields::AppFields;
use super::{Choice, all_groups, app_path, find_app, type_label};
use crate::AppState;
use crate::origin::Origin;
use crate::routes::console::{Admin, Chrome, ConsoleError, FieldErrors, date, render, see_other};
use askama::Template;

struct GroupRow {
    id: String,
    name: String,
}

struct PersonRow {
    id: String,
    name: String,
    login: String,
    how: &'static str,
}

struct ScopeRow {
    scope: &'static str,
    grant_id: Option<String>,
}

#[derive(Template)]
#[template(path = "console/app_show.html")]
struct AppPage {
    chrome: Chrome,
    app: App,
    kind_label: &'static str,
    f: AppFields,
    errors: FieldErrors,
    notice: Option<&'static str>,
    /// A secret just generated, shown this once with a warning.
    new_secret: Option<String>,
    /// The Client Credentials section's secrets, oldest first.
    secrets: Vec<SecretRow>,
    /// Whether another secret may be added (Okta allows two).
    can_add_secret: bool,
    uses_secret: bool,
    org_url: String,
    okta_domain: String,
    issuer_org: String,
    assigned_groups: Vec<GroupRow>,
    people: Vec<PersonRow>,
    group_choices: Vec<Choice>,
    user_choices: Vec<Choice>,
    scopes: Vec<ScopeRow>,
    is_service: bool,
    created: String,
    /// The Sign On tab's groups claim filter (empty when there is none).
    groups_claim_name: String,
    groups_claim_filter: &'static str,
    groups_claim_value: String,
    group_filters: &'static [(&'static str, &'static str)],
}

/// Okta's words for the groups claim filters.
const GROUP_FILTERS: &[(&str, &str)] = &[
    ("STARTS_WITH", "Starts with"),
    ("EQUALS", "Equals"),
    ("CONTAINS", "Contains"),
    ("REGEX", "Matches regex"),
];

#[derive(Debug, Default, Deserialize)]
pub(super) struct ShowQuery {
    #[serde(default)]
    notice: String,
}

fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "The app integration was created.",
        "saved" => "Your changes were saved.",
        "activated" => "The app was activated.",
        "deactivated" => "The app was deactivated.",
        "assigned" => "The assignment was added.",
        "unassigned" => "The assignment was removed.",
        "granted" => "The scope was granted.",
        "revoked" => "The grant was revoked.",
        "secret-activated" => "The client secret was activated.",
        "secret-deactivated" => "The client secret was deactivated; it no longer works.",
        "secret-deleted" => "The client secret was deleted.",
        _ => return None,
    })
}

/// One client secret on the Client Credentials section.
struct SecretRow {
    id: String,
    /// The input's id: the first is `client-secret`, the next `client-secret-2`.
    field: String,
    value: String,
    active: bool,
    /// An active secret can be deactivated only while another one is active.
    can_deactivate: bool,
    created: String,
}

pub(super) struct PageExtras {
    f: Option<AppFields>,
    errors: FieldErrors,
    notice: Option<&'static str>,
    new_secret: Option<String>,
}

impl PageExtras {
    /// The app's page with a notice and, once, a newly generated secret.
    pub(super) fn notice(notice: Option<&'static str>, new_secret: Option<String>) -> Self {
        Self {
            f: None,
            errors: FieldErrors::default(),
            notice,
            new_secret,
        }
    }
}

pub(super) async fn app_page(
    state: &AppState,
    admin: &Admin,
    origin: &str,
    app: App,
    extras: PageExtras,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let p = &state.provider;
    let all = all_groups(state).await?;
    let assignments = p
        .store
        .list_app_group_assignments(&app.id)
        .await
        .map_err(DirectoryError::from)?;
    let assigned_groups: Vec<GroupRow> = assignments
        .iter()
        .filter_map(|a| all.iter().find(|g| g.id == a.group_id))
        .map(|g| GroupRow {
            id: g.id.clone(),
            name: g.name.clone(),
        })
        .collect();
    let (assigned, _) = apps::list_users(p, &app, None, 200).await?;
    let people = assigned
        .into_iter()
        .map(|(u, how)| PersonRow {
            name: format!("{} {}", u.first_name, u.last_name),
            id: u.id,
            login: u.login,
            how: match how {
                AssignmentScope::User => "Individual",
                AssignmentScope::Group => "Group",
            },
        })
        .collect();
    let group_choices = all
        .iter()
        .filter(|g| !assignments.iter().any(|a| a.group_id == g.id))
        .map(|g| Choice {
            id: g.id.clone(),
            name: g.name.clone(),
        })
        .collect();
    let (everyone, _) = users::search_users(p, None, None, 200).await?;
    let user_choices = everyone
        .into_iter()
        .filter(|u| u.status != UserStatus::Deprovisioned)
        .map(|u| Choice {
            name: format!("{} {} ({})", u.first_name, u.last_name, u.login),
            id: u.id,
        })
        .collect();
    let grants = app_grants::list(p, &app).await?;
    let scopes = OKTA_API_SCOPES
        .iter()
        .map(|s| ScopeRow {
            scope: s,
            grant_id: grants
                .iter()
                .find(|g| g.scope_id == *s)
                .map(|g| g.id.clone()),
        })
        .collect();
    let org = p
        .server_context(origin, None)
        .await
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let method = app.settings.token_endpoint_auth_method;
    let listed = apps::list_client_secrets(p, &app).await?;
    let active_count = listed
        .iter()
        .filter(|s| s.secret.status == AppStatus::Active)
        .count();
    let can_add_secret = listed.len() < MAX_CLIENT_SECRETS as usize;
    let secrets = listed
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let active = s.secret.status == AppStatus::Active;
            SecretRow {
                field: if i == 0 {
                    "client-secret".into()
                } else {
                    format!("client-secret-{}", i + 1)
                },
                value: apps::reveal_secret(p, &s.secret).unwrap_or_default(),
                can_deactivate: active && active_count > 1,
                active,
                created: date(s.secret.created),
                id: s.secret.id,
            }
        })
        .collect();
    let gc = app.settings.groups_claim.as_ref();
    let page = AppPage {
        chrome: Chrome::admin(state, admin, "apps"),
        kind_label: type_label(app.settings.application_type),
        f: extras.f.unwrap_or_else(|| AppFields::of_app(&app)),
        errors: extras.errors,
        notice: extras.notice,
        new_secret: extras.new_secret,
        secrets,
        can_add_secret,
        uses_secret: !matches!(
            method,
            TokenEndpointAuthMethod::None | TokenEndpointAuthMethod::PrivateKeyJwt
        ),
        org_url: origin.to_owned(),
        okta_domain: crate::routes::console::okta_domain(origin),
        issuer_org: org.issuer,
        assigned_groups,
        people,
        group_choices,
        user_choices,
        scopes,
        is_service: app.settings.application_type == ApplicationType::Service,
        created: date(app.created),
        groups_claim_name: gc.map_or(String::new(), |c| c.name.clone()),
        groups_claim_filter: gc.map_or("REGEX", |c| c.filter_type.as_str()),
        groups_claim_value: gc.map_or(String::new(), |c| c.value.clone()),
        group_filters: GROUP_FILTERS,
        app,
    };
    Ok(render(status, page.render()))
}

pub(super) async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, ConsoleError> {
    let app = find_app(&state, &id).await?;
    let extras = PageExtras::notice(notice_text(&query.notice), None);
    app_page(&state, &admin, &origin, app, extras, StatusCode::OK).await
}

pub(super) fn back(app: &App, notice: &str, tab: &str) -> Response {
    see_other(&format!("{}?notice={notice}#{tab}", app_path(app)))
}

pub(super) async fn refused(
    state: &AppState,
    admin: &Admin,
    origin: &str,
    app: App,
    f: Option<AppFields>,
    errors: FieldErrors,
) -> Result<Response, ConsoleError> {
    let extras = PageExtras {
        f,
        errors,
        notice: None,
        new_secret: None,
    };
    app_page(
        state,
        admin,
        origin,
        app,
        extras,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}
