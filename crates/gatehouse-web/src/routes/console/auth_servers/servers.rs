//! The list of authorization servers, Add Authorization Server, and a server's Settings,
//! lifecycle, key rotation and deletion.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::domain::{AppStatus, AuthServer, AuthServerKind, IssuerMode};
use gatehouse_core::services::auth_servers::{self, AuthServerSpec};

use super::super::{Admin, Chrome, ConsoleError, FieldErrors, Form, render, see_other};
use super::*;
use crate::AppState;
use crate::origin::Origin;

pub(super) struct ServerRow {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) audience: String,
    pub(super) issuer: String,
    pub(super) issuer_mode: String,
    pub(super) alg: String,
    pub(super) status: String,
    pub(super) active: bool,
    pub(super) description: String,
}

impl ServerRow {
    pub(super) fn of(origin: &str, s: &AuthServer) -> Self {
        Self {
            issuer: issuer(origin, &s.id),
            issuer_mode: issuer_mode_label(s.issuer_mode).to_owned(),
            audience: s.audiences.join(", "),
            alg: s.signing_alg.to_string(),
            status: s.status.to_string(),
            active: s.status == AppStatus::Active,
            id: s.id.clone(),
            name: s.name.clone(),
            description: s.description.clone(),
        }
    }
}

/// Name, audience and description: the Add Authorization Server form and the Settings tab.
#[derive(Default)]
pub(super) struct ServerFields {
    pub(super) name: String,
    pub(super) audience: String,
    pub(super) description: String,
    /// `DYNAMIC` or `ORG_URL`.
    pub(super) issuer_mode: String,
    /// RFC 9207 `iss` on every authorization response (the Settings checkbox).
    pub(super) response_iss: bool,
}

impl ServerFields {
    pub(super) fn of(s: &AuthServer) -> Self {
        Self {
            name: s.name.clone(),
            audience: s.audiences.join(", "),
            description: s.description.clone(),
            issuer_mode: s.issuer_mode.as_str().to_owned(),
            response_iss: s.authorization_response_iss,
        }
    }

    pub(super) fn parse(form: &Form) -> Self {
        Self {
            name: form.get("as_name").to_owned(),
            audience: form.get("as_audience").to_owned(),
            description: form.get("as_description").to_owned(),
            issuer_mode: form.get("as_issuer_mode").to_owned(),
            response_iss: form.checked("as_response_iss"),
        }
    }

    pub(super) fn spec(&self) -> AuthServerSpec {
        AuthServerSpec {
            name: self.name.clone(),
            description: self.description.clone(),
            audiences: self
                .audience
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
            issuer_mode: IssuerMode::parse(&self.issuer_mode).unwrap_or(IssuerMode::Dynamic),
            authorization_response_iss: Some(self.response_iss),
        }
    }
}

pub(super) const SERVER_FIELDS: &[(&str, &str)] = &[
    ("name", "as_name"),
    ("audiences", "as_audience"),
    ("issuerMode", "as_issuer_mode"),
];

#[derive(Template)]
#[template(path = "console/api_servers.html")]
pub(super) struct ServersPage {
    pub(super) chrome: Chrome,
    pub(super) tab: &'static str,
    pub(super) rows: Vec<ServerRow>,
    pub(super) notice: Option<&'static str>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Query(q): Query<TabQuery>,
) -> Result<Response, ConsoleError> {
    let rows = auth_servers::list(&state.provider)
        .await
        .map_err(page_error)?
        .iter()
        // The org server issues Okta API tokens only; Okta does not list it here either.
        .filter(|s| s.kind == AuthServerKind::Custom)
        .map(|s| ServerRow::of(&origin, s))
        .collect();
    let page = ServersPage {
        chrome: Chrome::admin(&state, &admin, "api"),
        tab: "servers",
        rows,
        notice: notice(&q.notice),
    };
    Ok(render(StatusCode::OK, page.render()))
}

#[derive(Template)]
#[template(path = "console/api_server_new.html")]
pub(super) struct NewServerPage {
    pub(super) chrome: Chrome,
    pub(super) tab: &'static str,
    pub(super) f: ServerFields,
    pub(super) errors: FieldErrors,
}

pub(super) fn new_server_page(
    state: &AppState,
    admin: &Admin,
    f: ServerFields,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let page = NewServerPage {
        chrome: Chrome::admin(state, admin, "api"),
        tab: "servers",
        f,
        errors,
    };
    render(status, page.render())
}

pub(super) async fn new_server(State(state): State<AppState>, admin: Admin) -> Response {
    new_server_page(
        &state,
        &admin,
        ServerFields::default(),
        FieldErrors::default(),
        StatusCode::OK,
    )
}

pub(super) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let mut f = ServerFields::parse(&form);
    // As in Okta, a new server's issuer is Dynamic until changed in its Settings.
    f.issuer_mode = IssuerMode::Dynamic.as_str().to_owned();
    match auth_servers::create(&state.provider, f.spec()).await {
        Ok(server) => Ok(see_other(&format!("{BASE}/{}?notice=created", server.id))),
        Err(e) => {
            let errors = field_errors(e, SERVER_FIELDS, "as_name")?;
            Ok(new_server_page(
                &state,
                &admin,
                f,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

pub(super) async fn save_settings(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let f = ServerFields::parse(&form);
    let mut errors = FieldErrors::default();
    if !matches!(f.issuer_mode.as_str(), "DYNAMIC" | "ORG_URL") {
        errors.add("as_issuer_mode", "Choose Dynamic or Okta URL.");
    } else {
        match auth_servers::replace(&state.provider, &id, f.spec()).await {
            Ok(_) => return Ok(back_to(&id, "settings", "saved")),
            Err(e) => errors = field_errors(e, SERVER_FIELDS, "as_name")?,
        }
    }
    let mut page = ServerPage::load(&state, &admin, &origin, &id, "settings").await?;
    page.f = f;
    page.errors = errors;
    Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
}

pub(super) async fn lifecycle(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, op)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let (status, done) = match op.as_str() {
        "activate" => (AppStatus::Active, "activated"),
        "deactivate" => (AppStatus::Inactive, "deactivated"),
        _ => return Err(ConsoleError::NotFound),
    };
    auth_servers::set_status(&state.provider, &id, status)
        .await
        .map_err(page_error)?;
    Ok(back_to(&id, "settings", done))
}

pub(super) async fn rotate_keys(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    auth_servers::find_custom(&state.provider, &id)
        .await
        .map_err(page_error)?;
    auth_servers::rotate_key(&state.provider, &id)
        .await
        .map_err(page_error)?;
    Ok(back_to(&id, "settings", "rotated"))
}

pub(super) async fn delete_server(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    auth_servers::delete(&state.provider, &id)
        .await
        .map_err(page_error)?;
    Ok(see_other(&format!("{BASE}?notice=server-deleted")))
}
