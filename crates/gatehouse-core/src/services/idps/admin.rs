//! Managing upstream identity providers: the rules `/api/v1/idps`, the console and
//! `gatehouse idp` share (validation, presets, the sealed client secret, lifecycle, events).

use crate::audit::{Actor, Entity};
use crate::crypto::okta_id;
use crate::domain::{Idp, IdpSettings, IdpStatus, IdpType};
use crate::provider::Provider;
use crate::services::directory_rules::{DirectoryError, invalid};
use crate::store::StoreError;

pub const IDP_CREATE: &str = "system.idp.lifecycle.create";
pub const IDP_UPDATE: &str = "system.idp.lifecycle.update";
pub const IDP_ACTIVATE: &str = "system.idp.lifecycle.activate";
pub const IDP_DEACTIVATE: &str = "system.idp.lifecycle.deactivate";
pub const IDP_DELETE: &str = "system.idp.lifecycle.delete";

/// What a creator (or replacer) of an IdP chooses. `client_secret`: `None` on an update keeps
/// the stored one.
#[derive(Debug, Clone)]
pub struct IdpSpec {
    pub name: String,
    pub kind: IdpType,
    pub status: IdpStatus,
    pub settings: IdpSettings,
    pub client_secret: Option<String>,
}

fn secret_context(id: &str) -> String {
    format!("idp-client-secret:{id}")
}

/// The IdP's client secret in clear, for the token request.
pub fn client_secret(provider: &Provider, idp: &Idp) -> Option<String> {
    let sealed = idp.client_secret_sealed.as_deref()?;
    let clear = provider
        .secrets
        .open(&secret_context(&idp.id), sealed)
        .ok()?;
    String::from_utf8(clear).ok()
}

/// Google's and Microsoft Entra ID's endpoints, filled in where the spec left them empty.
/// Entra's are the tenant's, from an issuer `https://login.microsoftonline.com/<tenant>/v2.0`.
pub fn apply_preset(kind: IdpType, s: &mut IdpSettings) {
    let fill = |field: &mut String, value: String| {
        if field.trim().is_empty() {
            *field = value;
        }
    };
    match kind {
        IdpType::Oidc => {}
        IdpType::Google => {
            fill(&mut s.issuer, "https://accounts.google.com".into());
            fill(
                &mut s.authorization_url,
                "https://accounts.google.com/o/oauth2/v2/auth".into(),
            );
            fill(
                &mut s.token_url,
                "https://oauth2.googleapis.com/token".into(),
            );
            fill(
                &mut s.jwks_url,
                "https://www.googleapis.com/oauth2/v3/certs".into(),
            );
            if s.userinfo_url.is_none() {
                s.userinfo_url = Some("https://openidconnect.googleapis.com/v1/userinfo".into());
            }
        }
        IdpType::Microsoft => {
            let tenant = s
                .issuer
                .strip_prefix("https://login.microsoftonline.com/")
                .and_then(|rest| rest.strip_suffix("/v2.0"))
                .unwrap_or("organizations")
                .to_owned();
            let base = format!("https://login.microsoftonline.com/{tenant}");
            fill(&mut s.issuer, format!("{base}/v2.0"));
            fill(
                &mut s.authorization_url,
                format!("{base}/oauth2/v2.0/authorize"),
            );
            fill(&mut s.token_url, format!("{base}/oauth2/v2.0/token"));
            fill(&mut s.jwks_url, format!("{base}/discovery/v2.0/keys"));
        }
    }
    if s.scopes.is_empty() {
        s.scopes = vec!["openid".into(), "profile".into(), "email".into()];
    }
}

/// An endpoint Gatehouse calls itself (token, keys, userinfo) or sends browsers to: https, or
/// http to a loopback host under the development setting `dev_jwks_uri_allow_loopback`. Hosts
/// are vetted again, resolved, at every fetch.
fn check_url(provider: &Provider, field: &'static str, value: &str) -> Result<(), DirectoryError> {
    let url = url::Url::parse(value.trim())
        .map_err(|_| invalid(field, format!("'{value}' is not a URL")))?;
    let loopback = provider.remote_jwks.allows_loopback_http();
    crate::oauth2::remote_jwks::check_uri(&url, loopback)
        .map_err(|e| invalid(field, e.to_string().replace("the jwks_uri", "the URL")))
}

