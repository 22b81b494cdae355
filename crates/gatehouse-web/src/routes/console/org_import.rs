//! Settings › Import from Okta: a super administrator gives a source org's URL and API token,
//! sees the dry-run plan, confirms, watches the progress and reads the report. The import runs
//! as the node's one job ([`gatehouse_core::services::org_import`]); the token stays in that
//! job's memory and is never put back into a page.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use gatehouse_core::services::org_import::{
    DeletedAtSource, ImportJobError, ImportReport, ImportRequest, JobStatus, Phase, SourceToken,
};

use super::{Admin, Chrome, ConsoleError, FieldErrors, ListQuery, render, see_other};
use crate::AppState;
use askama::Template;

const PAGE: &str = "/admin/settings/import/okta";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(page).post(plan))
        .route("/admin/settings/import/okta/{id}/confirm", post(confirm))
        .route("/admin/settings/import/okta/{id}/cancel", post(cancel))
}

/// One kind's line of a plan or report.
struct Row {
    kind: String,
    created: u64,
    updated: u64,
    unchanged: u64,
    not_carried: u64,
}

/// A plan or report as the page shows it.
struct Summary {
    api_calls: u64,
    rows: Vec<Row>,
    not_carried: Vec<String>,
    deleted: Vec<String>,
}

impl From<&ImportReport> for Summary {
    fn from(r: &ImportReport) -> Self {
        Self {
            api_calls: r.api_calls,
            rows: r
                .counts
                .iter()
                .map(|(kind, c)| Row {
                    kind: kind.clone(),
                    created: c.created,
                    updated: c.updated,
                    unchanged: c.unchanged,
                    not_carried: c.not_carried,
                })
                .collect(),
            not_carried: r.not_carried.clone(),
            deleted: r.deleted.clone(),
        }
    }
}

/// The form's fields as typed (never the token).
#[derive(Default)]
struct Fields {
    org_url: String,
    deleted: String,
}

#[derive(Template)]
#[template(path = "console/import_okta.html")]
struct ImportPage {
    chrome: Chrome,
    available: bool,
    /// `planning`, `planned`, `importing`, `done`, `failed`, `dropped` or `none`.
    phase: &'static str,
    job_id: String,
    source: String,
    step: String,
    done: usize,
    total: usize,
    finished: Vec<String>,
    plan: Option<Summary>,
    report: Option<Summary>,
    error: Option<String>,
    f: Fields,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Planning => "planning",
        Phase::Planned => "planned",
        Phase::Importing => "importing",
        Phase::Done => "done",
        Phase::Failed => "failed",
        Phase::Dropped => "dropped",
    }
}

fn show(
    state: &AppState,
    admin: &Admin,
    f: Fields,
    errors: FieldErrors,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let job: Option<JobStatus> = state.provider.org_imports.status();
    let mut page = ImportPage {
        chrome: Chrome::admin(state, admin, "import"),
        available: state.provider.org_imports.is_available(),
        phase: "none",
        job_id: String::new(),
        source: String::new(),
        step: String::new(),
        done: 0,
        total: 0,
        finished: Vec::new(),
        plan: None,
        report: None,
        error: None,
        f,
        errors,
        notice,
    };
    if let Some(job) = job {
        page.phase = phase_name(job.phase);
        page.job_id = job.id;
        page.source = job.org_url;
        page.step = job.progress.step;
        page.done = job.progress.done;
        page.total = job.progress.total;
        page.finished = job.progress.finished;
        page.plan = job.plan.as_ref().map(Summary::from);
        page.report = job.report.as_ref().map(Summary::from);
        page.error = job.error;
    }
    render(status, page.render())
}

async fn page(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let notice = match q.notice.as_str() {
        "cancelled" => Some("The plan was cancelled; its API token was forgotten."),
        _ => None,
    };
    let f = Fields {
        deleted: "report".into(),
        ..Fields::default()
    };
    Ok(show(
        &state,
        &admin,
        f,
        FieldErrors::default(),
        notice,
        StatusCode::OK,
    ))
}

fn job_error(e: ImportJobError) -> String {
    let mut s = e.to_string();
    if let Some(first) = s.get(..1) {
        s = first.to_uppercase() + &s[1..];
    }
    s + "."
}

async fn plan(
    State(state): State<AppState>,
    admin: Admin,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let f = Fields {
        org_url: form.get("orgUrl").trim_end_matches('/').to_owned(),
        deleted: form.get("deleted").to_owned(),
    };
    let token = form.get("apiToken");
    let token = token.strip_prefix("SSWS ").unwrap_or(token).trim();
    let mut errors = FieldErrors::default();
    let url_ok = url::Url::parse(&f.org_url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !url_ok {
        errors.add("orgUrl", "Enter the org's URL, e.g. https://acme.okta.com.");
    }
    if token.is_empty() {
        errors.add("apiToken", "Enter an API token of the source org.");
    }
    let on_deleted = match f.deleted.as_str() {
        "report" | "" => Some(DeletedAtSource::Report),
        "deactivate" => Some(DeletedAtSource::Deactivate),
        "remove" => Some(DeletedAtSource::Remove),
        _ => None,
    };
    let Some(on_deleted) = on_deleted else {
        errors.add("deleted", "Choose what to do with deleted records.");
        return Ok(show(
            &state,
            &admin,
            f,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    };
    let mut client_secrets = HashMap::new();
    for line in form.lines("clientSecrets") {
        match line.split_once('=') {
            Some((id, secret)) if !id.trim().is_empty() && !secret.trim().is_empty() => {
                client_secrets.insert(id.trim().to_owned(), secret.trim().to_owned());
            }
            _ => errors.add("clientSecrets", "Write one CLIENT_ID=SECRET per line."),
        }
    }
    if !errors.is_empty() {
        return Ok(show(
            &state,
            &admin,
            f,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let request = ImportRequest {
        org_url: f.org_url.clone(),
        token: SourceToken::new(token),
        dry_run: true,
        on_deleted,
        client_secrets,
        actor: admin.0.actor(),
    };
    match state.provider.org_imports.plan(request) {
        Ok(_) => Ok(see_other(PAGE)),
        Err(e) => {
            errors.add("orgUrl", job_error(e));
            Ok(show(&state, &admin, f, errors, None, StatusCode::CONFLICT))
        }
    }
}

async fn confirm(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    if !form.checked("confirm") {
        let mut errors = FieldErrors::default();
        errors.add("confirm", "Check the box to confirm the import.");
        return Ok(show(
            &state,
            &admin,
            Fields::default(),
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    match state.provider.org_imports.confirm(&id, admin.0.actor()) {
        Ok(()) => Ok(see_other(PAGE)),
        Err(e) => Err(ConsoleError::Problem(job_error(e))),
    }
}

async fn cancel(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    state.provider.org_imports.cancel(&id);
    Ok(see_other(&format!("{PAGE}?notice=cancelled")))
}
