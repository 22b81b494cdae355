//! Directory › People: the list and search, "Add person", and a person's page with the
//! lifecycle actions (activate, suspend, unsuspend, unlock, deactivate, delete), setting or
//! resetting the password, clearing the sessions (the kill switch), and the administrator role.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use gatehouse_core::domain::{User, UserStatus};
use gatehouse_core::services::directory;
use gatehouse_core::services::users::{self, DeleteOutcome, Lifecycle, NewUser, ProfileUpdate};
use gatehouse_core::services::{admin_roles, apps, groups, sessions, user_links};
use serde::Deserialize;

use super::{Admin, Chrome, ConsoleError, FieldErrors, ListQuery, date, render, see_other};
use crate::AppState;
use askama::Template;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/people", get(list))
        .route("/admin/people/new", get(new_form).post(create))
        .route("/admin/user/profile/view/{id}", get(show))
        .route("/admin/user/{id}/lifecycle/{op}", post(lifecycle))
        .route("/admin/user/{id}/password", post(set_password))
        .route("/admin/user/{id}/delete", post(delete))
        .route("/admin/user/{id}/sessions/clear", post(clear_sessions))
        .route("/admin/user/{id}/roles", post(roles))
}

pub(crate) fn person_path(id: &str) -> String {
    format!("/admin/user/profile/view/{id}")
}

struct PersonRow {
    href: String,
    name: String,
    login: String,
    email: String,
    status: String,
}

#[derive(Template)]
#[template(path = "console/people_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<PersonRow>,
    q: String,
    notice: Option<&'static str>,
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let (found, _) = users::search_users(&state.provider, None, None, 1000).await?;
    let q = query.q.trim().to_lowercase();
    let rows = found
        .into_iter()
        .filter(|u| {
            q.is_empty()
                || [&u.login, &u.email, &u.first_name, &u.last_name]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&q))
        })
        .map(|u| PersonRow {
            href: person_path(&u.id),
            name: format!("{} {}", u.first_name, u.last_name),
            status: u.status.to_string(),
            login: u.login,
            email: u.email,
        })
        .collect();
    let page = ListPage {
        chrome: Chrome::admin(&state, &admin, "people"),
        rows,
        q: query.q,
        notice: (query.notice == "deleted").then_some("The person was deleted."),
    };
    Ok(render(StatusCode::OK, page.render()))
}

#[derive(Default)]
struct PersonFields {
    first_name: String,
    last_name: String,
    login: String,
    email: String,
    /// `user` (no password: the person stays PROVISIONED) or `admin`.
    password_mode: String,
    activate: bool,
}

#[derive(Template)]
#[template(path = "console/person_new.html")]
struct NewPage {
    chrome: Chrome,
    f: PersonFields,
    errors: FieldErrors,
}

async fn new_form(State(state): State<AppState>, admin: Admin) -> Result<Response, ConsoleError> {
    let page = NewPage {
        chrome: Chrome::admin(&state, &admin, "people"),
        f: PersonFields {
            password_mode: "admin".into(),
            activate: true,
            ..PersonFields::default()
        },
        errors: FieldErrors::default(),
    };
    Ok(render(StatusCode::OK, page.render()))
}

const PROFILE_FIELDS: &[(&str, &str)] = &[
    ("login", "login"),
    ("login_lower", "login"),
    ("email", "email"),
    ("firstName", "first_name"),
    ("lastName", "last_name"),
    ("password", "password"),
];

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let f = PersonFields {
        first_name: form.get("first_name").to_owned(),
        last_name: form.get("last_name").to_owned(),
        login: form.get("login").to_owned(),
        email: form.get("email").to_owned(),
        password_mode: form.get("password_mode").to_owned(),
        activate: form.checked("activate"),
    };
    let password = (f.password_mode == "admin").then(|| {
        // Passwords are taken as typed: spaces may be part of one.
        form.raw("password").to_owned()
    });
    let new = NewUser {
        login: f.login.clone(),
        email: if f.email.is_empty() {
            f.login.clone()
        } else {
            f.email.clone()
        },
        first_name: f.first_name.clone(),
        last_name: f.last_name.clone(),
        display_name: None,
        password,
        password_hash: None,
        activate: f.activate,
    };
    match users::create_user(&state.provider, &admin.0.actor(), new).await {
        Ok(user) => Ok(see_other(&format!(
            "{}?notice=created",
            person_path(&user.id)
        ))),
        Err(e) => {
            let errors = FieldErrors::from_service(e, PROFILE_FIELDS, "login")?;
            let page = NewPage {
                chrome: Chrome::admin(&state, &admin, "people"),
                f,
                errors,
            };
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
        }
    }
}

