//! Gatehouse's protocol engine and domain. No HTTP and no SQL live here: the web crate maps
//! requests onto these services, and the store crate implements the storage traits.
#![forbid(unsafe_code)]

pub mod audit;
pub mod authz;
pub mod cache;
pub mod crypto;
pub mod domain;
pub mod keys;
pub mod oauth2;
pub mod oidc;
pub mod provider;
pub mod services;
pub mod store;
pub mod store_authn;
pub mod store_error;
pub mod store_factors;
pub mod store_federation;
pub mod store_idps;
pub mod store_links;
pub mod store_logout;
pub mod store_passwords;
pub mod store_policy;
pub mod store_setup;
pub mod store_tokens;
pub mod store_webauthn;

pub use provider::{Provider, ServerContext};
