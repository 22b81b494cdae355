//! The console's password policies (`/admin/password-policies`): the list, a form to add one,
//! and each policy's settings page. The rules are in
//! `gatehouse_core::services::passwords::manage`, shared with `/api/v1/policies` and the CLI.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use gatehouse_core::domain::*;
use gatehouse_core::services::directory::DirectoryError;
use gatehouse_core::services::groups;
use gatehouse_core::services::passwords::{manage, rules};

use super::{Admin, Chrome, ConsoleError, Form, render, see_other};
use crate::AppState;
use askama::Template;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/password-policies", get(list).post(create))
        .route("/admin/password-policy/{id}", get(show).post(update))
        .route("/admin/password-policy/{id}/delete", post(delete))
}

struct Row {
    id: String,
    name: String,
    priority: i64,
    status: &'static str,
    system: bool,
    groups: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "console/password_policies.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    groups: Vec<(String, String)>,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn all_groups(state: &AppState) -> Result<Vec<(String, String)>, ConsoleError> {
    let (all, _) = groups::list_groups(&state.provider, None, None, 1000).await?;
    Ok(all.into_iter().map(|g| (g.id, g.name)).collect())
}

fn summary(p: &PasswordPolicy) -> String {
    let s = &p.settings;
    let mut out = format!("Passwords: {}", rules::requirements(&s.complexity));
    if s.age.history_count > 0 {
        out.push_str(&format!("; not the last {}", s.age.history_count));
    }
    if s.age.max_age_days > 0 {
        out.push_str(&format!("; expire after {} days", s.age.max_age_days));
    }
    match s.lockout.max_attempts {
        0 => out.push_str("; no lockout"),
        n => out.push_str(&format!("; lock after {n} failures")),
    }
    out
}

