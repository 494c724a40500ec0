//! Fuzz targets for every parser that reads input nobody here controls (issue 14), and a small
//! mutation fuzzer that runs them on the stable toolchain (cargo-fuzz needs nightly). Each target
//! is a function of bytes that must not panic and must finish; the runner ([`fuzz`]) mutates a
//! seed corpus taken from the repository's fixtures and stops after a number of inputs or seconds.
//! The `batchprep-fuzz` binary runs it from the command line; its test runs every target briefly,
//! so `cargo test --workspace` (and so `scripts/test` and CI) fuzzes on every run.

pub mod mutate;
pub mod targets;

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

pub use targets::TARGETS;

/// One fuzz target.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Its name on the command line (`cidr`, `tar`, ...).
    pub name: &'static str,
    /// What it feeds the bytes to.
    pub run: fn(&[u8]),
    /// The seed inputs, from the fixtures under the repository root given.
    pub seeds: fn(&Path) -> Vec<Vec<u8>>,
    /// Tokens the mutator inserts, from the input language (`concat(`, `[`, `/`, ...).
    pub dictionary: &'static [&'static [u8]],
    /// The largest input tried.
    pub max_len: usize,
}

/// When a run stops.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// After this many inputs.
    pub iterations: u64,
    /// Or after this long, whichever comes first.
    pub time: Duration,
}

/// What a run did.
#[derive(Debug)]
pub struct Outcome {
    /// Inputs tried.
    pub iterations: u64,
    /// How long it took.
    pub elapsed: Duration,
    /// Inputs that panicked, with the panic message, as saved.
    pub crashes: Vec<Crash>,
}

/// An input that made a target panic.
#[derive(Debug)]
pub struct Crash {
    /// The panic message.
    pub message: String,
    /// Where the input was written, when a directory was given.
    pub saved: Option<PathBuf>,
    /// The input.
    pub input: Vec<u8>,
}

/// Runs `target` on its seeds and then on mutations of them until `budget` is spent. `seed` makes
/// the run repeatable; `crash_dir` (when given) receives each panicking input as a file.
pub fn fuzz(
    target: &Target,
    root: &Path,
    budget: Budget,
    seed: u64,
    crash_dir: Option<&Path>,
) -> Outcome {
    let start = Instant::now();
    let mut corpus = (target.seeds)(root);
    corpus.retain(|s| s.len() <= target.max_len);
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    let mut rng = mutate::Rng::new(seed);
    let mut crashes = Vec::new();
    let mut iterations = 0u64;
    let seeds = corpus.len();
    while iterations < budget.iterations && start.elapsed() < budget.time {
        let input = if (iterations as usize) < seeds {
            corpus[iterations as usize].clone()
        } else {
            let base = &corpus[rng.below(corpus.len())];
            let other = &corpus[rng.below(corpus.len())];
            mutate::mutate(&mut rng, base, other, target.dictionary, target.max_len)
        };
        iterations += 1;
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| (target.run)(&input))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "non-string panic".to_owned());
            let saved = crash_dir.and_then(|dir| {
                let path = dir.join(format!(
                    "{}-{}",
                    target.name,
                    batchprep_testkit::sha256(&input).trim_start_matches("sha256:")
                ));
                std::fs::create_dir_all(dir).ok()?;
                std::fs::write(&path, &input).ok()?;
                Some(path)
            });
            crashes.push(Crash {
                message,
                saved,
                input,
            });
        } else if iterations as usize > seeds && corpus.len() < 4096 && rng.below(64) == 0 {
            // Keep a few inputs that ran cleanly, so mutations build on mutations (deep nesting,
            // long names) without coverage feedback.
            corpus.push(input);
        }
    }
    Outcome {
        iterations,
        elapsed: start.elapsed(),
        crashes,
    }
}

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panics_on_a_quote(bytes: &[u8]) {
        assert!(!bytes.contains(&b'\''), "found a quote");
    }

    #[test]
    fn a_panicking_input_is_caught_and_saved() {
        let target = Target {
            name: "self-test",
            run: panics_on_a_quote,
            seeds: |_| vec![b"abc".to_vec()],
            dictionary: &[b"'"],
            max_len: 64,
        };
        let dir = tempfile::tempdir().unwrap();
        let budget = Budget {
            iterations: 2_000,
            time: Duration::from_secs(60),
        };
        let outcome = fuzz(&target, dir.path(), budget, 3, Some(dir.path()));
        assert_eq!(outcome.iterations, 2_000);
        let crash = outcome
            .crashes
            .first()
            .expect("the mutator inserts a quote");
        assert_eq!(crash.message, "found a quote");
        assert!(crash.input.contains(&b'\''));
        assert_eq!(
            std::fs::read(crash.saved.as_ref().unwrap()).unwrap(),
            crash.input
        );
    }
}
