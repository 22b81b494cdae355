//! Introspection behind the client-authentication failure throttle, in the order that keeps the
//! throttle honest: the presented token's signature first (it depends on the token alone), then
//! the throttle's counters read together with that token's record and user (one query), and
//! only then the client's credentials. Its own module because the throttle's counters module
//! already uses [`introspect`]'s token verification.

use crate::oauth2::OAuthError;
use crate::oauth2::client_throttle::ClientAuthGuard;
use crate::oauth2::introspect::{self, Introspection, TokenActionParams};
use crate::provider::{Provider, ServerContext};

/// RFC 7662 introspection by the client `guard` names, refused while its failures are spent.
pub async fn introspect_guarded(
    provider: &Provider,
    server: &ServerContext,
    params: TokenActionParams,
    authorization: Option<&str>,
    guard: &ClientAuthGuard,
) -> Result<Introspection, OAuthError> {
    let claims = introspect::presented_claims(provider, server, &params).await;
    let key = introspect::presented_key(claims.as_ref());
    let found = guard.check_with_token(provider, key).await?;
    introspect::introspect(provider, server, params, authorization, claims, found).await
}
