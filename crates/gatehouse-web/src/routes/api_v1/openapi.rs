//! The OpenAPI document of `/api/v1`, generated from the handlers' `#[utoipa::path]`
//! annotations and the schemas below, served at `/api/v1/openapi.json`.
//!
//! Handlers build Okta's JSON by hand (its shapes are looser than Rust types); these schemas
//! describe what they return, and schemathesis (in the test command) checks every response
//! against them, so a drift fails the build.

use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, ToSchema};

use super::authorization_servers as authz;
use super::{
    app_grants, apps, groups, logs, sessions, trusted_origins, user_grants, user_sessions, users,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse management API",
        description = "Okta's management API (`/api/v1`) as Gatehouse implements it. Authorise with \
                       `Authorization: SSWS <api token>`.",
        version = "1"
    ),
    paths(
        users::list,
        users::create,
        users::get,
        users::update_partial,
        users::update_full,
        users::delete,
        users::lifecycle,
        super::user_links::forgot_password,
        user_sessions::clear,
        super::users_credentials::change_password,
        users::groups,
        user_grants::list,
        user_grants::get,
        user_grants::delete,
        user_grants::delete_all,
        user_grants::clients,
        user_grants::client_grants,
        user_grants::delete_client_grants,
        apps::app_links,
        groups::list,
        groups::create,
        groups::get,
        groups::update,
        groups::delete,
        groups::members,
        groups::add_member,
        groups::remove_member,
        apps::create,
        apps::list,
        apps::get,
        apps::replace,
        apps::delete,
        apps::lifecycle,
        apps::list_groups,
        apps::assign_group,
        apps::get_group,
        apps::unassign_group,
        apps::list_users,
        apps::assign_user,
        apps::get_user,
        apps::unassign_user,
        apps::list_secrets,
        apps::get_secret,
        apps::secret_lifecycle,
        apps::delete_secret,
        apps::new_secret,
        app_grants::create,
        app_grants::list,
        app_grants::get,
        app_grants::delete,
        sessions::get_me,
        sessions::delete_me,
        trusted_origins::list,
        trusted_origins::create,
        trusted_origins::get,
        trusted_origins::replace,
        trusted_origins::delete,
        trusted_origins::lifecycle,
        authz::list,
        authz::create,
        authz::get,
        authz::replace,
        authz::delete,
        authz::lifecycle,
        authz::list_keys,
        authz::rotate_key,
        authz::list_scopes,
        authz::create_scope,
        authz::get_scope,
        authz::replace_scope,
        authz::delete_scope,
        authz::list_claims,
        authz::create_claim,
        authz::get_claim,
        authz::replace_claim,
        authz::delete_claim,
        authz::list_policies,
        authz::create_policy,
        authz::get_policy,
        authz::replace_policy,
        authz::delete_policy,
        authz::policy_lifecycle,
        authz::list_rules,
        authz::create_rule,
        authz::get_rule,
        authz::replace_rule,
        authz::delete_rule,
        authz::rule_lifecycle,
        authz::token_preview,
        logs::list,
    ),
    components(schemas(
        OktaError,
        ErrorCause,
        UserDoc,
        UserProfileDoc,
        CreateUserBody,
        UpdateUserBody,
        GroupDoc,
        GroupBody,
        GroupProfileDoc,
        SessionDoc,
        AppDoc,
        AppBody,
        AppGroupDoc,
        AppGroupBody,
        AppUserDoc,
        AppUserBody,
        ClientSecretDoc,
        AppLinkDoc,
        AppGrantDoc,
        UserGrantDoc,
        UserClientDoc,
        AppGrantBody,
        TrustedOriginDoc,
        TrustedOriginBody,
        TrustedOriginScopeDoc,
        authz::AuthorizationServerDoc,
        authz::OAuth2ScopeDoc,
        authz::OAuth2ClaimDoc,
        authz::AuthorizationServerPolicyDoc,
        authz::AuthorizationServerPolicyRuleDoc,
        authz::KeyDoc,
        authz::AuthzBody,
        authz::KeyRotateBody,
        authz::TokenPreviewBody,
        authz::TokenPreviewDoc,
        logs::LogEventDoc,
        logs::LogEntityDoc,
        logs::LogOutcomeDoc,
    )),
    modifiers(&SswsAuth),
    security(("SSWS" = []))
)]
pub struct ApiDoc;

