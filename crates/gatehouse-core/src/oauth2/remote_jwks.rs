//! Client key sets published at a `jwks_uri` (OIDC Dynamic Registration §2, RFC 7591), for
//! `private_key_jwt` clients that register no inline `jwks`; and, through the same fetcher
//! and rules, the other documents a client points at: `request_uri` (OIDC Core §6.2) and
//! `sector_identifier_uri` (OIDC Registration §5), see [`RemoteJwks::fetch_document`].
//!
//! The engine decides *when* to fetch and what to trust; the fetching itself (HTTPS, SSRF
//! vetting, timeouts, size cap) is a [`JwksFetcher`] the binary installs, since this crate does
//! no I/O of its own. A fetched set goes through [`sanitize_jwks`] like an inline one.
//!
//! Caching, per node (it is only a cache: every node can refetch, nothing must agree):
//! * a set is reused for [`CACHE_TTL`];
//! * an assertion whose `kid` is not in the cached set triggers one refetch (the client rotated
//!   its keys), at most once per [`UNKNOWN_KID_REFETCH_INTERVAL`] per URI, so assertions with
//!   made-up `kid`s cannot turn the token endpoint into a request amplifier;
//! * at most [`MAX_CACHED_SETS`] URIs are remembered.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;

use crate::domain::JwkSet;
use crate::oauth2::client_assertion::sanitize_jwks;

pub const CACHE_TTL: Duration = Duration::from_secs(300);
pub const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(10);
pub const MAX_CACHED_SETS: usize = 1024;

/// Why a key set could not be had. The text is for logs and the `invalid_client` description;
/// it names the rule broken, never the body fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksFetchError {
    /// The URI or the address it resolves to is not allowed (scheme, private address, …).
    #[error("the jwks_uri is not allowed: {0}")]
    Refused(String),
    /// The fetch was tried and failed (connect, TLS, status, timeout, size, JSON).
    #[error("the jwks_uri could not be fetched: {0}")]
    Failed(String),
}

/// Fetches the bytes of a client's `jwks_uri` (or request or sector document), safely.
#[async_trait]
pub trait JwksFetcher: Send + Sync {
    async fn fetch(&self, uri: &str) -> Result<Vec<u8>, JwksFetchError>;
    /// POSTs `logout_token=<token>` (form-encoded) to an app's `backchannel_logout_uri` under
    /// the same rules as a fetch; `Ok` on a 2xx answer (Back-Channel Logout 1.0 §2.8).
    async fn post_logout_token(&self, _uri: &str, _token: &str) -> Result<(), JwksFetchError> {
        Err(JwksFetchError::Refused(
            "outbound requests are not enabled on this server".into(),
        ))
    }
}

/// The fetcher until the binary installs one: fetches nothing.
struct NoFetcher;

#[async_trait]
impl JwksFetcher for NoFetcher {
    async fn fetch(&self, _uri: &str) -> Result<Vec<u8>, JwksFetchError> {
        Err(JwksFetchError::Refused(
            "fetching jwks_uri is not enabled on this server".into(),
        ))
    }
}

struct Cached {
    set: JwkSet,
    fetched: Instant,
    /// When a `kid` miss last caused a refetch.
    last_kid_refetch: Option<Instant>,
}

/// The installed fetcher, the registration policy and the per-node cache.
pub struct RemoteJwks {
    fetcher: RwLock<Arc<dyn JwksFetcher>>,
    allow_loopback_http: RwLock<bool>,
    cache: Mutex<HashMap<String, Cached>>,
}

