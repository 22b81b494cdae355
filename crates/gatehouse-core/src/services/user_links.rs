//! One-time links for a user: activation (Okta's `lifecycle/activate` and `reactivate`: the
//! user sets their first password) and password reset (`lifecycle/reset_password`,
//! `credentials/forgot_password`, the hosted "Forgot password?" page).
//!
//! A link's token is random, stored only as its SHA-256, expires, and is spent by one
//! conditional delete: whoever spends it sets the password, once. A new link for the same user
//! and purpose replaces the older ones. The password goes through [`users::update_user`], the
//! one path that applies the password policy and ends the user's other sessions and tokens.

use crate::Provider;
use crate::audit::{Actor, Entity};
use crate::crypto::{random_token, sha256_b64url};
use crate::domain::{User, UserStatus};
use crate::services::directory_rules::{DirectoryError, invalid};
use crate::services::users::{self, Lifecycle, ProfileUpdate};
use crate::store::{LinkPurpose, UserLinkRecord};

/// Okta's event for an administrator's (or the API's) password reset.
pub const USER_RESET_PASSWORD: &str = "user.account.reset_password";
/// A user asked for a reset link ("Forgot password?", `credentials/forgot_password`).
pub const USER_FORGOT_PASSWORD: &str = "user.account.forgot_password";

pub use crate::provider::{DEFAULT_ACTIVATION_SECS, DEFAULT_RESET_SECS, LinkLifetimes};

/// A link just issued: the token is shown once (in the mail, the API answer or the CLI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedLink {
    pub purpose: LinkPurpose,
    pub token: String,
    pub expires_at: i64,
}

impl IssuedLink {
    /// The hosted page's path for this link (Okta's own paths).
    pub fn path(&self) -> String {
        match self.purpose {
            LinkPurpose::Activation => format!("/welcome/{}", self.token),
            LinkPurpose::PasswordReset => format!("/signin/reset-password/{}", self.token),
        }
    }

    /// The full URL under `origin` (the org URL or the request's origin).
    pub fn url(&self, origin: &str) -> String {
        format!("{}{}", origin.trim_end_matches('/'), self.path())
    }
}

async fn issue(
    provider: &Provider,
    user: &User,
    purpose: LinkPurpose,
) -> Result<IssuedLink, DirectoryError> {
    let token = random_token(24);
    let now = provider.now();
    let ttl = match purpose {
        LinkPurpose::Activation => provider.link_lifetimes.activation,
        LinkPurpose::PasswordReset => provider.link_lifetimes.reset,
    };
    let record = UserLinkRecord {
        token_hash: sha256_b64url(&token),
        user_id: user.id.clone(),
        purpose,
        created: now,
        expires_at: now.saturating_add(ttl.max(1)),
    };
    provider.store.replace_user_link(&record).await?;
    Ok(IssuedLink {
        purpose,
        token,
        expires_at: record.expires_at,
    })
}

/// `lifecycle/activate` or `reactivate`: the status change, then (for a user left PROVISIONED,
/// i.e. without a password) an activation link.
pub async fn activate(
    provider: &Provider,
    actor: &Actor,
    user: User,
    op: Lifecycle,
) -> Result<(User, Option<IssuedLink>), DirectoryError> {
    let user = users::lifecycle(provider, actor, user, op).await?;
    let link = if user.status == UserStatus::Provisioned {
        Some(issue(provider, &user, LinkPurpose::Activation).await?)
    } else {
        None
    };
    Ok((user, link))
}

/// An activation link for a user created PROVISIONED (`POST /api/v1/users?activate=true`
/// without a password).
pub async fn activation_link(
    provider: &Provider,
    user: &User,
) -> Result<Option<IssuedLink>, DirectoryError> {
    if user.status != UserStatus::Provisioned {
        return Ok(None);
    }
    Ok(Some(issue(provider, user, LinkPurpose::Activation).await?))
}

fn may_reset(user: &User) -> bool {
    use UserStatus::*;
    matches!(user.status, Active | Recovery | PasswordExpired | LockedOut)
}

/// `lifecycle/reset_password`: the user goes to RECOVERY (their password no longer signs them
/// in) and gets a reset link.
pub async fn reset_password(
    provider: &Provider,
    actor: &Actor,
    mut user: User,
) -> Result<(User, IssuedLink), DirectoryError> {
    if !may_reset(&user) {
        return Err(invalid(
            "status",
            format!(
                "reset_password is not allowed for a user whose status is {}",
                user.status
            ),
        ));
    }
    crate::services::ldap::source::refuse_local_password(provider, &user.id).await?;
    crate::services::idps::password::refuse_local_password(provider, &user.id).await?;
    let now = provider.now();
    if user.status != UserStatus::Recovery {
        user.status = UserStatus::Recovery;
        user.status_changed = Some(now);
        user.last_updated = now;
        provider.store.update_user(&user).await?;
    }
    let link = issue(provider, &user, LinkPurpose::PasswordReset).await?;
    let target = vec![Entity::user(&user)];
    actor
        .record(
            provider,
            USER_RESET_PASSWORD,
            "Reset password for Okta user",
            target,
        )
        .await;
    Ok((user, link))
}

