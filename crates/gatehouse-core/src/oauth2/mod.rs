//! OAuth 2.0 protocol rules: the authorize pipeline, client authentication, the grants,
//! introspection and revocation.

pub mod authorize;
pub mod client_assertion;
pub mod client_auth;
pub mod client_cache;
pub mod client_throttle;
pub mod device;
mod error;
pub mod grants;
pub mod introspect;
pub mod introspect_guarded;
pub mod pkce;
pub mod remote_jwks;
pub mod request_object;
pub mod revoke;
pub mod scope;
pub mod types;

pub use error::OAuthError;
