//! Who administers this Gatehouse: users holding Okta's `SUPER_ADMIN` role. They may use the
//! admin console; the first-start administrator gets the role.

use crate::crypto::okta_id;
use crate::domain::{AdminRole, User, UserStatus};
use crate::provider::Provider;
use crate::services::directory::{DirectoryError, invalid};

/// Okta's role type for full administrators.
pub const SUPER_ADMIN: &str = "SUPER_ADMIN";

/// Whether the user may administer the org: an ACTIVE user with the `SUPER_ADMIN` role.
pub async fn is_super_admin(provider: &Provider, user: &User) -> Result<bool, DirectoryError> {
    if user.status != UserStatus::Active {
        return Ok(false);
    }
    Ok(provider
        .store
        .list_admin_roles(&user.id)
        .await?
        .iter()
        .any(|r| r.role_type == SUPER_ADMIN))
}

/// Whether the user holds any administrator role, whatever their status: such an account is
/// out of reach of API scopes (see `ApiCaller::may_change_account`).
pub async fn holds_admin_role(provider: &Provider, user: &User) -> Result<bool, DirectoryError> {
    Ok(!provider.store.list_admin_roles(&user.id).await?.is_empty())
}

/// Whether an API token owned by `user` acts with full rights: the owner holds `SUPER_ADMIN`
/// and is `ACTIVE` or only `LOCKED_OUT`. A lockout comes from failed password sign-ins, which
/// anyone may cause; it must not switch off the owner's API tokens (deactivating or suspending
/// the owner does, and revokes them for good).
pub async fn may_own_api_tokens(provider: &Provider, user: &User) -> Result<bool, DirectoryError> {
    if !matches!(user.status, UserStatus::Active | UserStatus::LockedOut) {
        return Ok(false);
    }
    Ok(provider
        .store
        .list_admin_roles(&user.id)
        .await?
        .iter()
        .any(|r| r.role_type == SUPER_ADMIN))
}

/// Gives the user the `SUPER_ADMIN` role (idempotent).
pub async fn grant_super_admin(provider: &Provider, user: &User) -> Result<(), DirectoryError> {
    let role = AdminRole {
        id: okta_id("ra1"),
        user_id: user.id.clone(),
        role_type: SUPER_ADMIN.into(),
        created: provider.now(),
    };
    provider.store.assign_admin_role(&role).await?;
    Ok(())
}

/// Takes the role away, unless the user is the last super administrator (the org would be
/// left without anyone who can administer it).
pub async fn revoke_super_admin(provider: &Provider, user: &User) -> Result<(), DirectoryError> {
    if is_super_admin(provider, user).await?
        && provider.store.count_admin_role(SUPER_ADMIN).await? <= 1
    {
        return Err(invalid(
            "roleType",
            "the last super administrator cannot lose the role",
        ));
    }
    provider
        .store
        .unassign_admin_role(&user.id, SUPER_ADMIN)
        .await?;
    Ok(())
}
