//! Applications › Applications: the list, "Create App Integration", and an app's page with
//! its tabs (General, Client Credentials, Sign On, Assignments, Okta API Scopes).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use gatehouse_core::authz::model::GroupFilterType;
use gatehouse_core::domain::*;
use gatehouse_core::oauth2::grants::{DEVICE_CODE, GrantType};
use gatehouse_core::oauth2::scope::OKTA_API_SCOPES;
use gatehouse_core::services::apps::{self, AssignmentScope, OidcAppSpec};
use gatehouse_core::services::directory::{self, DirectoryError};
use gatehouse_core::services::{app_grants, groups, users};
use serde::Deserialize;

use super::{
    Admin, Chrome, ConsoleError, FieldErrors, Form, ListQuery, chosen, date, render, see_other,
};
use crate::AppState;
use crate::origin::Origin;
use askama::Template;

pub fn router() -> Router<AppState> {
    let app = "/admin/app/oidc_client/instance/{id}";
    Router::new()
        .route(
            "/admin/apps",
            get(|| async { see_other("/admin/apps/active") }),
        )
        .route("/admin/apps/active", get(list))
        .route("/admin/apps/create", get(create_choice))
        .route(
            "/admin/apps/oauth2-wizard/create",
            get(new_form).post(create),
        )
        // The page's forms post to paths relative to it, so it lives at the trailing slash.
        .route(
            app,
            get(|Path(id): Path<String>| async move {
                see_other(&format!("/admin/app/oidc_client/instance/{id}/"))
            }),
        )
        .route(&format!("{app}/"), get(show))
        .route(&format!("{app}/general"), post(save_general))
        .route(&format!("{app}/credentials"), post(save_credentials))
        .route(&format!("{app}/secret"), post(new_secret))
        .route(&format!("{app}/secrets"), post(add_secret))
        .route(
            &format!("{app}/secrets/{{sid}}/{{op}}"),
            post(change_secret),
        )
        .route(&format!("{app}/sign-on"), post(save_sign_on))
        .route(&format!("{app}/lifecycle/{{op}}"), post(lifecycle))
        .route(&format!("{app}/delete"), post(delete))
        .route(&format!("{app}/groups"), post(assign_group))
        .route(
            &format!("{app}/groups/{{gid}}/remove"),
            post(unassign_group),
        )
        .route(&format!("{app}/users"), post(assign_user))
        .route(&format!("{app}/users/{{uid}}/remove"), post(unassign_user))
        .route(&format!("{app}/grants"), post(grant_scope))
        .route(
            &format!("{app}/grants/{{grant}}/revoke"),
            post(revoke_scope),
        )
}

pub(crate) fn app_path(app: &App) -> String {
    format!("/admin/app/oidc_client/instance/{}/", app.id)
}

/// How the console names an application type (Okta's words).
pub(crate) fn type_label(t: ApplicationType) -> &'static str {
    match t {
        ApplicationType::Web => "Web Application",
        ApplicationType::Browser => "Single-Page Application",
        ApplicationType::Service => "API Services",
        ApplicationType::Native => "Native Application",
    }
}

/// The wizard's `applicationType` values.
fn parse_type(s: &str) -> Option<ApplicationType> {
    match s {
        "web" => Some(ApplicationType::Web),
        "browser" => Some(ApplicationType::Browser),
        "service" => Some(ApplicationType::Service),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Dashboard and list

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    apps: usize,
    people: usize,
    groups: usize,
    org_url: String,
}

pub(crate) async fn dashboard(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
) -> Result<Response, ConsoleError> {
    let p = &state.provider;
    let (apps, _) = apps::list(p, &AppQuery::default(), None, 200).await?;
    let (people, _) = users::search_users(p, None, None, 200).await?;
    let (groups, _) = groups::list_groups(p, None, None, 200).await?;
    let page = DashboardPage {
        chrome: Chrome::admin(&state, &admin, "dashboard"),
        apps: apps.len(),
        people: people.len(),
        groups: groups.len(),
        org_url: origin,
    };
    Ok(render(StatusCode::OK, page.render()))
}

struct AppRow {
    id: String,
    label: String,
    kind: &'static str,
    status: String,
    client_id: String,
    href: String,
}

#[derive(Template)]
#[template(path = "console/apps_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<AppRow>,
    q: String,
    notice: Option<&'static str>,
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let (found, _) = apps::list(&state.provider, &AppQuery::default(), None, 500).await?;
    let q = query.q.trim().to_lowercase();
    let rows = found
        .into_iter()
        .filter(|a| q.is_empty() || a.label.to_lowercase().contains(&q) || a.client_id == q)
        .map(|a| AppRow {
            href: app_path(&a),
            kind: type_label(a.settings.application_type),
            status: a.status.to_string(),
            id: a.id,
            label: a.label,
            client_id: a.client_id,
        })
        .collect();
    let page = ListPage {
        chrome: Chrome::admin(&state, &admin, "apps"),
        rows,
        q: query.q,
        notice: (query.notice == "deleted").then_some("The app was deleted."),
    };
    Ok(render(StatusCode::OK, page.render()))
}

