//! Users, groups and app integrations.

use crate::crypto::{PasswordError, hash_password, okta_id, random_token};
use crate::domain::*;
use crate::oauth2::client_assertion::sanitize_jwks;
use crate::oauth2::client_auth::secret_context;
use crate::provider::Provider;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// A field failed validation; `field` names it for the caller's error shape.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0} not found")]
    NotFound(String),
    /// A named record does not exist: `kind` is Okta's type name (`User`, `Group`, `App`).
    #[error("{kind} {key} not found")]
    Missing { kind: &'static str, key: String },
    /// The operation is never allowed on this record (e.g. deleting the built-in `Everyone`).
    #[error("{0}")]
    Forbidden(String),
    #[error("{field} is already in use")]
    Conflict { field: String },
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Password(#[from] PasswordError),
}

impl From<StoreError> for DirectoryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { constraint } => Self::Conflict { field: constraint },
            StoreError::NotFound => Self::NotFound("record".into()),
            other => Self::Store(other),
        }
    }
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> DirectoryError {
    DirectoryError::Invalid {
        field,
        message: message.into(),
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub login: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub display_name: Option<String>,
    pub password: Option<String>,
    /// Activate now (Okta's `activate=true`); without a password the user stays PROVISIONED.
    pub activate: bool,
}

/// Okta's minimal password policy: at least 8 characters.
pub const MIN_PASSWORD_LENGTH: usize = 8;

/// Okta's base-profile rules (the Python SDK enforces the same lengths on responses).
pub(crate) fn validate_profile(
    login: &str,
    email: &str,
    first_name: &str,
    last_name: &str,
) -> Result<(), DirectoryError> {
    if login.trim().len() < 5 || login.trim().len() > 100 {
        return Err(invalid("login", "must be 5 to 100 characters"));
    }
    let email = email.trim();
    if !email.contains('@') || email.len() < 5 || email.len() > 100 {
        return Err(invalid("email", "must be a valid email address"));
    }
    if first_name.trim().is_empty() || first_name.len() > 50 {
        return Err(invalid("firstName", "must be 1 to 50 characters"));
    }
    if last_name.trim().is_empty() || last_name.len() > 50 {
        return Err(invalid("lastName", "must be 1 to 50 characters"));
    }
    Ok(())
}

/// Checks the password policy and hashes the password (off the async runtime).
pub(crate) async fn new_password_hash(password: String) -> Result<String, DirectoryError> {
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(invalid(
            "password",
            format!("must be at least {MIN_PASSWORD_LENGTH} characters"),
        ));
    }
    Ok(hash_password(password).await?)
}

pub async fn create_user(provider: &Provider, new: NewUser) -> Result<User, DirectoryError> {
    validate_profile(&new.login, &new.email, &new.first_name, &new.last_name)?;
    let login = new.login.trim().to_owned();
    let email = new.email.trim().to_owned();
    let password_hash = match new.password {
        Some(p) => Some(new_password_hash(p).await?),
        None => None,
    };
    let now = provider.now();
    let status = match (new.activate, password_hash.is_some()) {
        (true, true) => UserStatus::Active,
        (true, false) => UserStatus::Provisioned,
        (false, _) => UserStatus::Staged,
    };
    let user = User {
        id: okta_id("00u"),
        status,
        login,
        email,
        first_name: new.first_name.trim().to_owned(),
        last_name: new.last_name.trim().to_owned(),
        display_name: new.display_name,
        password_changed: password_hash.as_ref().map(|_| now),
        password_hash,
        created: now,
        last_updated: now,
        activated: (status == UserStatus::Active).then_some(now),
        status_changed: Some(now),
        last_login: None,
    };
    provider.store.create_user(&user).await?;
    Ok(user)
}

pub async fn find_user_by_id_or_login(
    provider: &Provider,
    key: &str,
) -> Result<User, DirectoryError> {
    if let Some(u) = provider.store.find_user(key).await? {
        return Ok(u);
    }
    provider
        .store
        .find_user_by_login(key)
        .await?
        .ok_or_else(|| DirectoryError::Missing {
            kind: "User",
            key: key.to_owned(),
        })
}

pub async fn create_group(
    provider: &Provider,
    name: &str,
    description: &str,
) -> Result<Group, DirectoryError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 255 {
        return Err(invalid("name", "must be 1 to 255 characters"));
    }
    let now = provider.now();
    let group = Group {
        id: okta_id("00g"),
        name: name.to_owned(),
        description: description.to_owned(),
        group_type: GroupType::OktaGroup,
        created: now,
        last_updated: now,
    };
    provider.store.create_group(&group).await?;
    Ok(group)
}

