//! The Scopes tab: its rows, its form, saving and deleting a scope.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::domain::{MetadataPublish, OAuthScope, ScopeConsent};
use gatehouse_core::services::auth_server_config::{self as config, ScopeSpec};

use super::super::{Admin, ConsoleError, Form};
use super::*;
use crate::AppState;
use crate::origin::Origin;

pub(super) struct ScopeRow {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) display_name: String,
    pub(super) description: String,
    pub(super) consent: bool,
    pub(super) default: bool,
    pub(super) published: bool,
    pub(super) system: bool,
}

#[derive(Default)]
pub(super) struct ScopeFields {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) display_name: String,
    pub(super) description: String,
    pub(super) consent: bool,
    pub(super) default: bool,
    pub(super) published: bool,
}

impl ScopeFields {
    pub(super) fn new() -> Self {
        Self {
            published: true,
            ..Self::default()
        }
    }

    pub(super) fn of(s: &OAuthScope) -> Self {
        Self {
            id: s.id.clone(),
            name: s.name.clone(),
            display_name: s.display_name.clone().unwrap_or_default(),
            description: s.description.clone().unwrap_or_default(),
            consent: s.consent == ScopeConsent::Required,
            default: s.default,
            published: s.metadata_publish == MetadataPublish::AllClients,
        }
    }

    pub(super) fn parse(form: &Form) -> Self {
        Self {
            id: form.get("scope_id").to_owned(),
            name: form.get("scope_name").to_owned(),
            display_name: form.get("scope_display_name").to_owned(),
            description: form.get("scope_description").to_owned(),
            consent: form.checked("scope_consent"),
            default: form.checked("scope_default"),
            published: form.checked("scope_metadata"),
        }
    }

    pub(super) fn spec(&self, optional: bool) -> ScopeSpec {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        ScopeSpec {
            name: self.name.clone(),
            display_name: some(&self.display_name),
            description: some(&self.description),
            consent: if self.consent {
                ScopeConsent::Required
            } else {
                ScopeConsent::Implicit
            },
            default: self.default,
            metadata_publish: if self.published {
                MetadataPublish::AllClients
            } else {
                MetadataPublish::NoClients
            },
            optional,
        }
    }
}

pub(super) async fn save_scope(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let p = &state.provider;
    let f = ScopeFields::parse(&form);
    let saved = if f.id.is_empty() {
        config::create_scope(p, &id, f.spec(false)).await.map(drop)
    } else {
        let existing: OAuthScope = config::find(p, &id, &f.id).await.map_err(page_error)?;
        config::replace_scope(p, &id, &f.id, f.spec(existing.optional))
            .await
            .map(drop)
    };
    match saved {
        Ok(()) => Ok(back_to(&id, "scopes", "saved")),
        Err(e) => {
            let errors = field_errors(e, &[("name", "scope_name")], "scope_name")?;
            let mut page = ServerPage::load(&state, &admin, &origin, &id, "scopes").await?;
            page.scope_form = Some(f);
            page.errors = errors;
            Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}

pub(super) async fn delete_scope(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path((id, item)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    delete_item::<OAuthScope>(&state, &admin, &origin, &id, &item, "scopes", &body).await
}
