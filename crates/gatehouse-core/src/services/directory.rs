//! Finding a user, group or app by the key a caller names it with (an id, or a login, a group
//! name, a client id), as the API, the console and the CLI do. Also re-exports the directory's
//! error type, which callers name through `directory`.

use crate::domain::{App, Group, User};
use crate::provider::Provider;
pub use crate::services::directory_rules::DirectoryError;
pub(crate) use crate::services::directory_rules::invalid;

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
