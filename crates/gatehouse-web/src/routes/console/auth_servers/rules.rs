//! A policy's rule form, saving and deleting a rule.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::domain::{ANY_SCOPE, AppStatus, EVERYONE_GROUP, PolicyRule};
use gatehouse_core::services::auth_server_config::{self as config, RuleSpec};

use super::super::{Admin, ConsoleError, FieldErrors, Form};
use super::*;
use crate::AppState;
use crate::origin::Origin;

pub(super) struct RuleFields {
    pub(super) policy_id: String,
    pub(super) id: String,
    pub(super) name: String,
    pub(super) priority: String,
    pub(super) grants: Vec<String>,
    pub(super) any_user: bool,
    pub(super) users: Vec<String>,
    pub(super) groups: Vec<String>,
    pub(super) any_scope: bool,
    pub(super) scopes: Vec<String>,
    pub(super) access_lifetime: String,
    pub(super) refresh_lifetime: String,
    pub(super) refresh_window: String,
    pub(super) inactive: bool,
    /// Exclusions are set through the API only; editing here keeps them.
    pub(super) users_exclude: Vec<String>,
    pub(super) groups_exclude: Vec<String>,
}

impl RuleFields {
    pub(super) fn new(policy_id: &str) -> Self {
        Self {
            policy_id: policy_id.to_owned(),
            id: String::new(),
            name: String::new(),
            priority: String::new(),
            // The grant types Okta ticks on a new rule.
            grants: [
                "client_credentials",
                "authorization_code",
                "urn:ietf:params:oauth:grant-type:device_code",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ]
            .map(String::from)
            .to_vec(),
            any_user: true,
            users: Vec::new(),
            groups: Vec::new(),
            any_scope: true,
            scopes: Vec::new(),
            access_lifetime: PolicyRule::DEFAULT_ACCESS_TOKEN_LIFETIME.to_string(),
            refresh_lifetime: PolicyRule::DEFAULT_REFRESH_TOKEN_LIFETIME.to_string(),
            refresh_window: PolicyRule::DEFAULT_REFRESH_TOKEN_WINDOW.to_string(),
            inactive: false,
            users_exclude: Vec::new(),
            groups_exclude: Vec::new(),
        }
    }

    pub(super) fn of(r: &PolicyRule) -> Self {
        let everyone = r.groups_include.iter().any(|g| g == EVERYONE_GROUP);
        Self {
            policy_id: r.policy_id.clone(),
            id: r.id.clone(),
            name: r.name.clone(),
            priority: r.priority.to_string(),
            grants: r.grant_types.clone(),
            any_user: everyone && r.users_include.is_empty(),
            users: r.users_include.clone(),
            groups: r
                .groups_include
                .iter()
                .filter(|g| *g != EVERYONE_GROUP)
                .cloned()
                .collect(),
            any_scope: r.scopes.iter().any(|s| s == ANY_SCOPE),
            scopes: r
                .scopes
                .iter()
                .filter(|s| *s != ANY_SCOPE)
                .cloned()
                .collect(),
            access_lifetime: r.access_token_lifetime_minutes.to_string(),
            refresh_lifetime: r.refresh_token_lifetime_minutes.to_string(),
            refresh_window: r.refresh_token_window_minutes.to_string(),
            inactive: r.status == AppStatus::Inactive,
            users_exclude: r.users_exclude.clone(),
            groups_exclude: r.groups_exclude.clone(),
        }
    }

    pub(super) fn parse(form: &Form, policy_id: &str) -> Self {
        Self {
            policy_id: policy_id.to_owned(),
            id: form.get("rule_id").to_owned(),
            name: form.get("rule_name").to_owned(),
            priority: form.get("rule_priority").to_owned(),
            grants: form.all("rule_grants"),
            any_user: form.get("rule_people") != "selected",
            users: form.all("rule_users"),
            groups: form.all("rule_groups"),
            any_scope: form.get("rule_scopes_mode") != "selected",
            scopes: form.all("rule_scopes"),
            access_lifetime: form.get("rule_access_lifetime").to_owned(),
            refresh_lifetime: form.get("rule_refresh_lifetime").to_owned(),
            refresh_window: form.get("rule_refresh_window").to_owned(),
            inactive: form.checked("rule_inactive"),
            users_exclude: Vec::new(),
            groups_exclude: Vec::new(),
        }
    }