#[derive(Template)]
#[template(path = "console/person_show.html")]
struct PersonPage {
    chrome: Chrome,
    user: User,
    name: String,
    created: String,
    last_login: String,
    groups: Vec<String>,
    apps: Vec<String>,
    is_admin: bool,
    actions: Vec<(&'static str, &'static str)>,
    deletable: bool,
    notice: Option<&'static str>,
    errors: FieldErrors,
    /// A one-time link that was not mailed (no SMTP), to copy and pass on.
    link: Option<ShownLink>,
    /// Whether "Send activation email" applies (STAGED or PROVISIONED).
    may_send_activation: bool,
    /// Whether "Reset password" applies (Okta's statuses that may reset).
    may_reset: bool,
}

/// A one-time link shown on the person page because it could not be mailed.
#[derive(Debug, Clone)]
pub(super) struct ShownLink {
    /// What it is for, in words ("Activation link").
    pub label: &'static str,
    pub url: String,
}

#[derive(Debug, Default, Deserialize)]
struct ShowQuery {
    #[serde(default)]
    notice: String,
}

fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "The person was added.",
        "password" => "The password was set.",
        "activate" => "The person was activated.",
        "suspend" => "The person was suspended.",
        "unsuspend" => "The person was unsuspended.",
        "unlock" => "The person was unlocked.",
        "deactivate" => "The person was deactivated.",
        "roles" => "The administrator roles were changed.",
        "factors" => "All factors of the person were reset.",
        "activation_sent" => "The activation email was sent.",
        "reset_sent" => "The password was reset; the reset email was sent.",
        "sessions" => "The person was signed out of every session.",
        "sessions_tokens" => {
            "The person was signed out of every session, and their OAuth tokens were revoked."
        }
        _ => return None,
    })
}

/// The lifecycle buttons that make sense for a status (Okta's "More Actions").
fn actions_for(status: UserStatus) -> Vec<(&'static str, &'static str)> {
    use UserStatus::*;
    let mut out = Vec::new();
    match status {
        Staged | Provisioned | Deprovisioned => out.push(("activate", "Activate")),
        Active => out.push(("suspend", "Suspend")),
        Suspended => out.push(("unsuspend", "Unsuspend")),
        LockedOut => out.push(("unlock", "Unlock")),
        _ => {}
    }
    if status != Deprovisioned {
        out.push(("deactivate", "Deactivate"));
    }
    out
}

async fn person_page(
    state: &AppState,
    admin: &Admin,
    user: User,
    notice: Option<&'static str>,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    person_page_with_link(state, admin, user, notice, errors, status, None).await
}

/// The person page, with a link to show when it was not mailed.
pub(super) async fn person_page_with_link(
    state: &AppState,
    admin: &Admin,
    user: User,
    notice: Option<&'static str>,
    errors: FieldErrors,
    status: StatusCode,
    link: Option<ShownLink>,
) -> Result<Response, ConsoleError> {
    let p = &state.provider;
    let groups = groups::user_groups(p, &user)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect();
    let apps = apps::user_apps(p, &user)
        .await?
        .into_iter()
        .map(|a| a.label)
        .collect();
    let page = PersonPage {
        chrome: Chrome::admin(state, admin, "people"),
        name: format!("{} {}", user.first_name, user.last_name),
        created: date(user.created),
        last_login: user.last_login.map(date).unwrap_or_else(|| "Never".into()),
        groups,
        apps,
        is_admin: p
            .store
            .list_admin_roles(&user.id)
            .await
            .map_err(|e| ConsoleError::Internal(e.to_string()))?
            .iter()
            .any(|r| r.role_type == admin_roles::SUPER_ADMIN),
        actions: actions_for(user.status),
        deletable: user.status == UserStatus::Deprovisioned,
        notice,
        errors,
        link,
        may_send_activation: matches!(user.status, UserStatus::Staged | UserStatus::Provisioned),
        may_reset: user_links::may_reset(&user),
        user,
    };
    Ok(render(status, page.render()))
}

