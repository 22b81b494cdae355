//! Users: creation (with Okta's base-profile and password rules), profile updates, Okta's
//! lifecycle transitions, deletion and search.

use crate::audit::{Actor, Entity, event_type as ev};
use crate::crypto::okta_id;
use crate::domain::text::{self, limits};
use crate::domain::{User, UserFilter, UserStatus};
use crate::provider::Provider;
use crate::services::directory_rules::{DirectoryError, invalid};
use crate::services::passwords::{self, SetBy};
use crate::services::sessions::{EndReason, EndSessions, end_all_for_user};
use crate::store::Page;

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub login: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub display_name: Option<String>,
    pub password: Option<String>,
    /// A hash imported from another system (Okta's `credentials.password.hash`), already in
    /// the stored form of [`crate::crypto::imported_hash`]; not checked against the policy,
    /// rehashed to argon2id at the first sign-in.
    pub password_hash: Option<String>,
    /// Activate now (Okta's `activate=true`); without a password the user stays PROVISIONED.
    pub activate: bool,
}

/// The default password policy's minimum length (see [`crate::services::passwords`]).
pub const MIN_PASSWORD_LENGTH: usize = 8;

/// Okta's base-profile rules (the Python SDK enforces the same lengths on responses).
pub(crate) fn validate_profile(
    login: &str,
    email: &str,
    first_name: &str,
    last_name: &str,
) -> Result<(), DirectoryError> {
    // Lengths count characters, as Okta's (and JSON Schema's) limits do, not UTF-8 bytes.
    let chars = |s: &str| s.chars().count();
    if chars(login.trim()) < 5 || chars(login.trim()) > 100 {
        return Err(invalid("login", "must be 5 to 100 characters"));
    }
    let email = email.trim();
    if !email.contains('@') || chars(email) < 5 || chars(email) > 100 {
        return Err(invalid("email", "must be a valid email address"));
    }
    let person = limits::PERSON_NAME;
    for (field, value) in [("firstName", first_name), ("lastName", last_name)] {
        if value.trim().is_empty() || chars(value) > person {
            return Err(invalid(field, format!("must be 1 to {person} characters")));
        }
        if text::has_forbidden_char(value) {
            return Err(invalid(field, text::FORBIDDEN_CHAR_MESSAGE));
        }
    }
    Ok(())
}

/// A user's `displayName` (free text, optional): at most [`limits::PROFILE_TEXT`] characters
/// and no control characters, the rule every entry point (API, console, CLI) goes through.
pub fn validate_display_name(display_name: Option<&str>) -> Result<(), DirectoryError> {
    let Some(name) = display_name else {
        return Ok(());
    };
    text::check_max_chars(name, limits::PROFILE_TEXT).map_err(|m| invalid("displayName", m))?;
    if text::has_forbidden_char(name) {
        return Err(invalid("displayName", text::FORBIDDEN_CHAR_MESSAGE));
    }
    Ok(())
}

/// Creates a user; `user.lifecycle.create` (and `.activate` when active) by `actor`.
pub async fn create_user(
    provider: &Provider,
    actor: &Actor,
    new: NewUser,
) -> Result<User, DirectoryError> {
    validate_profile(&new.login, &new.email, &new.first_name, &new.last_name)?;
    validate_display_name(new.display_name.as_deref())?;
    let login = new.login.trim().to_owned();
    let email = new.email.trim().to_owned();
    let now = provider.now();
    let has_password = new.password.is_some() || new.password_hash.is_some();
    let status = match (new.activate, has_password) {
        (true, true) => UserStatus::Active,
        (true, false) => UserStatus::Provisioned,
        (false, _) => UserStatus::Staged,
    };
    let user = User {
        id: okta_id("00u"),
        status,
        login,
        email,
        first_name: new.first_name.trim().to_owned(),
        last_name: new.last_name.trim().to_owned(),
        display_name: new.display_name,
        password_changed: has_password.then_some(now),
        password_hash: new.password_hash,
        created: now,
        last_updated: now,
        activated: (status == UserStatus::Active).then_some(now),
        status_changed: Some(now),
        last_login: None,
    };
    // The policy's check (for everyone: the user has no groups yet), then the hash.
    let checked = match new.password {
        Some(p) => Some(passwords::check_and_hash(provider, &user, p, SetBy::Admin).await?),
        None => None,
    };
    let mut user = user;
    if let Some(c) = &checked {
        user.password_hash = Some(c.hash.clone());
    }
    // With a password, the user and its history entry are written in one transaction.
    match &checked {
        Some(c) => {
            provider
                .store
                .create_user_with_password(&user, c.history_keep())
                .await?
        }
        None => provider.store.create_user(&user).await?,
    }
    let target = vec![Entity::user(&user)];
    actor
        .record(
            provider,
            ev::USER_CREATE,
            "Create Okta user",
            target.clone(),
        )
        .await;
    if user.activated.is_some() {
        actor
            .record(provider, ev::USER_ACTIVATE, "Activate Okta user", target)
            .await;
    }
    Ok(user)
}

