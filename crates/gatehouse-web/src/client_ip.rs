//! The client's address: the socket peer, or, when the peer is a configured trusted proxy, the
//! rightmost `X-Forwarded-For` hop that is not itself a trusted proxy. An `X-Forwarded-For`
//! from any other peer is ignored, so nobody can pick the address their requests count against.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use gatehouse_core::services::system_log::ClientInfo;
use ipnet::IpNet;

use crate::AppState;

/// Parses a `trusted_proxies` entry: a CIDR (`10.0.0.0/8`) or a single address.
pub fn parse_proxy(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

pub(crate) fn is_trusted(trusted: &[IpNet], ip: IpAddr) -> bool {
    let ip = canonical(ip);
    trusted.iter().any(|net| net.contains(&ip))
}

/// An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` hop: an address, optionally with a port (`1.2.3.4:5678`,
/// `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = hop.parse::<SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    None
}

/// The client address of a request from `peer` with `headers`.
pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let Some(peer) = peer.map(canonical) else {
        return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    };
    if !is_trusted(trusted, peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    // Walk from the nearest hop outwards; stop at the first one no trusted proxy vouches for.
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            // Garbage written by someone outside: the last good hop is as far as we can trust.
            break;
        };
        client = ip;
        if !is_trusted(trusted, ip) {
            break;
        }
    }
    client
}

fn peer_of(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The resolved client address of a request.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(resolve(
            peer_of(parts),
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// Okta's `client` for handlers that have only the headers: the `User-Agent`, no address.
pub(crate) fn client_info(_state: &AppState, headers: &HeaderMap) -> ClientInfo {
    ClientInfo {
        ip: None,
        user_agent: user_agent(headers),
    }
}

pub(crate) fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(512).collect())
}

/// Okta's `client` of a System Log event: the address and the `User-Agent` (truncated).
pub struct Client(pub ClientInfo);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        Ok(Client(ClientInfo {
            ip: Some(ip.to_string()),
            user_agent: user_agent(&parts.headers),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Res = Result<(), Box<dyn std::error::Error>>;

    fn headers(xff: &[&str]) -> Result<HeaderMap, Box<dyn std::error::Error>> {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse()?);
        }
        Ok(h)
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().filter_map(|s| parse_proxy(s)).collect()
    }

    #[test]
    fn untrusted_peers_cannot_forward() -> Res {
        let h = headers(&["6.6.6.6"])?;
        let peer: IpAddr = "9.9.9.9".parse()?;
        assert_eq!(resolve(Some(peer), &h, &[]), peer);
        assert_eq!(resolve(Some(peer), &h, &nets(&["10.0.0.0/8"])), peer);
        Ok(())
    }

    #[test]
    fn rightmost_untrusted_hop_behind_trusted_proxies() -> Res {
        let proxies = nets(&["10.0.0.0/8", "192.0.2.7"]);
        assert_eq!(proxies.len(), 2);
        let proxy: IpAddr = "10.1.2.3".parse()?;
        // The client typed a fake first hop; the proxies appended the real one.
        let h = headers(&["6.6.6.6, 203.0.113.5", "192.0.2.7"])?;
        assert_eq!(
            resolve(Some(proxy), &h, &proxies),
            "203.0.113.5".parse::<IpAddr>()?
        );
        let mapped: IpAddr = "::ffff:10.1.2.3".parse()?;
        let h = headers(&["203.0.113.9:4433"])?;
        assert_eq!(
            resolve(Some(mapped), &h, &proxies),
            "203.0.113.9".parse::<IpAddr>()?
        );
        // Garbage stops the walk at the last good hop.
        let h = headers(&["1.1.1.1, bogus"])?;
        assert_eq!(resolve(Some(proxy), &h, &proxies), proxy);
        assert_eq!(resolve(Some(proxy), &HeaderMap::new(), &proxies), proxy);
        Ok(())
    }
}
