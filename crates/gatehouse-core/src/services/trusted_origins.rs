//! Okta's Trusted Origins (`/api/v1/trustedOrigins`) and the CORS decision built on them.
//!
//! Which browser origins may call the OAuth endpoints, discovery, the keys and
//! `/api/v1/sessions/me` from script:
//! * an ACTIVE trusted origin with the `CORS` scope (Okta's rule), and also
//! * the origin of a sign-in redirect URI of an ACTIVE single-page (`browser`) app. Okta does not
//!   do this (its admin console adds the SPA's base URI as a trusted origin instead), but a SPA
//!   registered with `/api/v1/apps` or `gatehouse app create-oidc` then works without a second
//!   step, and the origin is one the admin already trusts to receive codes.

use std::collections::HashSet;
use std::sync::Arc;

pub use crate::cache::CorsOriginCache;
use crate::crypto::okta_id;
use crate::domain::*;
use crate::provider::Provider;
use crate::services::directory_rules::{DirectoryError, invalid};
use crate::services::groups::split_page;
use crate::store::Page;

/// What a creator (or replacer) of a trusted origin chooses.
#[derive(Debug, Clone)]
pub struct TrustedOriginSpec {
    pub name: String,
    pub origin: String,
    pub scopes: Vec<TrustedOriginScope>,
}

