//! What the directory's services (users, groups, apps, trusted origins, ...) share and check
//! before they write: the error type and the validation of group profiles and URIs.

use crate::crypto::PasswordError;
use crate::domain::text::{self, limits};
use crate::oauth2::types::RedirectUri;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// A field failed validation; `field` names it for the caller's error shape.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0} not found")]
    NotFound(String),
    /// A named record does not exist: `kind` is Okta's type name (`User`, `Group`, `App`).
    #[error("{kind} {key} not found")]
    Missing { kind: &'static str, key: String },
    /// The operation is never allowed on this record (e.g. deleting the built-in `Everyone`).
    #[error("{0}")]
    Forbidden(String),
    #[error("{field} is already in use")]
    Conflict { field: String },
    /// An ACTIVE app cannot be deleted (Okta's E0000056): deactivate it first.
    #[error("app {0} must be deactivated before it is deleted")]
    StillActive(String),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Password(#[from] PasswordError),
}

impl From<StoreError> for DirectoryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { constraint } => Self::Conflict { field: constraint },
            StoreError::NotFound => Self::NotFound("record".into()),
            other => Self::Store(other),
        }
    }
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> DirectoryError {
    DirectoryError::Invalid {
        field,
        message: message.into(),
    }
}

/// A group's name (1 to 255 characters, trimmed) and description (at most 1,024); returns the
/// trimmed name.
pub(crate) fn validate_group_profile<'a>(
    name: &'a str,
    description: &str,
) -> Result<&'a str, DirectoryError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > limits::GROUP_NAME {
        return Err(invalid(
            "name",
            format!("must be 1 to {} characters", limits::GROUP_NAME),
        ));
    }
    text::check_max_chars(description, limits::GROUP_DESCRIPTION)
        .map_err(|m| invalid("description", m))?;
    for (field, value) in [("name", name), ("description", description)] {
        if text::has_forbidden_char(value) {
            return Err(invalid(field, text::FORBIDDEN_CHAR_MESSAGE));
        }
    }
    Ok(name)
}

/// Redirect URIs must be absolute, without fragments, and never `javascript:`/`data:`-like
/// schemes: the rules of [`RedirectUri::parse`], which the authorize and token endpoints apply
/// to what a request sends.
pub fn validate_redirect_uri(field: &'static str, uri: &str) -> Result<(), DirectoryError> {
    RedirectUri::parse(uri)
        .map(drop)
        .map_err(|e| invalid(field, e.to_string()))
}

/// No URI holds a control character or a space (the URL parser would silently drop some, so
/// the stored value would not be the one that is matched).
pub(crate) fn check_uri_chars(field: &'static str, uri: &str) -> Result<(), DirectoryError> {
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid(
            field,
            "must not contain control characters or spaces",
        ));
    }
    Ok(())
}
