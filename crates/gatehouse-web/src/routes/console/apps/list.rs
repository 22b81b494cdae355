//! The dashboard, the apps list and "Create App Integration"'s type choice.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::domain::AppQuery;
use gatehouse_core::services::{apps, groups, users};

use super::{app_path, type_label};
use crate::AppState;
use crate::origin::Origin;
use crate::routes::console::{Admin, Chrome, ConsoleError, ListQuery, render};
use askama::Template;

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    apps: usize,
    people: usize,
    groups: usize,
    org_url: String,
    okta_domain: String,
}

pub(crate) async fn dashboard(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
) -> Result<Response, ConsoleError> {
    let p = &state.provider;
    let (apps, _) = apps::list(p, &AppQuery::default(), None, 200).await?;
    let (people, _) = users::search_users(p, None, None, 200).await?;
    let (groups, _) = groups::list_groups(p, None, None, 200).await?;
    let page = DashboardPage {
        chrome: Chrome::admin(&state, &admin, "dashboard"),
        apps: apps.len(),
        people: people.len(),
        groups: groups.len(),
        okta_domain: crate::routes::console::okta_domain(&origin),
        org_url: origin,
    };
    Ok(render(StatusCode::OK, page.render()))
}

struct AppRow {
    id: String,
    label: String,
    kind: &'static str,
    status: String,
    client_id: String,
    href: String,
}

#[derive(Template)]
#[template(path = "console/apps_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<AppRow>,
    q: String,
    notice: Option<&'static str>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let (found, _) = apps::list(&state.provider, &AppQuery::default(), None, 500).await?;
    let q = query.q.trim().to_lowercase();
    let rows = found
        .into_iter()
        .filter(|a| q.is_empty() || a.label.to_lowercase().contains(&q) || a.client_id == q)
        .map(|a| AppRow {
            href: app_path(&a),
            kind: type_label(a.settings.application_type),
            status: a.status.to_string(),
            id: a.id,
            label: a.label,
            client_id: a.client_id,
        })
        .collect();
    let page = ListPage {
        chrome: Chrome::admin(&state, &admin, "apps"),
        rows,
        q: query.q,
        notice: (query.notice == "deleted").then_some("The app was deleted."),
    };
    Ok(render(StatusCode::OK, page.render()))
}

#[derive(Template)]
#[template(path = "console/apps_create.html")]
struct CreateChoicePage {
    chrome: Chrome,
}

pub(super) async fn create_choice(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Response, ConsoleError> {
    let page = CreateChoicePage {
        chrome: Chrome::admin(&state, &admin, "apps"),
    };
    Ok(render(StatusCode::OK, page.render()))
}
