//! Where webhooks may go (SSRF). A webhook URL is refused when it is not plain http(s), carries
//! credentials, control characters or whitespace, or points at an address a webhook must not
//! reach: link-local, cloud metadata and other special addresses never; private, shared
//! (CGNAT) and loopback addresses only when chorus.toml's `webhook_allow_private` lists them.
//! The same policy judges literal addresses when a site is loaded (`chorus check`, `serve`,
//! reload) and every address a host name resolves to when the worker connects
//! ([`GuardedResolver`]), so a name that later resolves elsewhere (DNS rebinding) gets nowhere.

use crate::survey::load::{line_col, locate};
use crate::survey::{LoadError, Site};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// One entry of `webhook_allow_private`: a CIDR range (`10.20.0.0/16`) or one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedRange(pub IpNet);

impl std::str::FromStr for AllowedRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        s.parse::<IpNet>()
            .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
            .map(|net| AllowedRange(net.trunc()))
            .map_err(|_| format!("\"{s}\" is not an address or a CIDR range like \"10.20.0.0/16\""))
    }
}

impl<'de> serde::Deserialize<'de> for AllowedRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What kind of address an IP is, for a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Public,
    /// Reachable only when `webhook_allow_private` lists it.
    Private(&'static str),
    /// Never reachable.
    Never(&'static str),
}

const METADATA: &str = "a cloud metadata address";

fn kind_v4(ip: Ipv4Addr) -> Kind {
    let [a, b, c, d] = ip.octets();
    match (a, b, c, d) {
        (169, 254, 169, 254) | (100, 100, 100, 200) | (168, 63, 129, 16) => Kind::Never(METADATA),
        (0, ..) => Kind::Never("an unspecified (\"this host\") address"),
        (169, 254, ..) => Kind::Never("a link-local address"),
        (224..=239, ..) => Kind::Never("a multicast address"),
        (240..=255, ..) => Kind::Never("a reserved or broadcast address"),
        (192, 0, 0, _) | (198, 18..=19, ..) => Kind::Never("a reserved address"),
        (192, 0, 2, _) | (198, 51, 100, _) | (203, 0, 113, _) => {
            Kind::Never("a documentation address")
        }
        (127, ..) => Kind::Private("a loopback address"),
        (10, ..) | (192, 168, ..) => Kind::Private("a private address"),
        (172, 16..=31, ..) => Kind::Private("a private address"),
        (100, 64..=127, ..) => Kind::Private("a shared (carrier-grade NAT) address"),
        _ => Kind::Public,
    }
}

/// The IPv4 address an IPv6 address stands for, where connecting to it reaches that IPv4
/// host: mapped (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) and
/// 6to4 (`2002:AABB:CCDD::/48`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, ..] => Some(tail),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(tail),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

fn kind_v6(ip: Ipv6Addr) -> Kind {
    if let Some(v4) = embedded_v4(ip) {
        return kind_v4(v4);
    }
    let s = ip.segments();
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Kind::Never(METADATA);
    }
    match s[0] {
        _ if ip.is_unspecified() => Kind::Never("an unspecified address"),
        _ if ip.is_loopback() => Kind::Private("a loopback address"),
        0xfe80..=0xfebf => Kind::Never("a link-local address"),
        0xff00..=0xffff => Kind::Never("a multicast address"),
        0x2001 if s[1] == 0xdb8 => Kind::Never("a documentation address"),
        0x0100 if s[1..4] == [0, 0, 0] => Kind::Never("a discard address"),
        0xfc00..=0xfdff => Kind::Private("a unique local (private) address"),
        0xfec0..=0xfeff => Kind::Private("a site-local (private) address"),
        _ => Kind::Public,
    }
}

fn kind(ip: IpAddr) -> Kind {
    match ip {
        IpAddr::V4(v4) => kind_v4(v4),
        IpAddr::V6(v6) => kind_v6(v6),
    }
}

/// Host names of cloud metadata services, refused like their addresses.
const METADATA_NAMES: [&str; 6] = [
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.tencentyun.com",
];

/// The policy: which private ranges this server's webhooks may reach.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allow: Vec<IpNet>,
}

impl AddressPolicy {
    pub fn new(allow: &[AllowedRange]) -> AddressPolicy {
        AddressPolicy {
            allow: allow.iter().map(|r| r.0).collect(),
        }
    }

    fn listed(&self, ip: IpAddr) -> bool {
        let v4 = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.allow
            .iter()
            .any(|net| net.contains(&ip) || v4.is_some_and(|v4| net.contains(&v4)))
    }

