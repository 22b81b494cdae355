//! The Claims tab: its rows, its form, saving and deleting a claim.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::domain::{AppStatus, ClaimType, ClaimValueType, GroupFilterType, OAuthClaim};
use gatehouse_core::services::auth_server_config::{self as config, ClaimSpec};

use super::super::{Admin, ConsoleError, FieldErrors, Form};
use super::*;
use crate::AppState;
use crate::origin::Origin;

pub(super) struct ClaimRow {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) token_type: &'static str,
    pub(super) value_type: &'static str,
    pub(super) value: String,
    pub(super) scopes: String,
    pub(super) include: &'static str,
    pub(super) active: bool,
}

pub(super) fn filter_label(kind: GroupFilterType) -> &'static str {
    match kind {
        GroupFilterType::StartsWith => "Starts with",
        GroupFilterType::Equals => "Equals",
        GroupFilterType::Contains => "Contains",
        GroupFilterType::Regex => "Matches regex",
    }
}

impl ClaimRow {
    pub(super) fn of(c: &OAuthClaim) -> Self {
        Self {
            id: c.id.clone(),
            name: c.name.clone(),
            token_type: match c.claim_type {
                ClaimType::Identity => "ID Token",
                ClaimType::Resource => "Access Token",
            },
            value_type: match c.value_type {
                ClaimValueType::Expression => "Expression",
                ClaimValueType::Groups => "Groups",
            },
            value: match c.group_filter_type {
                Some(kind) => format!("{}: {}", filter_label(kind), c.value),
                None => c.value.clone(),
            },
            scopes: if c.scopes.is_empty() {
                "Any scope".into()
            } else {
                c.scopes.join(", ")
            },
            include: if c.always_include_in_token {
                "Always"
            } else {
                "Userinfo / ID Token request"
            },
            active: c.status == AppStatus::Active,
        }
    }
}

pub(super) struct ClaimFields {
    pub(super) id: String,
    pub(super) name: String,
    /// `IDENTITY` (ID Token) or `RESOURCE` (Access Token).
    pub(super) token_type: String,
    /// ID-token claims: `ALWAYS` or `USERINFO`.
    pub(super) include: String,
    /// `EXPRESSION` or `GROUPS`.
    pub(super) value_type: String,
    pub(super) filter: String,
    pub(super) value: String,
    pub(super) any_scope: bool,
    pub(super) scopes: Vec<String>,
    pub(super) disabled: bool,
}

impl ClaimFields {
    pub(super) fn new() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            token_type: ClaimType::Resource.as_str().into(),
            include: "ALWAYS".into(),
            value_type: ClaimValueType::Expression.as_str().into(),
            filter: GroupFilterType::StartsWith.as_str().into(),
            value: String::new(),
            any_scope: true,
            scopes: Vec::new(),
            disabled: false,
        }
    }

    pub(super) fn of(c: &OAuthClaim) -> Self {
        Self {
            id: c.id.clone(),
            name: c.name.clone(),
            token_type: c.claim_type.as_str().into(),
            include: if c.always_include_in_token {
                "ALWAYS"
            } else {
                "USERINFO"
            }
            .into(),
            value_type: c.value_type.as_str().into(),
            filter: c
                .group_filter_type
                .unwrap_or(GroupFilterType::StartsWith)
                .as_str()
                .into(),
            value: c.value.clone(),
            any_scope: c.scopes.is_empty(),
            scopes: c.scopes.clone(),
            disabled: c.status == AppStatus::Inactive,
        }
    }

    pub(super) fn parse(form: &Form) -> Self {
        Self {
            id: form.get("claim_id").to_owned(),
            name: form.get("claim_name").to_owned(),
            token_type: form.get("claim_token_type").to_owned(),
            include: form.get("claim_include").to_owned(),
            value_type: form.get("claim_value_type").to_owned(),
            filter: form.get("claim_filter").to_owned(),
            value: form.get("claim_value").to_owned(),
            any_scope: form.get("claim_include_in") != "scopes",
            scopes: form.all("claim_scopes"),
            disabled: form.checked("claim_disabled"),
        }
    }

    pub(super) fn has_scope(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s == name)
    }

    pub(super) fn spec(&self) -> Result<ClaimSpec, FieldErrors> {
        let mut errors = FieldErrors::default();
        let claim_type = ClaimType::parse(&self.token_type);
        if claim_type.is_none() {
            errors.add("claim_token_type", "Choose ID Token or Access Token.");
        }
        let value_type = ClaimValueType::parse(&self.value_type);
        if value_type.is_none() {
            errors.add("claim_value_type", "Choose Expression or Groups.");
        }
        let filter = GroupFilterType::parse(&self.filter);
        if value_type == Some(ClaimValueType::Groups) && filter.is_none() {
            errors.add(
                "claim_filter",
                "Choose Starts with, Equals, Contains or Matches regex.",
            );
        }
        if !self.any_scope && self.scopes.is_empty() {
            errors.add("claim_scopes", "Choose at least one scope, or Any scope.");
        }
        match (claim_type, value_type, errors.is_empty()) {
            (Some(claim_type), Some(value_type), true) => Ok(ClaimSpec {
                name: self.name.clone(),
                status: if self.disabled {
                    AppStatus::Inactive
                } else {
                    AppStatus::Active
                },
                claim_type,
                value_type,
                value: self.value.clone(),
                group_filter_type: filter,
                always_include_in_token: self.include != "USERINFO",
                scopes: if self.any_scope {
                    Vec::new()
                } else {
                    self.scopes.clone()
                },
            }),
            _ => Err(errors),
        }
    }
}

pub(super) const CLAIM_FIELDS: &[(&str, &str)] = &[
    ("name", "claim_name"),
    ("value", "claim_value"),
    ("group_filter_type", "claim_filter"),
    ("conditions.scopes", "claim_scopes"),
];

pub(super) async fn save_claim(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let p = &state.provider;
    let f = ClaimFields::parse(&form);
    let errors = match f.spec() {
        Err(errors) => errors,
        Ok(spec) => {
            let saved = if f.id.is_empty() {
                config::create_claim(p, &id, spec).await.map(drop)
            } else {
                config::replace_claim(p, &id, &f.id, spec).await.map(drop)
            };
            match saved {
                Ok(()) => return Ok(back_to(&id, "claims", "saved")),
                Err(e) => field_errors(e, CLAIM_FIELDS, "claim_name")?,
            }
        }
    };
    let mut page = ServerPage::load(&state, &admin, &origin, &id, "claims").await?;
    page.claim_form = Some(f);
    page.errors = errors;
    Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
}

pub(super) async fn delete_claim(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path((id, item)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    delete_item::<OAuthClaim>(&state, &admin, &origin, &id, &item, "claims", &body).await
}
