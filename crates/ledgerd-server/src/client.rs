//! The client address of a request: the TCP peer, or, when the peer is a trusted reverse proxy
//! (`LEDGERD_TRUSTED_PROXIES`), the nearest hop of `X-Forwarded-For` that is not one. Rate limits
//! and the access log key by it (and IP allowlists will): it is worked out once per request, by
//! the request logger, and read with the [`ClientAddr`] extractor or [`ClientAddr::of`].
//!
//! The walk goes from the right, starting at the peer: while the address in hand is trusted, the
//! next hop to the left replaces it. Every trusted proxy appends the address it saw, so a client
//! cannot forge the hops to the right of its own, and whatever it wrote to the left is never
//! reached. A hop that is not an address (only a misconfigured proxy passes one on) stops the walk
//! at the trusted proxy in hand: the address is then that proxy's, never a client's choice. When
//! every hop is trusted, the leftmost is the client.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use ipnet::IpNet;

/// The header a reverse proxy appends the address it saw to.
const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The client address of a request; `None` only when it was served without a socket (as in the
/// crate's `oneshot` tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The client address the request logger recorded in `extensions`.
    pub fn of(extensions: &Extensions) -> ClientAddr {
        extensions.get::<ClientAddr>().copied().unwrap_or(ClientAddr(None))
    }

    /// Works out the client address of a request from its peer and headers.
    pub fn resolve(extensions: &Extensions, headers: &HeaderMap, trusted: &TrustedProxies) -> ClientAddr {
        let Some(ConnectInfo(peer)) = extensions.get::<ConnectInfo<SocketAddr>>() else {
            return ClientAddr(None);
        };
        ClientAddr(Some(trusted.client(peer.ip(), headers)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr::of(&parts.extensions))
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed (`LEDGERD_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR blocks; empty is none.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in text.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(format!(
                            "`{item}` is not an IP address or CIDR block; LEDGERD_TRUSTED_PROXIES takes a \
                             comma-separated list such as 10.0.0.0/8,192.0.2.7,2001:db8::/32"
                        ));
                    }
                },
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client address of a request from `peer` with `headers` (see the module's comment).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        // An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d.
        let mut client = peer.to_canonical();
        if self.0.is_empty() || !self.trusts(client) {
            return client;
        }
        // Repeated header lines are one list, in order.
        let lines: Vec<&[u8]> = headers.get_all(X_FORWARDED_FOR).iter().map(|v| v.as_bytes()).collect();
        for line in lines.iter().rev() {
            for hop in line.rsplit(|&b| b == b',') {
                match parse_hop(hop) {
                    Some(ip) => client = ip,
                    None => return client,
                }
                if !self.trusts(client) {
                    return client;
                }
            }
        }
        client
    }
}

/// One hop of `X-Forwarded-For`: an address, possibly with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`), as some proxies write it.
fn parse_hop(hop: &[u8]) -> Option<IpAddr> {
    let hop = std::str::from_utf8(hop).ok()?.trim();
    let ip = hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(X_FORWARDED_FOR, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_list_takes_addresses_and_blocks_and_names_the_variable_when_wrong() {
        let trusted = TrustedProxies::parse(" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,").unwrap();
        assert!(trusted.trusts(ip("10.1.2.3")) && trusted.trusts(ip("192.0.2.7")) && trusted.trusts(ip("2001:db8::5")));
        assert!(!trusted.trusts(ip("192.0.2.8")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        let err = TrustedProxies::parse("10.0.0.0/8,proxy.example").unwrap_err();
        assert!(err.contains("proxy.example") && err.contains("LEDGERD_TRUSTED_PROXIES"), "{err}");
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = TrustedProxies::parse("10.0.0.1").unwrap();
        assert_eq!(trusted.client(ip("192.0.2.9"), &headers(&["203.0.113.5"])), ip("192.0.2.9"));
        assert_eq!(TrustedProxies::default().client(ip("10.0.0.1"), &headers(&["203.0.113.5"])), ip("10.0.0.1"));
    }

    #[test]
    fn the_nearest_untrusted_hop_is_the_client() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // The client forged the leftmost hop; the proxies appended the rest.
        let h = headers(&["1.1.1.1, 203.0.113.5, 10.0.0.2"]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("203.0.113.5"));
        // Split over several header lines, with ports and spaces.
        let h = headers(&["1.1.1.1", "203.0.113.5:4711 ,10.0.0.2"]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("203.0.113.5"));
        let h = headers(&["[2001:db8::7]:80"]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("2001:db8::7"));
        // A mapped IPv4 peer is its IPv4 address.
        assert_eq!(trusted.client(ip("::ffff:10.0.0.1"), &headers(&["203.0.113.5"])), ip("203.0.113.5"));
    }

    #[test]
    fn a_malformed_hop_stops_at_the_trusted_proxy_in_hand() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(trusted.client(ip("10.0.0.1"), &headers(&["unknown"])), ip("10.0.0.1"));
        assert_eq!(trusted.client(ip("10.0.0.1"), &headers(&["203.0.113.5, garbage, 10.0.0.3"])), ip("10.0.0.3"));
        assert_eq!(trusted.client(ip("10.0.0.1"), &headers(&[""])), ip("10.0.0.1"));
        // No header, or every hop trusted: the leftmost trusted address.
        assert_eq!(trusted.client(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
        assert_eq!(trusted.client(ip("10.0.0.1"), &headers(&["10.0.0.9, 10.0.0.3"])), ip("10.0.0.9"));
    }
}