pub(super) async fn find(state: &AppState, id: &str) -> Result<User, ConsoleError> {
    Ok(directory::find_user_by_id_or_login(&state.provider, id).await?)
}

async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, ConsoleError> {
    let user = find(&state, &id).await?;
    person_page(
        &state,
        &admin,
        user,
        notice_text(&query.notice),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn lifecycle(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, op)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let user = find(&state, &id).await?;
    let Some(operation) = Lifecycle::parse(&op).filter(|o| {
        matches!(
            o,
            Lifecycle::Activate
                | Lifecycle::Suspend
                | Lifecycle::Unsuspend
                | Lifecycle::Unlock
                | Lifecycle::Deactivate
        )
    }) else {
        return Err(ConsoleError::NotFound);
    };
    if user.id == admin.0.user_id()
        && matches!(operation, Lifecycle::Suspend | Lifecycle::Deactivate)
    {
        let mut errors = FieldErrors::default();
        errors.add("lifecycle", "You cannot suspend or deactivate yourself.");
        return person_page(
            &state,
            &admin,
            user,
            None,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match users::lifecycle(&state.provider, &admin.0.actor(), user.clone(), operation).await {
        Ok(_) => Ok(see_other(&format!("{}?notice={op}", person_path(&id)))),
        Err(e) => {
            let errors = FieldErrors::from_service(e, &[("status", "lifecycle")], "lifecycle")?;
            person_page(
                &state,
                &admin,
                user,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// "Clear user sessions" (with a confirmation box): the person is signed out everywhere, and
/// with the box ticked their refresh and access tokens are revoked too.
async fn clear_sessions(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let user = find(&state, &id).await?;
    if !form.checked("confirm") {
        return Err(ConsoleError::Problem(
            "Tick the confirmation box to sign this person out of every session.".into(),
        ));
    }
    let oauth_tokens = form.checked("oauth_tokens");
    let end = sessions::EndSessions {
        oauth_tokens,
        api_tokens: false,
        except_session: None,
    };
    let reason = sessions::EndReason::Cleared;
    sessions::end_all_for_user(&state.provider, &admin.0.actor(), &user, end, reason)
        .await
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let notice = if oauth_tokens {
        "sessions_tokens"
    } else {
        "sessions"
    };
    Ok(see_other(&format!(
        "{}?notice={notice}",
        person_path(&user.id)
    )))
}

async fn set_password(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let user = find(&state, &id).await?;
    // Passwords are taken as typed: spaces may be part of one.
    let password = form.raw("password").to_owned();
    let update = ProfileUpdate {
        password: Some(password),
        ..ProfileUpdate::default()
    };
    match users::update_user(
        &state.provider,
        &admin.0.actor(),
        user.clone(),
        update,
        false,
    )
    .await
    {
        Ok(updated) => {
            // A person waiting for a password (PROVISIONED) can sign in once it is set.
            if updated.status == UserStatus::Provisioned {
                users::lifecycle(
                    &state.provider,
                    &admin.0.actor(),
                    updated,
                    Lifecycle::Activate,
                )
                .await?;
            }
            Ok(see_other(&format!("{}?notice=password", person_path(&id))))
        }
        Err(e) => {
            let errors = FieldErrors::from_service(e, PROFILE_FIELDS, "password")?;
            person_page(
                &state,
                &admin,
                user,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let user = find(&state, &id).await?;
    if user.id == admin.0.user_id() {
        return Err(ConsoleError::Problem("You cannot delete yourself.".into()));
    }
    match users::delete_user(&state.provider, &admin.0.actor(), user).await? {
        DeleteOutcome::Deleted => Ok(see_other("/admin/people?notice=deleted")),
        DeleteOutcome::Deactivated(_) => Ok(see_other(&format!(
            "{}?notice=deactivate",
            person_path(&id)
        ))),
    }
}

async fn roles(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let user = find(&state, &id).await?;
    let result = match form.get("super_admin") {
        "grant" => admin_roles::grant_super_admin(&state.provider, &user).await,
        _ => admin_roles::revoke_super_admin(&state.provider, &user).await,
    };
    match result {
        Ok(()) => Ok(see_other(&format!("{}?notice=roles", person_path(&id)))),
        Err(e) => {
            let errors = FieldErrors::from_service(e, &[("roleType", "roles")], "roles")?;
            person_page(
                &state,
                &admin,
                user,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