impl Default for RemoteJwks {
    fn default() -> Self {
        Self {
            fetcher: RwLock::new(Arc::new(NoFetcher)),
            allow_loopback_http: RwLock::new(false),
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl RemoteJwks {
    /// Installs the fetcher. `allow_loopback_http` (a development setting) lets registration
    /// accept `http://` URIs on loopback hosts; the fetcher enforces the same at fetch time.
    pub fn install(&self, fetcher: Arc<dyn JwksFetcher>, allow_loopback_http: bool) {
        if let Ok(mut f) = self.fetcher.write() {
            *f = fetcher;
        }
        if let Ok(mut a) = self.allow_loopback_http.write() {
            *a = allow_loopback_http;
        }
        self.clear();
    }

    pub fn allows_loopback_http(&self) -> bool {
        self.allow_loopback_http.read().map(|a| *a).unwrap_or(false)
    }

    pub fn clear(&self) {
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
    }

    /// The bytes at a client's `request_uri` or `sector_identifier_uri`, fetched now with the
    /// installed fetcher (same SSRF rules, timeouts and size cap as a key set; never cached).
    pub async fn fetch_document(&self, uri: &str) -> Result<Vec<u8>, JwksFetchError> {
        let fetcher = self
            .fetcher
            .read()
            .map(|f| f.clone())
            .map_err(|_| JwksFetchError::Failed("internal lock".into()))?;
        fetcher.fetch(uri).await
    }

    /// POSTs a logout token with the installed fetcher (see [`JwksFetcher::post_logout_token`]).
    pub async fn post_logout_token(&self, uri: &str, token: &str) -> Result<(), JwksFetchError> {
        let fetcher = self
            .fetcher
            .read()
            .map(|f| f.clone())
            .map_err(|_| JwksFetchError::Failed("internal lock".into()))?;
        fetcher.post_logout_token(uri, token).await
    }

    /// The key set at `uri`, from the cache or fetched, refetched once if `kid` is not in it.
    pub async fn keys(&self, uri: &str, kid: Option<&str>) -> Result<JwkSet, JwksFetchError> {
        let now = Instant::now();
        let cached = self.cache.lock().ok().and_then(|c| {
            c.get(uri)
                .filter(|e| now.duration_since(e.fetched) < CACHE_TTL)
                .map(|e| (e.set.clone(), e.last_kid_refetch))
        });
        match cached {
            Some((set, _)) if kid.is_none_or(|k| has_kid(&set, k)) => Ok(set),
            Some((set, Some(last))) if now.duration_since(last) < UNKNOWN_KID_REFETCH_INTERVAL => {
                // Refetched for a missing kid a moment ago: the verifier will find no key.
                Ok(set)
            }
            Some(_) => self.fetch_and_cache(uri, Some(now)).await,
            None => self.fetch_and_cache(uri, None).await,
        }
    }

    /// Refetches the set at `uri` after no cached key verified a signature made without a
    /// `kid` (the signer rotated its keys), under the same limit as an unknown `kid`: `None`
    /// when a refetch for a miss happened less than [`UNKNOWN_KID_REFETCH_INTERVAL`] ago.
    pub async fn refetch_limited(&self, uri: &str) -> Result<Option<JwkSet>, JwksFetchError> {
        let now = Instant::now();
        let recent = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(uri).and_then(|e| e.last_kid_refetch))
            .is_some_and(|last| now.duration_since(last) < UNKNOWN_KID_REFETCH_INTERVAL);
        if recent {
            return Ok(None);
        }
        self.fetch_and_cache(uri, Some(now)).await.map(Some)
    }

    async fn fetch_and_cache(
        &self,
        uri: &str,
        kid_refetch: Option<Instant>,
    ) -> Result<JwkSet, JwksFetchError> {
        let fetcher = self
            .fetcher
            .read()
            .map(|f| f.clone())
            .map_err(|_| JwksFetchError::Failed("internal lock".into()))?;
        let result = fetcher.fetch(uri).await.and_then(|body| parse(&body));
        match result {
            Ok(set) => {
                if let Ok(mut c) = self.cache.lock() {
                    if c.len() >= MAX_CACHED_SETS && !c.contains_key(uri) {
                        c.clear();
                    }
                    c.insert(
                        uri.to_owned(),
                        Cached {
                            set: set.clone(),
                            fetched: Instant::now(),
                            last_kid_refetch: kid_refetch,
                        },
                    );
                }
                Ok(set)
            }
            Err(e) => {
                if kid_refetch.is_some()
                    && let Ok(mut c) = self.cache.lock()
                    && let Some(entry) = c.get_mut(uri)
                {
                    // Keep the old set, and do not retry for the interval.
                    entry.last_kid_refetch = kid_refetch;
                }
                Err(e)
            }
        }
    }
}

/// Whether a server may connect to `ip` on a client's behalf: not loopback, private,
/// link-local (which holds cloud metadata at 169.254.169.254), shared (CGNAT), unspecified,
/// broadcast, multicast, documentation or reserved ranges, in IPv4 or IPv6, nor an IPv6 form
/// embedding such an IPv4 address (mapped, compatible, NAT64, 6to4).
pub fn is_public_ip(ip: std::net::IpAddr) -> bool {
    use std::net::{IpAddr, Ipv4Addr};
    fn public_v4(ip: Ipv4Addr) -> bool {
        let [a, b, c, _] = ip.octets();
        !(ip.is_unspecified()
            || ip.is_loopback()
            || ip.is_private()
            || ip.is_link_local()
            || ip.is_broadcast()
            || ip.is_multicast()
            || ip.is_documentation()
            || a == 0
            || (a == 100 && (64..128).contains(&b)) // shared address space, RFC 6598
            || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
            || (a == 198 && (b == 18 || b == 19)) // benchmarking
            || a >= 240) // reserved
    }
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public_v4(v4);
            }
            let seg = v6.segments();
            let embedded_v4 = |hi: u16, lo: u16| {
                Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
            };
            // IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16).
            if seg[..6] == [0, 0, 0, 0, 0, 0] && !v6.is_loopback() && !v6.is_unspecified() {
                return public_v4(embedded_v4(seg[6], seg[7]));
            }
            if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return public_v4(embedded_v4(seg[6], seg[7]));
            }
            if seg[0] == 0x2002 {
                return public_v4(embedded_v4(seg[1], seg[2]));
            }
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7 (holds fd00:ec2::254)
                || (seg[0] & 0xffc0) == 0xfe80 // link-local
                || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
                || (seg[0] == 0x0100 && seg[1..4] == [0, 0, 0])) // discard-only
        }
    }
}

