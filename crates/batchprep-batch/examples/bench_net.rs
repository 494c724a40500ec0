//! The numbers behind `scripts/bench-net`: `net::analyze` (sort and sweep, interval carving) on 10,000
//! ranges, against the obvious pairwise version (every Docker range against every range, every
//! candidate network against every range) on the same input, in one run.

use std::time::{Duration, Instant};

use batchprep_batch::net::{
    AddressPool, DockerSettings, NetworkRange, RangeKind, analyze, docker_default_pools,
};
use ipnet::{IpNet, Ipv4Net};

/// A fixed xorshift sequence, so every run checks the same ranges.
struct Ranges(u64);

impl Ranges {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn range(cidr: Ipv4Net) -> NetworkRange {
    NetworkRange {
        kind: RangeKind::OnPrem,
        cidr: IpNet::V4(cidr),
        given: IpNet::V4(cidr),
        origin: "bench".into(),
    }
}

/// `n` ranges of /16 to /28 spread over private space, as a large hub with many spokes has.
fn scattered(n: usize) -> Vec<NetworkRange> {
    let mut rng = Ranges(0x9E37_79B9_7F4A_7C15);
    let spaces: [Ipv4Net; 3] = [
        "10.0.0.0/8".parse().unwrap(),
        "172.16.0.0/12".parse().unwrap(),
        "192.168.0.0/16".parse().unwrap(),
    ];
    (0..n)
        .map(|_| {
            let r = rng.next();
            let space = spaces[(r % 3) as usize];
            let prefix = 16 + ((r >> 8) % 13) as u8;
            let host = (r >> 32) as u32 & u32::from(space.hostmask());
            range(
                Ipv4Net::new((u32::from(space.network()) | host).into(), prefix)
                    .unwrap()
                    .trunc(),
            )
        })
        .collect()
}

/// 172.16.0.0/12 and 192.168.0.0/16 taken whole, and every /16 of 10.0.0.0/8 taken but for its last
/// /24 (a /17, a /18, a /19 and 31 /24s each), then /28s inside taken space up to `n` ranges: the
/// worst case for a search that tries candidate networks one by one.
fn crowded(n: usize) -> Vec<NetworkRange> {
    let net = |addr: u32, prefix: u8| range(Ipv4Net::new(addr.into(), prefix).unwrap());
    let mut out = vec![
        range("172.16.0.0/12".parse().unwrap()),
        range("192.168.0.0/16".parse().unwrap()),
    ];
    let ten = u32::from(std::net::Ipv4Addr::new(10, 0, 0, 0));
    for i in 0..256u32 {
        let b = ten + (i << 16);
        out.extend([net(b, 17), net(b + (1 << 15), 18), net(b + (3 << 14), 19)]);
        out.extend((0..31u32).map(|k| net(b + (7 << 13) + (k << 8), 24)));
    }
    let mut k = 0u32;
    while out.len() < n {
        out.push(net(ten + (k << 4), 28));
        k += 1;
    }
    out
}

/// Every Docker range against every range, then a candidate-by-candidate search for free networks.
fn pairwise(ranges: &[NetworkRange]) -> (usize, Option<(IpNet, usize)>) {
    let pools = docker_default_pools();
    let mut docker: Vec<IpNet> = vec!["172.17.0.0/16".parse().unwrap()];
    docker.extend(pools.iter().map(|p| p.base));
    let clashes = |net: &IpNet| {
        ranges
            .iter()
            .any(|r| net.contains(&r.cidr) || r.cidr.contains(net))
    };
    let mut overlaps = 0;
    for d in &docker {
        for r in ranges {
            if d.contains(&r.cidr) || r.cidr.contains(d) {
                overlaps += 1;
            }
        }
    }
    // Candidates: the default pools' networks, then 10/8 as /16s and the private space as /24s.
    let fallback: [(&str, u8); 4] = [
        ("10.0.0.0/8", 16),
        ("192.168.0.0/16", 24),
        ("172.16.0.0/12", 24),
        ("10.0.0.0/8", 24),
    ];
    let candidates = pools
        .iter()
        .map(|p: &AddressPool| (p.base, p.size))
        .chain(fallback.iter().map(|(n, s)| (n.parse().unwrap(), *s)));
    let mut free = Vec::new();
    'search: for (space, size) in candidates {
        for net in space.subnets(size).unwrap() {
            if !clashes(&net) {
                free.push(net);
                if free.len() >= 31 {
                    break 'search;
                }
            }
        }
    }
    (overlaps, free.first().map(|f| (*f, free.len())))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut last = None;
    let times = (0..runs)
        .map(|_| {
            let start = Instant::now();
            last = Some(std::hint::black_box(f()));
            start.elapsed()
        })
        .collect();
    (median(times), last.unwrap())
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    for (name, ranges) in [("scattered", scattered(n)), ("crowded", crowded(n))] {
        let (sweep, analysis) = time(21, || analyze(&ranges, &DockerSettings::default()));
        let (pair, (pair_overlaps, pair_free)) = time(3, || pairwise(&ranges));
        let bip = analysis
            .suggestion
            .as_ref()
            .map_or_else(|e| e.to_string(), |s| s.bip.to_string());
        println!(
            "{name:>9}: {} ranges, {} overlaps, suggested bip {bip}",
            ranges.len(),
            analysis.overlaps.len()
        );
        println!(
            "           sort and sweep (net::analyze): {:>10.3} ms  (median of 21)",
            sweep.as_secs_f64() * 1e3
        );
        println!(
            "           pairwise:                      {:>10.3} ms  (median of 3; {pair_overlaps} overlaps, first free network {})",
            pair.as_secs_f64() * 1e3,
            pair_free.map_or("none".to_owned(), |(f, k)| format!("{f} of {k}")),
        );
        assert_eq!(
            pair_overlaps,
            analysis.overlaps.len(),
            "both versions find the same overlaps"
        );
    }
}
