//! Management API tokens: created by an administrator (CLI, later the console), shown once,
//! stored as SHA-256, sent as `Authorization: SSWS <token>`.

use crate::audit::{Actor, Entity, event_type as ev};
use crate::crypto::{okta_id, random_token, sha256_b64url};
use crate::domain::{ApiToken, App, AppStatus, User};
use crate::oauth2::introspect::validate_access_token;
use crate::provider::Provider;
use crate::store::StoreError;

/// `last_used` is written at most this often per token (seconds), so busy clients do not turn
/// every API call into a database write.
pub const LAST_USED_RESOLUTION: i64 = 60;

/// The credential in an `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// `SSWS <api token>`.
    Ssws(&'a str),
    /// `Bearer <access token>`.
    Bearer(&'a str),
}

/// Parses `SSWS <token>` / `Bearer <token>`: the scheme ignores case, and zero or more spaces
/// may follow it (Okta's Python SDK sends `SSWS<token>`).
pub fn parse_authorization(header: &str) -> Option<Credential<'_>> {
    let header = header.trim();
    let strip = |scheme: &str| -> Option<&str> {
        let head = header.get(..scheme.len())?;
        if !head.eq_ignore_ascii_case(scheme) {
            return None;
        }
        let rest = header.get(scheme.len()..)?.trim_start_matches([' ', '\t']);
        (!rest.is_empty() && !rest.contains(char::is_whitespace)).then_some(rest)
    };
    if let Some(t) = strip("SSWS") {
        return Some(Credential::Ssws(t));
    }
    strip("Bearer").map(Credential::Bearer)
}

#[derive(Debug, thiserror::Error)]
pub enum ApiTokenError {
    /// Missing, unknown or revoked token, or one whose owner can no longer act.
    #[error("Invalid token provided")]
    InvalidToken,
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("API token {0} not found")]
    NotFound(String),
    /// A valid caller without the rights (scopes) for this request.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new token and its value in clear text, which is shown this once.
#[derive(Debug, Clone)]
pub struct CreatedApiToken {
    pub token: ApiToken,
    pub value: String,
}

/// Creates a token acting as `owner`, recorded as done by `actor`. The owner must be an
/// administrator: as in Okta, a token has its owner's rights, and only administrators may use
/// the management API. The value looks like Okta's: `00` and 40 random characters (240 bits).
pub async fn create_api_token(
    provider: &Provider,
    actor: &Actor,
    name: &str,
    owner: &User,
) -> Result<CreatedApiToken, ApiTokenError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiTokenError::Invalid {
            field: "name",
            message: "must be 1 to 100 characters".into(),
        });
    }
    if !owner_may_administer(provider, owner).await? {
        return Err(ApiTokenError::Invalid {
            field: "user",
            message: format!(
                "{} is not an active administrator (SUPER_ADMIN), and an API token acts with its owner's rights: give the role first (gatehouse user admin --user <login>, or the user's page in the admin console)",
                owner.login
            ),
        });
    }
    let value = format!("00{}", random_token(30));
    let token = ApiToken {
        id: okta_id("00T"),
        name: name.to_owned(),
        token_hash: sha256_b64url(&value),
        user_id: owner.id.clone(),
        created: provider.now(),
        last_used: None,
        revoked_at: None,
    };
    provider.store.create_api_token(&token).await?;
    let target = Entity::new(&token.id, "Token").named(None, Some(token.name.clone()));
    actor
        .record(
            provider,
            ev::API_TOKEN_CREATE,
            "Create API token",
            vec![target],
        )
        .await;
    Ok(CreatedApiToken { token, value })
}

async fn owner_may_administer(provider: &Provider, owner: &User) -> Result<bool, ApiTokenError> {
    crate::services::admin_roles::may_own_api_tokens(provider, owner)
        .await
        .map_err(|e| match e {
            crate::services::directory::DirectoryError::Store(e) => e.into(),
            other => StoreError::Backend(other.to_string().into()).into(),
        })
}