    /// `Ok` when a webhook may connect to `ip`, else why not.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        match kind(ip) {
            Kind::Public => Ok(()),
            Kind::Private(_) if self.listed(ip) => Ok(()),
            Kind::Private(what) => Err(format!(
                "{ip} is {what}: webhooks reach it only when webhook_allow_private in chorus.toml lists it"
            )),
            Kind::Never(what) => Err(format!("{ip} is {what}, which webhooks never reach")),
        }
    }

    /// Checks a webhook URL as written: scheme, credentials, characters, and the host when
    /// it is an address (a name is judged by what it resolves to, when connecting).
    pub fn check_url(&self, raw: &str) -> Result<url::Url, String> {
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("the webhook URL contains a control character or whitespace".into());
        }
        let url = url::Url::parse(raw).map_err(|e| format!("the webhook URL is not valid: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "the webhook URL must start with http:// or https://, not {}:",
                url.scheme()
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(
                "the webhook URL must not carry a user name or password (user:password@); the request is signed with secret_env"
                    .into(),
            );
        }
        match url.host() {
            None => return Err("the webhook URL has no host".into()),
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip))?,
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if METADATA_NAMES.contains(&name.as_str()) {
                    return Err(format!("{name} is {METADATA}, which webhooks never reach"));
                }
            }
        }
        Ok(url)
    }
}

/// Every refused webhook URL of a loaded site, located in its site.toml.
pub fn check_site(site: &Site, policy: &AddressPolicy) -> Vec<LoadError> {
    let file = site.dir.join("site.toml");
    let mut source: Option<String> = None;
    let mut errors = Vec::new();
    for (i, hook) in site.config.webhooks.iter().enumerate() {
        if let Err(message) = policy.check_url(&hook.url) {
            let text =
                source.get_or_insert_with(|| std::fs::read_to_string(&file).unwrap_or_default());
            let (line, col) = locate(text, &format!("webhooks.{i}.url"))
                .map_or((1, 1), |offset| line_col(text, offset));
            errors.push(LoadError {
                file: file.clone(),
                line,
                col,
                message: format!("webhook \"{}\": {message}", hook.name),
            });
        }
    }
    errors
}

/// Why a connection was not attempted: every address the host resolved to is refused.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The message of a [`Refused`] somewhere in an error's source chain.
pub fn refusal_in(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(r) = e.downcast_ref::<Refused>() {
            return Some(r.0.clone());
        }
        current = e.source();
    }
    None
}

/// The webhook client's DNS resolver: resolves as the system does, then keeps only the
/// addresses the policy allows. The connection goes to one of those, never to another
/// answer of a later lookup.
pub struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<AddressPolicy>) -> GuardedResolver {
        GuardedResolver { policy }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = Vec::new();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match policy.check_ip(a.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refused.push(why);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = if refused.is_empty() {
                    "no address".to_string()
                } else {
                    refused.join("; ")
                };
                return Err(Box::new(Refused(format!("{host} resolves to {why}")))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(list: &[&str]) -> AddressPolicy {
        let ranges: Vec<AllowedRange> = list.iter().map(|s| s.parse().unwrap()).collect();
        AddressPolicy::new(&ranges)
    }

    #[test]
    fn special_addresses_are_refused_in_every_spelling() {
        let p = allow(&["0.0.0.0/0", "::/0"]);
        for url in [
            "http://169.254.169.254/latest/meta-data",
            "http://[fd00:ec2::254]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[fe80::1]/",
            "http://0.0.0.0:8080/",
            "http://2852039166/",
            "http://0xa9.0xfe.0xa9.0xfe/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://METADATA.google.internal./",
            "http://100.100.100.200/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:a9fe:a9fe::1]/",
        ] {
            assert!(p.check_url(url).is_err(), "{url} must be refused");
        }
    }

    #[test]
    fn private_and_loopback_need_the_allow_list() {
        let none = AddressPolicy::default();
        for url in [
            "http://127.0.0.1:22/",
            "http://10.0.0.1/",
            "http://172.16.5.4/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://[::1]/",
            "http://[fd12:3456::1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://017700000001/",
        ] {
            let err = none.check_url(url).unwrap_err();
            assert!(err.contains("webhook_allow_private"), "{url}: {err}");
        }
        let some = allow(&["10.20.0.0/16", "127.0.0.1"]);
        assert!(some.check_url("http://10.20.3.4/hook").is_ok());
        assert!(some.check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(some.check_url("http://[::ffff:127.0.0.1]/").is_ok());
        assert!(some.check_url("http://10.21.0.1/").is_err());
        assert!(some.check_url("http://127.0.0.2/").is_err());
        assert!(some.check_url("https://helpdesk.example.org/hook").is_ok());
        assert!(some.check_url("https://93.184.216.34/hook").is_ok());
    }

    #[test]
    fn credentials_controls_and_other_schemes_are_refused() {
        let p = AddressPolicy::default();
        for url in [
            "http://user:pw@helpdesk.example.org/",
            "http://user@helpdesk.example.org/",
            "http://helpdesk.example.org/\r\nX-Injected: 1",
            "http://helpdesk.example.org/a b",
            "http://helpdesk.\texample.org/",
            "ftp://helpdesk.example.org/",
            "file:///etc/passwd",
            "gopher://helpdesk.example.org/",
            "http://",
            "not a url",
        ] {
            assert!(p.check_url(url).is_err(), "{url:?} must be refused");
        }
    }

    #[test]
    fn allow_entries_parse_or_explain() {
        assert!("10.0.0.0/8".parse::<AllowedRange>().is_ok());
        assert!("::1".parse::<AllowedRange>().is_ok());
        let err = "10.0.0.0/33".parse::<AllowedRange>().unwrap_err();
        assert!(err.contains("CIDR"), "{err}");
    }
}