fn validate(provider: &Provider, spec: &mut IdpSpec) -> Result<(), DirectoryError> {
    let name = spec.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid("name", "must be 1 to 100 characters"));
    }
    spec.name = name.to_owned();
    apply_preset(spec.kind, &mut spec.settings);
    let s = &mut spec.settings;
    check_url(
        provider,
        "protocol.endpoints.authorization.url",
        &s.authorization_url,
    )?;
    check_url(provider, "protocol.endpoints.token.url", &s.token_url)?;
    check_url(provider, "protocol.endpoints.jwks.url", &s.jwks_url)?;
    if let Some(u) = s.userinfo_url.as_deref().filter(|u| !u.is_empty()) {
        check_url(provider, "protocol.endpoints.userInfo.url", u)?;
    }
    if s.userinfo_url.as_deref() == Some("") {
        s.userinfo_url = None;
    }
    if url::Url::parse(&s.issuer).is_err() {
        return Err(invalid(
            "protocol.issuer.url",
            "must be the upstream's issuer URL",
        ));
    }
    if s.client_id.trim().is_empty() || s.client_id.len() > 1024 {
        return Err(invalid(
            "protocol.credentials.client.client_id",
            "is required",
        ));
    }
    if !s.scopes.iter().any(|x| x == "openid") {
        return Err(invalid("protocol.scopes", "must include openid"));
    }
    if s.scopes
        .iter()
        .any(|x| x.is_empty() || x.contains(char::is_whitespace))
    {
        return Err(invalid("protocol.scopes", "scopes are single words"));
    }
    super::mapping::check_template(&s.user_name_template)
        .map_err(|m| invalid("policy.subject.userNameTemplate.template", m))?;
    if !(0..=600).contains(&s.max_clock_skew) {
        return Err(invalid("policy.maxClockSkew", "must be 0 to 600 seconds"));
    }
    for d in &mut s.routing_domains {
        *d = d.trim().trim_start_matches('@').to_ascii_lowercase();
        if d.is_empty() || !d.contains('.') || d.contains(['@', '/', ' ']) {
            return Err(invalid(
                "gatehouse.routing.domains",
                format!("'{d}' is not a domain"),
            ));
        }
    }
    Ok(())
}

/// A `private_key_jwt` IdP without a key gets one (a key failure is an internal error).
async fn ensure_client_key(
    provider: &Provider,
    id: &str,
    settings: &mut IdpSettings,
) -> Result<(), DirectoryError> {
    super::client_key::ensure_key(provider, id, settings)
        .await
        .map_err(|e| DirectoryError::Store(StoreError::Backend(Box::new(e))))
}

pub async fn create_idp(
    provider: &Provider,
    actor: &Actor,
    mut spec: IdpSpec,
) -> Result<Idp, DirectoryError> {
    validate(provider, &mut spec)?;
    let now = provider.now();
    let id = okta_id("0oa");
    ensure_client_key(provider, &id, &mut spec.settings).await?;
    let sealed = spec
        .client_secret
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| provider.secrets.seal(&secret_context(&id), s.as_bytes()));
    let idp = Idp {
        id,
        name: spec.name,
        kind: spec.kind,
        status: spec.status,
        settings: spec.settings,
        client_secret_sealed: sealed,
        created: now,
        last_updated: now,
    };
    provider.store.create_idp(&idp).await?;
    actor
        .record(
            provider,
            IDP_CREATE,
            "Create Identity Provider",
            vec![entity(&idp)],
        )
        .await;
    Ok(idp)
}

pub async fn find_idp(provider: &Provider, id: &str) -> Result<Idp, DirectoryError> {
    provider
        .store
        .find_idp(id)
        .await?
        .ok_or_else(|| DirectoryError::Missing {
            kind: "IdentityProvider",
            key: id.to_owned(),
        })
}

/// Replaces the IdP's configuration (Okta's PUT); the status is kept (lifecycle operations
/// change it), and the client secret too unless a new one is given.
pub async fn replace_idp(
    provider: &Provider,
    actor: &Actor,
    id: &str,
    mut spec: IdpSpec,
) -> Result<Idp, DirectoryError> {
    let mut idp = find_idp(provider, id).await?;
    validate(provider, &mut spec)?;
    // The client key is Gatehouse's, not the caller's: a replacement keeps it.
    spec.settings.client_key = idp.settings.client_key.take();
    ensure_client_key(provider, id, &mut spec.settings).await?;
    if let Some(secret) = spec.client_secret.as_deref().filter(|s| !s.is_empty()) {
        idp.client_secret_sealed = Some(
            provider
                .secrets
                .seal(&secret_context(id), secret.as_bytes()),
        );
    }
    idp.name = spec.name;
    idp.kind = spec.kind;
    idp.settings = spec.settings;
    idp.last_updated = provider.now();
    provider.store.update_idp(&idp).await?;
    actor
        .record(
            provider,
            IDP_UPDATE,
            "Update Identity Provider",
            vec![entity(&idp)],
        )
        .await;
    Ok(idp)
}

pub async fn set_status(
    provider: &Provider,
    actor: &Actor,
    id: &str,
    status: IdpStatus,
) -> Result<Idp, DirectoryError> {
    let mut idp = find_idp(provider, id).await?;
    if idp.status != status {
        idp.status = status;
        idp.last_updated = provider.now();
        provider.store.update_idp(&idp).await?;
        let (event, message) = match status {
            IdpStatus::Active => (IDP_ACTIVATE, "Activate Identity Provider"),
            IdpStatus::Inactive => (IDP_DEACTIVATE, "Deactivate Identity Provider"),
        };
        actor
            .record(provider, event, message, vec![entity(&idp)])
            .await;
    }
    Ok(idp)
}

/// Deletes an IdP. Its users stay (their source still names it, so they still cannot get a
/// Gatehouse password unless the IdP allowed it); they can no longer sign in through it.
pub async fn delete_idp(
    provider: &Provider,
    actor: &Actor,
    id: &str,
) -> Result<(), DirectoryError> {
    let idp = find_idp(provider, id).await?;
    provider.store.delete_idp(id).await?;
    actor
        .record(
            provider,
            IDP_DELETE,
            "Delete Identity Provider",
            vec![entity(&idp)],
        )
        .await;
    Ok(())
}

pub fn entity(idp: &Idp) -> Entity {
    Entity::new(idp.id.clone(), "IdentityProvider").named(None, Some(idp.name.clone()))
}