pub async fn list_api_tokens(provider: &Provider) -> Result<Vec<ApiToken>, ApiTokenError> {
    Ok(provider.store.list_api_tokens().await?)
}

pub async fn revoke_api_token(
    provider: &Provider,
    actor: &Actor,
    id: &str,
) -> Result<(), ApiTokenError> {
    match provider.store.revoke_api_token(id, provider.now()).await {
        Err(StoreError::NotFound) => Err(ApiTokenError::NotFound(id.to_owned())),
        Err(e) => Err(e.into()),
        Ok(()) => {
            let target = vec![Entity::new(id, "Token")];
            actor
                .record(provider, ev::API_TOKEN_REVOKE, "Revoke API token", target)
                .await;
            Ok(())
        }
    }
}

/// Who an API call acts as.
// One per request and never stored in bulk, so the variants' sizes don't matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum ApiCaller {
    /// `SSWS <api token>`: full administrator rights, acting as the token's owner.
    ApiToken { token: ApiToken, user: User },
    /// `Bearer <access token>` from the org server (a service app's `client_credentials`
    /// token): limited to its `okta.*` scopes that are still granted to the app.
    ServiceApp { app: App, scopes: Vec<String> },
}

impl ApiCaller {
    /// The administrator the call acts as (`/api/v1/users/me`); `None` for a service app.
    pub fn user(&self) -> Option<&User> {
        match self {
            Self::ApiToken { user, .. } => Some(user),
            Self::ServiceApp { .. } => None,
        }
    }

    /// Whether this caller may make a `method` request to the route the router matched
    /// (`route` is its template, e.g. `/api/v1/users/{id}`; `None` when nothing matched).
    /// API tokens may do anything; a service app needs the route's `manage` scope, or its
    /// `read` scope for `GET`/`HEAD`.
    pub fn may(&self, method: &str, route: Option<&str>) -> Result<(), ApiTokenError> {
        let Self::ServiceApp { scopes, .. } = self else {
            return Ok(());
        };
        let Some((route, resource)) = route.and_then(|r| Some((r, scoped_resource(r)?))) else {
            return Err(ApiTokenError::Forbidden(
                "This endpoint does not accept OAuth 2.0 access tokens.".into(),
            ));
        };
        let reading = matches!(method, "GET" | "HEAD");
        // Okta API scope grants are an administrator's decision: a service app with
        // okta.apps.manage must not grant itself (or another app) more scopes.
        if !reading && route.starts_with(APP_GRANTS_ROUTE) {
            return Err(ApiTokenError::Forbidden(
                "Only an API token may grant or revoke Okta API scopes.".into(),
            ));
        }
        let read = format!("okta.{resource}.read");
        let manage = format!("okta.{resource}.manage");
        let mut wanted = vec![manage.clone()];
        if reading {
            wanted.push(read);
        }
        if resource == "clients" && method == "POST" && route == CLIENTS_ROUTE {
            wanted.push("okta.clients.register".into());
        }
        if scopes.iter().any(|s| wanted.contains(s)) {
            Ok(())
        } else {
            Err(ApiTokenError::Forbidden(format!(
                "The access token does not carry the scope {} that this request needs.",
                wanted.join(" or ")
            )))
        }
    }

    /// Whether this caller may change `target`'s credentials, login, profile, status or
    /// factors. As in Okta, managing users does not reach administrators: only a super
    /// administrator (an API token of one) may change an account holding an admin role; an
    /// `okta.users.manage` scope alone may not (it would let a service app set a super
    /// administrator's password and sign in to the console).
    pub fn may_change_account(&self, target_is_admin: bool) -> Result<(), ApiTokenError> {
        match self {
            Self::ApiToken { .. } => Ok(()),
            Self::ServiceApp { .. } if !target_is_admin => Ok(()),
            Self::ServiceApp { .. } => Err(ApiTokenError::Forbidden(
                "Only a super administrator may change an administrator's account.".into(),
            )),
        }
    }
}

