//! The Token Preview tab: its form and the tokens it shows.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::services::token_preview::{self, Preview, PreviewRequest};

use super::super::{Admin, ConsoleError, FieldErrors, Form};
use super::*;
use crate::AppState;
use crate::origin::Origin;

/// The grant types Token Preview offers.
pub(super) const PREVIEW_GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "implicit",
    "password",
    "client_credentials",
];

#[derive(Default)]
pub(super) struct PreviewFields {
    pub(super) client: String,
    pub(super) grant: String,
    pub(super) user: String,
    pub(super) scopes: Vec<String>,
}

impl PreviewFields {
    pub(super) fn parse(form: &Form) -> Self {
        Self {
            client: form.get("preview_client").to_owned(),
            grant: form.get("preview_grant").to_owned(),
            user: form.get("preview_user").to_owned(),
            scopes: form.all("preview_scopes"),
        }
    }

    pub(super) fn has_scope(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s == name)
    }
}

pub(super) const PREVIEW_FIELDS: &[(&str, &str)] =
    &[("clientId", "preview_client"), ("userId", "preview_user")];

pub(super) struct PreviewView {
    pub(super) policy: String,
    pub(super) rule: String,
    /// `error: description (why)`.
    pub(super) error: Option<String>,
    pub(super) scopes: String,
    pub(super) id_token: Option<String>,
    pub(super) access_token: Option<String>,
}

impl PreviewView {
    pub(super) fn of(p: Preview) -> Self {
        let pretty = |m: serde_json::Map<String, serde_json::Value>| {
            serde_json::to_string_pretty(&serde_json::Value::Object(m)).unwrap_or_default()
        };
        Self {
            policy: p.policy.map(|x| x.name).unwrap_or_default(),
            rule: p.rule.map(|x| x.name).unwrap_or_default(),
            error: p
                .error
                .map(|(error, description, why)| format!("{error}: {description} ({why})")),
            scopes: p.scopes.join(" "),
            id_token: p.id_token.map(pretty),
            access_token: p.access_token.map(pretty),
        }
    }
}

pub(super) async fn run_preview(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let f = PreviewFields::parse(&form);
    let mut page = ServerPage::load(&state, &admin, &origin, &id, "preview").await?;
    let mut errors = FieldErrors::default();
    if f.client.is_empty() {
        errors.add("preview_client", "Choose a client.");
    }
    if !PREVIEW_GRANT_TYPES.contains(&f.grant.as_str()) {
        errors.add("preview_grant", "Choose a grant type.");
    }
    let status = if errors.is_empty() {
        let req = PreviewRequest {
            client_id: f.client.clone(),
            user_id: (!f.user.is_empty()).then(|| f.user.clone()),
            grant_type: f.grant.clone(),
            scopes: f.scopes.clone(),
        };
        match token_preview::preview(&state.provider, &origin, &id, req).await {
            Ok(p) => {
                page.preview = Some(PreviewView::of(p));
                StatusCode::OK
            }
            Err(e) => {
                errors = field_errors(e, PREVIEW_FIELDS, "preview_client")?;
                StatusCode::UNPROCESSABLE_ENTITY
            }
        }
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page.preview_form = f;
    page.errors = errors;
    Ok(page.respond(status))
}
