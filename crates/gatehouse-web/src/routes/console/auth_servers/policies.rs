//! The Access Policies tab: policies with their rules' rows, the policy form, saving and
//! deleting a policy.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::domain::{ALL_CLIENTS, AccessPolicy, AppStatus};
use gatehouse_core::services::auth_server_config::{self as config, PolicySpec};

use super::super::{Admin, ConsoleError, FieldErrors, Form, see_other};
use super::*;
use crate::AppState;
use crate::origin::Origin;

pub(super) struct RuleRow {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) priority: i64,
    pub(super) active: bool,
    pub(super) grants: String,
    pub(super) scopes: String,
    pub(super) people: String,
    pub(super) access_lifetime: i64,
    pub(super) refresh: String,
}

pub(super) struct PolicyView {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) priority: i64,
    pub(super) active: bool,
    pub(super) assigned: String,
    pub(super) rules: Vec<RuleRow>,
}

pub(super) struct PolicyFields {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) priority: String,
    pub(super) all_clients: bool,
    pub(super) clients: Vec<String>,
    pub(super) inactive: bool,
}

impl PolicyFields {
    pub(super) fn new() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            description: String::new(),
            priority: String::new(),
            all_clients: true,
            clients: Vec::new(),
            inactive: false,
        }
    }

    pub(super) fn of(p: &AccessPolicy) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            priority: p.priority.to_string(),
            all_clients: p.clients.iter().any(|c| c == ALL_CLIENTS),
            clients: p
                .clients
                .iter()
                .filter(|c| *c != ALL_CLIENTS)
                .cloned()
                .collect(),
            inactive: p.status == AppStatus::Inactive,
        }
    }

    pub(super) fn parse(form: &Form) -> Self {
        Self {
            id: form.get("policy_id").to_owned(),
            name: form.get("policy_name").to_owned(),
            description: form.get("policy_description").to_owned(),
            priority: form.get("policy_priority").to_owned(),
            all_clients: form.get("policy_assign") != "clients",
            clients: form.all("policy_clients"),
            inactive: form.checked("policy_inactive"),
        }
    }

    pub(super) fn has_client(&self, client_id: &str) -> bool {
        self.clients.iter().any(|c| c == client_id)
    }

    pub(super) fn spec(&self) -> Result<PolicySpec, FieldErrors> {
        let mut errors = FieldErrors::default();
        let priority = optional_number(&self.priority, "policy_priority", &mut errors);
        if !self.all_clients && self.clients.is_empty() {
            errors.add(
                "policy_clients",
                "Choose at least one client, or All clients.",
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(PolicySpec {
            name: self.name.clone(),
            description: self.description.clone(),
            priority,
            status: if self.inactive {
                AppStatus::Inactive
            } else {
                AppStatus::Active
            },
            clients: if self.all_clients {
                vec![ALL_CLIENTS.into()]
            } else {
                self.clients.clone()
            },
        })
    }
}

pub(super) const POLICY_FIELDS: &[(&str, &str)] = &[
    ("name", "policy_name"),
    ("conditions.clients.include", "policy_clients"),
    ("priority", "policy_priority"),
];

pub(super) async fn save_policy(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let p = &state.provider;
    let f = PolicyFields::parse(&form);
    let errors = match f.spec() {
        Err(errors) => errors,
        Ok(spec) => {
            let saved = if f.id.is_empty() {
                config::create_policy(p, &id, spec).await.map(|x| x.id)
            } else {
                config::replace_policy(p, &id, &f.id, spec)
                    .await
                    .map(|x| x.id)
            };
            match saved {
                // A new policy has no rule yet: go on to Add Rule, as Okta does.
                Ok(policy_id) if f.id.is_empty() => {
                    return Ok(see_other(&format!(
                        "{BASE}/{id}/policies?notice=saved&policy={policy_id}&rule=new#rule-form"
                    )));
                }
                Ok(_) => return Ok(back_to(&id, "policies", "saved")),
                Err(e) => field_errors(e, POLICY_FIELDS, "policy_name")?,
            }
        }
    };
    let mut page = ServerPage::load(&state, &admin, &origin, &id, "policies").await?;
    page.policy_form = Some(f);
    page.errors = errors;
    Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
}

pub(super) async fn delete_policy(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path((id, item)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    delete_item::<AccessPolicy>(&state, &admin, &origin, &id, &item, "policies", &body).await
}
