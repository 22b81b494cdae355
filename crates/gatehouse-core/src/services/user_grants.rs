//! Users' consent grants (Okta's `/api/v1/users/{userId}/grants` and `/clients`): what a user
//! allowed on the consent page. Revoking a grant makes the user be asked again.

use std::collections::BTreeMap;

use crate::audit::{Actor, Entity, oauth2_event_type};
use crate::domain::{App, ConsentGrant, User};
use crate::provider::Provider;
use crate::services::directory::DirectoryError;
use crate::store::StoreError;

const KIND: &str = "OAuth2ScopeConsentGrant";

/// The user's grants; with `scope_id`, only those for that scope (by id or name).
pub async fn list(
    provider: &Provider,
    user: &User,
    scope_id: Option<&str>,
) -> Result<Vec<ConsentGrant>, DirectoryError> {
    let mut grants = provider.store.list_consent_grants(&user.id, None).await?;
    if let Some(scope) = scope_id {
        grants.retain(|g| g.scope_id == scope || g.scope_name == scope);
    }
    Ok(grants)
}

pub async fn list_for_client(
    provider: &Provider,
    user: &User,
    client_id: &str,
) -> Result<Vec<ConsentGrant>, DirectoryError> {
    Ok(provider
        .store
        .list_consent_grants(&user.id, Some(client_id))
        .await?)
}

pub async fn get(
    provider: &Provider,
    user: &User,
    grant_id: &str,
) -> Result<ConsentGrant, DirectoryError> {
    provider
        .store
        .find_consent_grant(&user.id, grant_id)
        .await?
        .ok_or_else(|| DirectoryError::Missing {
            kind: KIND,
            key: grant_id.to_owned(),
        })
}

/// The clients the user granted something to, with their grants, ordered by client id. A
/// grant whose app is gone is not listed (the grant went with it).
pub async fn clients(
    provider: &Provider,
    user: &User,
) -> Result<Vec<(App, Vec<ConsentGrant>)>, DirectoryError> {
    let mut by_client: BTreeMap<String, Vec<ConsentGrant>> = BTreeMap::new();
    for g in provider.store.list_consent_grants(&user.id, None).await? {
        by_client.entry(g.client_id.clone()).or_default().push(g);
    }
    let mut out = Vec::with_capacity(by_client.len());
    for (client_id, grants) in by_client {
        if let Some(app) = provider.store.find_app_by_client_id(&client_id).await? {
            out.push((app, grants));
        }
    }
    Ok(out)
}

/// Revokes one grant.
pub async fn revoke(
    provider: &Provider,
    actor: &Actor,
    user: &User,
    grant_id: &str,
) -> Result<(), DirectoryError> {
    let grant = get(provider, user, grant_id).await?;
    match provider
        .store
        .delete_consent_grant(&user.id, grant_id)
        .await
    {
        Err(StoreError::NotFound) => {
            return Err(DirectoryError::Missing {
                kind: KIND,
                key: grant_id.to_owned(),
            });
        }
        other => other?,
    }
    record_revoked(provider, actor, user, &[grant]).await;
    Ok(())
}

/// Revokes every grant of the user, or of the user to one client.
pub async fn revoke_all(
    provider: &Provider,
    actor: &Actor,
    user: &User,
    client_id: Option<&str>,
) -> Result<usize, DirectoryError> {
    let gone = provider
        .store
        .delete_consent_grants(&user.id, client_id)
        .await?;
    record_revoked(provider, actor, user, &gone).await;
    Ok(gone.len())
}

/// One `app.oauth2.as.consent.revoke` per grant.
async fn record_revoked(provider: &Provider, actor: &Actor, user: &User, grants: &[ConsentGrant]) {
    for g in grants {
        actor
            .record(
                provider,
                &oauth2_event_type(true, "consent.revoke"),
                "User consent to app revoked",
                vec![
                    Entity::user(user),
                    Entity::new(&g.client_id, "AppInstance").named(Some(g.client_id.clone()), None),
                    Entity::new(&g.scope_id, "Scope")
                        .named(Some(g.scope_name.clone()), Some(g.scope_name.clone())),
                ],
            )
            .await;
    }
}
