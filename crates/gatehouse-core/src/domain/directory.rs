//! The directory's records: users and groups, the queries on users, administrator roles.

use serde::{Deserialize, Serialize};

use super::{GroupType, Timestamp, UserStatus};

/// A person in the directory, with Okta's base profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub status: UserStatus,
    pub login: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub display_name: Option<String>,
    /// PHC-format argon2id hash; `None` for users created without credentials.
    pub password_hash: Option<String>,
    pub created: Timestamp,
    pub last_updated: Timestamp,
    pub activated: Option<Timestamp>,
    pub status_changed: Option<Timestamp>,
    pub last_login: Option<Timestamp>,
    pub password_changed: Option<Timestamp>,
}

impl User {
    /// `name` claim: the display name, or "first last".
    pub fn full_name(&self) -> String {
        match &self.display_name {
            Some(d) if !d.is_empty() => d.clone(),
            _ => format!("{} {}", self.first_name, self.last_name)
                .trim()
                .to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: String,
    pub group_type: GroupType,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

/// The name of the built-in group every user belongs to.
pub const EVERYONE: &str = "Everyone";

/// A user attribute the management API can filter and search on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserField {
    Id,
    Status,
    Login,
    Email,
    FirstName,
    LastName,
    DisplayName,
    /// `lastUpdated`, compared as an instant; the filter's value is its Unix time in
    /// milliseconds, in decimal (normalised by the parser).
    LastUpdated,
}

/// A comparison in a user filter. String comparisons on profile fields ignore case; `id` and
/// `status` compare exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterOp {
    Eq,
    Ne,
    /// Starts with.
    Sw,
    /// Contains.
    Co,
    /// Present (non-null and non-empty).
    Pr,
    /// Greater than, greater or equal, less than, less or equal (instants only).
    Gt,
    Ge,
    Lt,
    Le,
}

/// A user query, as parsed from Okta's `filter`/`search`/`q` parameters
/// ([`crate::services::filter`]); each backend turns it into its own query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserFilter {
    Compare {
        field: UserField,
        op: FilterOp,
        /// Empty for `Pr`.
        value: String,
    },
    And(Box<UserFilter>, Box<UserFilter>),
    Or(Box<UserFilter>, Box<UserFilter>),
    Not(Box<UserFilter>),
}

/// An administrator role assigned to a user (Okta's role assignment, `SUPER_ADMIN` only for
/// now): who may use the admin console and own API tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRole {
    pub id: String,
    pub user_id: String,
    /// Okta's role type, e.g. `SUPER_ADMIN`.
    pub role_type: String,
    pub created: Timestamp,
}
