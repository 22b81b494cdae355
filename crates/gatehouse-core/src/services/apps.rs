//! OIDC app integrations: Okta's rules for an app's settings, creation (shared by the CLI and
//! `/api/v1/apps`), replacement, lifecycle, deletion, assignments and client secrets.

use std::collections::BTreeSet;

use crate::audit::{Actor, Entity, event_type as ev};
use crate::authz::claims::{RESERVED_CLAIMS, group_names, validate_group_filter};
use crate::crypto::{okta_id, random_token};
use crate::domain::text::limits;
use crate::domain::*;
use crate::oauth2::client_assertion::sanitize_jwks;
use crate::oauth2::client_auth::secret_context;
use crate::oauth2::grants::{DEVICE_CODE, GrantType};
use crate::provider::Provider;
use crate::services::directory_rules::{
    CreatedApp, DirectoryError, check_uri_chars, invalid, validate_redirect_uri,
};
use crate::services::filter::FilterError;
use crate::services::groups::split_page;
use crate::store::Page;

const RESPONSE_TYPES: [&str; 3] = ["code", "token", "id_token"];
const LOGIN_MODES: [&str; 3] = ["DISABLED", "SPEC", "OKTA"];
/// Okta's length rules for client ids and (custom) client secrets.
const CLIENT_ID_LEN: std::ops::RangeInclusive<usize> = 6..=100;
const CLIENT_SECRET_LEN: std::ops::RangeInclusive<usize> = 14..=100;

/// Everything an app's creator (or replacer) may choose. `None`/empty means Okta's default
/// for the application type.
#[derive(Debug, Clone)]
pub struct OidcAppSpec {
    pub label: String,
    pub application_type: ApplicationType,
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    pub pkce_required: Option<bool>,
    /// A chosen client id (Okta defaults it to the app id). Fixed once created.
    pub client_id: Option<String>,
    /// A chosen client secret (Okta generates one).
    pub client_secret: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub initiate_login_uri: Option<String>,
    /// `idp_initiated_login.mode`.
    pub login_mode: Option<String>,
    pub issuer_mode: Option<IssuerMode>,
    /// `TRUSTED` (the default) or `REQUIRED`.
    pub consent_method: Option<String>,
    /// `DISABLED` (the default) or `SUBDOMAIN`.
    pub wildcard_redirect: Option<String>,
    pub metadata: ClientMetadata,
    /// The client's public keys for `private_key_jwt` (private members are stripped, see
    /// [`sanitize_jwks`]).
    pub jwks: Option<serde_json::Value>,
    /// Where the client publishes its keys (https only; Gatehouse does not fetch it).
    pub jwks_uri: Option<String>,
    /// The `request_uri`s the client may send (OIDC Registration §2), fetched at authorize.
    pub request_uris: Vec<String>,
    /// The one algorithm its request objects must use (`none` included); `None`: any supported.
    pub request_object_signing_alg: Option<String>,
    /// Validated by the caller (it is fetched: see `services::clients`), stored as given.
    pub sector_identifier_uri: Option<String>,
    /// `refresh_token.rotation_type` (default: ROTATE for browser apps, STATIC otherwise).
    pub refresh_rotation: Option<RotationType>,
    /// `refresh_token.leeway` in seconds, 0 to 60 (default 30).
    pub refresh_leeway: Option<i64>,
    /// The Sign On tab's groups claim: `Some(None)` removes it, `None` keeps the current one
    /// (a replace through `/api/v1/apps`, which does not carry it, as in Okta).
    pub groups_claim: Option<Option<GroupsClaim>>,
    /// Create the app ACTIVE (Okta's `activate=true`, the default) or INACTIVE.
    pub active: bool,
}

impl OidcAppSpec {
    pub fn new(label: impl Into<String>, application_type: ApplicationType) -> Self {
        Self {
            label: label.into(),
            application_type,
            token_endpoint_auth_method: None,
            pkce_required: None,
            client_id: None,
            client_secret: None,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grant_types: vec![],
            response_types: vec![],
            initiate_login_uri: None,
            login_mode: None,
            issuer_mode: None,
            consent_method: None,
            wildcard_redirect: None,
            metadata: ClientMetadata::default(),
            jwks: None,
            jwks_uri: None,
            request_uris: vec![],
            request_object_signing_alg: None,
            sector_identifier_uri: None,
            refresh_rotation: None,
            refresh_leeway: None,
            groups_claim: None,
            active: true,
        }
    }
}

fn dedup(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(i) {
            out.push(i.clone());
        }
    }
    out
}

fn validate_web_uri(field: &'static str, uri: &str) -> Result<(), DirectoryError> {
    check_uri_chars(field, uri)?;
    let ok = url::Url::parse(uri)
        .ok()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("'{uri}' is not an absolute http(s) URL"),
        ))
    }
}

fn validate_label(label: &str) -> Result<String, DirectoryError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > limits::APP_LABEL {
        return Err(invalid(
            "label",
            format!("must be 1 to {} characters", limits::APP_LABEL),
        ));
    }
    if label.chars().any(char::is_control) {
        return Err(invalid("label", "must not contain control characters"));
    }
    Ok(label.to_owned())
}

/// The auth method after defaults, checked against the application type.
fn auth_method(spec: &OidcAppSpec) -> Result<TokenEndpointAuthMethod, DirectoryError> {
    use ApplicationType as T;
    use TokenEndpointAuthMethod as M;
    let kind = spec.application_type;
    let method = spec.token_endpoint_auth_method.unwrap_or(match kind {
        T::Browser | T::Native => M::None,
        T::Web | T::Service => M::ClientSecretBasic,
    });
    const FIELD: &str = "token_endpoint_auth_method";
    match (kind, method) {
        (T::Browser, m) if m != M::None => Err(invalid(
            FIELD,
            "single-page (browser) apps are public clients and must use 'none'",
        )),
        (T::Web | T::Service, M::None) => Err(invalid(
            FIELD,
            format!("{kind} apps are confidential clients and cannot use 'none'"),
        )),
        // private_key_jwt has no secret; `build_settings` requires its `jwks`.
        (_, m) => Ok(m),
    }
}

