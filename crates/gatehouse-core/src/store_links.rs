//! Storage for the one-time links mailed to (or printed for) users: activation and password
//! reset. Re-exported by [`crate::store`].

use async_trait::async_trait;

use crate::domain::Timestamp;
use crate::store_error::StoreResult;

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Okta's activation link: the user sets their first password and becomes ACTIVE.
    Activation,
    /// Okta's reset-password link: the user sets a new password.
    PasswordReset,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activation => "activation",
            Self::PasswordReset => "password_reset",
        }
    }
}

/// A link's token as stored: only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLinkRecord {
    /// SHA-256 (base64url) of the token.
    pub token_hash: String,
    pub user_id: String,
    pub purpose: LinkPurpose,
    pub created: Timestamp,
    pub expires_at: Timestamp,
}

#[async_trait]
pub trait UserLinkStore: Send + Sync {
    /// Stores a new link, replacing the user's earlier links of the same purpose (and dropping
    /// expired ones).
    async fn replace_user_link(&self, link: &UserLinkRecord) -> StoreResult<()>;
    /// The unexpired link with this hash and purpose, without spending it.
    async fn find_user_link(
        &self,
        token_hash: &str,
        purpose: LinkPurpose,
        now: Timestamp,
    ) -> StoreResult<Option<UserLinkRecord>>;
    /// Spends an unexpired link in one statement: `Some` for exactly one caller.
    async fn spend_user_link(
        &self,
        token_hash: &str,
        purpose: LinkPurpose,
        now: Timestamp,
    ) -> StoreResult<Option<UserLinkRecord>>;
    /// Puts back a link spent by a request that then failed (a refused password), unless the
    /// user has been sent a newer one meanwhile.
    async fn restore_user_link(&self, link: &UserLinkRecord) -> StoreResult<()>;
    /// Drops every link of `user_id` (for example when the password was set another way).
    async fn delete_user_links(&self, user_id: &str) -> StoreResult<()>;
}
