//! Hashes MIB MiB (default 256) in 1 MiB chunks with each SHA-256 implementation and prints MB/s
//! (best of 5 passes). All must agree on the digest.
use std::time::Instant;

fn best<F: FnMut() -> Vec<u8>>(name: &str, total: usize, mut f: F) -> Vec<u8> {
    let mut out = f(); // warm-up
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        out = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("{name:<34} {:>8.0} MB/s  ({:.3} s for {} MiB)", total as f64 / best / 1e6, best, total >> 20);
    out
}

fn main() {
    let mib: usize = std::env::args().nth(1).map_or(256, |a| a.parse().expect("MIB"));
    let chunk: Vec<u8> = (0..1 << 20).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let total = mib << 20;
    println!(
        "cpu: sha_ni={} avx2={} ssse3={}",
        std::arch::is_x86_feature_detected!("sha"),
        std::arch::is_x86_feature_detected!("avx2"),
        std::arch::is_x86_feature_detected!("ssse3")
    );
    let mut digests = Vec::new();
    digests.push(best(if cfg!(feature = "soft") { "sha2 0.10 (force-soft)" } else { "sha2 0.10 (default)" }, total, || {
        use sha2_010::Digest;
        let mut h = sha2_010::Sha256::new();
        for _ in 0..mib {
            h.update(&chunk);
        }
        h.finalize().to_vec()
    }));
    digests.push(best("sha2 0.11", total, || {
        use sha2_011::Digest;
        let mut h = sha2_011::Sha256::new();
        for _ in 0..mib {
            h.update(&chunk);
        }
        h.finalize().to_vec()
    }));
    digests.push(best("ring 0.17 digest", total, || {
        let mut h = ring::digest::Context::new(&ring::digest::SHA256);
        for _ in 0..mib {
            h.update(&chunk);
        }
        h.finish().as_ref().to_vec()
    }));
    digests.push(best("aws-lc-rs digest", total, || {
        let mut h = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for _ in 0..mib {
            h.update(&chunk);
        }
        h.finish().as_ref().to_vec()
    }));
    assert!(digests.windows(2).all(|w| w[0] == w[1]), "digests differ");
}

