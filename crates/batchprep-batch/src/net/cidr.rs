//! CIDRs as integer intervals, so IPv4 and IPv6 sort, merge and split with one piece of code.

use std::{
    collections::BTreeMap,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use batchprep_oci::safe_text::value;

use super::NetError;

/// Parses `ADDRESS/PREFIX` (IPv4 or IPv6), keeping host bits as written.
pub fn parse_cidr(text: &str, origin: &str) -> Result<IpNet, NetError> {
    let trimmed = text.trim();
    trimmed.parse::<IpNet>().map_err(|_| {
        // ipnet says only "invalid IP address syntax"; say which part is wrong.
        let reason = match trimmed.split_once('/') {
            None => "expected ADDRESS/PREFIX, e.g. 10.0.0.0/16".to_owned(),
            Some((addr, prefix)) => {
                // A prefix length is decimal digits only (`u8::from_str` also takes `+8`).
                let length = Some(prefix)
                    .filter(|p| {
                        !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit())
                    })
                    .and_then(|p| p.parse::<u8>().ok());
                match (addr.parse::<IpAddr>(), length) {
                    (Err(_), _) => format!("`{}` is not an IPv4 or IPv6 address", value(addr)),
                    (Ok(ip), Some(p)) if p > if ip.is_ipv4() { 32 } else { 128 } => format!(
                        "prefix length {p} is longer than {} bits",
                        if ip.is_ipv4() { 32 } else { 128 }
                    ),
                    _ => format!("`{}` is not a prefix length", value(prefix)),
                }
            }
        };
        NetError::InvalidCidr {
            origin: origin.to_owned(),
            text: value(text),
            reason,
        }
    })
}

/// Whether `net` lies inside private address space: 10/8, 172.16/12, 192.168/16 or fd00::/8.
pub fn is_private(net: &IpNet) -> bool {
    let spaces: &[&str] = match net {
        IpNet::V4(_) => &super::PRIVATE_V4,
        IpNet::V6(_) => &super::PRIVATE_V6,
    };
    spaces
        .iter()
        .any(|s| s.parse::<IpNet>().unwrap().contains(&net.trunc()))
}

/// An address family and a closed interval of addresses in it. IPv4 sorts before IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Span {
    pub v6: bool,
    pub lo: u128,
    pub hi: u128,
}

impl Span {
    pub fn of(net: &IpNet) -> Span {
        match net {
            IpNet::V4(n) => Span {
                v6: false,
                lo: u128::from(u32::from(n.network())),
                hi: u128::from(u32::from(n.broadcast())),
            },
            IpNet::V6(n) => Span {
                v6: true,
                lo: u128::from(n.network()),
                hi: u128::from(n.broadcast()),
            },
        }
    }

    pub fn bits(&self) -> u32 {
        if self.v6 { 128 } else { 32 }
    }
}

/// Builds the network at address `lo` with `prefix` in the family of `v6`.
pub(crate) fn net_at(v6: bool, lo: u128, prefix: u8) -> IpNet {
    if v6 {
        IpNet::V6(Ipv6Net::new(Ipv6Addr::from(lo), prefix).unwrap())
    } else {
        // Callers only pass IPv4 values here for IPv4 spans.
        IpNet::V4(Ipv4Net::new(Ipv4Addr::from(lo as u32), prefix).unwrap())
    }
}

/// The address `lo + offset` as an interface address with `prefix` (for `bip`).
pub(crate) fn host_at(v6: bool, addr: u128, prefix: u8) -> IpNet {
    let ip = if v6 {
        IpAddr::V6(Ipv6Addr::from(addr))
    } else {
        IpAddr::V4(Ipv4Addr::from(addr as u32))
    };
    IpNet::new(ip, prefix).unwrap()
}

/// Sorts spans and joins those that overlap or touch, per family.
pub(crate) fn merge(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_unstable();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if last.v6 == s.v6 && s.lo <= last.hi.saturating_add(1) => {
                last.hi = last.hi.max(s.hi);
            }
            _ => out.push(s),
        }
    }
    out
}

/// Disjoint address intervals in order, where adding one and finding those near an address stay
/// logarithmic however many ranges and pools there are.
#[derive(Debug, Clone, Default)]
pub(crate) struct Taken {
    /// `(v6, lo) -> hi`.
    by_start: BTreeMap<(bool, u128), u128>,
}

