//! The rule that users from an identity provider get no Gatehouse password unless the IdP
//! allows it (`gatehouse.allowPassword`): the upstream holds their credentials.

use crate::provider::Provider;
use crate::services::directory_rules::DirectoryError;

/// Refuses a Gatehouse password to a user from an IdP that does not allow one.
pub async fn refuse_local_password(
    provider: &Provider,
    user_id: &str,
) -> Result<(), DirectoryError> {
    let Some(source) = provider.store.user_source(user_id).await? else {
        return Ok(());
    };
    let Some(idp_id) = source.source.strip_prefix("idp:") else {
        return Ok(());
    };
    let allowed = provider
        .store
        .find_idp(idp_id)
        .await?
        .is_some_and(|idp| idp.settings.allow_password);
    if allowed {
        return Ok(());
    }
    Err(DirectoryError::Forbidden(
        "This user signs in through an identity provider and cannot be given a Gatehouse password."
            .into(),
    ))
}
