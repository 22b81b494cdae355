//! Throttling of client-authentication failures (`invalid_client`) at the token, introspection
//! and revocation endpoints, against secret guessing. Failures are counted in the database
//! ([`rate_limit`], atomic increments) so the limits hold across nodes, in fixed windows: per
//! client and address (only clients that exist, so made-up ids add no counters), and per
//! address whatever the client. Past either limit the request is refused before its
//! credentials are checked, with `401 invalid_client` and `Retry-After`, until the window ends.
//!
//! Client ids are public, so a limit per client alone would let anyone keep a client locked
//! out for good by failing on its behalf; counted per client *and* address, failures from
//! elsewhere never refuse the client's own requests. Concurrent requests checked before the
//! failures they race with are counted can overshoot a limit by at most their number.

use crate::Provider;
use crate::oauth2::OAuthError;
use crate::oauth2::client_assertion::unverified_client_id;
use crate::oauth2::client_auth::ClientCredentials;
use crate::oauth2::types::ClientId;
use crate::services::rate_limit::{self, RatePolicy, RateWindow};
use crate::store::{AccessTokenKey, GrantKey, GrantLookup, StoreError, TokenLookup};

/// Failed client authentications for one client from one address in a window.
pub const MAX_FAILURES_PER_CLIENT: u32 = 30;
/// Failed client authentications from one address in a window, whatever the client (several
/// clients may share an address behind a NAT).
pub const MAX_FAILURES_PER_ADDRESS: u32 = 100;
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

    /// The per-client bucket (needs both the client and the address), then the address's.
    fn buckets(&self) -> (Option<String>, Option<String>) {
        let address = self.address.as_deref().unwrap_or("unknown");
        (
            self.client_id
                .as_ref()
                .map(|id| format!("client-auth-fail:{address}:{id}")),
            self.address
                .as_ref()
                .map(|ip| format!("client-auth-fail-ip:{ip}")),
        )
    }

    /// Refuses the request when its client or its address has used up its failures. A
    /// counting error lets it through, as every limit here does (`rate_limit::fail_open`).
    pub async fn check(&self, provider: &Provider) -> Result<(), OAuthError> {
        let buckets = self.policies();
        if buckets.is_empty() {
            return Ok(());
        }
        let read = rate_limit::peek_all(provider, &named(&buckets)).await;
        let windows = rate_limit::fail_open(read, "client authentication failures not read")?
            .unwrap_or_default();
        refuse_if_spent(provider, &buckets, &windows)
    }

    /// [`Self::check`], reading in the same query the access token `token` names, its record
    /// and user (introspection, whose every request reads both): one query, not two. They are
    /// `None` when not read that way (the caller reads them itself). The decision is the
    /// same, and taken before any credential is checked, whatever the token: the read depends
    /// on the token alone, not on whether the secret is right, so neither the answer nor its
    /// timing past the limit says anything about a guess.
    pub async fn check_with_token(
        &self,
        provider: &Provider,
        token: Option<AccessTokenKey<'_>>,
    ) -> Result<Option<TokenLookup>, OAuthError> {
        let buckets = self.policies();
        let read = rate_limit::peek_all_with_access_token(provider, &named(&buckets), token).await;
        decide(provider, &buckets, read)
    }

    /// [`Self::check`], reading in the same query the code or refresh token `grant` names
    /// (the code exchange and the refresh, whose every request reads both): one read, not
    /// two. `None` when not read that way (the grant reads it itself). As for
    /// [`Self::check_with_token`], the decision is the counters' alone and comes before any
    /// credential is checked; what was read is used only once the client has authenticated,
    /// by the same checks as before, so it tells an unauthenticated caller nothing.
    pub async fn check_with_grant(
        &self,
        provider: &Provider,
        grant: GrantKey<'_>,
    ) -> Result<Option<GrantLookup>, OAuthError> {
        let buckets = self.policies();
        let read = rate_limit::peek_all_with_grant(provider, &named(&buckets), grant).await;
        decide(provider, &buckets, read)
    }

    /// Both buckets with their policies, the client's first.
    fn policies(&self) -> Vec<(String, RatePolicy)> {
        let (client, address) = self.buckets();
        [
            client.map(|b| (b, policy(MAX_FAILURES_PER_CLIENT))),
            address.map(|b| (b, policy(MAX_FAILURES_PER_ADDRESS))),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Counts the outcome: an `invalid_client` is one failure for the address and, when the
    /// client exists, for the client.
    pub async fn observe<T>(&self, provider: &Provider, result: &Result<T, OAuthError>) {
        if !matches!(result, Err(OAuthError::InvalidClient(_))) {
            return;
        }
        // Only an existing client has a bucket of its own (an id none can have is none).
        let known = match self.client_id.as_deref().map(ClientId::parse) {
            Some(Ok(id)) => matches!(
                provider.clients.find(provider.store.as_ref(), &id).await,
                Ok(Some(_))
            ),
            _ => false,
        };
        let (client, address) = self.buckets();
        let counted = [
            client
                .filter(|_| known)
                .map(|b| (b, MAX_FAILURES_PER_CLIENT)),
            address.map(|b| (b, MAX_FAILURES_PER_ADDRESS)),
        ];
        for (bucket, limit) in counted.into_iter().flatten() {
            if let Err(e) = rate_limit::hit(provider, &bucket, policy(limit)).await {
                tracing::warn!(error = %e, "client authentication failure not counted");
            }
        }
    }
}

/// The throttle's decision on counters read together with a record: refused when a bucket is
/// spent; the record (if any) otherwise. A read that failed (not for an unavailable database)
/// decides nothing and reads nothing: the caller goes on as unthrottled, reading for itself.
fn decide<T>(
    provider: &Provider,
    buckets: &[(String, RatePolicy)],
    read: Result<(Vec<RateWindow>, Option<T>), StoreError>,
) -> Result<Option<T>, OAuthError> {
    let Some((windows, found)) =
        rate_limit::fail_open(read, "client authentication failures not read")?
    else {
        return Ok(None);
    };
    refuse_if_spent(provider, buckets, &windows)?;
    Ok(found)
}

fn named(buckets: &[(String, RatePolicy)]) -> Vec<(&str, RatePolicy)> {
    buckets.iter().map(|(b, p)| (b.as_str(), *p)).collect()
}

/// The refusal of a request whose client or address (in that order) has no failures left.
fn refuse_if_spent(
    provider: &Provider,
    buckets: &[(String, RatePolicy)],
    windows: &[RateWindow],
) -> Result<(), OAuthError> {
    let spent = buckets.iter().zip(windows).find(|(_, w)| w.remaining == 0);
    match spent {
        Some(((bucket, _), w)) => {
            tracing::info!(%bucket, "client authentication throttled");
            Err(OAuthError::ClientThrottled {
                retry_after: (w.reset - provider.now()).max(1),
            })
        }
        None => Ok(()),
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
        assert_eq!(
            none.buckets(),
            (None, Some("client-auth-fail-ip:10.0.0.1".to_owned()))
        );
        assert_eq!(
            ClientAuthGuard::new(&form, Some("10.0.0.1"))
                .buckets()
                .0
                .as_deref(),
            Some("client-auth-fail:10.0.0.1:def")
        );
    }
}
