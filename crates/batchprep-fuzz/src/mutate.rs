//! Byte mutations, without coverage feedback: the classes issue 14 found (deep nesting, fan-out,
//! huge lengths, control characters) come from repeating, splicing and inserting tokens, which
//! blind mutation of good seeds reaches quickly.

/// A small deterministic generator (xorshift64*), so a run can be repeated from its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value, zero included).
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// Bytes that are special in most of the languages read: controls, quotes, brackets, separators.
const INTERESTING: &[u8] = b"\0\n\r\t\x1b\x7f\"'\\/[]{}(),:;=@.*+-~#$%!?<> 0123456789";

/// Numbers at the edges of the integer types, as text.
const NUMBERS: &[&[u8]] = &[
    b"0",
    b"-1",
    b"255",
    b"256",
    b"4294967295",
    b"4294967296",
    b"18446744073709551615",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"1e999999",
    b"0.0000001",
];

/// A mutation of `base` (sometimes spliced with `other`), at most `max_len` bytes.
pub fn mutate(
    rng: &mut Rng,
    base: &[u8],
    other: &[u8],
    dictionary: &[&[u8]],
    max_len: usize,
) -> Vec<u8> {
    let mut out = base.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = out.len();
        let at = rng.below(len + 1);
        match rng.below(11) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let b = INTERESTING[rng.below(INTERESTING.len())];
                out.insert(at, b);
            }
            3 if len > 0 => {
                let end = (at + 1 + rng.below(64)).min(len);
                out.drain(at.min(len - 1)..end);
            }
            4 if len > 0 => {
                // Repeat a short run many times: deep nesting, long names, fan-out.
                let start = rng.below(len);
                let end = (start + 1 + rng.below(16)).min(len);
                let piece = out[start..end].to_vec();
                let times = [2, 16, 256, 4096][rng.below(4)];
                let extra: Vec<u8> = piece
                    .iter()
                    .copied()
                    .cycle()
                    .take(piece.len() * times)
                    .collect();
                out.splice(end..end, extra);
            }
            5 if !dictionary.is_empty() => {
                let token = dictionary[rng.below(dictionary.len())];
                out.splice(at..at, token.iter().copied());
            }
            6 if !dictionary.is_empty() => {
                let token = dictionary[rng.below(dictionary.len())];
                let times = [1, 64, 2048][rng.below(3)];
                let extra: Vec<u8> = token
                    .iter()
                    .copied()
                    .cycle()
                    .take(token.len() * times)
                    .collect();
                out.splice(at..at, extra);
            }
            7 => {
                let n = NUMBERS[rng.below(NUMBERS.len())];
                out.splice(at..at, n.iter().copied());
            }
            8 if !other.is_empty() => {
                // Splice: this input's head with the other's tail.
                let from = rng.below(other.len());
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            9 if len > 0 => out.truncate(rng.below(len)),
            _ => {
                let b = rng.next_u64() as u8;
                out.insert(at, b);
            }
        }
    }
    out.truncate(max_len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_mutations_within_the_limit() {
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..200)
                .map(|_| {
                    mutate(
                        &mut rng,
                        b"[concat('a')]",
                        b"{\"x\": 1}",
                        &[b"concat("],
                        300,
                    )
                })
                .collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
        assert!(a.iter().all(|m| m.len() <= 300));
        assert!(a.iter().any(|m| m.len() > 100), "repeats grow inputs");
    }
}
