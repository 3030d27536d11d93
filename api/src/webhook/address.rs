//! Where a webhook may be sent: http(s) URLs whose addresses are public. Loopback,
//! private, link-local, shared, multicast and reserved addresses are refused (unless
//! `SAMVERKAN_WEBHOOK_ALLOW_PRIVATE`), so that registering a webhook cannot make the server
//! call into its own network. Names are checked as they resolve, at every delivery, and
//! the connection goes to the address that was checked (a name that changes its address
//! between the check and the connection gains nothing).

use crate::error::{AppError, AppResult};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The longest URL accepted.
pub const URL_MAX: usize = 2048;

/// A webhook URL, checked: http or https, a host, no fragment, and no refused literal
/// address.
///
/// # Errors
/// BAD_USER_INPUT on `field`.
pub fn check_url(field: &str, url: &str, allow_private: bool) -> AppResult<reqwest::Url> {
    let bad = |why: &str| AppError::bad_input(field, format!("{field} {why}"));
    let url = url.trim();
    if url.len() > URL_MAX {
        return Err(bad(&format!("must be at most {URL_MAX} characters")));
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| bad("must be an http or https URL such as https://example.org/hook"))?;
    if parsed.as_str().len() > URL_MAX {
        return Err(bad(&format!(
            "must be at most {URL_MAX} characters once encoded"
        )));
    }
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("must be an http or https URL"));
    }
    if parsed.fragment().is_some() {
        return Err(bad("must not have a fragment (#...)"));
    }
    let refused_literal = match parsed.host() {
        None => return Err(bad("must name a host")),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Some(_) => literal_refused(&parsed),
    };
    if refused_literal && !allow_private {
        return Err(bad(
            "names a loopback, private or reserved address, which webhooks may not call",
        ));
    }
    Ok(parsed)
}

/// Whether webhooks may not call `ip`: anything but a public unicast address.
pub fn refused(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => refused_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return refused_v4(v4);
            }
            let segments = ip.segments();
            ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10.
                || (segments[0] & 0xfe00) == 0xfc00
                || (segments[0] & 0xffc0) == 0xfe80
                || (segments[0] & 0xffc0) == 0xfec0
                // Documentation 2001:db8::/32.
                || (segments[0] == 0x2001 && segments[1] == 0x0db8)
                // NAT64's local-use prefix 64:ff9b:1::/48 (RFC 8215), whatever it carries.
                || (segments[0] == 0x64 && segments[1] == 0xff9b && segments[2] == 1)
                // NAT64 64:ff9b::/96 and 6to4 2002::/16 carry an IPv4 address: judge that.
                || (segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
                    && refused_v4(embedded_v4(segments[6], segments[7])))
                || (segments[0] == 0x2002 && refused_v4(embedded_v4(segments[1], segments[2])))
                // IPv4-compatible ::a.b.c.d (deprecated).
                || (segments[..6] == [0; 6] && refused_v4(embedded_v4(segments[6], segments[7])))
        }
    }
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

fn refused_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT) 100.64.0.0/10.
        || (a == 100 && (b & 0xc0) == 64)
        // IETF protocol assignments 192.0.0.0/24, benchmarking 198.18.0.0/15.
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b & 0xfe) == 18)
        // Reserved 240.0.0.0/4.
        || a >= 240
}

/// The resolver of the delivery client: a name resolves to its public addresses only.
#[derive(Debug, Clone, Copy)]
pub struct Resolver {
    /// `SAMVERKAN_WEBHOOK_ALLOW_PRIVATE`: keep every address.
    pub allow_private: bool,
}

/// A name that resolves only to refused addresses.
#[derive(Debug)]
pub struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the host resolves only to loopback, private or reserved addresses")
    }
}

impl std::error::Error for Refused {}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| allow_private || !refused(address.ip()))
                .collect();
            if found.is_empty() {
                return Err(Box::new(Refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether `url` names a refused address literally (reqwest connects to literal addresses
/// without asking the resolver).
pub fn literal_refused(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => refused(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => refused(IpAddr::V6(ip)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn refuses_every_address_that_is_not_public_unicast() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::808:808",
            "2002:7f00:1::",
            "ff02::1",
        ] {
            assert!(refused(ip.parse().expect("address")), "{ip} is refused");
        }
        for ip in [
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "193.10.1.1",
            "2a00:1450:4010::65",
            "::ffff:8.8.8.8",
        ] {
            assert!(!refused(ip.parse().expect("address")), "{ip} is allowed");
        }
    }

    #[test]
    fn urls_are_http_with_a_host_and_not_a_private_literal() {
        let check = |url| check_url("input.url", url, false).map(|u| u.to_string());
        assert_eq!(
            check("https://partner.example/hook").ok().as_deref(),
            Some("https://partner.example/hook")
        );
        for bad in [
            "ftp://partner.example/",
            "partner.example/hook",
            "https://partner.example/#x",
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://0x7f000001/",
            "http://localhost/",
            "http://api.localhost./",
            "http://169.254.169.254/latest/meta-data/",
        ] {
            let error = check(bad).expect_err(bad);
            assert_eq!(error.code(), "BAD_USER_INPUT", "{bad}");
        }
        assert!(check_url("input.url", "http://127.0.0.1:8080/", true).is_ok());
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_only_is_refused_when_resolved() {
        use reqwest::dns::Resolve;
        let name = |host: &str| reqwest::dns::Name::from_str(host).expect("a name");
        let refused = Resolver {
            allow_private: false,
        }
        .resolve(name("localhost"))
        .await;
        let error = refused.err().expect("localhost is refused");
        assert!(error.is::<Refused>(), "{error}");
        let allowed = Resolver {
            allow_private: true,
        }
        .resolve(name("localhost"))
        .await;
        assert!(allowed.is_ok_and(|mut found| found.all(|a| a.ip().is_loopback())));
    }
}