#[derive(Template)]
#[template(path = "console/apps_create.html")]
struct CreateChoicePage {
    chrome: Chrome,
}

async fn create_choice(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Response, ConsoleError> {
    let page = CreateChoicePage {
        chrome: Chrome::admin(&state, &admin, "apps"),
    };
    Ok(render(StatusCode::OK, page.render()))
}

// ---------------------------------------------------------------------------------------------
// The General settings form (new app and edit)

/// The General settings as the form shows them.
pub(crate) struct AppFields {
    pub label: String,
    pub kind: ApplicationType,
    pub logo_uri: String,
    pub grant_code: bool,
    pub grant_refresh: bool,
    pub grant_implicit: bool,
    /// RFC 8628; offered on native and web apps only.
    pub grant_device: bool,
    pub implicit_id_token: bool,
    pub implicit_access_token: bool,
    pub rotation: String,
    pub leeway: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub initiate_login_uri: String,
    pub login_mode: String,
    /// User consent: "Require consent" (Okta's `consent_method: REQUIRED`), and the links the
    /// consent page shows.
    pub consent_required: bool,
    pub tos_uri: String,
    pub policy_uri: String,
    /// Controlled access (new apps only): `everyone`, `groups` or `skip`.
    pub access: String,
    pub access_groups: Vec<String>,
}

impl AppFields {
    pub fn has_group(&self, id: &str) -> bool {
        self.access_groups.iter().any(|g| g == id)
    }

    /// Okta's new-app defaults for the type.
    fn defaults(kind: ApplicationType) -> Self {
        let policy = RefreshTokenPolicy::default_for(kind);
        let (redirect, logout) = match kind {
            ApplicationType::Browser => (
                "http://localhost:8080/login/callback",
                "http://localhost:8080",
            ),
            ApplicationType::Service => ("", ""),
            _ => (
                "http://localhost:8080/authorization-code/callback",
                "http://localhost:8080",
            ),
        };
        Self {
            label: String::new(),
            kind,
            logo_uri: String::new(),
            grant_code: kind != ApplicationType::Service,
            grant_refresh: false,
            grant_implicit: false,
            grant_device: false,
            implicit_id_token: false,
            implicit_access_token: false,
            rotation: policy.rotation_type.to_string(),
            leeway: policy.leeway.to_string(),
            redirect_uris: redirect.into(),
            post_logout_redirect_uris: logout.into(),
            initiate_login_uri: String::new(),
            login_mode: "DISABLED".into(),
            consent_required: false,
            tos_uri: String::new(),
            policy_uri: String::new(),
            access: "everyone".into(),
            access_groups: vec![],
        }
    }

    /// The registry's label of a grant type the form offers.
    pub fn grant_label(&self, grant: &str) -> &'static str {
        GrantType::parse(grant).map_or("", GrantType::label)
    }

    fn of_app(app: &App) -> Self {
        let s = &app.settings;
        let has = |g: &str| s.grant_types.iter().any(|x| x == g);
        let rt = |t: &str| s.response_types.iter().any(|x| x == t);
        let policy = s
            .refresh_token
            .unwrap_or_else(|| RefreshTokenPolicy::default_for(s.application_type));
        Self {
            label: app.label.clone(),
            kind: s.application_type,
            logo_uri: s.metadata.logo_uri.clone().unwrap_or_default(),
            grant_code: has("authorization_code"),
            grant_refresh: has("refresh_token"),
            grant_implicit: has("implicit"),
            grant_device: has(DEVICE_CODE),
            implicit_id_token: rt("id_token"),
            implicit_access_token: rt("token") && has("implicit"),
            rotation: policy.rotation_type.to_string(),
            leeway: policy.leeway.to_string(),
            redirect_uris: s.redirect_uris.join("\n"),
            post_logout_redirect_uris: s.post_logout_redirect_uris.join("\n"),
            initiate_login_uri: s.initiate_login_uri.clone().unwrap_or_default(),
            login_mode: s.login_mode.clone(),
            consent_required: s.consent_method == ConsentMethod::Required,
            tos_uri: s.metadata.tos_uri.clone().unwrap_or_default(),
            policy_uri: s.metadata.policy_uri.clone().unwrap_or_default(),
            access: String::new(),
            access_groups: vec![],
        }
    }

    fn of_form(form: &Form, kind: ApplicationType) -> Self {
        Self {
            label: form.get("label").to_owned(),
            kind,
            logo_uri: form.get("logo_uri").to_owned(),
            grant_code: form.checked("grant_authorization_code"),
            grant_refresh: form.checked("grant_refresh_token"),
            grant_implicit: form.checked("grant_implicit"),
            grant_device: form.checked("grant_device_code"),
            implicit_id_token: form.checked("implicit_id_token"),
            implicit_access_token: form.checked("implicit_access_token"),
            rotation: form.get("rotation").to_owned(),
            leeway: form.get("leeway").to_owned(),
            redirect_uris: form.lines("redirect_uris").join("\n"),
            post_logout_redirect_uris: form.lines("post_logout_redirect_uris").join("\n"),
            initiate_login_uri: form.get("initiate_login_uri").to_owned(),
            login_mode: form.get("login_mode").to_owned(),
            consent_required: form.checked("consent_required"),
            tos_uri: form.get("tos_uri").trim().to_owned(),
            policy_uri: form.get("policy_uri").trim().to_owned(),
            access: form.get("access").to_owned(),
            access_groups: form.all("access_group"),
        }
    }

    /// Applies the fields to `spec` as `/api/v1/apps` would store them; problems the form can
    /// see before the service (a leeway that is no number, Implicit with neither box) first.
    fn apply(&self, spec: &mut OidcAppSpec) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        spec.label = self.label.clone();
        spec.metadata.logo_uri = Some(self.logo_uri.clone()).filter(|s| !s.is_empty());
        if self.kind == ApplicationType::Service {
            // Nobody signs in to a service app: it is never asked about.
            spec.grant_types = vec!["client_credentials".into()];
            spec.response_types = vec![];
            return Ok(());
        }
        spec.consent_method = Some(
            if self.consent_required {
                ConsentMethod::Required
            } else {
                ConsentMethod::Trusted
            }
            .as_str()
            .to_owned(),
        );
        spec.metadata.tos_uri = Some(self.tos_uri.clone()).filter(|s| !s.is_empty());
        spec.metadata.policy_uri = Some(self.policy_uri.clone()).filter(|s| !s.is_empty());
        let mut grants = Vec::new();
        let mut response_types = Vec::new();
        if self.grant_code {
            grants.push("authorization_code".to_owned());
            response_types.push("code".to_owned());
        }
        if self.grant_refresh {
            grants.push("refresh_token".to_owned());
        }
        if self.grant_implicit {
            grants.push("implicit".to_owned());
            if self.implicit_id_token {
                response_types.push("id_token".to_owned());
            }
            if self.implicit_access_token {
                response_types.push("token".to_owned());
            }
            if !self.implicit_id_token && !self.implicit_access_token {
                errors.add(
                    "implicit",
                    "Allow the ID token, the access token or both with the implicit grant type.",
                );
            }
        }
        if self.grant_device {
            grants.push(DEVICE_CODE.to_owned());
        }
        // Grant types the form does not show (client_credentials given through the API) stay.
        grants.extend(
            spec.grant_types
                .iter()
                .filter(|g| !FORM_GRANTS.contains(&g.as_str()))
                .cloned(),
        );
        if grants.is_empty() {
            errors.add("grants", "Select at least one grant type.");
        }
        spec.grant_types = grants;
        spec.response_types = response_types;
        spec.redirect_uris = self.redirect_uris.lines().map(str::to_owned).collect();
        spec.post_logout_redirect_uris = self
            .post_logout_redirect_uris
            .lines()
            .map(str::to_owned)
            .collect();
        spec.initiate_login_uri = Some(self.initiate_login_uri.clone()).filter(|s| !s.is_empty());
        spec.login_mode = Some(self.login_mode.clone()).filter(|s| !s.is_empty());
        if self.grant_refresh {
            spec.refresh_rotation = RotationType::parse(&self.rotation);
            match self.leeway.parse::<i64>() {
                Ok(n) => spec.refresh_leeway = Some(n),
                Err(_) => errors.add("leeway", "Enter a whole number of seconds from 0 to 60."),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Service field names → the form's.
const GENERAL_FIELDS: &[(&str, &str)] = &[
    ("label", "label"),
    ("grant_types", "grants"),
    ("response_types", "implicit"),
    ("redirect_uris", "redirect_uris"),
    ("post_logout_redirect_uris", "post_logout_redirect_uris"),
    ("initiate_login_uri", "initiate_login_uri"),
    ("mode", "login_mode"),
    ("leeway", "leeway"),
    ("logo_uri", "logo_uri"),
    ("consent_method", "consent_required"),
    ("tos_uri", "tos_uri"),
    ("policy_uri", "policy_uri"),
];

/// An existing app's settings as a spec that `apps::replace` stores unchanged.
/// The grant types the General tab has a box for.
const FORM_GRANTS: [&str; 4] = [
    "authorization_code",
    "refresh_token",
    "implicit",
    DEVICE_CODE,
];

fn spec_of(app: &App) -> OidcAppSpec {
    let s = &app.settings;
    let mut spec = OidcAppSpec::new(app.label.clone(), s.application_type);
    spec.token_endpoint_auth_method = Some(s.token_endpoint_auth_method);
    spec.pkce_required = Some(s.pkce_required);
    spec.redirect_uris = s.redirect_uris.clone();
    spec.post_logout_redirect_uris = s.post_logout_redirect_uris.clone();
    spec.grant_types = s.grant_types.clone();
    spec.response_types = s.response_types.clone();
    spec.initiate_login_uri = s.initiate_login_uri.clone();
    spec.login_mode = Some(s.login_mode.clone());
    spec.issuer_mode = Some(s.issuer_mode);
    spec.metadata = s.metadata.clone();
    spec.jwks = s.jwks.as_ref().and_then(|k| serde_json::to_value(k).ok());
    spec.jwks_uri = s.jwks_uri.clone();
    spec.request_uris = s.request_uris.clone();
    spec.request_object_signing_alg = s.request_object_signing_alg.clone();
    spec.sector_identifier_uri = s.sector_identifier_uri.clone();
    spec.consent_method = Some(s.consent_method.as_str().to_owned());
    if let Some(p) = &s.refresh_token {
        spec.refresh_rotation = Some(p.rotation_type);
        spec.refresh_leeway = Some(p.leeway);
    }
    spec.active = app.status == AppStatus::Active;
    spec
}

struct Choice {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "console/app_new.html")]
struct NewAppPage {
    chrome: Chrome,
    f: AppFields,
    type_value: &'static str,
    type_label: &'static str,
    groups: Vec<Choice>,
    errors: FieldErrors,
}

#[derive(Debug, Default, Deserialize)]
struct WizardQuery {
    #[serde(rename = "applicationType", default)]
    application_type: String,
}

async fn all_groups(state: &AppState) -> Result<Vec<Group>, ConsoleError> {
    Ok(groups::list_groups(&state.provider, None, None, 500)
        .await?
        .0)
}

fn group_choices(groups: &[Group]) -> Vec<Choice> {
    groups
        .iter()
        .map(|g| Choice {
            id: g.id.clone(),
            name: g.name.clone(),
        })
        .collect()
}

async fn new_form(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<WizardQuery>,
) -> Result<Response, ConsoleError> {
    let kind = parse_type(&query.application_type).ok_or(ConsoleError::Problem(
        "Choose an application type: Web Application, Single-Page Application or API Services."
            .into(),
    ))?;
    let page = NewAppPage {
        chrome: Chrome::admin(&state, &admin, "apps"),
        f: AppFields::defaults(kind),
        type_value: wire_type(kind),
        type_label: type_label(kind),
        groups: group_choices(&all_groups(&state).await?),
        errors: FieldErrors::default(),
    };
    Ok(render(StatusCode::OK, page.render()))
}

fn wire_type(kind: ApplicationType) -> &'static str {
    kind.as_str()
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let kind = parse_type(form.get("applicationType"))
        .ok_or(ConsoleError::Problem("Choose an application type.".into()))?;
    let fields = AppFields::of_form(&form, kind);
    let mut spec = OidcAppSpec::new(fields.label.clone(), kind);
    let groups = all_groups(&state).await?;
    let again = |f: AppFields, errors: FieldErrors| {
        let page = NewAppPage {
            chrome: Chrome::admin(&state, &admin, "apps"),
            type_value: wire_type(kind),
            type_label: type_label(kind),
            f,
            groups: group_choices(&groups),
            errors,
        };
        render(StatusCode::UNPROCESSABLE_ENTITY, page.render())
    };
    if let Err(errors) = fields.apply(&mut spec) {
        return Ok(again(fields, errors));
    }
    let chosen: Vec<&Group> = match fields.access.as_str() {
        "everyone" => groups
            .iter()
            .filter(|g| g.group_type == GroupType::BuiltIn)
            .collect(),
        "groups" => {
            let picked: Vec<&Group> = groups
                .iter()
                .filter(|g| fields.access_groups.contains(&g.id))
                .collect();
            if picked.is_empty() {
                let mut errors = FieldErrors::default();
                errors.add("access", "Select the groups that may use this app.");
                return Ok(again(fields, errors));
            }
            picked
        }
        _ => vec![],
    };
    let created = match apps::create(&state.provider, &admin.0.actor(), spec).await {
        Ok(c) => c,
        Err(e) => {
            let errors = FieldErrors::from_service(e, GENERAL_FIELDS, "label")?;
            return Ok(again(fields, errors));
        }
    };
    for g in chosen {
        apps::assign_group(&state.provider, &admin.0.actor(), &created.app, g, None).await?;
    }
    Ok(see_other(&format!(
        "{}?notice=created",
        app_path(&created.app)
    )))
}

// ---------------------------------------------------------------------------------------------
// The app's page

struct GroupRow {
    id: String,
    name: String,
}

struct PersonRow {
    id: String,
    name: String,
    login: String,
    how: &'static str,
}

struct ScopeRow {
    scope: &'static str,
    grant_id: Option<String>,
}

#[derive(Template)]
#[template(path = "console/app_show.html")]
struct AppPage {
    chrome: Chrome,
    app: App,
    kind_label: &'static str,
    f: AppFields,
    errors: FieldErrors,
    notice: Option<&'static str>,
    /// A secret just generated, shown this once with a warning.
    new_secret: Option<String>,
    /// The Client Credentials section's secrets, oldest first.
    secrets: Vec<SecretRow>,
    /// Whether another secret may be added (Okta allows two).
    can_add_secret: bool,
    uses_secret: bool,
    org_url: String,
    issuer_org: String,
    assigned_groups: Vec<GroupRow>,
    people: Vec<PersonRow>,
    group_choices: Vec<Choice>,
    user_choices: Vec<Choice>,
    scopes: Vec<ScopeRow>,
    is_service: bool,
    created: String,
    /// The Sign On tab's groups claim filter (empty when there is none).
    groups_claim_name: String,
    groups_claim_filter: &'static str,
    groups_claim_value: String,
    group_filters: &'static [(&'static str, &'static str)],
}

/// Okta's words for the groups claim filters.
const GROUP_FILTERS: &[(&str, &str)] = &[
    ("STARTS_WITH", "Starts with"),
    ("EQUALS", "Equals"),
    ("CONTAINS", "Contains"),
    ("REGEX", "Matches regex"),
];

#[derive(Debug, Default, Deserialize)]
struct ShowQuery {
    #[serde(default)]
    notice: String,
}

fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "The app integration was created.",
        "saved" => "Your changes were saved.",
        "activated" => "The app was activated.",
        "deactivated" => "The app was deactivated.",
        "assigned" => "The assignment was added.",
        "unassigned" => "The assignment was removed.",
        "granted" => "The scope was granted.",
        "revoked" => "The grant was revoked.",
        "secret-activated" => "The client secret was activated.",
        "secret-deactivated" => "The client secret was deactivated; it no longer works.",
        "secret-deleted" => "The client secret was deleted.",
        _ => return None,
    })
}

