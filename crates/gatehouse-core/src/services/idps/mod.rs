//! Upstream OpenID Connect identity providers (Okta's Identity Providers): people sign in at
//! Google, Microsoft Entra ID or any OpenID Connect provider and come back signed in here.
//!
//! * [`admin`]: the IdPs themselves (`/api/v1/idps`, the console, `gatehouse idp`), presets;
//! * [`start`]: sending a sign-in upstream (state, nonce, PKCE), buttons and email-domain routing;
//! * [`discovery`]: endpoints from the upstream's discovery document;
//! * [`form`]: the sign-in page's button and routed-domain submissions;
//! * [`client_key`]: the IdP's own key for `private_key_jwt` at the upstream's token endpoint;
//! * [`callback`]: the upstream's answer: code exchange, then the sign-in continues;
//! * [`id_token`]: verifying the upstream's ID token;
//! * [`mapping`]: claims into a Gatehouse profile;
//! * [`provision`]: just-in-time provisioning, account linking, profile and group updates, and
//!   and ([`password`]) the rule that IdP users get no Gatehouse password unless the IdP allows it;
//! * [`upstream`]: the HTTP calls, done by a client the binary installs.

pub mod admin;
pub mod callback;
pub mod client_key;
pub mod discovery;
pub mod form;
pub mod id_token;
pub mod mapping;
pub mod password;
pub mod provision;
pub mod start;
pub mod upstream;
