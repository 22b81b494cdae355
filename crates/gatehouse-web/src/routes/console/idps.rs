//! Security › Identity Providers: the upstream OpenID Connect providers people sign in with
//! (list, add from the upstream's discovery document, activate, deactivate, delete; editing
//! one is `idp_edit.rs`). The rules
//! are `gatehouse_core::services::idps`, shared with `/api/v1/idps` and `gatehouse idp`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use gatehouse_core::domain::{IdpStatus, IdpType};
use gatehouse_core::services::directory::DirectoryError;
use gatehouse_core::services::idps::admin::{self, IdpSpec};
use gatehouse_core::services::idps::discovery;
use gatehouse_core::services::idps::start::CALLBACK_PATH;

use super::{Admin, Chrome, ConsoleError, FieldErrors, ListQuery, render, see_other};
use crate::AppState;
use askama::Template;

const PATH: &str = "/admin/access/identity-providers";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(list).post(add))
        .route(&format!("{PATH}/{{id}}/{{op}}"), post(change))
}

struct IdpRow {
    id: String,
    name: String,
    kind: &'static str,
    issuer: String,
    domains: String,
    active: bool,
}

/// The add form's values.
#[derive(Default)]
struct AddFields {
    name: String,
    kind: String,
    issuer: String,
    client_id: String,
    groups_claim: String,
    domains: String,
}

#[derive(Template)]
#[template(path = "console/idps.html")]
struct IdpsPage {
    chrome: Chrome,
    rows: Vec<IdpRow>,
    f: AddFields,
    errors: FieldErrors,
    notice: Option<&'static str>,
    callback: String,
}

async fn page(
    state: &AppState,
    admin: &Admin,
    f: AddFields,
    errors: FieldErrors,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let rows = state
        .provider
        .store
        .list_idps()
        .await
        .map_err(|e| ConsoleError::Internal(e.to_string()))?
        .into_iter()
        .map(|i| IdpRow {
            active: i.status == IdpStatus::Active,
            kind: i.kind.as_str(),
            domains: i.settings.routing_domains.join(", "),
            issuer: i.settings.issuer,
            id: i.id,
            name: i.name,
        })
        .collect();
    let origin = state
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| "<public_url>".into());
    let page = IdpsPage {
        chrome: Chrome::admin(state, admin, "idps"),
        rows,
        f,
        errors,
        notice,
        callback: format!("{}{CALLBACK_PATH}", origin.trim_end_matches('/')),
    };
    Ok(render(status, page.render()))
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let notice = match q.notice.as_str() {
        "added" => Some("The identity provider was added."),
        "changed" => Some("The identity provider was changed."),
        "deleted" => Some("The identity provider was deleted."),
        _ => None,
    };
    let f = AddFields {
        kind: "OIDC".into(),
        ..Default::default()
    };
    page(
        &state,
        &admin,
        f,
        FieldErrors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn add(
    State(state): State<AppState>,
    admin: Admin,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let f = AddFields {
        name: form.get("name").to_owned(),
        kind: form.get("kind").to_owned(),
        issuer: form.get("issuer").to_owned(),
        client_id: form.get("client_id").to_owned(),
        groups_claim: form.get("groups_claim").to_owned(),
        domains: form.get("domains").to_owned(),
    };
    let secret = form.get("client_secret").to_owned();
    let kind = IdpType::parse(&f.kind).unwrap_or(IdpType::Oidc);
    let groups = Some(f.groups_claim.clone()).filter(|g| !g.is_empty());
    let mut settings = discovery::default_settings(&f.issuer, &f.client_id, groups);
    settings.routing_domains = f
        .domains
        .split([',', ' '])
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .collect();
    let result = async {
        if kind == IdpType::Oidc {
            discovery::discover(&state.provider, &mut settings).await?;
        }
        let spec = IdpSpec {
            name: f.name.clone(),
            kind,
            status: IdpStatus::Active,
            settings,
            client_secret: Some(secret),
        };
        admin::create_idp(&state.provider, &admin.0.actor(), spec).await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("{PATH}?notice=added"))),
        Err(DirectoryError::Invalid { field, message }) => {
            let mut errors = FieldErrors::default();
            let at = match field {
                "name" => "name",
                "protocol.credentials.client.client_id" => "client_id",
                "gatehouse.routing.domains" => "domains",
                _ => "issuer",
            };
            errors.add(at, super::sentence(&message));
            page(
                &state,
                &admin,
                f,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(DirectoryError::Conflict { .. }) => {
            let mut errors = FieldErrors::default();
            errors.add("name", "An identity provider with this name exists.");
            page(
                &state,
                &admin,
                f,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn change(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, op)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let actor = admin.0.actor();
    let notice = match op.as_str() {
        "activate" => {
            admin::set_status(&state.provider, &actor, &id, IdpStatus::Active).await?;
            "changed"
        }
        "deactivate" => {
            admin::set_status(&state.provider, &actor, &id, IdpStatus::Inactive).await?;
            "changed"
        }
        "delete" => {
            admin::delete_idp(&state.provider, &actor, &id).await?;
            "deleted"
        }
        _ => return Err(ConsoleError::NotFound),
    };
    Ok(see_other(&format!("{PATH}?notice={notice}")))
}
