//! First start: the org and `default` authorization servers, their keys, the `Everyone` group,
//! and a check that this node holds the key that opens the database's sealed secrets.

use crate::crypto::okta_id;
use crate::domain::*;
use crate::keys::KeyError;
use crate::oidc::tokens::org_id;
use crate::provider::Provider;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(
        "this database was initialised with a different encryption key; start gatehouse with the \
         original key (GATEHOUSE_ENCRYPTION_KEY or the key file in the data directory)"
    )]
    WrongEncryptionKey,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error("{0}")]
    Other(String),
}

const KEY_CHECK_META: &str = "encryption_key_check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"gatehouse";

/// Idempotent; safe to run on every start of every node.
pub async fn bootstrap(provider: &Provider) -> Result<(), BootstrapError> {
    match provider.store.get_meta(KEY_CHECK_META).await? {
        Some(sealed) => {
            let opened = provider
                .secrets
                .open(KEY_CHECK_META, &sealed)
                .map_err(|_| BootstrapError::WrongEncryptionKey)?;
            if opened != KEY_CHECK_PLAINTEXT {
                return Err(BootstrapError::WrongEncryptionKey);
            }
        }
        None => {
            provider
                .store
                .set_meta(
                    KEY_CHECK_META,
                    &provider.secrets.seal(KEY_CHECK_META, KEY_CHECK_PLAINTEXT),
                )
                .await?
        }
    }
    let now = provider.now();
    ensure_server(
        provider,
        ORG_AUTH_SERVER_ID,
        AuthServerKind::Org,
        "Org Authorization Server",
        "",
        vec![],
        now,
    )
    .await?;
    ensure_server(
        provider,
        DEFAULT_AUTH_SERVER_ID,
        AuthServerKind::Custom,
        "default",
        "Default Authorization Server for your Applications",
        vec!["api://default".into()],
        now,
    )
    .await?;
    crate::services::auth_server_config::seed_default_server(provider, DEFAULT_AUTH_SERVER_ID)
        .await?;
    if provider.store.find_group_by_name(EVERYONE).await?.is_none() {
        let group = Group {
            id: okta_id("00g"),
            name: EVERYONE.into(),
            description: "All users in your organization".into(),
            group_type: GroupType::BuiltIn,
            created: now,
            last_updated: now,
        };
        match provider.store.create_group(&group).await {
            // Another node created it first.
            Ok(()) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    org_id(provider)
        .await
        .map_err(|e| BootstrapError::Other(e.to_string()))?;
    Ok(())
}

async fn ensure_server(
    provider: &Provider,
    id: &str,
    kind: AuthServerKind,
    name: &str,
    description: &str,
    audiences: Vec<String>,
    now: Timestamp,
) -> Result<(), BootstrapError> {
    if provider.store.find_auth_server(id).await?.is_none() {
        let server = AuthServer {
            id: id.into(),
            kind,
            name: name.into(),
            description: description.into(),
            audiences,
            issuer_mode: IssuerMode::Dynamic,
            status: AppStatus::Active,
            signing_alg: SigningAlg::default(),
            created: now,
            last_updated: now,
        };
        match provider.store.create_auth_server(&server).await {
            Ok(()) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    provider.keys.ensure_active_key(id, now).await?;
    Ok(())
}