    pub(super) fn has_grant(&self, grant: &str) -> bool {
        self.grants.iter().any(|g| g == grant)
    }
    pub(super) fn has_user(&self, id: &str) -> bool {
        self.users.iter().any(|u| u == id)
    }
    pub(super) fn has_group(&self, id: &str) -> bool {
        self.groups.iter().any(|g| g == id)
    }
    pub(super) fn has_scope(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s == name)
    }

    pub(super) fn spec(&self) -> Result<RuleSpec, FieldErrors> {
        let mut errors = FieldErrors::default();
        let priority = optional_number(&self.priority, "rule_priority", &mut errors);
        let access = number(&self.access_lifetime, "rule_access_lifetime", &mut errors);
        let refresh = number(&self.refresh_lifetime, "rule_refresh_lifetime", &mut errors);
        let window = number(&self.refresh_window, "rule_refresh_window", &mut errors);
        if !self.any_user && self.users.is_empty() && self.groups.is_empty() {
            errors.add(
                "rule_people",
                "Choose at least one person or group, or Any user assigned the app.",
            );
        }
        if !self.any_scope && self.scopes.is_empty() {
            errors.add("rule_scopes", "Choose at least one scope, or Any scopes.");
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let (users_include, groups_include) = if self.any_user {
            (Vec::new(), vec![EVERYONE_GROUP.to_owned()])
        } else {
            (self.users.clone(), self.groups.clone())
        };
        Ok(RuleSpec {
            name: self.name.clone(),
            priority,
            status: if self.inactive {
                AppStatus::Inactive
            } else {
                AppStatus::Active
            },
            grant_types: self.grants.clone(),
            scopes: if self.any_scope {
                vec![ANY_SCOPE.to_owned()]
            } else {
                self.scopes.clone()
            },
            users_include,
            users_exclude: self.users_exclude.clone(),
            groups_include,
            groups_exclude: self.groups_exclude.clone(),
            access_token_lifetime_minutes: access,
            refresh_token_lifetime_minutes: refresh,
            refresh_token_window_minutes: window,
        })
    }
}

pub(super) const RULE_FIELDS: &[(&str, &str)] = &[
    ("name", "rule_name"),
    ("priority", "rule_priority"),
    ("conditions.grantTypes.include", "rule_grants"),
    ("conditions.scopes.include", "rule_scopes"),
    ("conditions.people.groups.include", "rule_people"),
    ("conditions.people.users.include", "rule_people"),
    ("conditions.people.groups.exclude", "rule_people"),
    ("conditions.people.users.exclude", "rule_people"),
    (
        "actions.token.accessTokenLifetimeMinutes",
        "rule_access_lifetime",
    ),
    (
        "actions.token.refreshTokenLifetimeMinutes",
        "rule_refresh_lifetime",
    ),
    (
        "actions.token.refreshTokenWindowMinutes",
        "rule_refresh_window",
    ),
];

pub(super) async fn save_rule(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path((id, policy_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let p = &state.provider;
    let mut f = RuleFields::parse(&form, &policy_id);
    if !f.id.is_empty() {
        let existing = config::find_rule(p, &id, &policy_id, &f.id)
            .await
            .map_err(page_error)?;
        f.users_exclude = existing.users_exclude;
        f.groups_exclude = existing.groups_exclude;
    }
    let errors = match f.spec() {
        Err(errors) => errors,
        Ok(spec) => {
            let saved = if f.id.is_empty() {
                config::create_rule(p, &id, &policy_id, spec)
                    .await
                    .map(drop)
            } else {
                config::replace_rule(p, &id, &policy_id, &f.id, spec)
                    .await
                    .map(drop)
            };
            match saved {
                Ok(()) => return Ok(back_to(&id, "policies", "saved")),
                Err(e) => field_errors(e, RULE_FIELDS, "rule_name")?,
            }
        }
    };
    let mut page = ServerPage::load(&state, &admin, &origin, &id, "policies")
        .await?
        .with_rule_form(f);
    page.errors = errors;
    Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
}

pub(super) async fn delete_rule(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, policy_id, rule)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    config::delete_rule(&state.provider, &id, &policy_id, &rule)
        .await
        .map_err(page_error)?;
    Ok(back_to(&id, "policies", "deleted"))
}