/// `credentials/forgot_password` and the "Forgot password?" page: a reset link, the status
/// unchanged (the old password still works until a new one is set). `None` when the user may
/// not reset a password (not active, or their password lives in LDAP or an identity provider).
pub async fn forgot_password(
    provider: &Provider,
    actor: &Actor,
    user: &User,
) -> Result<Option<IssuedLink>, DirectoryError> {
    if !may_reset(user)
        || crate::services::ldap::source::refuse_local_password(provider, &user.id)
            .await
            .is_err()
        || crate::services::idps::password::refuse_local_password(provider, &user.id)
            .await
            .is_err()
    {
        return Ok(None);
    }
    let link = issue(provider, user, LinkPurpose::PasswordReset).await?;
    let target = vec![Entity::user(user)];
    actor
        .record(
            provider,
            USER_FORGOT_PASSWORD,
            "User requested a password reset link",
            target,
        )
        .await;
    Ok(Some(link))
}

/// Who a link (still) belongs to, without spending it: for showing the hosted page.
pub async fn peek(
    provider: &Provider,
    token: &str,
    purpose: LinkPurpose,
) -> Result<Option<User>, DirectoryError> {
    let Some(link) = provider
        .store
        .find_user_link(&sha256_b64url(token), purpose, provider.now())
        .await?
    else {
        return Ok(None);
    };
    let user = provider.store.find_user(&link.user_id).await?;
    Ok(user.filter(|u| usable_by(u, purpose)))
}

fn usable_by(user: &User, purpose: LinkPurpose) -> bool {
    match purpose {
        LinkPurpose::Activation => user.status == UserStatus::Provisioned,
        LinkPurpose::PasswordReset => may_reset(user),
    }
}

/// What completing a link can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Unknown, spent, expired, or its user can no longer use it.
    #[error("this link is not valid or has expired")]
    Invalid,
    /// The password was refused (the policy's words, for the form).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Other(DirectoryError),
}

/// Spends the link and sets `password` (through the policy). A refused password puts the link
/// back, so the user can try again; otherwise the link is gone, the user is ACTIVE, and their
/// other sessions and tokens have ended.
pub async fn complete(
    provider: &Provider,
    client: &crate::audit::ClientInfo,
    token: &str,
    purpose: LinkPurpose,
    password: String,
) -> Result<User, LinkError> {
    let now = provider.now();
    let spent = provider
        .store
        .spend_user_link(&sha256_b64url(token), purpose, now)
        .await
        .map_err(|e| LinkError::Other(e.into()))?
        .ok_or(LinkError::Invalid)?;
    let user = match provider.store.find_user(&spent.user_id).await {
        Ok(Some(u)) if usable_by(&u, purpose) => u,
        Ok(_) => return Err(LinkError::Invalid),
        Err(e) => return Err(LinkError::Other(e.into())),
    };
    let actor = Actor::user(&user, client);
    let update = ProfileUpdate {
        password: Some(password),
        ..Default::default()
    };
    let user = match users::update_user(provider, &actor, user, update, false).await {
        Ok(u) => u,
        Err(e) => {
            // Not spent after all: the user may try another password.
            if let Err(restore) = provider.store.restore_user_link(&spent).await {
                tracing::warn!(error = %restore, "could not restore a one-time link");
            }
            return Err(match e {
                DirectoryError::Invalid { message, .. } => LinkError::Refused(message),
                other => LinkError::Other(other),
            });
        }
    };
    let _ = provider.store.delete_user_links(&user.id).await;
    let user = users::activate_after_password(provider, &actor, user)
        .await
        .map_err(LinkError::Other)?;
    Ok(user)
}

/// The "Forgot password?" page's lookup: a login, or an email address that exactly one user
/// has. `None` otherwise (the caller answers the same either way).
pub async fn find_for_recovery(
    provider: &Provider,
    username: &str,
) -> Result<Option<User>, DirectoryError> {
    let username = username.trim();
    if username.is_empty() || username.chars().count() > 100 {
        return Ok(None);
    }
    if let Some(user) = provider.store.find_user_by_login(username).await? {
        return Ok(Some(user));
    }
    if !username.contains('@') {
        return Ok(None);
    }
    let filter = crate::domain::UserFilter::Compare {
        field: crate::domain::UserField::Email,
        op: crate::domain::FilterOp::Eq,
        value: username.to_owned(),
    };
    let (mut found, _) = users::search_users(provider, Some(&filter), None, 2).await?;
    Ok(if found.len() == 1 { found.pop() } else { None })
}