/// One client secret on the Client Credentials section.
struct SecretRow {
    id: String,
    /// The input's id: the first is `client-secret`, the next `client-secret-2`.
    field: String,
    value: String,
    active: bool,
    /// An active secret can be deactivated only while another one is active.
    can_deactivate: bool,
    created: String,
}

struct PageExtras {
    f: Option<AppFields>,
    errors: FieldErrors,
    notice: Option<&'static str>,
    new_secret: Option<String>,
}

impl PageExtras {
    /// The app's page with a notice and, once, a newly generated secret.
    fn notice(notice: Option<&'static str>, new_secret: Option<String>) -> Self {
        Self {
            f: None,
            errors: FieldErrors::default(),
            notice,
            new_secret,
        }
    }
}

async fn find_app(state: &AppState, id: &str) -> Result<App, ConsoleError> {
    Ok(directory::find_app_by_id_or_client_id(&state.provider, id).await?)
}

async fn app_page(
    state: &AppState,
    admin: &Admin,
    origin: &str,
    app: App,
    extras: PageExtras,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let p = &state.provider;
    let all = all_groups(state).await?;
    let assignments = p
        .store
        .list_app_group_assignments(&app.id)
        .await
        .map_err(DirectoryError::from)?;
    let assigned_groups: Vec<GroupRow> = assignments
        .iter()
        .filter_map(|a| all.iter().find(|g| g.id == a.group_id))
        .map(|g| GroupRow {
            id: g.id.clone(),
            name: g.name.clone(),
        })
        .collect();
    let (assigned, _) = apps::list_users(p, &app, None, 200).await?;
    let people = assigned
        .into_iter()
        .map(|(u, how)| PersonRow {
            name: format!("{} {}", u.first_name, u.last_name),
            id: u.id,
            login: u.login,
            how: match how {
                AssignmentScope::User => "Individual",
                AssignmentScope::Group => "Group",
            },
        })
        .collect();
    let group_choices = all
        .iter()
        .filter(|g| !assignments.iter().any(|a| a.group_id == g.id))
        .map(|g| Choice {
            id: g.id.clone(),
            name: g.name.clone(),
        })
        .collect();
    let (everyone, _) = users::search_users(p, None, None, 200).await?;
    let user_choices = everyone
        .into_iter()
        .filter(|u| u.status != UserStatus::Deprovisioned)
        .map(|u| Choice {
            name: format!("{} {} ({})", u.first_name, u.last_name, u.login),
            id: u.id,
        })
        .collect();
    let grants = app_grants::list(p, &app).await?;
    let scopes = OKTA_API_SCOPES
        .iter()
        .map(|s| ScopeRow {
            scope: s,
            grant_id: grants
                .iter()
                .find(|g| g.scope_id == *s)
                .map(|g| g.id.clone()),
        })
        .collect();
    let org = p
        .server_context(origin, None)
        .await
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let method = app.settings.token_endpoint_auth_method;
    let listed = apps::list_client_secrets(p, &app).await?;
    let active_count = listed
        .iter()
        .filter(|s| s.secret.status == AppStatus::Active)
        .count();
    let can_add_secret = listed.len() < MAX_CLIENT_SECRETS as usize;
    let secrets = listed
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let active = s.secret.status == AppStatus::Active;
            SecretRow {
                field: if i == 0 {
                    "client-secret".into()
                } else {
                    format!("client-secret-{}", i + 1)
                },
                value: apps::reveal_secret(p, &s.secret).unwrap_or_default(),
                can_deactivate: active && active_count > 1,
                active,
                created: date(s.secret.created),
                id: s.secret.id,
            }
        })
        .collect();
    let gc = app.settings.groups_claim.as_ref();
    let page = AppPage {
        chrome: Chrome::admin(state, admin, "apps"),
        kind_label: type_label(app.settings.application_type),
        f: extras.f.unwrap_or_else(|| AppFields::of_app(&app)),
        errors: extras.errors,
        notice: extras.notice,
        new_secret: extras.new_secret,
        secrets,
        can_add_secret,
        uses_secret: !matches!(
            method,
            TokenEndpointAuthMethod::None | TokenEndpointAuthMethod::PrivateKeyJwt
        ),
        org_url: origin.to_owned(),
        issuer_org: org.issuer,
        assigned_groups,
        people,
        group_choices,
        user_choices,
        scopes,
        is_service: app.settings.application_type == ApplicationType::Service,
        created: date(app.created),
        groups_claim_name: gc.map_or(String::new(), |c| c.name.clone()),
        groups_claim_filter: gc.map_or("REGEX", |c| c.filter_type.as_str()),
        groups_claim_value: gc.map_or(String::new(), |c| c.value.clone()),
        group_filters: GROUP_FILTERS,
        app,
    };
    Ok(render(status, page.render()))
}

