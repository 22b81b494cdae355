//! Fixed-window rate limits, counted in the database so that every node enforces the same
//! budget (Okta's per-minute limits; the `X-Rate-Limit-*` headers come from [`RateWindow`]).

use crate::Provider;
use crate::crypto::sha256_b64url;
use crate::domain::Timestamp;
use crate::oauth2::introspect::verify_access_token;
use crate::services::api_tokens::{Credential, parse_authorization};
use crate::store::{AccessTokenKey, GrantKey, GrantLookup, StoreError, TokenLookup};

/// A budget of `limit` requests per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatePolicy {
    pub limit: u32,
    pub window_secs: i64,
}

impl RatePolicy {
    pub const fn per_minute(limit: u32) -> Self {
        Self {
            limit,
            window_secs: 60,
        }
    }
}

/// Where a bucket stands after one more hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow {
    pub limit: u32,
    pub remaining: u32,
    /// When the current window ends (Unix seconds): `X-Rate-Limit-Reset`.
    pub reset: Timestamp,
    /// This hit went over the limit and must be refused.
    pub exceeded: bool,
}

/// Counts one hit against `bucket` (e.g. `api:<token hash>`) under `policy`.
pub async fn hit(
    provider: &Provider,
    bucket: &str,
    policy: RatePolicy,
) -> Result<RateWindow, StoreError> {
    let now = provider.now();
    Ok(window_after(
        policy,
        now,
        provider
            .store
            .hit_rate_limit(bucket, window_start(policy, now))
            .await?,
    ))
}

/// Where a bucket stands, without counting a hit: `remaining` 0 means the next hit is refused.
pub async fn peek(
    provider: &Provider,
    bucket: &str,
    policy: RatePolicy,
) -> Result<RateWindow, StoreError> {
    let now = provider.now();
    let hits = provider
        .store
        .rate_limit_hits(bucket, window_start(policy, now))
        .await?;
    Ok(window_after(policy, now, hits))
}

/// [`peek`] at several buckets, each under its own policy, in one read when their windows
/// have the same length (one per policy otherwise).
pub async fn peek_all(
    provider: &Provider,
    buckets: &[(&str, RatePolicy)],
) -> Result<Vec<RateWindow>, StoreError> {
    let now = provider.now();
    let Some((_, first)) = buckets.first() else {
        return Ok(Vec::new());
    };
    if buckets
        .iter()
        .any(|(_, p)| p.window_secs != first.window_secs)
    {
        let mut windows = Vec::with_capacity(buckets.len());
        for (bucket, policy) in buckets {
            windows.push(peek(provider, bucket, *policy).await?);
        }
        return Ok(windows);
    }
    let names: Vec<&str> = buckets.iter().map(|(b, _)| *b).collect();
    let hits = provider
        .store
        .rate_limit_hits_of(&names, window_start(*first, now))
        .await?;
    Ok(buckets
        .iter()
        .zip(hits)
        .map(|((_, policy), h)| window_after(*policy, now, h))
        .collect())
}

/// [`peek_all`], reading in the same query what `token` names (its record and user, see
/// [`crate::store::RateLimitStore::peek_rate_limits_with_access_token`]): `None` for the token
/// when it was not read, for buckets whose windows differ in length (then read apart).
pub async fn peek_all_with_access_token(
    provider: &Provider,
    buckets: &[(&str, RatePolicy)],
    token: Option<AccessTokenKey<'_>>,
) -> Result<(Vec<RateWindow>, Option<TokenLookup>), StoreError> {
    let now = provider.now();
    let window_secs = buckets.first().map(|(_, p)| p.window_secs);
    if token.is_none()
        || buckets
            .iter()
            .any(|(_, p)| Some(p.window_secs) != window_secs)
    {
        return Ok((peek_all(provider, buckets).await?, None));
    }
    let names: Vec<&str> = buckets.iter().map(|(b, _)| *b).collect();
    let start = buckets.first().map_or(now, |(_, p)| window_start(*p, now));
    let read = provider
        .store
        .peek_rate_limits_with_access_token(&names, start, token)
        .await?;
    let windows = buckets
        .iter()
        .zip(read.hits)
        .map(|((_, policy), h)| window_after(*policy, now, h))
        .collect();
    Ok((windows, read.token))
}