/// Profile fields to change. `None` leaves a field as it is (a partial update) unless the
/// update is full, in which case the required fields must all be present.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub login: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `Some(None)` clears it.
    pub display_name: Option<Option<String>>,
    /// A new password (`credentials.password.value`).
    pub password: Option<String>,
}

/// Applies `update`: partially (Okta's `POST /users/{id}`) or fully (`PUT`, where absent
/// required fields are a validation error and an absent display name is cleared).
pub async fn update_user(
    provider: &Provider,
    actor: &Actor,
    mut user: User,
    update: ProfileUpdate,
    full: bool,
) -> Result<User, DirectoryError> {
    if full {
        for (field, present) in [
            ("login", update.login.is_some()),
            ("email", update.email.is_some()),
            ("firstName", update.first_name.is_some()),
            ("lastName", update.last_name.is_some()),
        ] {
            if !present {
                return Err(invalid(field, "this field is required"));
            }
        }
    }
    let login = update.login.unwrap_or(user.login.clone());
    let email = update.email.unwrap_or(user.email.clone());
    let first_name = update.first_name.unwrap_or(user.first_name.clone());
    let last_name = update.last_name.unwrap_or(user.last_name.clone());
    validate_profile(&login, &email, &first_name, &last_name)?;
    validate_display_name(update.display_name.as_ref().and_then(Option::as_deref))?;
    let now = provider.now();
    let password_changed = update.password.is_some();
    if password_changed {
        crate::services::ldap::source::refuse_local_password(provider, &user.id).await?;
        crate::services::idps::password::refuse_local_password(provider, &user.id).await?;
    }
    user.login = login.trim().to_owned();
    user.email = email.trim().to_owned();
    user.first_name = first_name.trim().to_owned();
    user.last_name = last_name.trim().to_owned();
    // Checked against the profile as it will be (a new login counts for "no username").
    let checked = match update.password {
        Some(p) => Some(passwords::check_and_hash(provider, &user, p, SetBy::Admin).await?),
        None => None,
    };
    if let Some(c) = &checked {
        user.password_hash = Some(c.hash.clone());
        user.password_changed = Some(now);
        if user.status == UserStatus::PasswordExpired {
            set_status(&mut user, UserStatus::Active, now);
        }
    }
    match update.display_name {
        Some(d) => user.display_name = d.filter(|d| !d.is_empty()),
        None if full => user.display_name = None,
        None => {}
    }
    user.last_updated = now;
    if password_changed {
        // Whoever held the old password (or a session or token got with it) is out: the
        // user's sessions, refresh and access tokens end, and so do API tokens they own,
        // unless they are changing their own password with one of them.
        let keep_api_tokens = actor.user_id() == Some(user.id.as_str());
        let end = EndSessions {
            oauth_tokens: true,
            api_tokens: !keep_api_tokens,
            except_session: None,
        };
        end_all_for_user(provider, actor, &user, end, EndReason::PasswordChanged).await?;
    }
    match &checked {
        Some(c) => {
            provider
                .store
                .update_user_with_password(&user, c.history_keep())
                .await?
        }
        None => provider.store.update_user(&user).await?,
    }
    let (event, message) = if password_changed {
        (ev::USER_PASSWORD_UPDATE, "User update password for Okta")
    } else {
        (ev::USER_PROFILE_UPDATE, "Update user profile for Okta")
    };
    let target = vec![Entity::user(&user)];
    actor.record(provider, event, message, target).await;
    Ok(user)
}