async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, ConsoleError> {
    let app = find_app(&state, &id).await?;
    let extras = PageExtras::notice(notice_text(&query.notice), None);
    app_page(&state, &admin, &origin, app, extras, StatusCode::OK).await
}

fn back(app: &App, notice: &str, tab: &str) -> Response {
    see_other(&format!("{}?notice={notice}#{tab}", app_path(app)))
}

async fn refused(
    state: &AppState,
    admin: &Admin,
    origin: &str,
    app: App,
    f: Option<AppFields>,
    errors: FieldErrors,
) -> Result<Response, ConsoleError> {
    let extras = PageExtras {
        f,
        errors,
        notice: None,
        new_secret: None,
    };
    app_page(
        state,
        admin,
        origin,
        app,
        extras,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn save_general(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let fields = AppFields::of_form(&form, app.settings.application_type);
    let mut spec = spec_of(&app);
    if let Err(errors) = fields.apply(&mut spec) {
        return refused(&state, &admin, &origin, app, Some(fields), errors).await;
    }
    match apps::replace(&state.provider, &admin.0.actor(), app.clone(), spec).await {
        Ok(done) => Ok(back(&done.app, "saved", "tab-general")),
        Err(e) => {
            let errors = FieldErrors::from_service(e, GENERAL_FIELDS, "label")?;
            refused(&state, &admin, &origin, app, Some(fields), errors).await
        }
    }
}

async fn save_credentials(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let mut spec = spec_of(&app);
    let current = app.settings.token_endpoint_auth_method;
    spec.token_endpoint_auth_method = Some(match form.get("client_auth") {
        // "Client secret" keeps the current way of sending it (Basic or POST).
        "client_secret"
            if matches!(
                current,
                TokenEndpointAuthMethod::ClientSecretBasic
                    | TokenEndpointAuthMethod::ClientSecretPost
            ) =>
        {
            current
        }
        "client_secret" => TokenEndpointAuthMethod::ClientSecretBasic,
        "private_key_jwt" => TokenEndpointAuthMethod::PrivateKeyJwt,
        "none" => TokenEndpointAuthMethod::None,
        _ => current,
    });
    spec.pkce_required = Some(form.checked("pkce_required"));
    let fields = [
        ("token_endpoint_auth_method", "client_auth"),
        ("jwks", "client_auth"),
        ("client_secret", "client_auth"),
        ("pkce_required", "pkce_required"),
    ];
    match apps::replace(&state.provider, &admin.0.actor(), app.clone(), spec).await {
        Ok(done) => match done.client_secret {
            // A client that just became confidential has a secret to show once.
            Some(secret) => {
                let extras = PageExtras::notice(
                    Some("Your changes were saved. A client secret was generated."),
                    Some(secret),
                );
                app_page(&state, &admin, &origin, done.app, extras, StatusCode::OK).await
            }
            None => Ok(back(&done.app, "saved", "tab-credentials")),
        },
        Err(e) => {
            let errors = FieldErrors::from_service(e, &fields, "client_auth")?;
            refused(&state, &admin, &origin, app, None, errors).await
        }
    }
}

async fn new_secret(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let (app, secret) =
        apps::new_client_secret(&state.provider, &admin.0.actor(), app, None).await?;
    let extras = PageExtras::notice(
        Some("A new client secret was generated; the old ones no longer work."),
        secret.client_secret,
    );
    app_page(&state, &admin, &origin, app, extras, StatusCode::OK).await
}

/// "Generate new secret": a second secret beside the current one, both active.
async fn add_secret(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let actor = admin.0.actor();
    match apps::add_client_secret(&state.provider, &actor, &app, None, AppStatus::Active).await {
        Ok(created) => {
            let extras = PageExtras::notice(
                Some(
                    "A new client secret was generated. The other one keeps working until you deactivate it.",
                ),
                created.client_secret,
            );
            app_page(&state, &admin, &origin, app, extras, StatusCode::OK).await
        }
        Err(e) => {
            let errors = FieldErrors::from_service(e, &[], "client_secrets")?;
            refused(&state, &admin, &origin, app, None, errors).await
        }
    }
}

/// Activate, deactivate or delete one client secret.
async fn change_secret(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path((id, sid, op)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let actor = admin.0.actor();
    let p = &state.provider;
    let (result, notice) = match op.as_str() {
        "activate" => (
            apps::set_client_secret_status(p, &actor, &app, &sid, AppStatus::Active)
                .await
                .map(drop),
            "secret-activated",
        ),
        "deactivate" => (
            apps::set_client_secret_status(p, &actor, &app, &sid, AppStatus::Inactive)
                .await
                .map(drop),
            "secret-deactivated",
        ),
        "delete" => (
            apps::delete_client_secret(p, &actor, &app, &sid).await,
            "secret-deleted",
        ),
        _ => return Err(ConsoleError::NotFound),
    };
    match result {
        Ok(()) => Ok(back(&app, notice, "tab-credentials")),
        Err(e) => {
            let errors = FieldErrors::from_service(e, &[], "client_secrets")?;
            refused(&state, &admin, &origin, app, None, errors).await
        }
    }
}

async fn save_sign_on(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let mut spec = spec_of(&app);
    let Some(mode) = IssuerMode::parse(form.get("issuer_mode")) else {
        let mut errors = FieldErrors::default();
        errors.add("issuer_mode", "Choose Dynamic or Okta URL.");
        return refused(&state, &admin, &origin, app, None, errors).await;
    };
    spec.issuer_mode = Some(mode);
    // The groups claim filter: no name and no value means none.
    let name = form.get("groups_claim_name").to_owned();
    let value = form.get("groups_claim_value").to_owned();
    spec.groups_claim = Some(if name.is_empty() && value.is_empty() {
        None
    } else {
        let Some(filter_type) = GroupFilterType::parse(form.get("groups_claim_filter")) else {
            let mut errors = FieldErrors::default();
            errors.add("groups_claim_filter", "Choose how group names are matched.");
            return refused(&state, &admin, &origin, app, None, errors).await;
        };
        Some(GroupsClaim {
            name,
            filter_type,
            value,
        })
    });
    match apps::replace(&state.provider, &admin.0.actor(), app.clone(), spec).await {
        Ok(done) => Ok(back(&done.app, "saved", "tab-sign-on")),
        Err(e) => {
            let fields = [
                ("groups_claim_name", "groups_claim_name"),
                ("groups_claim_value", "groups_claim_value"),
            ];
            let errors = FieldErrors::from_service(e, &fields, "issuer_mode")?;
            refused(&state, &admin, &origin, app, None, errors).await
        }
    }
}

async fn lifecycle(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, op)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let (status, notice) = match op.as_str() {
        "activate" => (AppStatus::Active, "activated"),
        "deactivate" => (AppStatus::Inactive, "deactivated"),
        _ => return Err(ConsoleError::NotFound),
    };
    let app = apps::set_status(&state.provider, &admin.0.actor(), app, status).await?;
    Ok(back(&app, notice, "tab-general"))
}

async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    apps::delete(&state.provider, &admin.0.actor(), &app).await?;
    Ok(see_other("/admin/apps/active?notice=deleted"))
}

async fn assign_group(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let Some(group) = chosen(directory::find_group_by_id_or_name(
        &state.provider,
        form.get("group_id"),
    ))
    .await?
    else {
        let mut errors = FieldErrors::default();
        errors.add("group_id", "Choose a group to assign.");
        return refused(&state, &admin, &origin, app, None, errors).await;
    };
    apps::assign_group(&state.provider, &admin.0.actor(), &app, &group, None).await?;
    Ok(back(&app, "assigned", "tab-assignments"))
}

async fn unassign_group(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, gid)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    apps::unassign_group(&state.provider, &admin.0.actor(), &app, &gid).await?;
    Ok(back(&app, "unassigned", "tab-assignments"))
}

