//! Throttling of client-authentication failures (`invalid_client`) at the token, introspection
//! and revocation endpoints, against secret guessing. Failures are counted in the database
//! ([`rate_limit`], atomic increments) so the limits hold across nodes, in fixed windows so a
//! client is never locked out for longer than one: per client (only clients that exist, so
//! made-up ids add no counters) and per client address. Past either limit the request is
//! refused before its credentials are checked, with `401 invalid_client` and `Retry-After`.
//! Concurrent requests checked before the failures they race with are counted can overshoot a
//! limit by at most their number.

use crate::Provider;
use crate::oauth2::OAuthError;
use crate::oauth2::client_assertion::unverified_client_id;
use crate::oauth2::client_auth::ClientCredentials;
use crate::services::rate_limit::{self, RatePolicy};

/// Failed client authentications one client may have in a window.
pub const MAX_FAILURES_PER_CLIENT: u32 = 20;
/// Failed client authentications one address may make in a window, whatever the client.
pub const MAX_FAILURES_PER_ADDRESS: u32 = 20;
/// The window's length in seconds.
pub const FAILURE_WINDOW_SECS: i64 = 300;

fn policy(limit: u32) -> RatePolicy {
    RatePolicy {
        limit,
        window_secs: FAILURE_WINDOW_SECS,
    }
}

/// One client-authenticated request's buckets: the client it claims to be, and where it came
/// from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuthGuard {
    client_id: Option<String>,
    address: Option<String>,
}

impl ClientAuthGuard {
    /// The client id a request claims (Basic, form, or a client assertion's unverified `iss`),
    /// and the resolved client address.
    pub fn new(creds: &ClientCredentials, address: Option<&str>) -> Self {
        let client_id = creds
            .basic
            .as_ref()
            .map(|(id, _)| id.clone())
            .or_else(|| creds.form_client_id.clone())
            .or_else(|| {
                creds
                    .client_assertion
                    .as_deref()
                    .and_then(|a| unverified_client_id(a).ok())
            })
            .filter(|id| !id.is_empty());
        Self {
            client_id,
            address: address.map(str::to_owned),
        }
    }

    fn buckets(&self) -> Vec<(String, RatePolicy)> {
        let mut out = Vec::new();
        if let Some(id) = &self.client_id {
            out.push((
                format!("client-auth-fail:{id}"),
                policy(MAX_FAILURES_PER_CLIENT),
            ));
        }
        if let Some(ip) = &self.address {
            out.push((
                format!("client-auth-fail-ip:{ip}"),
                policy(MAX_FAILURES_PER_ADDRESS),
            ));
        }
        out
    }

    /// Refuses the request when its client or its address has used up its failures. A
    /// counting error lets it through (as every limit here fails open).
    pub async fn check(&self, provider: &Provider) -> Result<(), OAuthError> {
        for (bucket, policy) in self.buckets() {
            match rate_limit::peek(provider, &bucket, policy).await {
                Ok(w) if w.remaining == 0 => {
                    tracing::info!(%bucket, "client authentication throttled");
                    return Err(OAuthError::ClientThrottled {
                        retry_after: (w.reset - provider.now()).max(1),
                    });
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "client authentication failures not read"),
            }
        }
        Ok(())
    }

    /// Counts the outcome: an `invalid_client` is one failure for the address and, when the
    /// client exists, for the client.
    pub async fn observe<T>(&self, provider: &Provider, result: &Result<T, OAuthError>) {
        if !matches!(result, Err(OAuthError::InvalidClient(_))) {
            return;
        }
        let known = match &self.client_id {
            Some(id) => matches!(
                provider.clients.find(provider.store.as_ref(), id).await,
                Ok(Some(_))
            ),
            None => false,
        };
        for (bucket, policy) in self.buckets() {
            if bucket.starts_with("client-auth-fail:") && !known {
                continue;
            }
            if let Err(e) = rate_limit::hit(provider, &bucket, policy).await {
                tracing::warn!(error = %e, "client authentication failure not counted");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claimed_client_comes_from_any_credential() {
        let basic = ClientCredentials {
            basic: Some(("abc".into(), Some("s".into()))),
            ..Default::default()
        };
        assert_eq!(
            ClientAuthGuard::new(&basic, Some("10.0.0.1"))
                .client_id
                .as_deref(),
            Some("abc")
        );
        let form = ClientCredentials {
            form_client_id: Some("def".into()),
            ..Default::default()
        };
        assert_eq!(
            ClientAuthGuard::new(&form, None).client_id.as_deref(),
            Some("def")
        );
        let none = ClientAuthGuard::new(&ClientCredentials::default(), Some("10.0.0.1"));
        assert_eq!(none.buckets().len(), 1);
    }
}