fn grant_types(spec: &OidcAppSpec) -> Result<Vec<String>, DirectoryError> {
    use ApplicationType as T;
    const FIELD: &str = "grant_types";
    let kind = spec.application_type;
    let grants = if spec.grant_types.is_empty() {
        vec![match kind {
            T::Service => "client_credentials".to_owned(),
            _ => "authorization_code".to_owned(),
        }]
    } else {
        dedup(&spec.grant_types)
    };
    // Only grant types the engine implements parse; Okta's others are refused by name.
    for g in &grants {
        GrantType::parse(g).map_err(|e| invalid(FIELD, e.to_string()))?;
    }
    let has = |g: &str| grants.iter().any(|x| x == g);
    match kind {
        T::Service if grants != ["client_credentials"] => {
            return Err(invalid(
                FIELD,
                "service apps can only use the client_credentials grant",
            ));
        }
        T::Browser | T::Native if has("client_credentials") => {
            return Err(invalid(
                FIELD,
                format!("{kind} apps are public clients and cannot use client_credentials"),
            ));
        }
        T::Web if !has("authorization_code") => {
            return Err(invalid(
                FIELD,
                "web apps must use the authorization_code grant",
            ));
        }
        // RFC 8628 is for devices: native apps (where it may be the only grant) and web apps.
        T::Browser if has(DEVICE_CODE) => {
            return Err(invalid(
                FIELD,
                format!("{kind} apps cannot use the device authorization grant"),
            ));
        }
        T::Native if has(DEVICE_CODE) => {}
        T::Browser | T::Native if !has("authorization_code") && !has("implicit") => {
            return Err(invalid(
                FIELD,
                format!("{kind} apps need the authorization_code or implicit grant"),
            ));
        }
        _ => {}
    }
    if has("refresh_token") && !has("authorization_code") && !has(DEVICE_CODE) {
        return Err(invalid(
            FIELD,
            "refresh_token needs the authorization_code grant",
        ));
    }
    Ok(grants)
}

fn response_types(spec: &OidcAppSpec, grants: &[String]) -> Result<Vec<String>, DirectoryError> {
    const FIELD: &str = "response_types";
    let has_grant = |g: &str| grants.iter().any(|x| x == g);
    if spec.response_types.is_empty() {
        let mut out = Vec::new();
        if has_grant("authorization_code") {
            out.push("code".to_owned());
        }
        if has_grant("implicit") {
            out.extend(["token".to_owned(), "id_token".to_owned()]);
        }
        return Ok(out);
    }
    let types = dedup(&spec.response_types);
    for t in &types {
        if !RESPONSE_TYPES.contains(&t.as_str()) {
            return Err(invalid(
                FIELD,
                format!("'{t}' is not a valid response type"),
            ));
        }
    }
    let has = |t: &str| types.iter().any(|x| x == t);
    if has("code") != has_grant("authorization_code") {
        return Err(invalid(
            FIELD,
            "'code' goes with, and only with, the authorization_code grant",
        ));
    }
    // Okta's registration examples for service apps pair `client_credentials` with
    // `response_types: ["token"]` (the token endpoint's response), so that is accepted too.
    let token_only_service = has_grant("client_credentials")
        && !has_grant("implicit")
        && has("token")
        && !has("id_token");
    if (has("token") || has("id_token")) != has_grant("implicit") && !token_only_service {
        return Err(invalid(
            FIELD,
            "'token' and 'id_token' go with, and only with, the implicit grant",
        ));
    }
    Ok(types)
}

/// Okta's rules for an OIDC app's client settings, with its defaults filled in.
pub fn build_settings(spec: &OidcAppSpec) -> Result<OAuthClientSettings, DirectoryError> {
    use ApplicationType as T;
    let kind = spec.application_type;
    let method = auth_method(spec)?;
    let grants = grant_types(spec)?;
    let response_types = response_types(spec, &grants)?;
    let redirect_uris = dedup(&spec.redirect_uris);
    let post_logout = dedup(&spec.post_logout_redirect_uris);
    for uri in &redirect_uris {
        validate_redirect_uri("redirect_uris", uri)?;
    }
    for uri in &post_logout {
        validate_redirect_uri("post_logout_redirect_uris", uri)?;
    }
    if let Some(uri) = &spec.initiate_login_uri {
        validate_web_uri("initiate_login_uri", uri)?;
    }
    let m = &spec.metadata;
    for (field, uri) in [
        ("client_uri", &m.client_uri),
        ("logo_uri", &m.logo_uri),
        ("policy_uri", &m.policy_uri),
        ("tos_uri", &m.tos_uri),
    ] {
        if let Some(uri) = uri {
            validate_web_uri(field, uri)?;
        }
    }
    if kind == T::Service {
        for (field, empty) in [
            ("redirect_uris", redirect_uris.is_empty()),
            ("post_logout_redirect_uris", post_logout.is_empty()),
            ("initiate_login_uri", spec.initiate_login_uri.is_none()),
        ] {
            if !empty {
                return Err(invalid(field, "service apps have no browser redirects"));
            }
        }
    }
    let redirecting = grants
        .iter()
        .any(|g| g == "authorization_code" || g == "implicit");
    if redirecting && redirect_uris.is_empty() {
        return Err(invalid(
            "redirect_uris",
            "at least one sign-in redirect URI is required for the authorization_code and implicit grants",
        ));
    }
    let pkce_required = match (method, spec.pkce_required) {
        (TokenEndpointAuthMethod::None, Some(false)) => {
            return Err(invalid(
                "pkce_required",
                "public clients (token_endpoint_auth_method 'none') must require PKCE",
            ));
        }
        (TokenEndpointAuthMethod::None, _) => true,
        (_, p) => p.unwrap_or(false),
    };
    let login_mode = match &spec.login_mode {
        Some(mode) if !LOGIN_MODES.contains(&mode.as_str()) => {
            return Err(invalid(
                "mode",
                format!("'{mode}' is not one of DISABLED, SPEC, OKTA"),
            ));
        }
        Some(mode) => mode.clone(),
        None if spec.initiate_login_uri.is_some() => "SPEC".to_owned(),
        None => "DISABLED".to_owned(),
    };
    if login_mode == "SPEC" && spec.initiate_login_uri.is_none() {
        return Err(invalid(
            "initiate_login_uri",
            "required when idp_initiated_login.mode is SPEC",
        ));
    }
    let consent_method = match spec.consent_method.as_deref() {
        None => ConsentMethod::Trusted,
        Some(raw) => ConsentMethod::parse(raw).ok_or_else(|| {
            invalid(
                "consent_method",
                format!("'{raw}' is not one of REQUIRED, TRUSTED"),
            )
        })?,
    };
    match spec.wildcard_redirect.as_deref() {
        None | Some("DISABLED") => {}
        Some("SUBDOMAIN") => {
            return Err(invalid(
                "wildcard_redirect",
                "SUBDOMAIN is not supported: redirect URIs match exactly",
            ));
        }
        Some(other) => {
            return Err(invalid(
                "wildcard_redirect",
                format!("'{other}' is not one of DISABLED, SUBDOMAIN"),
            ));
        }
    }
    let jwks = spec
        .jwks
        .as_ref()
        .map(sanitize_jwks)
        .transpose()
        .map_err(|e| invalid("jwks", e.to_string()))?;
    if let Some(uri) = &spec.jwks_uri {
        validate_fetched_uri("jwks_uri", uri, false)?;
    }
    if let Some(uri) = &spec.sector_identifier_uri {
        validate_fetched_uri("sector_identifier_uri", uri, false)?;
    }
    let request_uris = dedup(&spec.request_uris);
    if request_uris.len() > MAX_REQUEST_URIS {
        return Err(invalid(
            "request_uris",
            format!("at most {MAX_REQUEST_URIS} may be registered"),
        ));
    }
    for uri in &request_uris {
        // A fragment may carry a hash of the contents (OIDC Registration §2); it is not sent.
        validate_fetched_uri("request_uris", uri, true)?;
    }
    if let Some(alg) = &spec.request_object_signing_alg
        && !crate::oauth2::request_object::ALG_NAMES.contains(&alg.as_str())
    {
        return Err(invalid(
            "request_object_signing_alg",
            format!(
                "'{alg}' is not one of {}",
                crate::oauth2::request_object::ALG_NAMES.join(", ")
            ),
        ));
    }
    if method == TokenEndpointAuthMethod::PrivateKeyJwt && jwks.is_none() && spec.jwks_uri.is_none()
    {
        return Err(invalid(
            "jwks",
            "private_key_jwt needs the client's public keys: inline in 'jwks', or published at 'jwks_uri'",
        ));
    }
    let refresh_token = refresh_policy(spec)?;
    let groups_claim = spec.groups_claim.clone().flatten();
    if let Some(claim) = &groups_claim {
        validate_groups_claim(claim)?;
    }
    Ok(OAuthClientSettings {
        application_type: kind,
        token_endpoint_auth_method: method,
        redirect_uris,
        post_logout_redirect_uris: post_logout,
        grant_types: grants,
        response_types,
        initiate_login_uri: spec.initiate_login_uri.clone(),
        metadata: ClientMetadata {
            default_scope: dedup(&m.default_scope),
            ..m.clone()
        },
        login_mode,
        pkce_required,
        issuer_mode: spec.issuer_mode.unwrap_or(IssuerMode::Dynamic),
        jwks,
        jwks_uri: spec.jwks_uri.clone(),
        refresh_token: Some(refresh_token),
        groups_claim,
        request_uris,
        request_object_signing_alg: spec.request_object_signing_alg.clone(),
        sector_identifier_uri: spec.sector_identifier_uri.clone(),
        consent_method,
    })
}

