//! Whether a user came from the LDAP directory, and the rule that follows: the directory, not
//! Gatehouse, holds their password.

use crate::provider::Provider;
use crate::services::directory_rules::DirectoryError;

/// The `source` recorded for users and groups from LDAP.
pub const SOURCE: &str = "ldap";

/// Whether the user came from the directory.
pub async fn is_ldap_user(provider: &Provider, user_id: &str) -> Result<bool, DirectoryError> {
    Ok(provider
        .store
        .user_source(user_id)
        .await?
        .is_some_and(|s| s.source == SOURCE))
}

/// Refuses to give an LDAP user a Gatehouse password (their password is the directory's).
pub async fn refuse_local_password(
    provider: &Provider,
    user_id: &str,
) -> Result<(), DirectoryError> {
    if is_ldap_user(provider, user_id).await? {
        return Err(DirectoryError::Forbidden(
            "This user's password is managed by the LDAP directory and cannot be set in Gatehouse."
                .into(),
        ));
    }
    Ok(())
}
