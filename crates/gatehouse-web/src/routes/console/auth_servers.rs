//! Security › API › Authorization Servers: the custom servers with their Settings (signing
//! keys included), Scopes, Claims, Access Policies and rules, and Token Preview. Handlers parse
//! the forms into the specs of `gatehouse_core::services::{auth_servers, auth_server_config,
//! token_preview}`, the services `/api/v1/authorizationServers` uses, and render the results.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use gatehouse_core::domain::{
    ALL_CLIENTS, ANY_SCOPE, AccessPolicy, AppStatus, AuthServer, AuthServerKind, ClaimType,
    ClaimValueType, EVERYONE_GROUP, GroupFilterType, IssuerMode, MetadataPublish, OAuthClaim,
    OAuthScope, PolicyRule, ScopeConsent,
};
use gatehouse_core::services::auth_server_config::{
    self as config, ClaimSpec, PolicySpec, RULE_GRANT_TYPES, RuleSpec, ScopeSpec,
};
use gatehouse_core::services::auth_servers::{self, AuthServerError, AuthServerSpec};
use gatehouse_core::services::token_preview::{self, Preview, PreviewRequest};
use gatehouse_core::services::{apps, groups, users};
use serde::Deserialize;

use super::{Admin, Chrome, ConsoleError, FieldErrors, Form, date, render, see_other, sentence};
use crate::AppState;
use crate::origin::Origin;

const BASE: &str = "/admin/oauth2/as";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(BASE, get(list).post(create))
        .route("/admin/oauth2/as/new", get(new_server))
        .route(
            "/admin/oauth2/as/{id}",
            get(settings_tab).post(save_settings),
        )
        .route("/admin/oauth2/as/{id}/lifecycle/{op}", post(lifecycle))
        .route("/admin/oauth2/as/{id}/rotate", post(rotate_keys))
        .route("/admin/oauth2/as/{id}/delete", post(delete_server))
        .route(
            "/admin/oauth2/as/{id}/scopes",
            get(scopes_tab).post(save_scope),
        )
        .route(
            "/admin/oauth2/as/{id}/scopes/{item}/delete",
            post(delete_scope),
        )
        .route(
            "/admin/oauth2/as/{id}/claims",
            get(claims_tab).post(save_claim),
        )
        .route(
            "/admin/oauth2/as/{id}/claims/{item}/delete",
            post(delete_claim),
        )
        .route(
            "/admin/oauth2/as/{id}/policies",
            get(policies_tab).post(save_policy),
        )
        .route(
            "/admin/oauth2/as/{id}/policies/{item}/delete",
            post(delete_policy),
        )
        .route(
            "/admin/oauth2/as/{id}/policies/{item}/rules",
            post(save_rule),
        )
        .route(
            "/admin/oauth2/as/{id}/policies/{item}/rules/{rule}/delete",
            post(delete_rule),
        )
        .route(
            "/admin/oauth2/as/{id}/preview",
            get(preview_tab).post(run_preview),
        )
}

/// A service refusal shown next to its field (`fields` maps the service's field names to the
/// form's); anything else is the page error it is.
fn field_errors(
    e: AuthServerError,
    fields: &[(&str, &str)],
    fallback: &str,
) -> Result<FieldErrors, ConsoleError> {
    let mut errors = FieldErrors::default();
    match e {
        AuthServerError::Invalid { field, message } => {
            let target = fields
                .iter()
                .find(|(service, _)| *service == field)
                .map_or(fallback, |(_, form)| form);
            errors.add(target, sentence(&message));
        }
        AuthServerError::Forbidden(message) => errors.add(fallback, message),
        other => return Err(page_error(other)),
    }
    Ok(errors)
}

fn page_error(e: AuthServerError) -> ConsoleError {
    match e {
        AuthServerError::NotFound(_) | AuthServerError::Missing { .. } => ConsoleError::NotFound,
        AuthServerError::Forbidden(m) => ConsoleError::Problem(m),
        AuthServerError::Invalid { message, .. } => ConsoleError::Problem(sentence(&message)),
        other => ConsoleError::Internal(other.to_string()),
    }
}

fn issuer(origin: &str, id: &str) -> String {
    format!("{origin}/oauth2/{id}")
}