/// A groups claim needs a name that is no registered claim, and a filter that can run.
fn validate_groups_claim(claim: &GroupsClaim) -> Result<(), DirectoryError> {
    let name = claim.name.as_str();
    if name.is_empty() || name.len() > 100 || name.trim() != name {
        return Err(invalid(
            "groups_claim_name",
            "the claim name must be 1 to 100 characters, without surrounding spaces",
        ));
    }
    if RESERVED_CLAIMS.contains(&name) {
        return Err(invalid(
            "groups_claim_name",
            format!("'{name}' is a reserved claim"),
        ));
    }
    validate_group_filter(claim.filter_type, &claim.value)
        .map_err(|e| invalid("groups_claim_value", e))
}

/// The app's groups claim for this user: the names of their groups that pass the filter.
pub fn groups_claim_value(claim: &GroupsClaim, groups: &[Group]) -> Vec<String> {
    group_names(claim.filter_type, &claim.value, groups)
}

/// `refresh_token.{rotation_type,leeway}` with Okta's defaults and bounds.
fn refresh_policy(spec: &OidcAppSpec) -> Result<RefreshTokenPolicy, DirectoryError> {
    let default = RefreshTokenPolicy::default_for(spec.application_type);
    let leeway = spec.refresh_leeway.unwrap_or(default.leeway);
    if !RefreshTokenPolicy::LEEWAY.contains(&leeway) {
        return Err(invalid("leeway", "must be between 0 and 60 seconds"));
    }
    Ok(RefreshTokenPolicy {
        rotation_type: spec.refresh_rotation.unwrap_or(default.rotation_type),
        leeway,
    })
}

const MAX_REQUEST_URIS: usize = 20;

/// A URI the server fetches (`jwks_uri`, `sector_identifier_uri`, `request_uris`): an absolute
/// https URL without credentials, and without a fragment unless `fragment_ok` (http to a
/// loopback host passes here; [`check_fetched_uri_policy`] allows it only under the development
/// setting).
fn validate_fetched_uri(
    field: &'static str,
    uri: &str,
    fragment_ok: bool,
) -> Result<(), DirectoryError> {
    check_uri_chars(field, uri)?;
    let parsed =
        url::Url::parse(uri).map_err(|_| invalid(field, format!("'{uri}' is not a URL")))?;
    let loopback_http =
        parsed.scheme() == "http" && crate::oauth2::remote_jwks::check_uri(&parsed, true).is_ok();
    if !(parsed.scheme() == "https" || loopback_http) || parsed.host_str().is_none_or(str::is_empty)
    {
        return Err(invalid(field, "must be an https URL"));
    }
    if (parsed.fragment().is_some() && !fragment_ok)
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(invalid(field, "must not contain a fragment or credentials"));
    }
    Ok(())
}

/// The address rules for the URIs the server fetches that need the server's settings: no
/// private, loopback or link-local address literal, and http only to loopback under the
/// development setting.
pub(crate) fn check_fetched_uri_policy(
    provider: &Provider,
    settings: &OAuthClientSettings,
) -> Result<(), DirectoryError> {
    let uris = settings
        .jwks_uri
        .iter()
        .map(|u| ("jwks_uri", u))
        .chain(
            settings
                .sector_identifier_uri
                .iter()
                .map(|u| ("sector_identifier_uri", u)),
        )
        .chain(settings.request_uris.iter().map(|u| ("request_uris", u)));
    for (field, uri) in uris {
        let parsed =
            url::Url::parse(uri).map_err(|_| invalid(field, format!("'{uri}' is not a URL")))?;
        crate::oauth2::remote_jwks::check_uri(&parsed, provider.remote_jwks.allows_loopback_http())
            .map_err(|e| match e {
                crate::oauth2::remote_jwks::JwksFetchError::Refused(why)
                | crate::oauth2::remote_jwks::JwksFetchError::Failed(why) => {
                    invalid(field, format!("is not allowed: {why}"))
                }
            })?;
    }
    Ok(())
}

fn validate_client_id(client_id: &str) -> Result<(), DirectoryError> {
    let ok = CLIENT_ID_LEN.contains(&client_id.len())
        && client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "client_id",
            "must be 6 to 100 characters of A-Z a-z 0-9 - . _ ~",
        ))
    }
}

