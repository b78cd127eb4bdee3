//! The client's address, for the per-address sign-in ceiling (kept in memory, never stored or
//! logged). It is the TCP peer, unless the peer is one of `trusted_proxies` (chorus.toml):
//! then it is the right-most address of `Forwarded` (RFC 7239), or else of `X-Forwarded-For`,
//! that is not a trusted proxy itself. Anything left of it was written by the client and
//! could be anything; a header from a peer that is not trusted is ignored.

use actix_web::http::header::HeaderName;
use actix_web::HttpRequest;
use ipnet::IpNet;
use std::net::IpAddr;

/// The longest hop kept as a key when it is not an address (`unknown`, an obfuscated name).
const MAX_TOKEN: usize = 64;

pub fn client_addr(req: &HttpRequest, trusted: &[IpNet]) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip().to_canonical()) else {
        return "unknown".into();
    };
    if !is_trusted(peer, trusted) {
        return peer.to_string();
    }
    let hops = header_hops(req, &actix_web::http::header::FORWARDED, forwarded_for)
        .or_else(|| header_hops(req, &HeaderName::from_static("x-forwarded-for"), whole));
    match hops {
        Some(hops) => pick(&hops, trusted).unwrap_or_else(|| peer.to_string()),
        None => peer.to_string(),
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// Every hop a header lists, in order, over all its lines; `None` without the header.
fn header_hops(
    req: &HttpRequest,
    name: &HeaderName,
    hop: fn(&str) -> Option<&str>,
) -> Option<Vec<String>> {
    let mut lines = req.headers().get_all(name).peekable();
    lines.peek()?;
    let mut hops = Vec::new();
    for line in lines {
        // A header that is not text is taken as one hop that is not an address.
        let text = line.to_str().unwrap_or("invalid");
        for element in text.split(',') {
            if let Some(h) = hop(element) {
                hops.push(h.trim().to_string());
            }
        }
    }
    Some(hops)
}

/// An `X-Forwarded-For` element is the address itself.
fn whole(element: &str) -> Option<&str> {
    Some(element)
}

/// The `for=` of one `Forwarded` element (`for=192.0.2.1;proto=https`).
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        k.trim().eq_ignore_ascii_case("for").then_some(v)
    })
}

/// The right-most hop that is not a trusted proxy; the left-most when all of them are.
fn pick(hops: &[String], trusted: &[IpNet]) -> Option<String> {
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) if is_trusted(ip, trusted) => continue,
            Some(ip) => return Some(ip.to_string()),
            None => return Some(hop.chars().take(MAX_TOKEN).collect()),
        }
    }
    hops.first()
        .and_then(|h| parse_hop(h))
        .map(|ip| ip.to_string())
}

/// An address as the headers write it: `192.0.2.1`, `192.0.2.1:4711`, `"[2001:db8::1]:4711"`,
/// `2001:db8::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let (ip, _) = rest.split_once(']')?;
        return ip.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
    }
    let (ip, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn headers_count_only_from_a_trusted_peer() {
        let trusted = nets(&["10.0.0.0/8"]);
        let from = |peer: &str, headers: &[(&str, &str)]| {
            let mut req = TestRequest::default().peer_addr(peer.parse().unwrap());
            for h in headers {
                req = req.append_header(*h);
            }
            client_addr(&req.to_http_request(), &trusted)
        };
        let spoof = [("X-Forwarded-For", "198.51.100.7")];
        assert_eq!(from("203.0.113.5:1000", &spoof), "203.0.113.5");
        assert_eq!(from("10.0.0.2:1000", &spoof), "198.51.100.7");
        assert_eq!(from("10.0.0.2:1000", &[]), "10.0.0.2");
        // The client wrote the left part; the proxies appended the right part.
        let chain = [("X-Forwarded-For", "1.1.1.1, 198.51.100.7, 10.0.0.9")];
        assert_eq!(from("10.0.0.2:1000", &chain), "198.51.100.7");
        let lines = [
            ("X-Forwarded-For", "1.1.1.1"),
            ("X-Forwarded-For", "198.51.100.8"),
        ];
        assert_eq!(from("10.0.0.2:1000", &lines), "198.51.100.8");
        let all_trusted = [("X-Forwarded-For", "10.1.1.1, 10.0.0.9")];
        assert_eq!(from("10.0.0.2:1000", &all_trusted), "10.1.1.1");
        // RFC 7239 wins over X-Forwarded-For, with ports, quotes and IPv6.
        let both = [
            (
                "Forwarded",
                "for=1.1.1.1, for=\"[2001:db8::7]:4711\";proto=https",
            ),
            ("X-Forwarded-For", "198.51.100.7"),
        ];
        assert_eq!(from("10.0.0.2:1000", &both), "2001:db8::7");
        let port = [("Forwarded", "For=198.51.100.9:80")];
        assert_eq!(from("10.0.0.2:1000", &port), "198.51.100.9");
        let unknown = [("Forwarded", "for=unknown")];
        assert_eq!(from("10.0.0.2:1000", &unknown), "unknown");
        // An IPv4 peer seen as IPv6 is the same peer.
        assert_eq!(from("[::ffff:10.0.0.2]:1000", &spoof), "198.51.100.7");
    }
}
