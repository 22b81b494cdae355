//! Protocol values that can only be built by parsing (after zero2prod's `SubscriberEmail`): a
//! private field, a `parse` that applies the rules and says why a value is refused, and
//! `as_str`. Nothing builds one from a `String` without the checks, so code holding a
//! `ClientId`, a `RedirectUri` or a `ScopeSet` never checks its syntax again; the request
//! parameter is refused once, where it is parsed, with the OAuth error the endpoint answers.
//!
//! The grant type is the fourth such value: [`crate::oauth2::grants::GrantType`], an enum
//! built only by `GrantType::parse` (or its variants, each a grant the engine implements).

mod client_id;
mod redirect_uri;
mod scope_set;

pub use client_id::{ClientId, ClientIdError};
pub use redirect_uri::{RedirectUri, RedirectUriError};
pub use scope_set::{ScopeError, ScopeSet};