/// The route of an app's Okta API scope grants (and, below it, of one grant).
const APP_GRANTS_ROUTE: &str = "/api/v1/apps/{id}/grants";
/// Dynamic client registration's collection route.
const CLIENTS_ROUTE: &str = "/oauth2/v1/clients";

/// The `okta.{resource}.*` family guarding a route template.
fn scoped_resource(route: &str) -> Option<&'static str> {
    if let Some(rest) = route.strip_prefix("/api/v1/") {
        return match rest.split('/').next().unwrap_or_default() {
            "users" => Some("users"),
            "groups" => Some("groups"),
            "apps" => Some("apps"),
            "authorizationServers" => Some("authorizationServers"),
            "policies" => Some("policies"),
            "idps" => Some("idps"),
            _ => None,
        };
    }
    if route == CLIENTS_ROUTE || route.starts_with("/oauth2/v1/clients/") {
        return Some("clients");
    }
    None
}

/// Authenticates an `Authorization` header value: an `SSWS` API token, or a `Bearer` access
/// token issued by the org server (as seen from `origin`) to a service app.
pub async fn authenticate(
    provider: &Provider,
    header: Option<&str>,
    origin: &str,
) -> Result<ApiCaller, ApiTokenError> {
    let value = match header.and_then(parse_authorization) {
        Some(Credential::Ssws(v)) => v,
        Some(Credential::Bearer(token)) => {
            return authenticate_bearer(provider, token, origin).await;
        }
        None => return Err(ApiTokenError::InvalidToken),
    };
    let token = provider
        .store
        .find_api_token_by_hash(&sha256_b64url(value))
        .await?
        .filter(|t| t.revoked_at.is_none())
        .ok_or(ApiTokenError::InvalidToken)?;
    let user = provider
        .store
        .find_user(&token.user_id)
        .await?
        .ok_or(ApiTokenError::InvalidToken)?;
    // An owner who lost the administrator role, or is no longer active (a password lockout
    // aside), takes the token's rights along.
    if !owner_may_administer(provider, &user).await? {
        return Err(ApiTokenError::InvalidToken);
    }
    let now = provider.now();
    let not_after = now - LAST_USED_RESOLUTION;
    if token.last_used.is_none_or(|t| t <= not_after) {
        // Best effort: a failed bookkeeping write must not fail the call.
        if let Err(e) = provider
            .store
            .touch_api_token(&token.id, now, not_after)
            .await
        {
            tracing::warn!(error = %e, "could not record API token use");
        }
    }
    Ok(ApiCaller::ApiToken { token, user })
}