impl Taken {
    /// The union of `spans` (any order, overlapping or not).
    pub fn new(spans: Vec<Span>) -> Taken {
        Taken {
            by_start: merge(spans)
                .into_iter()
                .map(|s| ((s.v6, s.lo), s.hi))
                .collect(),
        }
    }

    /// Adds a span that shares no address with what is taken (a free block just chosen).
    pub fn add_free(&mut self, span: Span) {
        self.by_start.insert((span.v6, span.lo), span.hi);
    }

    /// The taken spans that end at or after `lo` in `v6`'s family, in order, then the other family's.
    pub fn from(&self, v6: bool, lo: u128) -> impl Iterator<Item = Span> + '_ {
        let start = self
            .by_start
            .range(..=(v6, lo))
            .next_back()
            .filter(|&(&(family, _), &hi)| family == v6 && hi >= lo)
            .map_or((v6, lo), |(&key, _)| key);
        self.by_start
            .range(start..)
            .map(|(&(v6, lo), &hi)| Span { v6, lo, hi })
    }

    /// Whether `span` shares an address with anything taken.
    pub fn overlaps(&self, span: Span) -> bool {
        self.from(span.v6, span.lo)
            .next()
            .is_some_and(|t| t.v6 == span.v6 && t.lo <= span.hi)
    }

    /// The parts of `within` not taken, as maximal aligned CIDR blocks of prefix at most
    /// `max_prefix`, in address order. Smaller leftovers cannot hold a network of that size.
    pub fn free_blocks(&self, within: Span, max_prefix: u8) -> Vec<(u128, u8)> {
        let mut blocks = Vec::new();
        let mut cursor = Some(within.lo);
        for t in self.from(within.v6, within.lo) {
            if t.v6 != within.v6 || t.lo > within.hi {
                break;
            }
            let Some(lo) = cursor else { break };
            if t.lo > lo {
                split_aligned(within.v6, lo, t.lo - 1, max_prefix, &mut blocks);
            }
            cursor = t.hi.checked_add(1).filter(|&next| next <= within.hi);
            if t.hi >= within.hi {
                cursor = None;
            }
        }
        if let Some(lo) = cursor {
            split_aligned(within.v6, lo, within.hi, max_prefix, &mut blocks);
        }
        blocks
    }
}

/// Splits `[lo, hi]` into the fewest aligned blocks, keeping those of prefix `<= max_prefix`.
fn split_aligned(v6: bool, mut lo: u128, hi: u128, max_prefix: u8, out: &mut Vec<(u128, u8)>) {
    let bits = if v6 { 128u32 } else { 32 };
    loop {
        // Largest block aligned at `lo` that ends at or before `hi`.
        let mut k = lo.trailing_zeros().min(bits);
        while k > 0 && block_end(lo, k).is_none_or(|end| end > hi) {
            k -= 1;
        }
        let prefix = (bits - k) as u8;
        if prefix <= max_prefix {
            out.push((lo, prefix));
        }
        match block_end(lo, k).and_then(|end| end.checked_add(1)) {
            Some(next) if next <= hi => lo = next,
            _ => break,
        }
    }
}

