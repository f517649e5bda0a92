//! The client's address, as login throttling and the audit log see it.
//!
//! `X-Forwarded-For` and `Forwarded` are written by whoever sends the request, so they are
//! believed only from the proxies named in `DANGJIAN_TRUSTED_PROXIES` (addresses or CIDRs):
//! the address is the right-most hop of the chain that is not one of them, and a request that
//! does not come from one of them is known by its peer address alone. Otherwise anyone could
//! claim a fresh address with every guess and never meet the per-address limit.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::HeaderMap;
use actix_web::web;

/// One entry of DANGJIAN_TRUSTED_PROXIES: an address with a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    /// `10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`.
    pub fn parse(s: &str) -> Result<Net, String> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| format!("{s:?} is not an address or CIDR"))?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
            None => max,
        };
        Ok(Net { addr, prefix })
    }

    /// A list separated by commas or white space.
    pub fn parse_list(s: &str) -> Result<Vec<Net>, String> {
        s.split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()).map(Net::parse).collect()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        let bits = |v: u128, len: u32| if self.prefix == 0 { 0 } else { v >> (len - u32::from(self.prefix)) };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => bits(u128::from(u32::from(n)), 32) == bits(u128::from(u32::from(i)), 32),
            (IpAddr::V6(n), IpAddr::V6(i)) => bits(u128::from(n), 128) == bits(u128::from(i), 128),
            _ => false,
        }
    }
}

/// The client's address of a request (none only when the connection has no peer address, as in
/// actix's test requests).
pub fn of(req: &HttpRequest) -> Option<String> {
    let trusted = req.app_data::<web::Data<crate::AppState>>().map(|s| s.config.trusted_proxies.as_slice()).unwrap_or_default();
    resolve(req.peer_addr().map(|a| a.ip()), req.headers(), trusted).map(|ip| ip.to_string())
}

/// The address of the peer, or, when the peer is a trusted proxy, of the nearest hop of the
/// forwarding chain that is not.
pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[Net]) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let chain = forwarded_chain(headers);
    let mut client = peer;
    for hop in chain.iter().rev() {
        // A hop that is not an address was not written by a trusted proxy (they write their
        // peer's address): stop at the last hop that was.
        let Some(ip) = hop else { break };
        client = *ip;
        if !is_trusted(client) {
            break;
        }
    }
    Some(client)
}

/// The hops of `Forwarded` (its `for=` parameters) when present, else of `X-Forwarded-For`,
/// nearest last, across repeated headers.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers.get_all("forwarded").filter_map(|v| v.to_str().ok()).collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| parse_node(v.trim().trim_matches('"')))
            })
            .collect();
    }
    headers.get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(|hop| parse_node(hop.trim())).collect()
}

/// `203.0.113.7`, `203.0.113.7:4711`, `[2001:db8::1]:4711`, `2001:db8::1`.
fn parse_node(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse::<IpAddr>().ok()).map(|ip| ip.to_canonical());
    }
    s.rsplit_once(':').and_then(|(ip, _)| ip.parse::<std::net::Ipv4Addr>().ok()).map(IpAddr::V4)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn nets() {
        let n = Net::parse("10.1.0.0/16").unwrap();
        assert!(n.contains("10.1.200.3".parse().unwrap()));
        assert!(!n.contains("10.2.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.1.0.9".parse().unwrap()), "v4-mapped peers");
        assert!(Net::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!(Net::parse("fd00::/8").unwrap().contains("fd12::1".parse().unwrap()));
        assert!(Net::parse("127.0.0.1").unwrap().contains("127.0.0.1".parse().unwrap()));
        assert!(Net::parse("10.0.0.0/33").is_err());
        assert!(Net::parse("proxy.local").is_err());
        assert_eq!(Net::parse_list("10.0.0.1, 192.168.0.0/24 ::1").unwrap().len(), 3);
    }

    #[test]
    fn forwarded_headers_are_believed_only_from_trusted_proxies() {
        let trusted = Net::parse_list("10.0.0.0/8").unwrap();
        let xff = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7, 10.0.0.5")]);
        // Straight from a client: its own address, whatever it claims.
        assert_eq!(resolve(ip("198.51.100.1"), &xff, &trusted), ip("198.51.100.1"));
        assert_eq!(resolve(ip("198.51.100.1"), &xff, &[]), ip("198.51.100.1"));
        // Through the proxies: the nearest untrusted hop (1.2.3.4 was written by the client).
        assert_eq!(resolve(ip("10.0.0.9"), &xff, &trusted), ip("203.0.113.7"));
        // Forwarded wins over X-Forwarded-For; ports and brackets are dropped.
        let fwd = headers(&[("forwarded", "for=\"[2001:db8::1]:4711\";proto=https, for=10.0.0.5"), ("x-forwarded-for", "9.9.9.9")]);
        assert_eq!(resolve(ip("10.0.0.9"), &fwd, &trusted), ip("2001:db8::1"));
        // Garbage before the trusted hops: the last trusted hop.
        let junk = headers(&[("x-forwarded-for", "hello, 10.0.0.5")]);
        assert_eq!(resolve(ip("10.0.0.9"), &junk, &trusted), ip("10.0.0.5"));
        // A trusted peer without a header is itself the client.
        assert_eq!(resolve(ip("10.0.0.9"), &HeaderMap::new(), &trusted), ip("10.0.0.9"));
        assert_eq!(resolve(None, &xff, &trusted), None);
    }
}