fn validate_client_secret(secret: &str) -> Result<(), DirectoryError> {
    let ok =
        CLIENT_SECRET_LEN.contains(&secret.len()) && secret.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "client_secret",
            "must be 14 to 100 printable ASCII characters without spaces",
        ))
    }
}

/// Whether clients with this method authenticate with a client secret.
fn uses_secret(method: TokenEndpointAuthMethod) -> bool {
    !matches!(
        method,
        TokenEndpointAuthMethod::None | TokenEndpointAuthMethod::PrivateKeyJwt
    )
}

/// The secret a client gets: the chosen one, or a fresh random one; none for public clients
/// and for private_key_jwt.
fn choose_secret(
    method: TokenEndpointAuthMethod,
    chosen: Option<&str>,
) -> Result<Option<String>, DirectoryError> {
    match (uses_secret(method), chosen) {
        (false, Some(_)) => Err(invalid(
            "client_secret",
            format!("clients using '{method}' have no client secret"),
        )),
        (false, None) => Ok(None),
        (_, Some(s)) => {
            validate_client_secret(s)?;
            Ok(Some(s.to_owned()))
        }
        (_, None) => Ok(Some(random_token(48))),
    }
}

/// Creates an OIDC app. The clear-text client secret is returned this once.
pub async fn create(
    provider: &Provider,
    actor: &Actor,
    spec: OidcAppSpec,
) -> Result<CreatedApp, DirectoryError> {
    let label = validate_label(&spec.label)?;
    let settings = build_settings(&spec)?;
    check_fetched_uri_policy(provider, &settings)?;
    if let Some(c) = &spec.client_id {
        validate_client_id(c)?;
    }
    let secret = choose_secret(
        settings.token_endpoint_auth_method,
        spec.client_secret.as_deref(),
    )?;
    let now = provider.now();
    let id = okta_id("0oa");
    let app = App {
        client_id: spec.client_id.clone().unwrap_or_else(|| id.clone()),
        id,
        name: "oidc_client".into(),
        label,
        status: if spec.active {
            AppStatus::Active
        } else {
            AppStatus::Inactive
        },
        settings,
        created: now,
        last_updated: now,
    };
    provider.store.create_app(&app).await?;
    if let Some(clear) = &secret {
        let sealed = seal_secret(provider, &app, clear, AppStatus::Active);
        if let Err(e) = provider
            .store
            .add_client_secret(&sealed, MAX_CLIENT_SECRETS)
            .await
        {
            // Without its secret the app is unusable: take it back.
            let _ = provider.store.delete_app(&app.id).await;
            return Err(e.into());
        }
    }
    provider.app_changed(&app.client_id);
    let target = vec![Entity::app(&app)];
    actor
        .record(provider, ev::APP_CREATE, "Add application", target)
        .await;
    Ok(CreatedApp {
        app,
        client_secret: secret,
    })
}

/// Replaces the app's label and settings (Okta's `PUT /api/v1/apps/{id}`); the status and the
/// client id stay. A client that becomes confidential gets a new secret, returned this once; a
/// chosen `client_secret` replaces the current one; one that becomes public loses its secret.
pub async fn replace(
    provider: &Provider,
    actor: &Actor,
    mut app: App,
    spec: OidcAppSpec,
) -> Result<CreatedApp, DirectoryError> {
    let label = validate_label(&spec.label)?;
    let mut settings = build_settings(&spec)?;
    if spec.groups_claim.is_none() {
        settings.groups_claim = app.settings.groups_claim.clone();
    }
    check_fetched_uri_policy(provider, &settings)?;
    if spec.client_id.as_ref().is_some_and(|c| *c != app.client_id) {
        return Err(invalid(
            "client_id",
            "the client id of an app cannot change",
        ));
    }
    let method = settings.token_endpoint_auth_method;
    let current = provider.store.list_client_secrets(&app.id).await?;
    // The secrets to put in place of the current ones, if they change.
    let mut replacement = None;
    let mut new_secret = None;
    if !uses_secret(method) {
        choose_secret(method, spec.client_secret.as_deref())?;
        if !current.is_empty() {
            replacement = Some(Vec::new());
        }
    } else if spec.client_secret.is_some() || current.is_empty() {
        let secret = choose_secret(method, spec.client_secret.as_deref())?;
        // Re-sending one of the current secrets (as SDKs echo it back) changes nothing.
        let known = current
            .iter()
            .filter_map(|s| reveal_secret(provider, s))
            .any(|c| secret.as_deref() == Some(c.as_str()));
        if let (Some(clear), false) = (&secret, known) {
            replacement = Some(vec![seal_secret(provider, &app, clear, AppStatus::Active)]);
            new_secret = secret;
        }
    }
    app.label = label;
    app.settings = settings;
    app.last_updated = provider.now();
    provider.store.update_app(&app).await?;
    if let Some(secrets) = &replacement {
        provider
            .store
            .replace_client_secrets(&app.id, secrets)
            .await?;
    }
    provider.app_changed(&app.client_id);
    let target = vec![Entity::app(&app)];
    actor
        .record(provider, ev::APP_UPDATE, "Update application", target)
        .await;
    Ok(CreatedApp {
        app,
        client_secret: new_secret,
    })
}

/// Keeps the app's settings that Okta's `/api/v1/apps` body has no field for (Gatehouse sets
/// them through dynamic client registration), so a full replacement through that API does not
/// drop them.
pub fn keep_registration_only_settings(spec: &mut OidcAppSpec, app: &App) {
    let s = &app.settings;
    spec.request_uris = s.request_uris.clone();
    spec.request_object_signing_alg = s.request_object_signing_alg.clone();
    spec.sector_identifier_uri = s.sector_identifier_uri.clone();
}

/// Activates or deactivates the app. An INACTIVE app's client cannot sign anyone in, nor
/// authenticate at the token endpoint.
pub async fn set_status(
    provider: &Provider,
    actor: &Actor,
    mut app: App,
    status: AppStatus,
) -> Result<App, DirectoryError> {
    if app.status != status {
        app.status = status;
        app.last_updated = provider.now();
        provider.store.update_app(&app).await?;
        provider.app_changed(&app.client_id);
    }
    let (event, message) = match status {
        AppStatus::Active => (ev::APP_ACTIVATE, "Activate application"),
        AppStatus::Inactive => (ev::APP_DEACTIVATE, "Deactivate application"),
    };
    actor
        .record(provider, event, message, vec![Entity::app(&app)])
        .await;
    Ok(app)
}