/// `scheme://host[:port]` in its canonical form (lower-case, no default port), or `None` for
/// anything else: paths, queries, fragments, user info, opaque origins.
pub fn normalize_origin(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw).ok()?;
    let bare = url.path() == "/" && !raw.trim_end_matches('/').ends_with(['?', '#']);
    if !bare
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    match url.origin() {
        o @ url::Origin::Tuple(..) => Some(o.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

fn validate(
    spec: &TrustedOriginSpec,
) -> Result<(String, String, Vec<TrustedOriginScope>), DirectoryError> {
    let name = spec.name.trim();
    if name.is_empty() || name.chars().count() > 255 || name.chars().any(char::is_control) {
        return Err(invalid("name", "must be 1 to 255 characters"));
    }
    let origin = normalize_origin(spec.origin.trim()).ok_or_else(|| {
        invalid(
            "origin",
            format!(
                "'{}' is not a valid origin (scheme://host[:port], no path)",
                spec.origin
            ),
        )
    })?;
    let mut scopes: Vec<TrustedOriginScope> = Vec::new();
    for s in &spec.scopes {
        if !scopes.contains(s) {
            scopes.push(*s);
        }
    }
    if scopes.is_empty() {
        return Err(invalid(
            "scopes",
            "at least one scope (CORS, REDIRECT) is required",
        ));
    }
    Ok((name.to_owned(), origin, scopes))
}

pub async fn create(
    provider: &Provider,
    spec: TrustedOriginSpec,
    by: Option<&str>,
) -> Result<TrustedOrigin, DirectoryError> {
    let (name, origin, scopes) = validate(&spec)?;
    let now = provider.now();
    let record = TrustedOrigin {
        id: okta_id("tos"),
        name,
        origin,
        scopes,
        status: AppStatus::Active,
        created: now,
        created_by: by.map(str::to_owned),
        last_updated: now,
        last_updated_by: by.map(str::to_owned),
    };
    provider.store.create_trusted_origin(&record).await?;
    provider.cors_origins.invalidate();
    Ok(record)
}

pub async fn find(provider: &Provider, id: &str) -> Result<TrustedOrigin, DirectoryError> {
    provider
        .store
        .find_trusted_origin(id)
        .await?
        .ok_or_else(|| DirectoryError::Missing {
            kind: "TrustedOrigin",
            key: id.to_owned(),
        })
}

/// One page by id, and the next cursor.
pub async fn list(
    provider: &Provider,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<TrustedOrigin>, Option<String>), DirectoryError> {
    let limit = limit.max(1);
    let page = Page {
        after,
        limit: limit.saturating_add(1),
    };
    let items = provider.store.list_trusted_origins(page).await?;
    Ok(split_page(items, limit, |o| &o.id))
}

pub async fn replace(
    provider: &Provider,
    mut record: TrustedOrigin,
    spec: TrustedOriginSpec,
    by: Option<&str>,
) -> Result<TrustedOrigin, DirectoryError> {
    let (name, origin, scopes) = validate(&spec)?;
    record.name = name;
    record.origin = origin;
    record.scopes = scopes;
    record.last_updated = provider.now();
    record.last_updated_by = by.map(str::to_owned);
    provider.store.update_trusted_origin(&record).await?;
    provider.cors_origins.invalidate();
    Ok(record)
}

pub async fn set_status(
    provider: &Provider,
    mut record: TrustedOrigin,
    status: AppStatus,
    by: Option<&str>,
) -> Result<TrustedOrigin, DirectoryError> {
    if record.status != status {
        record.status = status;
        record.last_updated = provider.now();
        record.last_updated_by = by.map(str::to_owned);
        provider.store.update_trusted_origin(&record).await?;
        provider.cors_origins.invalidate();
    }
    Ok(record)
}

pub async fn delete(provider: &Provider, record: &TrustedOrigin) -> Result<(), DirectoryError> {
    provider.store.delete_trusted_origin(&record.id).await?;
    provider.cors_origins.invalidate();
    Ok(())
}

/// Whether a browser script on `origin` (the `Origin` request header) may read Gatehouse's
/// answers: see the module documentation for the rule. Answered from this node's copy of the
/// allowed origins ([`CorsOriginCache`]), so a cross-origin request reads nothing.
pub async fn allows_cors(provider: &Provider, origin: &str) -> Result<bool, DirectoryError> {
    let Some(origin) = normalize_origin(origin) else {
        return Ok(false);
    };
    if let Some(origins) = provider.cors_origins.fresh() {
        return Ok(origins.contains(&origin));
    }
    let origins = Arc::new(cors_origins(provider).await?);
    provider.cors_origins.put(origins.clone());
    Ok(origins.contains(&origin))
}

/// Every origin CORS allows: ACTIVE trusted origins with the `CORS` scope, and the origins of
/// every ACTIVE browser app's sign-in redirect URIs.
async fn cors_origins(provider: &Provider) -> Result<HashSet<String>, DirectoryError> {
    const CHUNK: u32 = 200;
    let mut origins = HashSet::new();
    let mut after: Option<String> = None;
    loop {
        let page = Page {
            after: after.as_deref(),
            limit: CHUNK,
        };
        let trusted = provider.store.list_trusted_origins(page).await?;
        let done = trusted.len() < CHUNK as usize;
        after = trusted.last().map(|t| t.id.clone());
        origins.extend(
            trusted
                .into_iter()
                .filter(|t| t.allows(TrustedOriginScope::Cors))
                .filter_map(|t| normalize_origin(&t.origin)),
        );
        if done {
            break;
        }
    }
    let query = AppQuery {
        status: Some(AppStatus::Active),
        ..AppQuery::default()
    };
    let mut after: Option<String> = None;
    loop {
        let page = Page {
            after: after.as_deref(),
            limit: CHUNK,
        };
        let apps = provider.store.search_apps(&query, page).await?;
        let done = apps.len() < CHUNK as usize;
        after = apps.last().map(|a| a.id.clone());
        origins.extend(
            apps.iter()
                .filter(|a| a.settings.application_type == ApplicationType::Browser)
                .flat_map(|a| a.settings.redirect_uris.iter())
                .filter_map(|u| normalize_origin_of(u)),
        );
        if done {
            return Ok(origins);
        }
    }
}

/// The origin of any absolute URL.
fn normalize_origin_of(uri: &str) -> Option<String> {
    match url::Url::parse(uri).ok()?.origin() {
        o @ url::Origin::Tuple(..) => Some(o.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_canonical_and_bare() {
        assert_eq!(
            normalize_origin("HTTP://LocalHost:8585").as_deref(),
            Some("http://localhost:8585")
        );
        assert_eq!(
            normalize_origin("https://a.example:443/").as_deref(),
            Some("https://a.example")
        );
        for bad in [
            "https://a.example/path",
            "https://a.example?x=1",
            "https://a.example#f",
            "https://u:p@a.example",
            "data:text/plain,x",
            "not a url",
            "",
        ] {
            assert_eq!(normalize_origin(bad), None, "{bad}");
        }
    }
}