/// Okta's `/lifecycle/{operation}`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Activate,
    Reactivate,
    Deactivate,
    Suspend,
    Unsuspend,
    Unlock,
    ExpirePassword,
}

impl Lifecycle {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "activate" => Self::Activate,
            "reactivate" => Self::Reactivate,
            "deactivate" => Self::Deactivate,
            "suspend" => Self::Suspend,
            "unsuspend" => Self::Unsuspend,
            "unlock" => Self::Unlock,
            "expire_password" => Self::ExpirePassword,
            _ => return None,
        })
    }
}

fn set_status(user: &mut User, status: UserStatus, now: i64) {
    if user.status != status {
        user.status = status;
        user.status_changed = Some(now);
    }
    if status == UserStatus::Active && user.activated.is_none() {
        user.activated = Some(now);
    }
    user.last_updated = now;
}

fn not_allowed(op: &str, user: &User) -> DirectoryError {
    invalid(
        "status",
        format!(
            "{op} is not allowed for a user whose status is {}",
            user.status
        ),
    )
}

/// Runs a lifecycle operation and records it by `actor`; returns the user as it now is.
pub async fn lifecycle(
    provider: &Provider,
    actor: &Actor,
    user: User,
    op: Lifecycle,
) -> Result<User, DirectoryError> {
    let was = user.status;
    let user = change_status(provider, user, op).await?;
    let event = match op {
        Lifecycle::Activate | Lifecycle::Reactivate => {
            Some((ev::USER_ACTIVATE, "Activate Okta user"))
        }
        Lifecycle::Deactivate => Some((ev::USER_DEACTIVATE, "Deactivate Okta user")),
        Lifecycle::Suspend => Some((ev::USER_SUSPEND, "Suspend Okta user")),
        Lifecycle::Unsuspend => Some((ev::USER_UNSUSPEND, "Unsuspend Okta user")),
        Lifecycle::Unlock if was == UserStatus::LockedOut => {
            Some((ev::ACCOUNT_UNLOCK_BY_ADMIN, "Unlock user account by admin"))
        }
        Lifecycle::Unlock | Lifecycle::ExpirePassword => None,
    };
    if let Some((event, message)) = event {
        let target = vec![Entity::user(&user)];
        actor.record(provider, event, message, target).await;
    }
    Ok(user)
}

async fn change_status(
    provider: &Provider,
    mut user: User,
    op: Lifecycle,
) -> Result<User, DirectoryError> {
    use UserStatus::*;
    let now = provider.now();
    // Without a password, an activated user waits in PROVISIONED until they set one.
    let activated = if user.password_hash.is_some() {
        Active
    } else {
        Provisioned
    };
    let next = match (op, user.status) {
        (Lifecycle::Activate, Staged | Provisioned | Deprovisioned) => activated,
        (Lifecycle::Activate, _) => {
            return Err(invalid(
                "status",
                "Activation failed because the user is already active",
            ));
        }
        (Lifecycle::Reactivate, Provisioned) => activated,
        (Lifecycle::Reactivate, _) => return Err(not_allowed("reactivate", &user)),
        (Lifecycle::Deactivate, _) => Deprovisioned,
        (Lifecycle::Suspend, Active) => Suspended,
        (Lifecycle::Suspend, _) => return Err(not_allowed("suspend", &user)),
        (Lifecycle::Unsuspend, Suspended) => Active,
        (Lifecycle::Unsuspend, _) => return Err(not_allowed("unsuspend", &user)),
        (Lifecycle::Unlock, LockedOut | Active) => Active,
        (Lifecycle::Unlock, _) => return Err(not_allowed("unlock", &user)),
        (Lifecycle::ExpirePassword, Active | PasswordExpired | Recovery | LockedOut) => {
            PasswordExpired
        }
        (Lifecycle::ExpirePassword, _) => return Err(not_allowed("expire_password", &user)),
    };
    if op == Lifecycle::Unlock {
        // Unlocking also forgives the failed sign-ins that led to the lock.
        provider.store.reset_signin_failures(&user.id).await?;
        if user.status == Active {
            return Ok(user);
        }
    }
    let ends_access = matches!(next, Deprovisioned | Suspended);
    if ends_access {
        // First, so a crash before the status change leaves nothing alive that should not be.
        revoke_credentials(provider, &user).await?;
    }
    set_status(&mut user, next, now);
    provider.store.update_user(&user).await?;
    if ends_access {
        // Again, for what was issued while the status was being changed.
        revoke_credentials(provider, &user).await?;
    }
    Ok(user)
}