/// Deletes an INACTIVE app with its assignments; an ACTIVE one must be deactivated first.
pub async fn delete(provider: &Provider, actor: &Actor, app: &App) -> Result<(), DirectoryError> {
    if app.status == AppStatus::Active {
        return Err(DirectoryError::StillActive(app.id.clone()));
    }
    provider.store.delete_app(&app.id).await?;
    provider.app_changed(&app.client_id);
    let target = vec![Entity::app(app)];
    actor
        .record(provider, ev::APP_DELETE, "Delete application", target)
        .await;
    Ok(())
}

/// One page of apps matching `query`, and the next cursor.
pub async fn list(
    provider: &Provider,
    query: &AppQuery,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<App>, Option<String>), DirectoryError> {
    let limit = limit.max(1);
    let page = Page {
        after,
        limit: limit.saturating_add(1),
    };
    let apps = provider.store.search_apps(query, page).await?;
    Ok(split_page(apps, limit, |a| &a.id))
}

/// Parses Okta's app `filter`: `attr eq "value"` clauses on `id`, `name` and `status`,
/// joined by `and`.
pub fn parse_app_filter(filter: &str) -> Result<AppQuery, FilterError> {
    let mut query = AppQuery::default();
    let mut rest = filter.trim();
    loop {
        let (attr, after_attr) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(|| FilterError(format!("expected `attribute eq \"value\"` in '{rest}'")))?;
        let after_attr = after_attr.trim_start();
        let (op, after_op) = after_attr
            .split_once(char::is_whitespace)
            .ok_or_else(|| FilterError(format!("expected an operator after '{attr}'")))?;
        if !op.eq_ignore_ascii_case("eq") {
            return Err(FilterError(format!(
                "the operator '{op}' is not supported on apps (only eq)"
            )));
        }
        let after_op = after_op.trim_start();
        let quoted = after_op
            .strip_prefix('"')
            .ok_or_else(|| FilterError(format!("the value for '{attr}' must be quoted")))?;
        let (value, tail) = quoted
            .split_once('"')
            .ok_or_else(|| FilterError("unterminated string".into()))?;
        let value = value.to_owned();
        match attr {
            "id" => query.id = Some(value),
            "name" => query.name = Some(value),
            "status" => {
                query.status = Some(AppStatus::parse(&value).ok_or_else(|| {
                    FilterError(format!("'{value}' is not an app status (ACTIVE, INACTIVE)"))
                })?);
            }
            other => {
                return Err(FilterError(format!(
                    "filtering apps on '{other}' is not supported (id, name, status)"
                )));
            }
        }
        let tail = tail.trim();
        if tail.is_empty() {
            return Ok(query);
        }
        let (and, next) = tail
            .split_once(char::is_whitespace)
            .ok_or_else(|| FilterError(format!("unexpected '{tail}'")))?;
        if !and.eq_ignore_ascii_case("and") {
            return Err(FilterError(format!(
                "expected 'and' before '{tail}' (only 'and' joins app filters)"
            )));
        }
        rest = next.trim_start();
    }
}

// ---------------------------------------------------------------------------------------------
// Group assignments

/// Assigns (or re-prioritises) a group. Without a priority, a new assignment goes last and an
/// existing one keeps its priority.
pub async fn assign_group(
    provider: &Provider,
    actor: &Actor,
    app: &App,
    group: &Group,
    priority: Option<i64>,
) -> Result<AppGroupAssignment, DirectoryError> {
    if priority.is_some_and(|p| !(0..=i64::from(i32::MAX)).contains(&p)) {
        return Err(invalid("priority", "must be a non-negative integer"));
    }
    let existing = provider.store.list_app_group_assignments(&app.id).await?;
    let priority = match (priority, existing.iter().find(|a| a.group_id == group.id)) {
        (Some(p), _) => p,
        (None, Some(current)) => current.priority,
        (None, None) => existing
            .iter()
            .map(|a| a.priority.saturating_add(1))
            .max()
            .unwrap_or(0),
    };
    let is_new = !existing.iter().any(|a| a.group_id == group.id);
    provider
        .store
        .assign_app_group(&app.id, &group.id, priority)
        .await?;
    if is_new {
        let targets = vec![Entity::app(app), Entity::group(group)];
        actor
            .record(
                provider,
                ev::GROUP_APP_ASSIGNMENT_ADD,
                "Add assigned application to group",
                targets,
            )
            .await;
    }
    Ok(AppGroupAssignment {
        app_id: app.id.clone(),
        group_id: group.id.clone(),
        priority,
    })
}

/// One page of the app's group assignments (by priority), and the next cursor (a group id).
pub async fn list_group_assignments(
    provider: &Provider,
    app: &App,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<AppGroupAssignment>, Option<String>), DirectoryError> {
    let all = provider.store.list_app_group_assignments(&app.id).await?;
    // A cursor that is no longer assigned ends the listing rather than restarting it.
    let start = match after {
        Some(a) => all
            .iter()
            .position(|x| x.group_id == a)
            .map_or(all.len(), |i| i + 1),
        None => 0,
    };
    let rest: Vec<_> = all.into_iter().skip(start).collect();
    Ok(split_page(rest, limit.max(1), |a| &a.group_id))
}

pub async fn group_assignment(
    provider: &Provider,
    app: &App,
    group_id: &str,
) -> Result<AppGroupAssignment, DirectoryError> {
    provider
        .store
        .list_app_group_assignments(&app.id)
        .await?
        .into_iter()
        .find(|a| a.group_id == group_id)
        .ok_or_else(|| DirectoryError::Missing {
            kind: "ApplicationGroupAssignment",
            key: group_id.to_owned(),
        })
}

pub async fn unassign_group(
    provider: &Provider,
    actor: &Actor,
    app: &App,
    group_id: &str,
) -> Result<(), DirectoryError> {
    let assignment = group_assignment(provider, app, group_id).await?;
    provider
        .store
        .unassign_app_group(&app.id, &assignment.group_id)
        .await?;
    let group = match provider.store.find_group(&assignment.group_id).await? {
        Some(g) => Entity::group(&g),
        None => Entity::new(&assignment.group_id, "UserGroup"),
    };
    actor
        .record(
            provider,
            ev::GROUP_APP_ASSIGNMENT_REMOVE,
            "Remove assigned application from group",
            vec![Entity::app(app), group],
        )
        .await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// User assignments

/// How a user is assigned to an app (Okta's AppUser `scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentScope {
    User,
    Group,
}

impl AssignmentScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::Group => "GROUP",
        }
    }
}

/// Assigns the user directly. Deactivated users cannot be assigned.
pub async fn assign_user(
    provider: &Provider,
    actor: &Actor,
    app: &App,
    user: &User,
) -> Result<(), DirectoryError> {
    if user.status == UserStatus::Deprovisioned {
        return Err(invalid(
            "id",
            "a deactivated user cannot be assigned to an app",
        ));
    }
    let already = provider
        .store
        .list_app_users(&app.id)
        .await?
        .contains(&user.id);
    provider.store.assign_app_user(&app.id, &user.id).await?;
    if !already {
        actor
            .record(
                provider,
                ev::APP_USER_MEMBERSHIP_ADD,
                "Add user to application membership",
                vec![Entity::app(app), Entity::user(user)],
            )
            .await;
    }
    Ok(())
}

