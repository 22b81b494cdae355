//! What Gatehouse asks of an LDAP directory, as a trait the binary implements (with the
//! `ldap3` crate: this crate does no network I/O), and the slot on the
//! [`Provider`](crate::Provider) that holds the installed one.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use super::mapping::AttributeMapping;

/// One entry: its DN and its attributes (names as the server spelled them; look them up with
/// [`DirectoryEntry::first`], which ignores case as LDAP does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub dn: String,
    pub attrs: HashMap<String, Vec<String>>,
}

impl DirectoryEntry {
    /// Every value of `name` (case-insensitive).
    pub fn values(&self, name: &str) -> &[String] {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    }

    /// The first non-blank value of `name`, trimmed.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.values(name)
            .iter()
            .map(|v| v.trim())
            .find(|v| !v.is_empty())
    }
}

/// The directory could not be asked (connection refused, TLS, timeout, the service account's
/// bind failed, a search error): the sign-in cannot be judged either way. The text is for
/// logs; it never holds a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the LDAP directory is unavailable: {0}")]
pub struct DirectoryUnavailable(pub String);

/// An LDAP directory as Gatehouse uses it. Searches run as the configured service account;
/// [`Directory::check_password`] binds as the user on a connection of its own.
#[async_trait]
pub trait Directory: Send + Sync {
    /// The entry the user filter finds for `login` (escaped into the filter); `None` when there
    /// is none, or more than one (an ambiguous login signs nobody in).
    async fn find_user(&self, login: &str) -> Result<Option<DirectoryEntry>, DirectoryUnavailable>;
    /// Binds as `dn` with `password`: `Ok(true)` accepted, `Ok(false)` refused (wrong
    /// password, disabled account). An empty password is refused without a bind (it would be
    /// an unauthenticated bind, which servers accept).
    async fn check_password(&self, dn: &str, password: &str) -> Result<bool, DirectoryUnavailable>;
    /// The groups the group filter finds for this user.
    async fn groups_of(
        &self,
        user: &DirectoryEntry,
        login: &str,
    ) -> Result<Vec<DirectoryEntry>, DirectoryUnavailable>;
    /// Every user under the user base (the user filter with `{login}` as `*`).
    async fn list_users(&self) -> Result<Vec<DirectoryEntry>, DirectoryUnavailable>;
    /// Every group under the group base (the group filter's listing form), with its members.
    async fn list_groups(&self) -> Result<Vec<DirectoryEntry>, DirectoryUnavailable>;
    /// The users whose change attribute ([`AttributeMapping::changed`]) is at or after
    /// `since`: the user listing and `(<attribute>>=<since>)`, the value escaped.
    async fn list_users_changed(
        &self,
        since: &str,
    ) -> Result<Vec<DirectoryEntry>, DirectoryUnavailable>;
    /// What an import's saved mark is about (the directory, user base and filter, the change
    /// attribute): a mark saved under another scope is not used. Empty when it cannot change.
    fn scope(&self) -> String {
        String::new()
    }
}

/// An installed directory and how its entries become Gatehouse users and groups.
#[derive(Clone)]
pub struct InstalledDirectory {
    pub directory: Arc<dyn Directory>,
    pub mapping: AttributeMapping,
}

/// The provider's LDAP directory, if the binary installed one (`[ldap]` is configured).
#[derive(Default)]
pub struct DirectorySlot {
    inner: RwLock<Option<InstalledDirectory>>,
}

impl DirectorySlot {
    pub fn install(&self, directory: Arc<dyn Directory>, mapping: AttributeMapping) {
        if let Ok(mut slot) = self.inner.write() {
            *slot = Some(InstalledDirectory { directory, mapping });
        }
    }

    /// The installed directory; `None` when LDAP is not configured.
    pub fn get(&self) -> Option<InstalledDirectory> {
        self.inner.read().ok().and_then(|s| s.clone())
    }
}