fn issuer_mode_label(mode: IssuerMode) -> &'static str {
    match mode {
        IssuerMode::OrgUrl => "Okta URL",
        IssuerMode::CustomUrl => "Custom URL",
        IssuerMode::Dynamic => "Dynamic (based on request domain)",
    }
}

/// Okta's console words for the grant types a rule can allow.
fn grant_label(grant: &str) -> &str {
    match grant {
        "authorization_code" => "Authorization Code",
        "client_credentials" => "Client Credentials",
        "implicit" => "Implicit",
        "password" => "Resource Owner Password",
        "urn:ietf:params:oauth:grant-type:device_code" => "Device Authorization",
        "urn:ietf:params:oauth:grant-type:token-exchange" => "Token Exchange",
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => "JWT Bearer",
        "urn:ietf:params:oauth:grant-type:saml2-bearer" => "SAML 2.0 Assertion",
        "interaction_code" => "Interaction Code",
        other => other,
    }
}

/// An option of a select or a checkbox list.
struct Choice {
    value: String,
    label: String,
}

#[derive(Debug, Default, Deserialize)]
struct TabQuery {
    #[serde(default)]
    notice: String,
    /// The scope, claim or policy to edit (`new` for the add form).
    #[serde(default)]
    edit: String,
    /// The policy of the rule form, and the rule to edit (`new` to add one).
    #[serde(default)]
    policy: String,
    #[serde(default)]
    rule: String,
}

fn notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "The authorization server was created.",
        "saved" => "The changes were saved.",
        "deleted" => "It was deleted.",
        "rotated" => "The signing keys were rotated: a new key signs from now on.",
        "activated" => "The authorization server is active.",
        "deactivated" => "The authorization server is inactive: it answers no requests.",
        "server-deleted" => "The authorization server was deleted.",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// The list and Add Authorization Server

struct ServerRow {
    id: String,
    name: String,
    audience: String,
    issuer: String,
    issuer_mode: String,
    alg: String,
    status: String,
    active: bool,
    description: String,
}