/// How the user is assigned: directly, or through a group. `Missing` when not at all.
pub async fn user_assignment(
    provider: &Provider,
    app: &App,
    user: &User,
) -> Result<AssignmentScope, DirectoryError> {
    let direct = provider.store.list_app_users(&app.id).await?;
    if direct.contains(&user.id) {
        Ok(AssignmentScope::User)
    } else if provider.store.is_user_assigned(&app.id, &user.id).await? {
        Ok(AssignmentScope::Group)
    } else {
        Err(DirectoryError::Missing {
            kind: "AppUser",
            key: user.id.clone(),
        })
    }
}

/// One page of the app's users, by id, with how each is assigned: directly (`USER`) or
/// through a group (`GROUP`), as Okta lists them. With `Everyone` assigned, that is every user.
pub async fn list_users(
    provider: &Provider,
    app: &App,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<(User, AssignmentScope)>, Option<String>), DirectoryError> {
    const CHUNK: u32 = 1000;
    let limit = limit.max(1);
    let direct: BTreeSet<String> = provider
        .store
        .list_app_users(&app.id)
        .await?
        .into_iter()
        .collect();
    let scope_of = |id: &str| {
        if direct.contains(id) {
            AssignmentScope::User
        } else {
            AssignmentScope::Group
        }
    };
    let mut groups = Vec::new();
    for id in provider.store.list_app_groups(&app.id).await? {
        if let Some(g) = provider.store.find_group(&id).await? {
            groups.push(g);
        }
    }
    if groups.iter().any(|g| g.group_type == GroupType::BuiltIn) {
        let page = Page {
            after,
            limit: limit.saturating_add(1),
        };
        let users = provider.store.search_users(None, page).await?;
        let (users, next) = split_page(users, limit, |u| &u.id);
        let users = users
            .into_iter()
            .map(|u| {
                let scope = scope_of(&u.id);
                (u, scope)
            })
            .collect();
        return Ok((users, next));
    }
    let mut ids = direct.clone();
    for g in &groups {
        let mut cursor: Option<String> = None;
        loop {
            let page = Page {
                after: cursor.as_deref(),
                limit: CHUNK,
            };
            let members = provider.store.list_group_members(&g.id, page).await?;
            let done = members.len() < CHUNK as usize;
            cursor = members.last().map(|u| u.id.clone());
            ids.extend(members.into_iter().map(|u| u.id));
            if done {
                break;
            }
        }
    }
    let ids: Vec<String> = ids
        .into_iter()
        .filter(|id| after.is_none_or(|a| id.as_str() > a))
        .collect();
    let (ids, next) = split_page(ids, limit, |id| id);
    let mut users = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(u) = provider.store.find_user(id).await? {
            users.push((u, scope_of(id)));
        }
    }
    Ok((users, next))
}

/// Removes a direct assignment; `Missing` when the user is not assigned directly.
pub async fn unassign_user(
    provider: &Provider,
    actor: &Actor,
    app: &App,
    user: &User,
) -> Result<(), DirectoryError> {
    if user_assignment(provider, app, user).await? != AssignmentScope::User {
        return Err(DirectoryError::Missing {
            kind: "AppUser",
            key: user.id.clone(),
        });
    }
    provider.store.unassign_app_user(&app.id, &user.id).await?;
    actor
        .record(
            provider,
            ev::APP_USER_MEMBERSHIP_REMOVE,
            "Remove user's application membership",
            vec![Entity::app(app), Entity::user(user)],
        )
        .await;
    Ok(())
}

