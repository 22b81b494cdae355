//! Directory › Groups: the list, "Add group", and a group's members (add, remove).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use gatehouse_core::domain::{Group, GroupType, UserStatus};
use gatehouse_core::services::{directory, groups, users};

use super::directory::person_path;
use super::{Admin, Chrome, ConsoleError, FieldErrors, ListQuery, chosen, render, see_other};
use crate::AppState;
use askama::Template;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/groups", get(list).post(create))
        .route("/admin/group/{id}", get(show))
        .route("/admin/group/{id}/members", post(add_member))
        .route(
            "/admin/group/{id}/members/{uid}/remove",
            post(remove_member),
        )
        .route("/admin/group/{id}/delete", post(delete))
}

struct GroupRow {
    href: String,
    name: String,
    description: String,
    built_in: bool,
}

#[derive(Template)]
#[template(path = "console/groups_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<GroupRow>,
    name: String,
    description: String,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

async fn list_page(
    state: &AppState,
    admin: &Admin,
    name: String,
    description: String,
    errors: FieldErrors,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let (found, _) = groups::list_groups(&state.provider, None, None, 1000).await?;
    let rows = found
        .into_iter()
        .map(|g| GroupRow {
            href: format!("/admin/group/{}", g.id),
            built_in: g.group_type == GroupType::BuiltIn,
            name: g.name,
            description: g.description,
        })
        .collect();
    let page = ListPage {
        chrome: Chrome::admin(state, admin, "groups"),
        rows,
        name,
        description,
        errors,
        notice,
    };
    Ok(render(status, page.render()))
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let notice = (q.notice == "deleted").then_some("The group was deleted.");
    list_page(
        &state,
        &admin,
        String::new(),
        String::new(),
        FieldErrors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let (name, description) = (
        form.get("name").to_owned(),
        form.get("description").to_owned(),
    );
    match groups::create_group(&state.provider, &admin.0.actor(), &name, &description).await {
        Ok(g) => Ok(see_other(&format!("/admin/group/{}?notice=created", g.id))),
        Err(e) => {
            let fields = [
                ("name", "name"),
                ("name_lower", "name"),
                ("description", "description"),
            ];
            let errors = FieldErrors::from_service(e, &fields, "name")?;
            list_page(
                &state,
                &admin,
                name,
                description,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

struct Member {
    id: String,
    href: String,
    name: String,
    login: String,
}

struct Choice {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "console/group_show.html")]
struct GroupPage {
    chrome: Chrome,
    group: Group,
    built_in: bool,
    members: Vec<Member>,
    choices: Vec<Choice>,
    notice: Option<&'static str>,
    errors: FieldErrors,
}

async fn find(state: &AppState, id: &str) -> Result<Group, ConsoleError> {
    Ok(directory::find_group_by_id_or_name(&state.provider, id).await?)
}

async fn group_page(
    state: &AppState,
    admin: &Admin,
    group: Group,
    notice: Option<&'static str>,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let p = &state.provider;
    let (members, _) = groups::list_members(p, &group, None, 1000).await?;
    let (everyone, _) = users::search_users(p, None, None, 1000).await?;
    let choices = everyone
        .into_iter()
        .filter(|u| u.status != UserStatus::Deprovisioned && !members.iter().any(|m| m.id == u.id))
        .map(|u| Choice {
            name: format!("{} {} ({})", u.first_name, u.last_name, u.login),
            id: u.id,
        })
        .collect();
    let members = members
        .into_iter()
        .map(|u| Member {
            href: person_path(&u.id),
            name: format!("{} {}", u.first_name, u.last_name),
            id: u.id,
            login: u.login,
        })
        .collect();
    let page = GroupPage {
        chrome: Chrome::admin(state, admin, "groups"),
        built_in: group.group_type == GroupType::BuiltIn,
        group,
        members,
        choices,
        notice,
        errors,
    };
    Ok(render(status, page.render()))
}

async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let group = find(&state, &id).await?;
    let notice = match q.notice.as_str() {
        "created" => Some("The group was added."),
        "added" => Some("The person was added to the group."),
        "removed" => Some("The person was removed from the group."),
        _ => None,
    };
    group_page(
        &state,
        &admin,
        group,
        notice,
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn add_member(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let group = find(&state, &id).await?;
    let user = chosen(directory::find_user_by_id_or_login(
        &state.provider,
        form.get("user_id"),
    ))
    .await?;
    let result = match &user {
        Some(u) => groups::add_group_member(&state.provider, &admin.0.actor(), &group, u).await,
        None => {
            let mut errors = FieldErrors::default();
            errors.add("user_id", "Choose a person to add.");
            return group_page(
                &state,
                &admin,
                group,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/group/{id}?notice=added"))),
        Err(e) => {
            let errors = FieldErrors::from_service(e, &[("groupId", "user_id")], "user_id")?;
            group_page(
                &state,
                &admin,
                group,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn remove_member(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, uid)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let group = find(&state, &id).await?;
    let user = directory::find_user_by_id_or_login(&state.provider, &uid).await?;
    groups::remove_group_member(&state.provider, &admin.0.actor(), &group, &user).await?;
    Ok(see_other(&format!("/admin/group/{id}?notice=removed")))
}

async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let group = find(&state, &id).await?;
    groups::delete_group(&state.provider, &admin.0.actor(), &group).await?;
    Ok(see_other("/admin/groups?notice=deleted"))
}
