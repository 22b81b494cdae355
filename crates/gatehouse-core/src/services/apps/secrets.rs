//! An app's client secrets: Okta's rules for them, sealing and revealing, and their
//! management (`/api/v1/apps/{id}/credentials/secrets`).

use crate::audit::{Actor, Entity, event_type as ev};
use crate::crypto::{okta_id, random_token};
use crate::domain::*;
use crate::oauth2::client_auth::secret_context;
use crate::provider::Provider;
use crate::services::directory_rules::{DirectoryError, invalid};

/// Okta's length rule for (custom) client secrets.
const CLIENT_SECRET_LEN: std::ops::RangeInclusive<usize> = 14..=100;

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
pub(super) fn uses_secret(method: TokenEndpointAuthMethod) -> bool {
    !matches!(
        method,
        TokenEndpointAuthMethod::None | TokenEndpointAuthMethod::PrivateKeyJwt
    )
}

/// The secret a client gets: the chosen one, or a fresh random one; none for public clients
/// and for private_key_jwt.
pub(super) fn choose_secret(
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

pub(super) fn seal_secret(
    provider: &Provider,
    app: &App,
    clear: &str,
    status: AppStatus,
) -> ClientSecret {
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