/// The ACTIVE apps the user may sign in to (directly or through a group), by id.
pub async fn user_apps(provider: &Provider, user: &User) -> Result<Vec<App>, DirectoryError> {
    const CHUNK: u32 = 200;
    let query = AppQuery {
        status: Some(AppStatus::Active),
        ..AppQuery::default()
    };
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = Page {
            after: after.as_deref(),
            limit: CHUNK,
        };
        let apps = provider.store.search_apps(&query, page).await?;
        let done = apps.len() < CHUNK as usize;
        after = apps.last().map(|a| a.id.clone());
        for app in apps {
            if provider.store.is_user_assigned(&app.id, &user.id).await? {
                out.push(app);
            }
        }
        if done {
            return Ok(out);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Client secrets

/// A client secret as Okta shows it: its record, a fingerprint of its value (Okta's
/// `secret_hash`), and its value when just created (shown this once by the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSecretView {
    pub secret: ClientSecret,
    pub secret_hash: String,
    pub client_secret: Option<String>,
}

/// A client secret in clear text (for the console's copy button).
pub fn reveal_secret(provider: &Provider, secret: &ClientSecret) -> Option<String> {
    let raw = provider
        .secrets
        .open(&secret_context(&secret.app_id), &secret.secret_sealed)
        .ok()?;
    String::from_utf8(raw).ok()
}

fn view(provider: &Provider, secret: ClientSecret, clear: Option<String>) -> ClientSecretView {
    let value = clear.clone().or_else(|| reveal_secret(provider, &secret));
    ClientSecretView {
        // Keyed (see `SecretBox::fingerprint`): a plain SHA-256 readable with `okta.apps.read`
        // would let anyone test guesses of the secret offline.
        secret_hash: value
            .as_deref()
            .map(|v| {
                provider
                    .secrets
                    .fingerprint(&secret_context(&secret.app_id), v.as_bytes())
            })
            .unwrap_or_default(),
        client_secret: clear,
        secret,
    }
}

fn seal_secret(provider: &Provider, app: &App, clear: &str, status: AppStatus) -> ClientSecret {
    let now = provider.now();
    ClientSecret {
        id: okta_id("ocs"),
        app_id: app.id.clone(),
        secret_sealed: provider
            .secrets
            .seal(&secret_context(&app.id), clear.as_bytes()),
        status,
        created: now,
        last_updated: now,
    }
}

fn secret_entity(app: &App, secret: &ClientSecret) -> Vec<Entity> {
    vec![
        Entity::app(app),
        Entity::new(&secret.id, "OAuth2ClientSecret"),
    ]
}

/// The app's client secrets, oldest first, without their values.
pub async fn list_client_secrets(
    provider: &Provider,
    app: &App,
) -> Result<Vec<ClientSecretView>, DirectoryError> {
    let secrets = provider.store.list_client_secrets(&app.id).await?;
    Ok(secrets
        .into_iter()
        .map(|s| view(provider, s, None))
        .collect())
}

/// One of the app's client secrets, without its value.
pub async fn find_client_secret(
    provider: &Provider,
    app: &App,
    secret_id: &str,
) -> Result<ClientSecretView, DirectoryError> {
    provider
        .store
        .list_client_secrets(&app.id)
        .await?
        .into_iter()
        .find(|s| s.id == secret_id)
        .map(|s| view(provider, s, None))
        .ok_or_else(|| DirectoryError::Missing {
            kind: "OAuth2ClientSecret",
            key: secret_id.to_owned(),
        })
}

/// The app's newest active client secret in clear text (for the console and the CLI).
pub async fn current_client_secret(
    provider: &Provider,
    app: &App,
) -> Result<Option<String>, DirectoryError> {
    let secrets = provider.store.list_client_secrets(&app.id).await?;
    Ok(secrets
        .iter()
        .rev()
        .filter(|s| s.status == AppStatus::Active)
        .find_map(|s| reveal_secret(provider, s)))
}

fn require_secret_client(app: &App) -> Result<(), DirectoryError> {
    let method = app.settings.token_endpoint_auth_method;
    if uses_secret(method) {
        Ok(())
    } else {
        Err(invalid(
            "token_endpoint_auth_method",
            format!("clients using '{method}' have no client secret"),
        ))
    }
}

fn secret_rule(e: DirectoryError) -> DirectoryError {
    match e {
        DirectoryError::Conflict { field } => match field.as_str() {
            "client_secrets" => invalid(
                "client_secret",
                format!("an app can have at most {MAX_CLIENT_SECRETS} client secrets"),
            ),
            "last_active_secret" => invalid(
                "status",
                "the app's only active client secret cannot be deactivated",
            ),
            "active_secret" => invalid(
                "status",
                "an active client secret cannot be deleted: deactivate it first",
            ),
            _ => DirectoryError::Conflict { field },
        },
        DirectoryError::NotFound(_) => DirectoryError::NotFound("OAuth2ClientSecret".into()),
        other => other,
    }
}

/// Adds a client secret (random, or `chosen`) beside the app's others, `ACTIVE` unless told
/// otherwise (Okta's `POST /api/v1/apps/{id}/credentials/secrets`). The clear-text value is
/// returned this once; it is stored sealed.
pub async fn add_client_secret(
    provider: &Provider,
    actor: &Actor,
    app: &App,
    chosen: Option<&str>,
    status: AppStatus,
) -> Result<ClientSecretView, DirectoryError> {
    require_secret_client(app)?;
    let method = app.settings.token_endpoint_auth_method;
    let clear = choose_secret(method, chosen)?.unwrap_or_else(|| random_token(48));
    let secret = seal_secret(provider, app, &clear, status);
    provider
        .store
        .add_client_secret(&secret, MAX_CLIENT_SECRETS)
        .await
        .map_err(|e| secret_rule(e.into()))?;
    provider.app_changed(&app.client_id);
    actor
        .record(
            provider,
            ev::APP_UPDATE,
            "Create client secret",
            secret_entity(app, &secret),
        )
        .await;
    Ok(view(provider, secret, Some(clear)))
}

/// Activates or deactivates one of the app's client secrets; the app's last active secret
/// cannot be deactivated.
pub async fn set_client_secret_status(
    provider: &Provider,
    actor: &Actor,
    app: &App,
    secret_id: &str,
    status: AppStatus,
) -> Result<ClientSecretView, DirectoryError> {
    find_client_secret(provider, app, secret_id).await?;
    provider
        .store
        .set_client_secret_status(&app.id, secret_id, status, provider.now())
        .await
        .map_err(|e| secret_rule(e.into()))?;
    provider.app_changed(&app.client_id);
    let done = find_client_secret(provider, app, secret_id).await?;
    let message = match status {
        AppStatus::Active => "Activate client secret",
        AppStatus::Inactive => "Deactivate client secret",
    };
    actor
        .record(
            provider,
            ev::APP_UPDATE,
            message,
            secret_entity(app, &done.secret),
        )
        .await;
    Ok(done)
}

/// Deletes one of the app's client secrets; only an inactive one can go.
pub async fn delete_client_secret(
    provider: &Provider,
    actor: &Actor,
    app: &App,
    secret_id: &str,
) -> Result<(), DirectoryError> {
    let found = find_client_secret(provider, app, secret_id).await?;
    provider
        .store
        .delete_client_secret(&app.id, secret_id)
        .await
        .map_err(|e| secret_rule(e.into()))?;
    provider.app_changed(&app.client_id);
    actor
        .record(
            provider,
            ev::APP_UPDATE,
            "Delete client secret",
            secret_entity(app, &found.secret),
        )
        .await;
    Ok(())
}

/// Replaces all of the app's client secrets with one new one (random, or `chosen`): the old
/// ones stop working at once. The clear-text secret is returned this once.
pub async fn new_client_secret(
    provider: &Provider,
    actor: &Actor,
    mut app: App,
    chosen: Option<&str>,
) -> Result<(App, ClientSecretView), DirectoryError> {
    require_secret_client(&app)?;
    let method = app.settings.token_endpoint_auth_method;
    let clear = choose_secret(method, chosen)?.unwrap_or_else(|| random_token(48));
    let secret = seal_secret(provider, &app, &clear, AppStatus::Active);
    provider
        .store
        .replace_client_secrets(&app.id, std::slice::from_ref(&secret))
        .await?;
    app.last_updated = provider.now();
    provider.store.update_app(&app).await?;
    provider.app_changed(&app.client_id);
    actor
        .record(
            provider,
            ev::APP_UPDATE,
            "Regenerate client secret",
            secret_entity(&app, &secret),
        )
        .await;
    Ok((app, view(provider, secret, Some(clear))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: ApplicationType) -> OidcAppSpec {
        let mut s = OidcAppSpec::new("App", kind);
        if kind != ApplicationType::Service {
            s.redirect_uris = vec!["https://app.example/cb".into()];
        }
        s
    }

    fn field(r: Result<OAuthClientSettings, DirectoryError>) -> String {
        match r {
            Err(DirectoryError::Invalid { field, .. }) => field.to_owned(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn defaults_per_application_type() -> Result<(), DirectoryError> {
        let web = build_settings(&spec(ApplicationType::Web))?;
        assert_eq!(
            web.token_endpoint_auth_method,
            TokenEndpointAuthMethod::ClientSecretBasic
        );
        assert_eq!(web.grant_types, ["authorization_code"]);
        assert_eq!(web.response_types, ["code"]);
        assert!(!web.pkce_required);
        assert_eq!(web.login_mode, "DISABLED");

        let spa = build_settings(&spec(ApplicationType::Browser))?;
        assert_eq!(
            spa.token_endpoint_auth_method,
            TokenEndpointAuthMethod::None
        );
        assert!(spa.pkce_required);

        assert_eq!(
            web.refresh_token.map(|r| r.rotation_type),
            Some(RotationType::Static)
        );
        assert_eq!(
            spa.refresh_token,
            Some(RefreshTokenPolicy {
                rotation_type: RotationType::Rotate,
                leeway: 30
            })
        );
        let mut s = spec(ApplicationType::Browser);
        s.refresh_leeway = Some(61);
        assert_eq!(field(build_settings(&s)), "leeway");

        let svc = build_settings(&spec(ApplicationType::Service))?;
        assert_eq!(svc.grant_types, ["client_credentials"]);
        assert!(svc.response_types.is_empty());
        assert!(svc.redirect_uris.is_empty());
        Ok(())
    }

    #[test]
    fn okta_rules_name_the_field() {
        use ApplicationType as T;
        let mut s = spec(T::Browser);
        s.token_endpoint_auth_method = Some(TokenEndpointAuthMethod::ClientSecretBasic);
        assert_eq!(field(build_settings(&s)), "token_endpoint_auth_method");

        let mut s = spec(T::Browser);
        s.pkce_required = Some(false);
        assert_eq!(field(build_settings(&s)), "pkce_required");

        let mut s = spec(T::Service);
        s.redirect_uris = vec!["https://svc.example/cb".into()];
        assert_eq!(field(build_settings(&s)), "redirect_uris");

        let mut s = spec(T::Service);
        s.grant_types = vec!["client_credentials".into(), "authorization_code".into()];
        assert_eq!(field(build_settings(&s)), "grant_types");

        let mut s = spec(T::Service);
        s.token_endpoint_auth_method = Some(TokenEndpointAuthMethod::None);
        assert_eq!(field(build_settings(&s)), "token_endpoint_auth_method");

        let mut s = spec(T::Browser);
        s.grant_types = vec!["authorization_code".into(), "client_credentials".into()];
        assert_eq!(field(build_settings(&s)), "grant_types");

        let mut s = spec(T::Web);
        s.grant_types = vec!["refresh_token".into()];
        assert_eq!(field(build_settings(&s)), "grant_types");

        let mut s = spec(T::Web);
        s.grant_types = vec!["authorization_code".into(), "password".into()];
        assert_eq!(field(build_settings(&s)), "grant_types");

        let mut s = spec(T::Web);
        s.response_types = vec!["token".into()];
        assert_eq!(field(build_settings(&s)), "response_types");

        let mut s = spec(T::Web);
        s.grant_types = vec!["authorization_code".into(), "implicit".into()];
        s.response_types = vec!["code".into()];
        assert_eq!(field(build_settings(&s)), "response_types");

        let mut s = spec(T::Web);
        s.redirect_uris = vec![];
        assert_eq!(field(build_settings(&s)), "redirect_uris");

        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "https://a.example/cb#frag",
            "/relative",
        ] {
            let mut s = spec(T::Web);
            s.redirect_uris = vec![bad.into()];
            assert_eq!(field(build_settings(&s)), "redirect_uris", "{bad}");
        }

        let mut s = spec(T::Web);
        s.login_mode = Some("SPEC".into());
        assert_eq!(field(build_settings(&s)), "initiate_login_uri");

        let mut s = spec(T::Web);
        s.consent_method = Some("ALWAYS".into());
        assert_eq!(field(build_settings(&s)), "consent_method");
        s.consent_method = Some("REQUIRED".into());
        assert!(build_settings(&s).is_ok_and(|set| set.consent_method == ConsentMethod::Required));
        s.consent_method = None;
        assert!(build_settings(&s).is_ok_and(|set| set.consent_method == ConsentMethod::Trusted));

        let mut s = spec(T::Web);
        s.metadata.logo_uri = Some("javascript:x".into());
        assert_eq!(field(build_settings(&s)), "logo_uri");
    }

    #[test]
    fn private_key_jwt_service_apps_have_no_secret() -> Result<(), DirectoryError> {
        // seeds/004's ingestion client, as `POST /oauth2/v1/clients` will create it.
        let mut s = spec(ApplicationType::Service);
        s.token_endpoint_auth_method = Some(TokenEndpointAuthMethod::PrivateKeyJwt);
        // Without its public keys it cannot authenticate, so it is refused.
        assert!(matches!(
            build_settings(&s),
            Err(DirectoryError::Invalid { field: "jwks", .. })
        ));
        s.jwks = Some(serde_json::json!({"keys": [{
            "kty": "RSA", "kid": "k1", "e": "AQAB",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        }]}));
        let settings = build_settings(&s)?;
        assert_eq!(
            settings.token_endpoint_auth_method,
            TokenEndpointAuthMethod::PrivateKeyJwt
        );
        assert_eq!(
            choose_secret(settings.token_endpoint_auth_method, None)?,
            None
        );
        assert!(
            choose_secret(
                TokenEndpointAuthMethod::PrivateKeyJwt,
                Some("s3cr3t-s3cr3t-s3cr3t")
            )
            .is_err()
        );
        Ok(())
    }

    #[test]
    fn seed_netbox_terraform_app_is_accepted() -> Result<(), DirectoryError> {
        // seeds/001: web, authorization_code + client_credentials + implicit, code token id_token.
        let mut s = spec(ApplicationType::Web);
        s.grant_types = vec![
            "authorization_code".into(),
            "client_credentials".into(),
            "implicit".into(),
        ];
        s.response_types = vec!["code".into(), "token".into(), "id_token".into()];
        s.initiate_login_uri = Some("https://netbox.example.com/oauth/login/".into());
        s.login_mode = Some("SPEC".into());
        let settings = build_settings(&s)?;
        assert_eq!(settings.login_mode, "SPEC");
        Ok(())
    }

    #[test]
    fn app_filters() {
        let q = parse_app_filter(r#"status eq "ACTIVE" and name eq "oidc_client""#).ok();
        assert_eq!(
            q,
            Some(AppQuery {
                status: Some(AppStatus::Active),
                name: Some("oidc_client".into()),
                ..AppQuery::default()
            })
        );
        assert_eq!(
            parse_app_filter(r#"id eq "0oa1""#).ok().and_then(|q| q.id),
            Some("0oa1".into())
        );
        for bad in [
            r#"status eq "GONE""#,
            r#"status sw "A""#,
            r#"label eq "x""#,
            r#"status eq ACTIVE"#,
            r#"status eq "ACTIVE" or id eq "x""#,
            "status",
            "",
        ] {
            assert!(parse_app_filter(bad).is_err(), "{bad}");
        }
    }
}
