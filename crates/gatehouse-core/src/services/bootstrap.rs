//! First start: the org and `default` authorization servers, their keys, the `Everyone` group,
//! a check that this node holds the key that opens the database's sealed secrets, and the
//! bootstrap administrator. Each step is idempotent and safe on several nodes starting at once.

use crate::audit::{Actor, Entity, event_type as ev};
use crate::crypto::okta_id;
use crate::domain::*;
use crate::keys::KeyError;
use crate::oidc::tokens::org_id;
use crate::provider::Provider;
use crate::store::{BootstrapAdmin, StoreError};

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
    // The first node to start writes the check value; every node (this one too) then checks
    // the stored one, so nodes started with different keys cannot both pass.
    let check = provider.secrets.seal(KEY_CHECK_META, KEY_CHECK_PLAINTEXT);
    provider
        .store
        .insert_meta_if_absent(KEY_CHECK_META, &check)
        .await?;
    let sealed = provider
        .store
        .get_meta(KEY_CHECK_META)
        .await?
        .ok_or_else(|| BootstrapError::Other("the encryption key check value is gone".into()))?;
    let opened = provider
        .secrets
        .open(KEY_CHECK_META, &sealed)
        .map_err(|_| BootstrapError::WrongEncryptionKey)?;
    if opened != KEY_CHECK_PLAINTEXT {
        return Err(BootstrapError::WrongEncryptionKey);
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
    // Written once (the org id must be the same on every node), before anyone reads it.
    provider
        .store
        .insert_meta_if_absent("org_id", &okta_id("00o"))
        .await?;
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
            authorization_response_iss: false,
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

/// The bootstrap administrator's group.
pub const ADMIN_GROUP: &str = "Gatehouse Administrators";
/// The domain of generated bootstrap administrator logins.
const ADMIN_LOGIN_DOMAIN: &str = "gatehouse.local";

/// A bootstrap administrator login nobody can guess: `admin-<10 random characters>@gatehouse.local`.
pub fn random_admin_login() -> String {
    let tail: String = okta_id("").to_lowercase().chars().take(10).collect();
    format!("admin-{tail}@{ADMIN_LOGIN_DOMAIN}")
}

/// On an installation without users, creates a super administrator (also in the
/// [`ADMIN_GROUP`] group) with a random password, in one transaction, once however many nodes
/// start together. `login` defaults to [`random_admin_login`]. Returns the login and the
/// password (to show once) when this call created it.
pub async fn create_bootstrap_admin(
    provider: &Provider,
    login: Option<&str>,
) -> Result<Option<(String, String)>, BootstrapError> {
    if provider.store.bootstrap_admin_id().await?.is_some() {
        return Ok(None);
    }
    let any_user = crate::store::Page {
        after: None,
        limit: 1,
    };
    if !provider.store.list_users(any_user).await?.is_empty() {
        return Ok(None);
    }
    let login = login
        .map(|l| l.trim().to_owned())
        .unwrap_or_else(random_admin_login);
    let email = if login.contains('@') {
        login.clone()
    } else {
        format!("{login}@{ADMIN_LOGIN_DOMAIN}")
    };
    crate::services::users::validate_profile(&login, &email, "Gatehouse", "Administrator")
        .map_err(|e| BootstrapError::Other(format!("bootstrap administrator login: {e}")))?;
    let password = crate::crypto::random_token(18);
    let password_hash = crate::crypto::hash_password(password.clone())
        .await
        .map_err(|e| BootstrapError::Other(e.to_string()))?;
    let now = provider.now();
    let user = User {
        id: okta_id("00u"),
        status: UserStatus::Active,
        login,
        email,
        first_name: "Gatehouse".into(),
        last_name: "Administrator".into(),
        display_name: None,
        password_hash: Some(password_hash),
        password_changed: Some(now),
        created: now,
        last_updated: now,
        activated: Some(now),
        status_changed: Some(now),
        last_login: None,
    };
    let group = Group {
        id: okta_id("00g"),
        name: ADMIN_GROUP.into(),
        description: "Administrators of this Gatehouse".into(),
        group_type: GroupType::OktaGroup,
        created: now,
        last_updated: now,
    };
    let role = AdminRole {
        id: okta_id("ra1"),
        user_id: user.id.clone(),
        role_type: crate::services::admin_roles::SUPER_ADMIN.into(),
        created: now,
    };
    let admin = BootstrapAdmin {
        user: &user,
        group: &group,
        role: &role,
    };
    if !provider.store.create_bootstrap_admin(&admin).await? {
        // Another node did it first.
        return Ok(None);
    }
    let system = Actor::system();
    let target = vec![Entity::user(&user)];
    system
        .record(
            provider,
            ev::USER_CREATE,
            "Create Okta user",
            target.clone(),
        )
        .await;
    system
        .record(provider, ev::USER_ACTIVATE, "Activate Okta user", target)
        .await;
    Ok(Some((user.login, password)))
}

/// The bootstrap administrator, if this installation created one and it still exists.
pub async fn bootstrap_admin(provider: &Provider) -> Result<Option<User>, BootstrapError> {
    match provider.store.bootstrap_admin_id().await? {
        Some(id) => Ok(provider.store.find_user(&id).await?),
        None => Ok(None),
    }
}