async fn list_page(
    state: &AppState,
    admin: &Admin,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, ConsoleError> {
    let groups = all_groups(state).await?;
    let name_of = |id: &String| {
        groups
            .iter()
            .find(|(g, _)| g == id)
            .map_or(id.clone(), |(_, n)| n.clone())
    };
    let rows = manage::list(&state.provider)
        .await?
        .iter()
        .map(|p| Row {
            id: p.id.clone(),
            name: p.name.clone(),
            priority: p.priority,
            status: p.status.as_str(),
            system: p.system,
            groups: if p.groups.include.is_empty() {
                "Everyone".into()
            } else {
                p.groups
                    .include
                    .iter()
                    .map(name_of)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            summary: summary(p),
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ListPage {
        chrome: Chrome::admin(state, admin, "password-policies"),
        rows,
        groups,
        notice,
        error,
    };
    Ok(render(status, page.render()))
}

async fn list(State(state): State<AppState>, admin: Admin) -> Result<Response, ConsoleError> {
    list_page(&state, &admin, None, None).await
}

/// A refusal to show on the page (anything else is the page's error).
fn problem(e: DirectoryError) -> Result<String, ConsoleError> {
    match e {
        DirectoryError::Invalid { field, message } => Ok(format!("{field}: {message}")),
        DirectoryError::Conflict { field } => Ok(format!("{field} is already in use.")),
        DirectoryError::Forbidden(m) => Ok(m),
        other => Err(other.into()),
    }
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let spec = manage::PasswordPolicySpec {
        name: form.get("name").to_owned(),
        groups_include: form.all("include"),
        ..Default::default()
    };
    match manage::create(&state.provider, spec).await {
        Ok(p) => Ok(see_other(&format!("/admin/password-policy/{}", p.id))),
        Err(e) => list_page(&state, &admin, None, Some(problem(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "console/password_policy.html")]
struct ShowPage {
    chrome: Chrome,
    c: PasswordComplexity,
    a: PasswordAge,
    l: PasswordLockout,
    p: PasswordPolicy,
    groups: Vec<(String, String)>,
    first_name: String,
    last_name: String,
    common_count: usize,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn policy(state: &AppState, id: &str) -> Result<PasswordPolicy, ConsoleError> {
    manage::find(&state.provider, id)
        .await?
        .ok_or(ConsoleError::NotFound)
}

async fn show_page(
    state: &AppState,
    admin: &Admin,
    p: PasswordPolicy,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, ConsoleError> {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ShowPage {
        chrome: Chrome::admin(state, admin, "password-policies"),
        c: p.settings.complexity.clone(),
        a: p.settings.age.clone(),
        l: p.settings.lockout.clone(),
        p,
        groups: all_groups(state).await?,
        first_name: "firstName".into(),
        last_name: "lastName".into(),
        common_count: rules::common_count(),
        notice,
        error,
    };
    Ok(render(status, page.render()))
}

#[derive(Debug, Default, serde::Deserialize)]
struct ShowQuery {
    #[serde(default)]
    notice: String,
}

async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ShowQuery>,
) -> Result<Response, ConsoleError> {
    let p = policy(&state, &id).await?;
    let notice = (q.notice == "saved").then_some("Saved.");
    show_page(&state, &admin, p, notice, None).await
}

/// A whole number field; blank keeps `current`.
fn number(form: &Form, key: &str, current: u32) -> Result<u32, String> {
    match form.get(key) {
        "" => Ok(current),
        v => v
            .parse()
            .map_err(|_| format!("{key}: must be a whole number from 0")),
    }
}

fn settings_from(form: &Form, d: &PasswordSettings) -> Result<PasswordSettings, String> {
    let mut exclude_attributes = Vec::new();
    if form.checked("excludeFirstName") {
        exclude_attributes.push("firstName".to_owned());
    }
    if form.checked("excludeLastName") {
        exclude_attributes.push("lastName".to_owned());
    }
    Ok(PasswordSettings {
        complexity: PasswordComplexity {
            min_length: number(form, "minLength", d.complexity.min_length)?,
            min_lower_case: number(form, "minLowerCase", d.complexity.min_lower_case)?,
            min_upper_case: number(form, "minUpperCase", d.complexity.min_upper_case)?,
            min_number: number(form, "minNumber", d.complexity.min_number)?,
            min_symbol: number(form, "minSymbol", d.complexity.min_symbol)?,
            exclude_username: form.checked("excludeUsername"),
            exclude_attributes,
            exclude_common: form.checked("excludeCommon"),
        },
        age: PasswordAge {
            max_age_days: number(form, "maxAgeDays", d.age.max_age_days)?,
            // Not offered: no sign-in path shows a PASSWORD_WARN step (see passwords::manage).
            expire_warn_days: 0,
            min_age_minutes: number(form, "minAgeMinutes", d.age.min_age_minutes)?,
            history_count: number(form, "historyCount", d.age.history_count)?,
        },
        lockout: PasswordLockout {
            max_attempts: number(form, "maxAttempts", d.lockout.max_attempts)?,
            auto_unlock_minutes: number(form, "autoUnlockMinutes", d.lockout.auto_unlock_minutes)?,
            show_lockout_failures: d.lockout.show_lockout_failures,
        },
    })
}

async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let p = policy(&state, &id).await?;
    let settings = match settings_from(&form, &p.settings) {
        Ok(s) => s,
        Err(e) => return show_page(&state, &admin, p, None, Some(e)).await,
    };
    let priority = form.get("priority").parse().ok();
    let spec = manage::PasswordPolicySpec {
        name: if p.system {
            p.name.clone()
        } else {
            form.get("name").to_owned()
        },
        description: form.get("description").to_owned(),
        priority,
        status: None,
        groups_include: form.all("include"),
        settings,
    };
    match manage::replace(&state.provider, p.clone(), spec).await {
        Ok(p) => Ok(see_other(&format!(
            "/admin/password-policy/{}?notice=saved",
            p.id
        ))),
        Err(e) => show_page(&state, &admin, p, None, Some(problem(e)?)).await,
    }
}

async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let p = policy(&state, &id).await?;
    if let Err(e) = manage::delete(&state.provider, &p).await {
        return show_page(&state, &admin, p, None, Some(problem(e)?)).await;
    }
    list_page(&state, &admin, Some("The policy was deleted."), None).await
}