async fn assign_user(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let user = chosen(directory::find_user_by_id_or_login(
        &state.provider,
        form.get("user_id"),
    ))
    .await?;
    let result = match &user {
        Some(u) => apps::assign_user(&state.provider, &admin.0.actor(), &app, u).await,
        None => Err(DirectoryError::Invalid {
            field: "id",
            message: "choose a person to assign".into(),
        }),
    };
    match result {
        Ok(()) => Ok(back(&app, "assigned", "tab-assignments")),
        Err(e) => {
            let errors = FieldErrors::from_service(e, &[("id", "user_id")], "user_id")?;
            refused(&state, &admin, &origin, app, None, errors).await
        }
    }
}

async fn unassign_user(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, uid)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let user = directory::find_user_by_id_or_login(&state.provider, &uid).await?;
    apps::unassign_user(&state.provider, &admin.0.actor(), &app, &user).await?;
    Ok(back(&app, "unassigned", "tab-assignments"))
}

async fn grant_scope(
    State(state): State<AppState>,
    admin: Admin,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    let org = state
        .provider
        .server_context(&origin, None)
        .await
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let result = app_grants::grant(
        &state.provider,
        &app,
        form.get("scope"),
        &org.issuer,
        &org.issuer,
        Some(&admin.0.current.user),
    )
    .await;
    match result {
        Ok(_) => Ok(back(&app, "granted", "tab-scopes")),
        Err(e) => {
            let errors = FieldErrors::from_service(e, &[("scopeId", "scope")], "scope")?;
            refused(&state, &admin, &origin, app, None, errors).await
        }
    }
}

async fn revoke_scope(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, grant)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let app = find_app(&state, &id).await?;
    app_grants::revoke(&state.provider, &app, &grant).await?;
    Ok(back(&app, "revoked", "tab-scopes"))
}