/// [`peek_all`], reading in the same query what `grant` names (a code or a refresh token, see
/// [`crate::store::RateLimitStore::peek_rate_limits_with_grant`]): `None` for it when it was
/// not read, for buckets whose windows differ in length (then read apart).
pub async fn peek_all_with_grant(
    provider: &Provider,
    buckets: &[(&str, RatePolicy)],
    grant: GrantKey<'_>,
) -> Result<(Vec<RateWindow>, Option<GrantLookup>), StoreError> {
    let now = provider.now();
    let window_secs = buckets.first().map(|(_, p)| p.window_secs);
    if buckets
        .iter()
        .any(|(_, p)| Some(p.window_secs) != window_secs)
    {
        return Ok((peek_all(provider, buckets).await?, None));
    }
    let names: Vec<&str> = buckets.iter().map(|(b, _)| *b).collect();
    let start = buckets.first().map_or(now, |(_, p)| window_start(*p, now));
    let (hits, found) = provider
        .store
        .peek_rate_limits_with_grant(&names, start, grant)
        .await?;
    let windows = buckets
        .iter()
        .zip(hits)
        .map(|((_, policy), h)| window_after(*policy, now, h))
        .collect();
    Ok((windows, Some(found)))
}

/// How every limit here fails: open (the request goes on, uncounted) on a counting error, so a
/// database hiccup never locks everyone out; but not when the database is unreachable, for the
/// request could not be served anyway: that error is returned, to be answered with 503 at once
/// rather than after each later call has waited out the pool.
pub fn fail_open<T>(result: Result<T, StoreError>, what: &str) -> Result<Option<T>, StoreError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if crate::store::is_unavailable(&e) => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "{what}");
            Ok(None)
        }
    }
}

/// Whose budget a management API request (`/api/v1`, `/oauth2/v1/clients`) spends: a live API
/// token's own, a service app's own (for a Bearer token this server signed), and otherwise the
/// client address's. An unknown or made-up credential never gets a bucket of its own, so
/// inventing tokens buys no fresh budget and adds no counter rows. Only an unreachable database
/// is an error (the request cannot be served anyway; answering at once beats waiting out every
/// later call's timeout); any other failed lookup counts against the address.
pub async fn api_bucket(
    provider: &Provider,
    authorization: Option<&str>,
    origin: &str,
    address: &str,
) -> Result<String, StoreError> {
    let by_address = || format!("api-ip:{address}");
    Ok(match authorization.and_then(parse_authorization) {
        Some(Credential::Ssws(value)) => {
            let digest = sha256_b64url(value);
            match provider.store.find_api_token_by_hash(&digest).await {
                Ok(Some(t)) if t.revoked_at.is_none() => format!("api:{}", &digest[..32]),
                Ok(_) => by_address(),
                Err(e) if crate::store::is_unavailable(&e) => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %e, "API token not looked up for the rate limit");
                    by_address()
                }
            }
        }
        Some(Credential::Bearer(token)) => {
            // The signature is what counts here (no forged token gets a bucket); whether the
            // token is still live is the caller check's business.
            let Ok(server) = provider.server_context(origin, None).await else {
                return Ok(by_address());
            };
            match verify_access_token(provider, &server, token).await {
                Ok(claims) => match claims["cid"].as_str() {
                    Some(cid) => format!("api-app:{cid}"),
                    None => by_address(),
                },
                Err(_) => by_address(),
            }
        }
        None => by_address(),
    })
}

fn window_start(policy: RatePolicy, now: Timestamp) -> Timestamp {
    let len = policy.window_secs.max(1);
    now - now.rem_euclid(len)
}

fn window_after(policy: RatePolicy, now: Timestamp, hits: u64) -> RateWindow {
    let limit = u64::from(policy.limit);
    RateWindow {
        limit: policy.limit,
        remaining: u32::try_from(limit.saturating_sub(hits)).unwrap_or(0),
        reset: window_start(policy, now) + policy.window_secs.max(1),
        exceeded: hits > limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_align_to_their_length() {
        let p = RatePolicy::per_minute(2);
        assert_eq!(window_start(p, 125), 120);
        assert_eq!(window_start(p, 120), 120);
        assert_eq!(window_after(p, 125, 1).reset, 180);
    }

    #[test]
    fn the_hit_after_the_limit_is_refused() {
        let p = RatePolicy::per_minute(2);
        let w = |hits| window_after(p, 0, hits);
        assert_eq!((w(1).remaining, w(1).exceeded), (1, false));
        assert_eq!((w(2).remaining, w(2).exceeded), (0, false));
        assert_eq!((w(3).remaining, w(3).exceeded), (0, true));
    }
}
