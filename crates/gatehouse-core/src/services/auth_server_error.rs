//! The error of the authorization-server services, shared by `auth_servers` (the servers) and
//! `auth_server_config` (their scopes, claims and policies), which call each other.

use crate::keys::KeyError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AuthServerError {
    #[error("no authorization server {0}")]
    NotFound(String),
    /// A scope, claim, policy or rule of the server (`kind` is Okta's name for it).
    #[error("no {kind} {id}")]
    Missing { kind: &'static str, id: String },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}