/// Ends the user's sessions (telling the apps they signed in to) and revokes their grants,
/// refresh, access and API tokens, for good: reactivating the user revives none of them.
async fn revoke_credentials(provider: &Provider, user: &User) -> Result<(), DirectoryError> {
    let end = EndSessions {
        oauth_tokens: true,
        api_tokens: true,
        except_session: None,
    };
    end_all_for_user(provider, &Actor::system(), user, end, EndReason::Lifecycle).await?;
    Ok(())
}

/// What `DELETE /api/v1/users/{id}` did.
#[derive(Debug, Clone, PartialEq)]
pub enum DeleteOutcome {
    /// The first delete of a user that was not deactivated only deactivates them.
    Deactivated(Box<User>),
    Deleted,
}

pub async fn delete_user(
    provider: &Provider,
    actor: &Actor,
    user: User,
) -> Result<DeleteOutcome, DirectoryError> {
    if user.status != UserStatus::Deprovisioned {
        let user = lifecycle(provider, actor, user, Lifecycle::Deactivate).await?;
        return Ok(DeleteOutcome::Deactivated(Box::new(user)));
    }
    provider.store.delete_user(&user.id).await?;
    let target = vec![Entity::user(&user)];
    actor
        .record(provider, ev::USER_DELETE, "Delete Okta user", target)
        .await;
    Ok(DeleteOutcome::Deleted)
}

/// One page of users matching `filter`, plus the cursor of the next page when there is one.
pub async fn search_users(
    provider: &Provider,
    filter: Option<&UserFilter>,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<User>, Option<String>), DirectoryError> {
    let limit = limit.max(1);
    let mut users = provider
        .store
        .search_users(
            filter,
            Page {
                after,
                limit: limit.saturating_add(1),
            },
        )
        .await?;
    let next = if users.len() > limit as usize {
        users.truncate(limit as usize);
        users.last().map(|u| u.id.clone())
    } else {
        None
    };
    Ok((users, next))
}

/// `q=`: at most `limit` users whose first name, last name, email or login starts with `q`
/// (case-insensitive) and who match `filter`, sorted by the matching value; as in Okta, `q=`
/// has no further pages (see [`crate::store::UserStore::quick_search_users`]).
pub async fn quick_search_users(
    provider: &Provider,
    q: &str,
    filter: Option<&UserFilter>,
    limit: u32,
) -> Result<Vec<User>, DirectoryError> {
    Ok(provider
        .store
        .quick_search_users(q, filter, limit.max(1))
        .await?)
}

/// After the user set a password through a one-time link: a PROVISIONED user is activated
/// (`user.lifecycle.activate`), a RECOVERY, PASSWORD_EXPIRED or LOCKED_OUT one is ACTIVE again
/// (a reset also forgives the failed sign-ins that locked the account).
pub(crate) async fn activate_after_password(
    provider: &Provider,
    actor: &Actor,
    mut user: User,
) -> Result<User, DirectoryError> {
    let was = user.status;
    if !matches!(
        was,
        UserStatus::Provisioned
            | UserStatus::Recovery
            | UserStatus::PasswordExpired
            | UserStatus::LockedOut
    ) {
        return Ok(user);
    }
    if was == UserStatus::LockedOut {
        provider.store.reset_signin_failures(&user.id).await?;
    }
    set_status(&mut user, UserStatus::Active, provider.now());
    provider.store.update_user(&user).await?;
    if was == UserStatus::Provisioned {
        let target = vec![Entity::user(&user)];
        actor
            .record(provider, ev::USER_ACTIVATE, "Activate Okta user", target)
            .await;
    }
    Ok(user)
}
