//! Okta-style dynamic client registration (RFC 7591, `/oauth2/v1/clients`): the registration
//! metadata, mapped onto the same OIDC apps as [`apps::create_oidc_app`] makes.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::audit::{Actor, Entity, event_type as ev};
use crate::domain::{App, ApplicationType, TokenEndpointAuthMethod, text};
use crate::provider::Provider;
use crate::services::apps::{self, CreatedApp, OidcAppSpec};
use crate::services::directory::DirectoryError;
use crate::store::{Page, StoreError};

/// An RFC 7591 §3.2.2 error.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// `invalid_redirect_uri`: a `redirect_uris` (or `post_logout_redirect_uris`) value.
    #[error("{0}")]
    InvalidRedirectUri(String),
    /// `invalid_client_metadata`: any other field.
    #[error("{0}")]
    InvalidClientMetadata(String),
    #[error("client {0} not found")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RegistrationError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRedirectUri(_) => "invalid_redirect_uri",
            Self::InvalidClientMetadata(_) => "invalid_client_metadata",
            Self::NotFound(_) => "not_found",
            Self::Store(_) => "server_error",
        }
    }
}

fn metadata_error(field: &str, message: impl std::fmt::Display) -> RegistrationError {
    let text = format!("`{field}`: {message}");
    if matches!(field, "redirect_uris" | "post_logout_redirect_uris") {
        RegistrationError::InvalidRedirectUri(text)
    } else {
        RegistrationError::InvalidClientMetadata(text)
    }
}

impl From<DirectoryError> for RegistrationError {
    fn from(e: DirectoryError) -> Self {
        match e {
            // The directory calls the name `label`; registration calls it `client_name`.
            DirectoryError::Invalid { field, message } => metadata_error(
                if field == "label" {
                    "client_name"
                } else {
                    field
                },
                message,
            ),
            DirectoryError::Conflict { field } => metadata_error(&field, "is already in use"),
            DirectoryError::NotFound(what) => Self::NotFound(what),
            DirectoryError::Missing { key, .. } => Self::NotFound(key),
            DirectoryError::Forbidden(m) => Self::InvalidClientMetadata(m),
            DirectoryError::StillActive(id) => {
                Self::InvalidClientMetadata(format!("the client {id} is active"))
            }
            DirectoryError::Store(s) => Self::Store(s),
            DirectoryError::Password(p) => Self::Store(StoreError::Backend(Box::new(p))),
        }
    }
}

/// The registration request body. Unknown members are ignored and not stored. The descriptive
/// URIs are shown on the consent page.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClientMetadata {
    pub client_name: Option<String>,
    pub application_type: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub response_types: Vec<String>,
    pub grant_types: Vec<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub initiate_login_uri: Option<String>,
    pub jwks: Option<Value>,
    pub jwks_uri: Option<String>,
    pub request_uris: Vec<String>,
    pub request_object_signing_alg: Option<String>,
    pub sector_identifier_uri: Option<String>,
    /// OpenID Connect Back-Channel Logout 1.0 §2.2.
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: Option<bool>,
    pub subject_type: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    /// Okta's extension: `REQUIRED` (the default for registered clients, as in Okta) or
    /// `TRUSTED`.
    pub consent_method: Option<String>,
}

impl ClientMetadata {
    /// Parses a JSON body; type errors are `invalid_client_metadata`.
    pub fn from_json(value: Value) -> Result<Self, RegistrationError> {
        if !value.is_object() {
            return Err(RegistrationError::InvalidClientMetadata(
                "The request body must be a JSON object.".into(),
            ));
        }
        // The same input rule as every other JSON body (`/api/v1` too).
        if let Some(path) = text::forbidden_json_path(&value) {
            return Err(metadata_error(&path, text::FORBIDDEN_CHAR_MESSAGE));
        }
        serde_json::from_value(value)
            .map_err(|e| RegistrationError::InvalidClientMetadata(format!("Invalid metadata: {e}")))
    }