pub async fn find_group_by_id_or_name(
    provider: &Provider,
    key: &str,
) -> Result<Group, DirectoryError> {
    if let Some(g) = provider.store.find_group(key).await? {
        return Ok(g);
    }
    provider
        .store
        .find_group_by_name(key)
        .await?
        .ok_or_else(|| DirectoryError::Missing {
            kind: "Group",
            key: key.to_owned(),
        })
}

pub async fn add_group_member(
    provider: &Provider,
    group: &Group,
    user: &User,
) -> Result<(), DirectoryError> {
    if group.group_type == GroupType::BuiltIn {
        return Err(invalid(
            "groupId",
            "membership of a built-in group cannot be changed",
        ));
    }
    provider.store.add_group_member(&group.id, &user.id).await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct NewOidcApp {
    pub label: String,
    pub application_type: ApplicationType,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Empty means the defaults for the application type.
    pub grant_types: Vec<String>,
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    pub initiate_login_uri: Option<String>,
    pub login_mode: Option<String>,
}

/// A created app and its client secret in clear text, which is shown this once.
#[derive(Debug, Clone)]
pub struct CreatedApp {
    pub app: App,
    pub client_secret: Option<String>,
}

/// Redirect URIs must be absolute, without fragments, and never `javascript:`/`data:`-like schemes.
pub fn validate_redirect_uri(field: &'static str, uri: &str) -> Result<(), DirectoryError> {
    let parsed = url::Url::parse(uri)
        .map_err(|_| invalid(field, format!("'{uri}' is not an absolute URI")))?;
    if parsed.fragment().is_some() {
        return Err(invalid(
            field,
            format!("'{uri}' must not contain a fragment"),
        ));
    }
    let scheme = parsed.scheme();
    if matches!(scheme, "javascript" | "data" | "vbscript" | "file") {
        return Err(invalid(
            field,
            format!("the scheme '{scheme}' is not allowed"),
        ));
    }
    if matches!(scheme, "http" | "https") && parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid(field, format!("'{uri}' has no host")));
    }
    Ok(())
}

pub async fn create_oidc_app(
    provider: &Provider,
    new: NewOidcApp,
) -> Result<CreatedApp, DirectoryError> {
    create_oidc_app_with(provider, new, OidcClientExtras::default()).await
}

/// Client metadata beyond [`NewOidcApp`] that dynamic client registration (RFC 7591) can set.
#[derive(Debug, Clone, Default)]
pub struct OidcClientExtras {
    /// `response_types` as registered; `None` derives them from the grant types.
    pub response_types: Option<Vec<String>>,
    /// The client's public keys, as submitted (private members are stripped, see
    /// [`sanitize_jwks`]).
    pub jwks: Option<serde_json::Value>,
    pub jwks_uri: Option<String>,
}

/// The grant types Okta allows per application type (its DCR documentation).
fn allowed_grant_types(kind: ApplicationType) -> &'static [&'static str] {
    match kind {
        ApplicationType::Service => &["client_credentials"],
        ApplicationType::Browser => &["authorization_code", "implicit", "refresh_token"],
        ApplicationType::Native => &[
            "authorization_code",
            "implicit",
            "password",
            "refresh_token",
        ],
        ApplicationType::Web => &[
            "authorization_code",
            "implicit",
            "refresh_token",
            "client_credentials",
        ],
    }
}

