//! The configuration of a custom authorization server (scopes, claims, access policies and
//! rules): records of the domain, defined in [`crate::domain::server_model`] and named here too,
//! where the rules that read them live.

pub use crate::domain::server_model::*;