    fn into_spec(self) -> Result<OidcAppSpec, RegistrationError> {
        let label = self
            .client_name
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| metadata_error("client_name", "The field can't be left blank."))?;
        let application_type = match self.application_type.as_deref() {
            None => ApplicationType::Web,
            Some(t) => ApplicationType::parse(t).ok_or_else(|| {
                metadata_error(
                    "application_type",
                    format!("'{t}' is not one of web, browser, native, service."),
                )
            })?,
        };
        let token_endpoint_auth_method = match self.token_endpoint_auth_method.as_deref() {
            None => None,
            Some(m) => Some(TokenEndpointAuthMethod::parse(m).ok_or_else(|| {
                metadata_error(
                    "token_endpoint_auth_method",
                    format!("'{m}' is not a supported authentication method."),
                )
            })?),
        };
        let mut spec = OidcAppSpec::new(label, application_type);
        spec.redirect_uris = self.redirect_uris;
        spec.post_logout_redirect_uris = self.post_logout_redirect_uris;
        spec.grant_types = self.grant_types;
        spec.response_types = self.response_types;
        spec.token_endpoint_auth_method = token_endpoint_auth_method;
        spec.initiate_login_uri = self.initiate_login_uri;
        spec.jwks = self.jwks;
        spec.jwks_uri = self.jwks_uri;
        spec.backchannel_logout_uri = self.backchannel_logout_uri;
        spec.backchannel_logout_session_required =
            self.backchannel_logout_session_required.unwrap_or(false);
        match self.subject_type.as_deref() {
            None | Some("public") => {}
            Some(other) => {
                return Err(metadata_error(
                    "subject_type",
                    format!("'{other}' is not supported: subjects are public"),
                ));
            }
        }
        spec.request_uris = self.request_uris;
        spec.request_object_signing_alg = self.request_object_signing_alg;
        spec.sector_identifier_uri = self.sector_identifier_uri;
        spec.metadata.client_uri = self.client_uri;
        spec.metadata.logo_uri = self.logo_uri;
        spec.metadata.tos_uri = self.tos_uri;
        spec.metadata.policy_uri = self.policy_uri;
        spec.consent_method = Some(self.consent_method.unwrap_or_else(|| "REQUIRED".into()));
        Ok(spec)
    }
}

/// `POST /oauth2/v1/clients`.
pub async fn register(
    provider: &Provider,
    actor: &Actor,
    metadata: ClientMetadata,
) -> Result<CreatedApp, RegistrationError> {
    let spec = metadata.into_spec()?;
    check_sector_identifier(provider, &spec).await?;
    Ok(apps::create(provider, actor, spec).await?)
}

/// A sector larger than this many redirect URIs is refused.
const MAX_SECTOR_URIS: usize = 1000;

/// OIDC Registration §5: the `sector_identifier_uri` is fetched (https, with the SSRF rules
/// of the jwks fetcher) and must be a JSON array of strings holding every redirect URI being
/// registered. Nothing is fetched until the metadata is otherwise valid.
async fn check_sector_identifier(
    provider: &Provider,
    spec: &OidcAppSpec,
) -> Result<(), RegistrationError> {
    let Some(uri) = &spec.sector_identifier_uri else {
        return Ok(());
    };
    // URL form and address rules first, so a refused URI is never fetched.
    let settings = apps::build_settings(spec)?;
    apps::check_fetched_uri_policy(provider, &settings)?;
    let field = "sector_identifier_uri";
    let body = provider
        .remote_jwks
        .fetch_document(uri)
        .await
        .map_err(|e| {
            let why = match e {
                crate::oauth2::remote_jwks::JwksFetchError::Refused(w)
                | crate::oauth2::remote_jwks::JwksFetchError::Failed(w) => w,
            };
            metadata_error(field, format!("could not be used: {why}"))
        })?;
    let listed: Vec<String> = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(items)) if items.len() <= MAX_SECTOR_URIS => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(metadata_error(field, "must hold a JSON array of strings")),
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(metadata_error(
                field,
                "must hold a JSON array of redirect URIs",
            ));
        }
    };
    if let Some(missing) = settings
        .redirect_uris
        .iter()
        .find(|r| !listed.iter().any(|l| l == *r))
    {
        return Err(metadata_error(
            field,
            format!("does not list the redirect URI '{missing}'"),
        ));
    }
    Ok(())
}

/// The OIDC app behind a client id.
pub async fn find(provider: &Provider, client_id: &str) -> Result<App, RegistrationError> {
    provider
        .store
        .find_app_by_client_id(client_id)
        .await?
        .filter(|a| a.name == "oidc_client")
        .ok_or_else(|| RegistrationError::NotFound(client_id.to_owned()))
}

/// `PUT /oauth2/v1/clients/{clientId}`: replaces the metadata.
pub async fn update(
    provider: &Provider,
    actor: &Actor,
    client_id: &str,
    metadata: ClientMetadata,
) -> Result<CreatedApp, RegistrationError> {
    let app = find(provider, client_id).await?;
    let spec = metadata.into_spec()?;
    check_sector_identifier(provider, &spec).await?;
    if spec.application_type != app.settings.application_type {
        return Err(metadata_error("application_type", "cannot be changed"));
    }
    Ok(apps::replace(provider, actor, app, spec).await?)
}