struct SswsAuth;

impl Modify for SswsAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "SSWS",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`SSWS <api token>`",
            ))),
        );
    }
}

pub(crate) async fn document() -> Json<Value> {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::policies_openapi::PoliciesDoc::openapi());
    doc.merge(super::factors_openapi::FactorsDoc::openapi());
    doc.merge(super::idps_openapi::IdpsDoc::openapi());
    Json(serde_json::to_value(doc).unwrap_or_default())
}

/// The errors any authenticated `/api/v1` operation may answer, all in Okta's shape.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub(crate) enum ApiErrors {
    #[response(status = 400, description = "Invalid input (E0000001, E0000003)")]
    BadRequest(OktaError),
    #[response(status = 401, description = "Missing or invalid API token (E0000011)")]
    Unauthorized(OktaError),
    #[response(status = 403, description = "Not allowed (E0000006, E0000056)")]
    Forbidden(OktaError),
    #[response(status = 404, description = "No such resource (E0000007)")]
    NotFound(OktaError),
    #[response(status = 429, description = "Rate limit exceeded (E0000047)")]
    RateLimited(OktaError),
}

/// The errors of `/api/v1/sessions/me`, which takes the session cookie and no token.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub(crate) enum SessionErrors {
    #[response(status = 404, description = "No live session (E0000007)")]
    NotFound(OktaError),
    #[response(status = 429, description = "Rate limit exceeded (E0000047)")]
    RateLimited(OktaError),
}

/// Cursor pagination, as Okta's: follow the `Link: <…>; rel="next"` header.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct PageParams {
    /// Page size.
    limit: Option<i64>,
    /// Cursor from the `next` link.
    after: Option<String>,
}

/// Every `/api/v1` error: Okta's shape.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Error)]
#[allow(dead_code)]
pub(crate) struct OktaError {
    #[schema(example = "E0000007")]
    error_code: String,
    error_summary: String,
    error_link: String,
    error_id: String,
    error_causes: Vec<ErrorCause>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct ErrorCause {
    error_summary: String,
}

/// A user's base profile.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UserProfile)]
#[allow(dead_code)]
pub(crate) struct UserProfileDoc {
    #[schema(min_length = 5, max_length = 100, example = "jane.doe@example.com")]
    login: String,
    #[schema(
        format = "email",
        min_length = 5,
        max_length = 100,
        example = "jane.doe@example.com"
    )]
    email: String,
    #[schema(min_length = 1, max_length = 50, example = "Jane")]
    first_name: String,
    #[schema(min_length = 1, max_length = 50, example = "Doe")]
    last_name: String,
    display_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = User)]
#[allow(dead_code)]
pub(crate) struct UserDoc {
    id: String,
    #[schema(
        pattern = "^(STAGED|PROVISIONED|ACTIVE|RECOVERY|PASSWORD_EXPIRED|LOCKED_OUT|SUSPENDED|DEPROVISIONED)$"
    )]
    status: String,
    created: String,
    activated: Option<String>,
    status_changed: Option<String>,
    last_login: Option<String>,
    last_updated: String,
    password_changed: Option<String>,
    #[schema(value_type = Object)]
    r#type: Value,
    profile: UserProfileDoc,
    #[schema(value_type = Object)]
    credentials: Value,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// `POST /api/v1/users`: a profile, optionally a password and groups.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct CreateUserBody {
    profile: UserProfileDoc,
    #[schema(value_type = Option<Object>, example = json!({"password": {"value": "correct horse battery staple"}}))]
    credentials: Option<Value>,
    group_ids: Option<Vec<String>>,
}

