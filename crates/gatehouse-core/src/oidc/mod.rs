//! OpenID Connect on top of OAuth: tokens and their claims, userinfo, discovery, logout.

pub mod claims;
pub mod discovery;
pub mod entra;
pub mod entra_dialect;
pub mod logout;
pub mod tokens;
pub mod userinfo;