/// Validates an app's metadata and builds its settings (shared by create and update).
fn oidc_settings(
    new: NewOidcApp,
    extras: OidcClientExtras,
) -> Result<(String, OAuthClientSettings), DirectoryError> {
    let label = new.label.trim();
    if label.is_empty() || label.len() > 100 {
        return Err(invalid("label", "must be 1 to 100 characters"));
    }
    for uri in &new.redirect_uris {
        validate_redirect_uri("redirect_uris", uri)?;
    }
    for uri in &new.post_logout_redirect_uris {
        validate_redirect_uri("post_logout_redirect_uris", uri)?;
    }
    if let Some(uri) = &new.initiate_login_uri {
        validate_redirect_uri("initiate_login_uri", uri)?;
    }
    let kind = new.application_type;
    let grant_types = if new.grant_types.is_empty() {
        match kind {
            ApplicationType::Service => vec!["client_credentials".to_owned()],
            _ => vec!["authorization_code".to_owned()],
        }
    } else {
        let mut unique: Vec<String> = Vec::new();
        for g in new.grant_types {
            if !unique.contains(&g) {
                unique.push(g);
            }
        }
        unique
    };
    let allowed = allowed_grant_types(kind);
    if let Some(bad) = grant_types.iter().find(|g| !allowed.contains(&g.as_str())) {
        return Err(invalid(
            "grant_types",
            format!(
                "'{bad}' is not allowed for a '{kind}' application (allowed: {})",
                allowed.join(", ")
            ),
        ));
    }
    if grant_types.iter().any(|g| g == "authorization_code") && new.redirect_uris.is_empty() {
        return Err(invalid(
            "redirect_uris",
            "at least one sign-in redirect URI is required for the authorization_code grant",
        ));
    }
    let auth_method = new.token_endpoint_auth_method.unwrap_or(match kind {
        ApplicationType::Browser | ApplicationType::Native => TokenEndpointAuthMethod::None,
        _ => TokenEndpointAuthMethod::ClientSecretBasic,
    });
    if kind == ApplicationType::Browser && auth_method != TokenEndpointAuthMethod::None {
        return Err(invalid(
            "token_endpoint_auth_method",
            "single-page apps are public clients and use 'none'",
        ));
    }
    if auth_method == TokenEndpointAuthMethod::None
        && grant_types.iter().any(|g| g == "client_credentials")
    {
        return Err(invalid(
            "token_endpoint_auth_method",
            "the client_credentials grant needs a confidential client: 'none' is not allowed",
        ));
    }
    let jwks = extras
        .jwks
        .as_ref()
        .map(sanitize_jwks)
        .transpose()
        .map_err(|e| invalid("jwks", e.to_string()))?;
    let jwks_uri = match extras.jwks_uri {
        Some(uri) => {
            validate_jwks_uri(&uri)?;
            Some(uri)
        }
        None => None,
    };
    if auth_method == TokenEndpointAuthMethod::PrivateKeyJwt && jwks.is_none() {
        return Err(invalid(
            "jwks",
            "private_key_jwt needs the client's public keys inline in 'jwks' (Gatehouse does not fetch jwks_uri)",
        ));
    }
    let response_types = match extras.response_types {
        Some(list) if !list.is_empty() => {
            if let Some(bad) = list
                .iter()
                .find(|r| !matches!(r.as_str(), "code" | "token" | "id_token"))
            {
                return Err(invalid(
                    "response_types",
                    format!("'{bad}' is not a supported response type"),
                ));
            }
            let mut unique: Vec<String> = Vec::new();
            for r in list {
                if !unique.contains(&r) {
                    unique.push(r);
                }
            }
            unique
        }
        _ => {
            let mut derived = Vec::new();
            if grant_types.iter().any(|g| g == "authorization_code") {
                derived.push("code".to_owned());
            }
            if grant_types.iter().any(|g| g == "implicit") {
                derived.extend(["token".to_owned(), "id_token".to_owned()]);
            }
            derived
        }
    };
    let settings = OAuthClientSettings {
        application_type: kind,
        token_endpoint_auth_method: auth_method,
        redirect_uris: new.redirect_uris,
        post_logout_redirect_uris: new.post_logout_redirect_uris,
        grant_types,
        response_types,
        login_mode: new.login_mode.unwrap_or_else(|| {
            if new.initiate_login_uri.is_some() {
                "SPEC".into()
            } else {
                "DISABLED".into()
            }
        }),
        initiate_login_uri: new.initiate_login_uri,
        pkce_required: auth_method == TokenEndpointAuthMethod::None,
        issuer_mode: IssuerMode::Dynamic,
        jwks,
        jwks_uri,
    };
    Ok((label.to_owned(), settings))
}

/// `jwks_uri`: an absolute https URL without fragment or credentials.
fn validate_jwks_uri(uri: &str) -> Result<(), DirectoryError> {
    let parsed =
        url::Url::parse(uri).map_err(|_| invalid("jwks_uri", format!("'{uri}' is not a URL")))?;
    if parsed.scheme() != "https" || parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("jwks_uri", "must be an https URL"));
    }
    if parsed.fragment().is_some() || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "jwks_uri",
            "must not contain a fragment or credentials",
        ));
    }
    Ok(())
}

/// Whether an app with this auth method gets a client secret.
fn uses_secret(method: TokenEndpointAuthMethod) -> bool {
    matches!(
        method,
        TokenEndpointAuthMethod::ClientSecretBasic
            | TokenEndpointAuthMethod::ClientSecretPost
            | TokenEndpointAuthMethod::ClientSecretJwt
    )
}