/// A `jwks_uri` as registration accepts it: https, or http to a loopback host when
/// `allow_loopback_http`; never an address literal that [`is_public_ip`] refuses (loopback
/// excepted under the development setting). Host names are vetted again, resolved, at fetch
/// time.
pub fn check_uri(uri: &url::Url, allow_loopback_http: bool) -> Result<(), JwksFetchError> {
    let refuse = |m: &str| Err(JwksFetchError::Refused(m.to_owned()));
    let loopback_host = match uri.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return refuse("it has no host"),
    };
    match uri.scheme() {
        "https" => {}
        "http" if allow_loopback_http && loopback_host => {}
        "http" if allow_loopback_http => {
            return refuse("http is allowed only to a loopback host (development setting)");
        }
        _ => return refuse("it must be an https URL"),
    }
    if !uri.username().is_empty() || uri.password().is_some() {
        return refuse("it must not contain credentials");
    }
    let literal = match uri.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    };
    if let Some(ip) = literal
        && !is_public_ip(ip)
        && !(allow_loopback_http && ip.is_loopback())
    {
        return refuse("it points at a private, loopback, link-local or reserved address");
    }
    if loopback_host && !allow_loopback_http {
        return refuse("it points at a loopback host");
    }
    Ok(())
}

fn has_kid(set: &JwkSet, kid: &str) -> bool {
    set.keys
        .iter()
        .any(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
}

fn parse(body: &[u8]) -> Result<JwkSet, JwksFetchError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| JwksFetchError::Failed("the response is not JSON".into()))?;
    sanitize_jwks(&value)
        .map_err(|e| JwksFetchError::Failed(format!("the key set is invalid: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn rsa_n() -> String {
        use base64::Engine as _;
        let mut n = vec![0xc5u8; 256];
        n[255] = 0x01;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(n)
    }

    struct Rotating {
        kid: Mutex<&'static str>,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl JwksFetcher for Rotating {
        async fn fetch(&self, _uri: &str) -> Result<Vec<u8>, JwksFetchError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let kid = *self
                .kid
                .lock()
                .map_err(|_| JwksFetchError::Failed("lock".into()))?;
            Ok(serde_json::json!({"keys": [{"kty": "RSA", "kid": kid, "e": "AQAB", "n": rsa_n()}]})
                .to_string()
                .into_bytes())
        }
    }

    #[tokio::test]
    async fn cached_then_refetched_once_for_an_unknown_kid() -> Result<(), JwksFetchError> {
        let fetcher = Arc::new(Rotating {
            kid: Mutex::new("a"),
            calls: AtomicUsize::new(0),
        });
        let remote = RemoteJwks::default();
        remote.install(fetcher.clone(), false);
        let uri = "https://client.example/jwks";
        assert!(has_kid(&remote.keys(uri, Some("a")).await?, "a"));
        remote.keys(uri, None).await?;
        remote.keys(uri, Some("a")).await?;
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 1, "served from cache");
        if let Ok(mut k) = fetcher.kid.lock() {
            *k = "b";
        }
        assert!(has_kid(&remote.keys(uri, Some("b")).await?, "b"));
        assert_eq!(
            fetcher.calls.load(Ordering::SeqCst),
            2,
            "one refetch for the new kid"
        );
        // Another unknown kid right away: no second refetch within the interval, nor for a
        // signature without kid that no cached key verifies.
        let set = remote.keys(uri, Some("zzz")).await?;
        assert!(!has_kid(&set, "zzz"));
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 2);
        assert!(remote.refetch_limited(uri).await?.is_none());
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 2);
        // A set cached without a miss: a failed kid-less signature refetches it once.
        let other = "https://other.example/jwks";
        remote.keys(other, None).await?;
        assert!(remote.refetch_limited(other).await?.is_some());
        assert!(remote.refetch_limited(other).await?.is_none());
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 4);
        Ok(())
    }

    #[test]
    fn address_policy() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "::10.0.0.1",
            "ff02::1",
            "2001:db8::1",
            "198.18.0.1",
            "240.0.0.1",
        ] {
            let ip: std::net::IpAddr = bad.parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
            assert!(!is_public_ip(ip), "{bad} passed");
        }
        for good in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: std::net::IpAddr = good.parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
            assert!(is_public_ip(ip), "{good} refused");
        }
    }

    #[test]
    fn registration_policy() {
        let check = |u: &str, dev: bool| {
            url::Url::parse(u)
                .map_err(|_| JwksFetchError::Refused("url".into()))
                .and_then(|u| check_uri(&u, dev))
        };
        assert!(check("https://keys.example.com/jwks", false).is_ok());
        for bad in [
            "http://keys.example.com/jwks",
            "ftp://keys.example.com/jwks",
            "https://127.0.0.1/jwks",
            "https://localhost/jwks",
            "http://127.0.0.1:9/jwks",
            "https://169.254.169.254/latest",
            "https://[::1]/jwks",
            "https://10.0.0.1/jwks",
            "https://user:pw@keys.example.com/jwks",
        ] {
            assert!(check(bad, false).is_err(), "{bad} accepted");
        }
        assert!(check("http://127.0.0.1:9/jwks", true).is_ok());
        assert!(check("http://localhost:9/jwks", true).is_ok());
        assert!(check("http://[::1]:9/jwks", true).is_ok());
        assert!(check("http://keys.example.com/jwks", true).is_err());
        assert!(check("https://10.0.0.1/jwks", true).is_err());
        assert!(check("https://169.254.169.254/jwks", true).is_err());
    }

    #[tokio::test]
    async fn nothing_is_fetched_without_a_fetcher() {
        let remote = RemoteJwks::default();
        assert!(matches!(
            remote.keys("https://client.example/jwks", None).await,
            Err(JwksFetchError::Refused(_))
        ));
    }
}