impl ServerRow {
    fn of(origin: &str, s: &AuthServer) -> Self {
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
struct ServerFields {
    name: String,
    audience: String,
    description: String,
    /// `DYNAMIC` or `ORG_URL`.
    issuer_mode: String,
}

impl ServerFields {
    fn of(s: &AuthServer) -> Self {
        Self {
            name: s.name.clone(),
            audience: s.audiences.join(", "),
            description: s.description.clone(),
            issuer_mode: s.issuer_mode.as_str().to_owned(),
        }
    }

    fn parse(form: &Form) -> Self {
        Self {
            name: form.get("as_name").to_owned(),
            audience: form.get("as_audience").to_owned(),
            description: form.get("as_description").to_owned(),
            issuer_mode: form.get("as_issuer_mode").to_owned(),
        }
    }

    fn spec(&self) -> AuthServerSpec {
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
        }
    }
}

const SERVER_FIELDS: &[(&str, &str)] = &[
    ("name", "as_name"),
    ("audiences", "as_audience"),
    ("issuerMode", "as_issuer_mode"),
];

#[derive(Template)]
#[template(path = "console/api_servers.html")]
struct ServersPage {
    chrome: Chrome,
    tab: &'static str,
    rows: Vec<ServerRow>,
    notice: Option<&'static str>,
}

async fn list(
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
struct NewServerPage {
    chrome: Chrome,
    tab: &'static str,
    f: ServerFields,
    errors: FieldErrors,
}

fn new_server_page(
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

async fn new_server(State(state): State<AppState>, admin: Admin) -> Response {
    new_server_page(
        &state,
        &admin,
        ServerFields::default(),
        FieldErrors::default(),
        StatusCode::OK,
    )
}

async fn create(
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

// ---------------------------------------------------------------------------------------------
// A server's page: what each tab shows and edits

struct KeyRow {
    kid: String,
    alg: String,
    status: String,
    created: String,
}

struct ScopeRow {
    id: String,
    name: String,
    display_name: String,
    description: String,
    consent: bool,
    default: bool,
    published: bool,
    system: bool,
}

#[derive(Default)]
struct ScopeFields {
    id: String,
    name: String,
    display_name: String,
    description: String,
    consent: bool,
    default: bool,
    published: bool,
}

impl ScopeFields {
    fn new() -> Self {
        Self {
            published: true,
            ..Self::default()
        }
    }

    fn of(s: &OAuthScope) -> Self {
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

    fn parse(form: &Form) -> Self {
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

    fn spec(&self, optional: bool) -> ScopeSpec {
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

struct ClaimRow {
    id: String,
    name: String,
    token_type: &'static str,
    value_type: &'static str,
    value: String,
    scopes: String,
    include: &'static str,
    active: bool,
}

fn filter_label(kind: GroupFilterType) -> &'static str {
    match kind {
        GroupFilterType::StartsWith => "Starts with",
        GroupFilterType::Equals => "Equals",
        GroupFilterType::Contains => "Contains",
        GroupFilterType::Regex => "Matches regex",
    }
}

impl ClaimRow {
    fn of(c: &OAuthClaim) -> Self {
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

struct ClaimFields {
    id: String,
    name: String,
    /// `IDENTITY` (ID Token) or `RESOURCE` (Access Token).
    token_type: String,
    /// ID-token claims: `ALWAYS` or `USERINFO`.
    include: String,
    /// `EXPRESSION` or `GROUPS`.
    value_type: String,
    filter: String,
    value: String,
    any_scope: bool,
    scopes: Vec<String>,
    disabled: bool,
}

impl ClaimFields {
    fn new() -> Self {
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

    fn of(c: &OAuthClaim) -> Self {
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

    fn parse(form: &Form) -> Self {
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

    fn has_scope(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s == name)
    }

    fn spec(&self) -> Result<ClaimSpec, FieldErrors> {
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

const CLAIM_FIELDS: &[(&str, &str)] = &[
    ("name", "claim_name"),
    ("value", "claim_value"),
    ("group_filter_type", "claim_filter"),
    ("conditions.scopes", "claim_scopes"),
];

struct RuleRow {
    id: String,
    name: String,
    priority: i64,
    active: bool,
    grants: String,
    scopes: String,
    people: String,
    access_lifetime: i64,
    refresh: String,
}

struct PolicyView {
    id: String,
    name: String,
    description: String,
    priority: i64,
    active: bool,
    assigned: String,
    rules: Vec<RuleRow>,
}

struct PolicyFields {
    id: String,
    name: String,
    description: String,
    priority: String,
    all_clients: bool,
    clients: Vec<String>,
    inactive: bool,
}

impl PolicyFields {
    fn new() -> Self {
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

    fn of(p: &AccessPolicy) -> Self {
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

    fn parse(form: &Form) -> Self {
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

    fn has_client(&self, client_id: &str) -> bool {
        self.clients.iter().any(|c| c == client_id)
    }

    fn spec(&self) -> Result<PolicySpec, FieldErrors> {
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

const POLICY_FIELDS: &[(&str, &str)] = &[
    ("name", "policy_name"),
    ("conditions.clients.include", "policy_clients"),
    ("priority", "policy_priority"),
];

/// A blank field is `None`; anything but a whole number is a field error.
fn optional_number(raw: &str, field: &str, errors: &mut FieldErrors) -> Option<i64> {
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(field, "Enter a whole number.");
            None
        }
    }
}

fn number(raw: &str, field: &str, errors: &mut FieldErrors) -> i64 {
    match raw.parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            errors.add(field, "Enter a whole number of minutes.");
            0
        }
    }
}

struct RuleFields {
    policy_id: String,
    id: String,
    name: String,
    priority: String,
    grants: Vec<String>,
    any_user: bool,
    users: Vec<String>,
    groups: Vec<String>,
    any_scope: bool,
    scopes: Vec<String>,
    access_lifetime: String,
    refresh_lifetime: String,
    refresh_window: String,
    inactive: bool,
    /// Exclusions are set through the API only; editing here keeps them.
    users_exclude: Vec<String>,
    groups_exclude: Vec<String>,
}

impl RuleFields {
    fn new(policy_id: &str) -> Self {
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

    fn of(r: &PolicyRule) -> Self {
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

    fn parse(form: &Form, policy_id: &str) -> Self {
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

    fn has_grant(&self, grant: &str) -> bool {
        self.grants.iter().any(|g| g == grant)
    }
    fn has_user(&self, id: &str) -> bool {
        self.users.iter().any(|u| u == id)
    }
    fn has_group(&self, id: &str) -> bool {
        self.groups.iter().any(|g| g == id)
    }
    fn has_scope(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s == name)
    }

    fn spec(&self) -> Result<RuleSpec, FieldErrors> {
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

const RULE_FIELDS: &[(&str, &str)] = &[
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

/// The grant types Token Preview offers.
const PREVIEW_GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "implicit",
    "password",
    "client_credentials",
];

#[derive(Default)]
struct PreviewFields {
    client: String,
    grant: String,
    user: String,
    scopes: Vec<String>,
}

impl PreviewFields {
    fn parse(form: &Form) -> Self {
        Self {
            client: form.get("preview_client").to_owned(),
            grant: form.get("preview_grant").to_owned(),
            user: form.get("preview_user").to_owned(),
            scopes: form.all("preview_scopes"),
        }
    }

    fn has_scope(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s == name)
    }
}

const PREVIEW_FIELDS: &[(&str, &str)] =
    &[("clientId", "preview_client"), ("userId", "preview_user")];

struct PreviewView {
    policy: String,
    rule: String,
    /// `error: description (why)`.
    error: Option<String>,
    scopes: String,
    id_token: Option<String>,
    access_token: Option<String>,
}

impl PreviewView {
    fn of(p: Preview) -> Self {
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

#[derive(Template)]
#[template(path = "console/api_server.html")]
struct ServerPage {
    chrome: Chrome,
    /// The Security › API tab (Authorization Servers).
    tab: &'static str,
    /// The server's tab: `settings`, `scopes`, `claims`, `policies` or `preview`.
    section: &'static str,
    s: ServerRow,
    metadata_url: String,
    notice: Option<&'static str>,
    errors: FieldErrors,
    keys: Vec<KeyRow>,
    /// The Settings form.
    f: ServerFields,
    scopes: Vec<ScopeRow>,
    scope_form: Option<ScopeFields>,
    claims: Vec<ClaimRow>,
    claim_form: Option<ClaimFields>,
    policies: Vec<PolicyView>,
    policy_form: Option<PolicyFields>,
    rule_form: Option<RuleFields>,
    /// The name of the rule form's policy.
    rule_policy: String,
    clients: Vec<Choice>,
    people: Vec<Choice>,
    groups: Vec<Choice>,
    scope_names: Vec<String>,
    grant_types: Vec<Choice>,
    preview_grant_types: Vec<Choice>,
    preview_form: PreviewFields,
    preview: Option<PreviewView>,
}

impl ServerPage {
    async fn load(
        state: &AppState,
        admin: &Admin,
        origin: &str,
        id: &str,
        section: &'static str,
    ) -> Result<Self, ConsoleError> {
        let p = &state.provider;
        let server = auth_servers::find_custom(p, id).await.map_err(page_error)?;
        let keys = auth_servers::keys(p, id)
            .await
            .map_err(page_error)?
            .into_iter()
            .map(|k| KeyRow {
                kid: k.kid,
                alg: k.alg,
                status: k.status.to_string(),
                created: date(k.created),
            })
            .collect();
        let mut scopes: Vec<OAuthScope> = config::list(p, id).await.map_err(page_error)?;
        // Stored order follows random ids within a second: by name reads better, and is stable.
        scopes.sort_by(|a, b| a.name.cmp(&b.name));
        let claims: Vec<OAuthClaim> = config::list(p, id).await.map_err(page_error)?;
        let policies: Vec<AccessPolicy> = config::list(p, id).await.map_err(page_error)?;
        let rules: Vec<PolicyRule> = config::list(p, id).await.map_err(page_error)?;

        let (found_apps, _) = apps::list(p, &Default::default(), None, 200).await?;
        let clients: Vec<Choice> = found_apps
            .iter()
            .filter(|a| !a.client_id.is_empty())
            .map(|a| Choice {
                value: a.client_id.clone(),
                label: format!("{} ({})", a.label, a.client_id),
            })
            .collect();
        let (found_people, _) = users::search_users(p, None, None, 200).await?;
        let people: Vec<Choice> = found_people
            .iter()
            .map(|u| Choice {
                value: u.id.clone(),
                label: format!("{} {} ({})", u.first_name, u.last_name, u.login),
            })
            .collect();
        let (found_groups, _) = groups::list_groups(p, None, None, 200).await?;
        let groups: Vec<Choice> = found_groups
            .iter()
            .map(|g| Choice {
                value: g.id.clone(),
                label: g.name.clone(),
            })
            .collect();
        let label_of = |list: &[Choice], value: &str| {
            list.iter()
                .find(|c| c.value == value)
                .map_or_else(|| value.to_owned(), |c| c.label.clone())
        };

        let policies = policies
            .iter()
            .map(|pol| PolicyView {
                id: pol.id.clone(),
                name: pol.name.clone(),
                description: pol.description.clone(),
                priority: pol.priority,
                active: pol.status == AppStatus::Active,
                assigned: if pol.clients.iter().any(|c| c == ALL_CLIENTS) {
                    "All clients".into()
                } else {
                    pol.clients
                        .iter()
                        .map(|c| label_of(&clients, c))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                rules: rules
                    .iter()
                    .filter(|r| r.policy_id == pol.id)
                    .map(|r| RuleRow {
                        id: r.id.clone(),
                        name: r.name.clone(),
                        priority: r.priority,
                        active: r.status == AppStatus::Active,
                        grants: r
                            .grant_types
                            .iter()
                            .map(|g| grant_label(g))
                            .collect::<Vec<_>>()
                            .join(", "),
                        scopes: if r.scopes.iter().any(|s| s == ANY_SCOPE) {
                            "Any scopes".into()
                        } else {
                            r.scopes.join(", ")
                        },
                        people: if r.groups_include.iter().any(|g| g == EVERYONE_GROUP) {
                            "Any user assigned the app".into()
                        } else {
                            r.users_include
                                .iter()
                                .map(|u| label_of(&people, u))
                                .chain(r.groups_include.iter().map(|g| label_of(&groups, g)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                        access_lifetime: r.access_token_lifetime_minutes,
                        refresh: format!(
                            "{}, expires if not used for {} minutes",
                            if r.refresh_token_lifetime_minutes == 0 {
                                "Unlimited".to_owned()
                            } else {
                                format!("{} minutes", r.refresh_token_lifetime_minutes)
                            },
                            r.refresh_token_window_minutes
                        ),
                    })
                    .collect(),
            })
            .collect();

        Ok(Self {
            chrome: Chrome::admin(state, admin, "api"),
            tab: "servers",
            section,
            metadata_url: format!("{}/.well-known/openid-configuration", issuer(origin, id)),
            s: ServerRow::of(origin, &server),
            notice: None,
            errors: FieldErrors::default(),
            keys,
            f: ServerFields::of(&server),
            scope_names: scopes.iter().map(|s| s.name.clone()).collect(),
            scopes: scopes
                .iter()
                .map(|s| ScopeRow {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    display_name: s.display_name.clone().unwrap_or_default(),
                    description: s.description.clone().unwrap_or_default(),
                    consent: s.consent == ScopeConsent::Required,
                    default: s.default,
                    published: s.metadata_publish == MetadataPublish::AllClients,
                    system: s.system,
                })
                .collect(),
            scope_form: None,
            claims: claims.iter().map(ClaimRow::of).collect(),
            claim_form: None,
            policies,
            policy_form: None,
            rule_form: None,
            rule_policy: String::new(),
            clients,
            people,
            groups,
            grant_types: RULE_GRANT_TYPES
                .iter()
                .map(|g| Choice {
                    value: (*g).to_owned(),
                    label: grant_label(g).to_owned(),
                })
                .collect(),
            preview_grant_types: PREVIEW_GRANT_TYPES
                .iter()
                .map(|g| Choice {
                    value: (*g).to_owned(),
                    label: grant_label(g).to_owned(),
                })
                .collect(),
            preview_form: PreviewFields {
                grant: "authorization_code".into(),
                scopes: vec!["openid".into()],
                ..PreviewFields::default()
            },
            preview: None,
        })
    }

    fn with_rule_form(mut self, f: RuleFields) -> Self {
        self.rule_policy = self
            .policies
            .iter()
            .find(|p| p.id == f.policy_id)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        self.rule_form = Some(f);
        self
    }

    fn respond(&self, status: StatusCode) -> Response {
        render(status, Template::render(self))
    }
}

async fn tab(
    state: &AppState,
    admin: &Admin,
    origin: &str,
    id: &str,
    section: &'static str,
    q: TabQuery,
) -> Result<Response, ConsoleError> {
    let p = &state.provider;
    let mut page = ServerPage::load(state, admin, origin, id, section).await?;
    page.notice = notice(&q.notice);
    match section {
        "scopes" if q.edit == "new" => page.scope_form = Some(ScopeFields::new()),
        "scopes" if !q.edit.is_empty() => {
            let s: OAuthScope = config::find(p, id, &q.edit).await.map_err(page_error)?;
            page.scope_form = Some(ScopeFields::of(&s));
        }
        "claims" if q.edit == "new" => page.claim_form = Some(ClaimFields::new()),
        "claims" if !q.edit.is_empty() => {
            let c: OAuthClaim = config::find(p, id, &q.edit).await.map_err(page_error)?;
            page.claim_form = Some(ClaimFields::of(&c));
        }
        "policies" if q.edit == "new" => page.policy_form = Some(PolicyFields::new()),
        "policies" if !q.edit.is_empty() => {
            let pol: AccessPolicy = config::find(p, id, &q.edit).await.map_err(page_error)?;
            page.policy_form = Some(PolicyFields::of(&pol));
        }
        "policies" if !q.policy.is_empty() => {
            let form = if q.rule.is_empty() || q.rule == "new" {
                config::find::<AccessPolicy>(p, id, &q.policy)
                    .await
                    .map_err(page_error)?;
                RuleFields::new(&q.policy)
            } else {
                RuleFields::of(
                    &config::find_rule(p, id, &q.policy, &q.rule)
                        .await
                        .map_err(page_error)?,
                )
            };
            page = page.with_rule_form(form);
        }
        _ => {}
    }
    Ok(page.respond(StatusCode::OK))
}

macro_rules! tab_handler {
    ($name:ident, $section:literal) => {
        async fn $name(
            State(state): State<AppState>,
            admin: Admin,
            Origin(origin): Origin,
            Path(id): Path<String>,
            Query(q): Query<TabQuery>,
        ) -> Result<Response, ConsoleError> {
            tab(&state, &admin, &origin, &id, $section, q).await
        }
    };
}

tab_handler!(settings_tab, "settings");
tab_handler!(scopes_tab, "scopes");
tab_handler!(claims_tab, "claims");
tab_handler!(policies_tab, "policies");
tab_handler!(preview_tab, "preview");

fn back_to(id: &str, section: &str, notice: &str) -> Response {
    let path = if section == "settings" {
        format!("{BASE}/{id}")
    } else {
        format!("{BASE}/{id}/{section}")
    };
    see_other(&format!("{path}?notice={notice}"))
}

// ---------------------------------------------------------------------------------------------
// Settings, lifecycle, keys

async fn save_settings(
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

async fn lifecycle(
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

async fn rotate_keys(
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

async fn delete_server(
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

// ---------------------------------------------------------------------------------------------
// Scopes

async fn save_scope(
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

/// Deletes a scope, claim or policy; a refusal (a system scope) is shown on its tab.
async fn delete_item<T: gatehouse_core::domain::ConfigItem>(
    state: &AppState,
    admin: &Admin,
    origin: &str,
    id: &str,
    item: &str,
    section: &'static str,
    body: &[u8],
) -> Result<Response, ConsoleError> {
    admin.0.form(body)?;
    match config::delete::<T>(&state.provider, id, item).await {
        Ok(()) => Ok(back_to(id, section, "deleted")),
        Err(AuthServerError::Forbidden(message)) => {
            let mut page = ServerPage::load(state, admin, origin, id, section).await?;
            page.errors.add(section, message);
            Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(page_error(e)),
    }
}

async fn delete_scope(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path((id, item)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    delete_item::<OAuthScope>(&state, &admin, &origin, &id, &item, "scopes", &body).await
}

// ---------------------------------------------------------------------------------------------
// Claims

async fn save_claim(
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

async fn delete_claim(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path((id, item)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    delete_item::<OAuthClaim>(&state, &admin, &origin, &id, &item, "claims", &body).await
}

// ---------------------------------------------------------------------------------------------
// Access policies and rules

async fn save_policy(
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

async fn delete_policy(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path((id, item)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    delete_item::<AccessPolicy>(&state, &admin, &origin, &id, &item, "policies", &body).await
}

async fn save_rule(
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

async fn delete_rule(
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

// ---------------------------------------------------------------------------------------------
// Token Preview

async fn run_preview(
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