/// Creates an OIDC app (Okta's `oidc_client`), with the metadata dynamic client registration
/// adds. [`create_oidc_app`] is this without extras.
pub async fn create_oidc_app_with(
    provider: &Provider,
    new: NewOidcApp,
    extras: OidcClientExtras,
) -> Result<CreatedApp, DirectoryError> {
    let (label, settings) = oidc_settings(new, extras)?;
    let now = provider.now();
    let id = okta_id("0oa");
    let secret = uses_secret(settings.token_endpoint_auth_method).then(|| random_token(48));
    let app = App {
        client_id: id.clone(),
        client_secret_sealed: secret
            .as_ref()
            .map(|s| provider.secrets.seal(&secret_context(&id), s.as_bytes())),
        id,
        name: "oidc_client".into(),
        label,
        status: AppStatus::Active,
        settings,
        created: now,
        last_updated: now,
    };
    provider.store.create_app(&app).await?;
    Ok(CreatedApp {
        app,
        client_secret: secret,
    })
}

/// Gives a client that authenticates with a secret a new one (returned this once); the old one
/// stops working at once. Clients without a secret method are refused.
pub async fn rotate_client_secret(
    provider: &Provider,
    mut app: App,
) -> Result<CreatedApp, DirectoryError> {
    if !uses_secret(app.settings.token_endpoint_auth_method) {
        return Err(invalid(
            "token_endpoint_auth_method",
            format!(
                "a '{}' client has no client secret",
                app.settings.token_endpoint_auth_method
            ),
        ));
    }
    let secret = random_token(48);
    app.client_secret_sealed = Some(
        provider
            .secrets
            .seal(&secret_context(&app.id), secret.as_bytes()),
    );
    app.last_updated = provider.now();
    provider.store.update_app(&app).await?;
    Ok(CreatedApp {
        app,
        client_secret: Some(secret),
    })
}

/// Replaces an OIDC app's metadata (dynamic client registration's `PUT`), with the same rules
/// as creation. The application type cannot change. A secret is kept while the auth method
/// uses one, made when it starts to (returned this once), and dropped when it stops.
pub async fn update_oidc_app(
    provider: &Provider,
    app: App,
    new: NewOidcApp,
    extras: OidcClientExtras,
) -> Result<CreatedApp, DirectoryError> {
    if new.application_type != app.settings.application_type {
        return Err(invalid("application_type", "cannot be changed"));
    }
    let (label, settings) = oidc_settings(new, extras)?;
    let mut app = app;
    let mut new_secret = None;
    if !uses_secret(settings.token_endpoint_auth_method) {
        app.client_secret_sealed = None;
    } else if app.client_secret_sealed.is_none() {
        let secret = random_token(48);
        app.client_secret_sealed = Some(
            provider
                .secrets
                .seal(&secret_context(&app.id), secret.as_bytes()),
        );
        new_secret = Some(secret);
    }
    app.label = label;
    app.settings = settings;
    app.last_updated = provider.now();
    provider.store.update_app(&app).await?;
    Ok(CreatedApp {
        app,
        client_secret: new_secret,
    })
}

pub async fn find_app_by_id_or_client_id(
    provider: &Provider,
    key: &str,
) -> Result<App, DirectoryError> {
    if let Some(a) = provider.store.find_app(key).await? {
        return Ok(a);
    }
    provider
        .store
        .find_app_by_client_id(key)
        .await?
        .ok_or_else(|| DirectoryError::Missing {
            kind: "App",
            key: key.to_owned(),
        })
}

pub async fn assign_group_to_app(
    provider: &Provider,
    app: &App,
    group: &Group,
) -> Result<(), DirectoryError> {
    provider
        .store
        .assign_app_group(&app.id, &group.id, 0)
        .await?;
    Ok(())
}

pub async fn assign_user_to_app(
    provider: &Provider,
    app: &App,
    user: &User,
) -> Result<(), DirectoryError> {
    provider.store.assign_app_user(&app.id, &user.id).await?;
    Ok(())
}

/// The app's client secret in clear text (for the console's copy button and the CLI).
pub fn reveal_client_secret(provider: &Provider, app: &App) -> Option<String> {
    let sealed = app.client_secret_sealed.as_deref()?;
    let raw = provider
        .secrets
        .open(&secret_context(&app.id), sealed)
        .ok()?;
    String::from_utf8(raw).ok()
}