/// A live org-server access token (signature, issuer, audience, expiry, not revoked) of an
/// active app; its scopes are narrowed to the app's current grants, so revoking a grant takes
/// effect at once.
async fn authenticate_bearer(
    provider: &Provider,
    token: &str,
    origin: &str,
) -> Result<ApiCaller, ApiTokenError> {
    let server = provider
        .server_context(origin, None)
        .await
        .map_err(|_| ApiTokenError::InvalidToken)?;
    let claims = validate_access_token(provider, &server, token)
        .await
        .map_err(|_| ApiTokenError::InvalidToken)?;
    if claims["aud"].as_str() != Some(server.issuer.as_str()) {
        return Err(ApiTokenError::InvalidToken);
    }
    let client_id = claims["cid"].as_str().ok_or(ApiTokenError::InvalidToken)?;
    let app = provider
        .store
        .find_app_by_client_id(client_id)
        .await?
        .filter(|a| a.status == AppStatus::Active)
        .ok_or(ApiTokenError::InvalidToken)?;
    let granted = provider.store.list_app_grants(&app.id).await?;
    let scopes = claims["scp"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|s| s.as_str())
                .filter(|s| granted.iter().any(|g| g.scope_id == *s))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(ApiCaller::ServiceApp { app, scopes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssws_with_any_spacing_and_case() {
        assert_eq!(
            parse_authorization("SSWS 00abc"),
            Some(Credential::Ssws("00abc"))
        );
        assert_eq!(
            parse_authorization("SSWS00abc"),
            Some(Credential::Ssws("00abc"))
        );
        assert_eq!(
            parse_authorization("ssws   00abc"),
            Some(Credential::Ssws("00abc"))
        );
        assert_eq!(
            parse_authorization("SsWs\t00abc "),
            Some(Credential::Ssws("00abc"))
        );
    }

    #[test]
    fn bearer_with_any_spacing_and_case() {
        assert_eq!(
            parse_authorization("Bearer eyJ.x.y"),
            Some(Credential::Bearer("eyJ.x.y"))
        );
        assert_eq!(
            parse_authorization("BearereyJ.x.y"),
            Some(Credential::Bearer("eyJ.x.y"))
        );
        assert_eq!(
            parse_authorization("bearer  eyJ"),
            Some(Credential::Bearer("eyJ"))
        );
    }

    fn service(scopes: &[&str]) -> ApiCaller {
        ApiCaller::ServiceApp {
            app: App {
                id: "0oa1".into(),
                name: "oidc_client".into(),
                label: "svc".into(),
                status: AppStatus::Active,
                client_id: "0oa1".into(),
                settings: crate::domain::OAuthClientSettings {
                    application_type: crate::domain::ApplicationType::Service,
                    token_endpoint_auth_method:
                        crate::domain::TokenEndpointAuthMethod::PrivateKeyJwt,
                    redirect_uris: vec![],
                    post_logout_redirect_uris: vec![],
                    grant_types: vec!["client_credentials".into()],
                    response_types: vec![],
                    initiate_login_uri: None,
                    login_mode: "DISABLED".into(),
                    pkce_required: false,
                    issuer_mode: crate::domain::IssuerMode::Dynamic,
                    metadata: Default::default(),
                    jwks: None,
                    jwks_uri: None,
                    refresh_token: None,
                    groups_claim: None,
                    consent_method: Default::default(),
                    request_uris: vec![],
                    request_object_signing_alg: None,
                    sector_identifier_uri: None,
                    backchannel_logout_uri: None,
                    backchannel_logout_session_required: false,
                },
                created: 0,
                last_updated: 0,
            },
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn service_scopes_guard_reads_and_writes() {
        let reader = service(&["okta.users.read"]);
        let may =
            |caller: &ApiCaller, method: &str, route: &str| caller.may(method, Some(route)).is_ok();
        assert!(may(&reader, "GET", "/api/v1/users"));
        assert!(may(&reader, "GET", "/api/v1/users/{id}/groups"));
        assert!(!may(&reader, "POST", "/api/v1/users"));
        assert!(!may(&reader, "GET", "/api/v1/groups"));
        assert!(!may(&reader, "GET", "/api/v1/meta"));
        let manager = service(&["okta.users.manage"]);
        assert!(may(&manager, "POST", "/api/v1/users"));
        assert!(may(&manager, "DELETE", "/api/v1/users/{id}"));
        let registrar = service(&["okta.clients.register"]);
        assert!(may(&registrar, "POST", "/oauth2/v1/clients"));
        assert!(!may(&registrar, "GET", "/oauth2/v1/clients"));
        assert!(!may(&service(&[]), "GET", "/api/v1/users"));
        let apps = service(&["okta.apps.manage"]);
        assert!(may(&apps, "GET", "/api/v1/apps/{id}/grants"));
        assert!(!may(&apps, "POST", "/api/v1/apps/{id}/grants"));
        assert!(!may(&apps, "DELETE", "/api/v1/apps/{id}/grants/{grant_id}"));
        assert!(may(&apps, "POST", "/api/v1/apps/{id}/lifecycle/{op}"));
        // Nothing matched: no rights, whatever the scopes.
        assert!(apps.may("GET", None).is_err());
    }

    #[test]
    fn rejects_other_schemes_and_empty_tokens() {
        for bad in [
            "",
            "SSWS",
            "SSWS   ",
            "Bearer",
            "Basic dXNlcjpwYXNz",
            "SSW 00abc",
            "SSWS 00a bc",
            "Token 00abc",
            "ß",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad:?}");
        }
    }
}