/// `POST` (partial) or `PUT` (full) `/api/v1/users/{id}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct UpdateUserBody {
    #[schema(value_type = Option<Object>)]
    profile: Option<Value>,
    #[schema(value_type = Option<Object>)]
    credentials: Option<Value>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Group)]
#[allow(dead_code)]
pub(crate) struct GroupDoc {
    id: String,
    created: String,
    last_updated: String,
    last_membership_updated: String,
    object_class: Vec<String>,
    #[schema(pattern = "^(OKTA_GROUP|APP_GROUP|BUILT_IN)$")]
    r#type: String,
    profile: GroupProfileDoc,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// `POST` / `PUT` `/api/v1/groups[/{id}]`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct GroupBody {
    profile: GroupProfileDoc,
}

#[derive(Serialize, ToSchema)]
#[schema(as = GroupProfile)]
#[allow(dead_code)]
pub(crate) struct GroupProfileDoc {
    #[schema(min_length = 1, max_length = 255, example = "Engineering")]
    name: String,
    #[schema(max_length = 1024)]
    description: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Session)]
#[allow(dead_code)]
pub(crate) struct SessionDoc {
    id: String,
    user_id: String,
    login: String,
    created_at: String,
    expires_at: String,
    status: String,
    amr: Vec<String>,
    #[schema(value_type = Object)]
    idp: Value,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// An OIDC app integration.
#[derive(Serialize, ToSchema)]
#[schema(as = App)]
#[allow(dead_code)]
pub(crate) struct AppDoc {
    id: String,
    #[schema(example = "oidc_client")]
    name: String,
    label: String,
    #[schema(pattern = "^(ACTIVE|INACTIVE)$")]
    status: String,
    created: String,
    last_updated: String,
    #[schema(example = "OPENID_CONNECT")]
    sign_on_mode: String,
    /// `oauthClient`: `client_id`, `client_secret` (only when just created), `token_endpoint_auth_method`.
    #[schema(value_type = Object)]
    credentials: Value,
    /// `oauthClient`: `application_type`, `redirect_uris`, `grant_types`, `response_types`, ...
    #[schema(value_type = Object)]
    settings: Value,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// `POST /api/v1/apps` and `PUT /api/v1/apps/{id}`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct AppBody {
    #[schema(min_length = 1, max_length = 100, example = "NetBox")]
    label: String,
    #[schema(example = "oidc_client")]
    name: Option<String>,
    #[schema(example = "OPENID_CONNECT")]
    sign_on_mode: Option<String>,
    #[schema(value_type = Option<Object>, example = json!({"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}}))]
    credentials: Option<Value>,
    #[schema(value_type = Object, example = json!({"oauthClient": {"application_type": "web", "grant_types": ["authorization_code"], "response_types": ["code"], "redirect_uris": ["https://netbox.example.com/oauth/complete/okta-openidconnect/"]}}))]
    settings: Value,
}

/// A group assigned to an app.
#[derive(Serialize, ToSchema)]
#[schema(as = ApplicationGroupAssignment)]
#[allow(dead_code)]
pub(crate) struct AppGroupDoc {
    id: String,
    priority: i64,
    last_updated: String,
    #[schema(value_type = Object)]
    profile: Value,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// `PUT /api/v1/apps/{id}/groups/{gid}` (optional).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct AppGroupBody {
    priority: Option<i64>,
}

/// A user assigned to an app, directly (`USER`) or through a group (`GROUP`).
#[derive(Serialize, ToSchema)]
#[schema(as = AppUser)]
#[allow(dead_code)]
pub(crate) struct AppUserDoc {
    id: String,
    created: String,
    last_updated: String,
    #[schema(pattern = "^(USER|GROUP)$")]
    scope: String,
    status: String,
    #[schema(value_type = Object)]
    credentials: Value,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// `POST /api/v1/apps/{id}/users`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct AppUserBody {
    /// A user id.
    id: String,
    #[schema(example = "USER")]
    scope: Option<String>,
}

/// A client secret: its hash always, its value only when just issued.
#[derive(Serialize, ToSchema)]
#[schema(as = OAuth2ClientSecret)]
#[allow(dead_code)]
pub(crate) struct ClientSecretDoc {
    id: String,
    status: String,
    #[serde(rename = "secret_hash")]
    secret_hash: String,
    #[serde(rename = "client_secret")]
    client_secret: Option<String>,
    created: String,
    last_updated: String,
}

/// An end-user dashboard tile.
#[derive(Serialize, ToSchema)]
#[schema(as = AppLink)]
#[allow(dead_code)]
pub(crate) struct AppLinkDoc {
    id: String,
    label: String,
    link_url: String,
    app_name: String,
    app_instance_id: String,
}

/// An Okta API scope granted to a service app.
#[derive(Serialize, ToSchema)]
#[schema(as = OAuth2ScopeConsentGrant)]
#[allow(dead_code)]
pub(crate) struct AppGrantDoc {
    id: String,
    status: String,
    created: String,
    last_updated: String,
    issuer: String,
    client_id: String,
    #[schema(example = "okta.users.read")]
    scope_id: String,
    source: String,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// A user's consent to one scope for one client (`source: END_USER`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UserOAuth2ScopeConsentGrant)]
#[allow(dead_code)]
pub(crate) struct UserGrantDoc {
    id: String,
    status: String,
    created: String,
    last_updated: String,
    issuer: String,
    client_id: String,
    user_id: String,
    scope_id: String,
    #[schema(example = "END_USER")]
    source: String,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// A client a user granted consent to (Okta's `OAuth2Client`).
#[derive(Serialize, ToSchema)]
#[schema(as = OAuth2Client)]
#[allow(dead_code)]
pub(crate) struct UserClientDoc {
    client_id: String,
    client_name: String,
    client_uri: Option<String>,
    logo_uri: Option<String>,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// `POST /api/v1/apps/{id}/grants`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct AppGrantBody {
    #[schema(example = "okta.users.read")]
    scope_id: String,
    /// The org authorization server's issuer.
    #[schema(example = "https://id.example.com")]
    issuer: String,
}

/// One scope of a trusted origin.
#[derive(Serialize, ToSchema)]
#[schema(as = TrustedOriginScope)]
#[allow(dead_code)]
pub(crate) struct TrustedOriginScopeDoc {
    #[serde(rename = "type")]
    #[schema(pattern = "^(CORS|REDIRECT|IFRAME_EMBED)$")]
    kind: String,
    #[serde(rename = "allowedOktaApps")]
    allowed_okta_apps: Option<Vec<String>>,
}

/// A trusted origin: an origin allowed to make CORS requests or to be redirected to.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TrustedOrigin)]
#[allow(dead_code)]
pub(crate) struct TrustedOriginDoc {
    id: String,
    name: String,
    #[schema(example = "http://localhost:8585")]
    origin: String,
    scopes: Vec<TrustedOriginScopeDoc>,
    #[schema(pattern = "^(ACTIVE|INACTIVE)$")]
    status: String,
    created: String,
    created_by: Option<String>,
    last_updated: String,
    last_updated_by: Option<String>,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// `POST /api/v1/trustedOrigins` and `PUT /api/v1/trustedOrigins/{id}`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct TrustedOriginBody {
    #[schema(min_length = 1, max_length = 255, example = "OpenMetadata")]
    name: String,
    #[schema(example = "http://localhost:8585")]
    origin: String,
    #[schema(example = json!([{"type": "CORS"}, {"type": "REDIRECT"}]))]
    scopes: Vec<TrustedOriginScopeDoc>,
}
