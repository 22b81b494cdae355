//! Users carried over from an Okta org (`gatehouse import okta`): the same id (it is the
//! `sub` apps know them by), profile and status, with the profile rules every other entry point
//! applies. Okta exports no password hashes, so a user without a local password is marked for
//! just-in-time migration from the source ([`super::password_migration`]). A rerun updates
//! what changed and never duplicates a user.

use crate::audit::{Actor, Entity, event_type as ev};
use crate::domain::{User, UserStatus};
use crate::provider::Provider;
use crate::services::directory::DirectoryError;
use crate::services::directory_rules::invalid;
use crate::services::users::{validate_display_name, validate_profile};

/// A user as read from the source org.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedUser {
    /// The source's id (`00u…`), kept.
    pub id: String,
    pub status: UserStatus,
    pub login: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub display_name: Option<String>,
}

/// What an import did to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Okta ids are short and alphanumeric; anything else is not carried.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Creates or updates `u` and marks it for password migration from `source_url` while it has
/// no local password.
pub async fn upsert(
    provider: &Provider,
    actor: &Actor,
    u: ImportedUser,
    source_url: &str,
) -> Result<(User, Outcome), DirectoryError> {
    if !valid_id(&u.id) {
        return Err(invalid("id", "is not an Okta id"));
    }
    validate_profile(&u.login, &u.email, &u.first_name, &u.last_name)?;
    validate_display_name(u.display_name.as_deref())?;
    let now = provider.now();
    let login = u.login.trim().to_owned();
    if let Some(other) = provider.store.find_user_by_login(&login).await?
        && other.id != u.id
    {
        return Err(DirectoryError::Conflict {
            field: format!("login {login} (held by {})", other.id),
        });
    }
    let (user, outcome) = match provider.store.find_user(&u.id).await? {
        Some(existing) => {
            let mut next = existing.clone();
            next.login = login;
            next.email = u.email.trim().to_owned();
            next.first_name = u.first_name.trim().to_owned();
            next.last_name = u.last_name.trim().to_owned();
            next.display_name = u.display_name;
            if next.status != u.status {
                next.status = u.status;
                next.status_changed = Some(now);
            }
            if next == existing {
                (existing, Outcome::Unchanged)
            } else {
                next.last_updated = now;
                provider.store.update_user(&next).await?;
                let target = vec![Entity::user(&next)];
                actor
                    .record(
                        provider,
                        ev::USER_PROFILE_UPDATE,
                        "Update user profile for Okta",
                        target,
                    )
                    .await;
                (next, Outcome::Updated)
            }
        }
        None => {
            let user = User {
                id: u.id,
                status: u.status,
                login,
                email: u.email.trim().to_owned(),
                first_name: u.first_name.trim().to_owned(),
                last_name: u.last_name.trim().to_owned(),
                display_name: u.display_name,
                password_hash: None,
                created: now,
                last_updated: now,
                activated: (u.status == UserStatus::Active).then_some(now),
                status_changed: Some(now),
                last_login: None,
                password_changed: None,
            };
            provider.store.create_user(&user).await?;
            let target = vec![Entity::user(&user)];
            actor
                .record(provider, ev::USER_CREATE, "Create Okta user", target)
                .await;
            (user, Outcome::Created)
        }
    };
    if user.password_hash.is_none() {
        provider
            .store
            .mark_password_migration(&user.id, source_url.trim_end_matches('/'), now)
            .await?;
    }
    Ok((user, outcome))
}