/// The last address of the block of `2^k` addresses starting at `lo`, if it does not overflow.
fn block_end(lo: u128, k: u32) -> Option<u128> {
    let size_minus_one = if k >= 128 {
        u128::MAX
    } else {
        (1u128 << k) - 1
    };
    lo.checked_add(size_minus_one)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(s: &str) -> Span {
        Span::of(&s.parse().unwrap())
    }

    fn show(v6: bool, blocks: &[(u128, u8)]) -> Vec<String> {
        blocks
            .iter()
            .map(|&(lo, p)| net_at(v6, lo, p).to_string())
            .collect()
    }

    #[test]
    fn free_blocks_carve_around_taken_ranges() {
        let taken = Taken::new(vec![span("192.168.64.0/18"), span("192.168.1.0/24")]);
        let blocks = taken.free_blocks(span("192.168.0.0/16"), 20);
        assert_eq!(
            show(false, &blocks),
            ["192.168.16.0/20", "192.168.32.0/19", "192.168.128.0/17"]
        );
    }

    #[test]
    fn free_blocks_of_a_fully_covered_range_are_empty() {
        let taken = Taken::new(vec![span("172.16.0.0/12")]);
        assert!(taken.free_blocks(span("172.20.0.0/16"), 16).is_empty());
        assert!(taken.overlaps(span("172.20.0.0/16")));
        assert!(!taken.overlaps(span("172.32.0.0/16")));
    }

    #[test]
    fn free_blocks_handle_the_top_of_the_ipv6_space() {
        let taken = Taken::new(vec![span("::/1"), span("10.0.0.0/8")]);
        let blocks = taken.free_blocks(span("::/0"), 64);
        assert_eq!(show(true, &blocks), ["8000::/1"]);
    }

    #[test]
    fn free_blocks_skip_the_other_family_and_chosen_blocks() {
        let mut taken = Taken::new(vec![span("255.255.255.0/24")]);
        taken.add_free(span("fd00::/9"));
        let blocks = taken.free_blocks(span("fd00::/8"), 64);
        assert_eq!(show(true, &blocks), ["fd80::/9"]);
        let blocks = taken.free_blocks(span("255.255.0.0/16"), 24);
        assert_eq!(
            show(false, &blocks),
            [
                "255.255.0.0/17",
                "255.255.128.0/18",
                "255.255.192.0/19",
                "255.255.224.0/20",
                "255.255.240.0/21",
                "255.255.248.0/22",
                "255.255.252.0/23",
                "255.255.254.0/24"
            ]
        );
    }

    #[test]
    fn merge_joins_adjacent_and_nested_ranges_per_family() {
        let merged = merge(vec![
            span("10.0.1.0/24"),
            span("10.0.0.0/24"),
            span("10.0.0.128/25"),
            span("fd00::/64"),
        ]);
        assert_eq!(
            merged,
            [
                Span {
                    v6: false,
                    lo: span("10.0.0.0/23").lo,
                    hi: span("10.0.0.0/23").hi
                },
                span("fd00::/64")
            ]
        );
    }

    #[test]
    fn invalid_cidrs_say_which_part_is_wrong() {
        for (text, message) in [
            (
                "10.0.0.300/8",
                "--vnet: invalid CIDR `10.0.0.300/8`: `10.0.0.300` is not an IPv4 or IPv6 address",
            ),
            (
                "10.0.0.0/33",
                "--vnet: invalid CIDR `10.0.0.0/33`: prefix length 33 is longer than 32 bits",
            ),
            (
                "fd00::/129",
                "--vnet: invalid CIDR `fd00::/129`: prefix length 129 is longer than 128 bits",
            ),
            (
                "10.0.0.0/x",
                "--vnet: invalid CIDR `10.0.0.0/x`: `x` is not a prefix length",
            ),
            (
                "10.0.0.0/+8",
                "--vnet: invalid CIDR `10.0.0.0/+8`: `+8` is not a prefix length",
            ),
            (
                "10.0.0.0/8\n##vso[task.setvariable variable=x]1",
                "--vnet: invalid CIDR `10.0.0.0/8\\n##vso[task.setvariable variable=x]1`: `8\\n##vso[task.setvariable variable=x]1` is not a prefix length",
            ),
            (
                "10.0.0.0",
                "--vnet: invalid CIDR `10.0.0.0`: expected ADDRESS/PREFIX, e.g. 10.0.0.0/16",
            ),
        ] {
            assert_eq!(parse_cidr(text, "--vnet").unwrap_err().to_string(), message);
        }
        assert_eq!(
            parse_cidr(" 10.1.2.3/16 ", "x").unwrap().to_string(),
            "10.1.2.3/16"
        );
    }

    #[test]
    fn private_space_is_rfc1918_and_fd00() {
        for (net, private) in [
            ("10.1.0.0/16", true),
            ("172.31.255.0/24", true),
            ("172.32.0.0/16", false),
            ("192.168.0.0/16", true),
            ("192.169.0.0/16", false),
            ("fd12:3456::/48", true),
            ("fc00::/8", false),
            ("2001:db8::/32", false),
        ] {
            assert_eq!(is_private(&net.parse().unwrap()), private, "{net}");
        }
    }
}