/// `POST /oauth2/v1/clients/{clientId}/lifecycle/newSecret`.
pub async fn new_secret(
    provider: &Provider,
    actor: &Actor,
    client_id: &str,
) -> Result<CreatedApp, RegistrationError> {
    let app = find(provider, client_id).await?;
    let (app, secret) = apps::new_client_secret(provider, actor, app, None).await?;
    Ok(CreatedApp {
        app,
        client_secret: secret.client_secret,
    })
}

/// `DELETE /oauth2/v1/clients/{clientId}`: removes the app, its assignments and grants.
pub async fn delete(
    provider: &Provider,
    actor: &Actor,
    client_id: &str,
) -> Result<(), RegistrationError> {
    let app = find(provider, client_id).await?;
    provider.store.delete_app(&app.id).await?;
    provider.app_changed(&app.client_id);
    let target = vec![Entity::app(&app)];
    actor
        .record(provider, ev::APP_DELETE, "Delete application", target)
        .await;
    Ok(())
}

/// `GET /oauth2/v1/clients`: OIDC apps ordered by id, `limit` at a time after `after`, whose
/// name starts with `q` (ignoring case) if given. Returns the page and the next cursor.
pub async fn list(
    provider: &Provider,
    q: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<App>, Option<String>), RegistrationError> {
    let q = q.map(str::to_lowercase);
    let mut out = Vec::new();
    let mut cursor = after.map(str::to_owned);
    loop {
        let batch = provider
            .store
            .list_apps(Page {
                after: cursor.as_deref(),
                limit: limit.max(20),
            })
            .await?;
        let exhausted = batch.len() < limit.max(20) as usize;
        for app in batch {
            cursor = Some(app.id.clone());
            let matches = app.name == "oidc_client"
                && q.as_deref()
                    .is_none_or(|q| app.label.to_lowercase().starts_with(q));
            if matches {
                out.push(app);
                if out.len() == limit as usize {
                    return Ok((out, cursor));
                }
            }
        }
        if exhausted {
            return Ok((out, None));
        }
    }
}

/// The RFC 7591 client information response. `client_secret` (with
/// `client_secret_expires_at: 0`, it never expires) appears only when one was just issued.
pub fn client_json(app: &App, client_secret: Option<&str>) -> Value {
    let s = &app.settings;
    let mut out = json!({
        "client_id": app.client_id,
        "client_id_issued_at": app.created,
        "client_name": app.label,
        "application_type": s.application_type.as_str(),
        "redirect_uris": s.redirect_uris,
        "post_logout_redirect_uris": s.post_logout_redirect_uris,
        "response_types": s.response_types,
        "grant_types": s.grant_types,
        "token_endpoint_auth_method": s.token_endpoint_auth_method.as_str(),
        "frontchannel_logout_session_required": false,
        "backchannel_logout_session_required": s.backchannel_logout_session_required,
    });
    if let Some(map) = out.as_object_mut() {
        if let Some(secret) = client_secret {
            map.insert("client_secret".into(), json!(secret));
            map.insert("client_secret_expires_at".into(), json!(0));
        }
        if let Some(uri) = &s.initiate_login_uri {
            map.insert("initiate_login_uri".into(), json!(uri));
        }
        if let Some(jwks) = &s.jwks {
            map.insert("jwks".into(), json!(jwks));
        }
        if let Some(uri) = &s.backchannel_logout_uri {
            map.insert("backchannel_logout_uri".into(), json!(uri));
        }
        if let Some(uri) = &s.jwks_uri {
            map.insert("jwks_uri".into(), json!(uri));
        }
        if !s.request_uris.is_empty() {
            map.insert("request_uris".into(), json!(s.request_uris));
        }
        if let Some(alg) = &s.request_object_signing_alg {
            map.insert("request_object_signing_alg".into(), json!(alg));
        }
        let m = &s.metadata;
        for (name, value) in [
            ("client_uri", &m.client_uri),
            ("logo_uri", &m.logo_uri),
            ("tos_uri", &m.tos_uri),
            ("policy_uri", &m.policy_uri),
        ] {
            if let Some(uri) = value {
                map.insert(name.into(), json!(uri));
            }
        }
        if let Some(uri) = &s.sector_identifier_uri {
            map.insert("sector_identifier_uri".into(), json!(uri));
            map.insert("subject_type".into(), json!("public"));
        }
    }
    out
}
