//! `batchprep-fuzz [TARGET...] [--iterations N] [--seconds S] [--seed N] [--crashes DIR]`: runs
//! the fuzz targets (all when none is named) one after the other, each until it has tried N inputs
//! or spent S seconds, and prints one line per target. Exit code 1 when any input panicked (each is
//! saved under `--crashes`, default `target/fuzz-crashes`). Run it under `prlimit --as=... --cpu=...`
//! to catch memory blow-ups and hangs as well: the test does.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use batchprep_fuzz::{Budget, TARGETS, fuzz, target};

fn main() -> ExitCode {
    let mut names = Vec::new();
    let mut budget = Budget {
        iterations: u64::MAX,
        time: Duration::from_secs(10),
    };
    let mut seed = 1u64;
    let mut crashes = PathBuf::from("target/fuzz-crashes");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| {
            args.next()
                .unwrap_or_else(|| usage(&format!("{what} needs a value")))
        };
        match arg.as_str() {
            "--iterations" => budget.iterations = number(&value("--iterations")),
            "--seconds" => budget.time = Duration::from_secs(number(&value("--seconds"))),
            "--seed" => seed = number(&value("--seed")),
            "--crashes" => crashes = PathBuf::from(value("--crashes")),
            "--list" => {
                for t in TARGETS {
                    println!("{}", t.name);
                }
                return ExitCode::SUCCESS;
            }
            name if target(name).is_some() => names.push(name.to_owned()),
            other => usage(&format!("unknown target or flag `{other}`")),
        }
    }
    let root = batchprep_testkit::repo_root();
    let mut failed = false;
    for t in TARGETS
        .iter()
        .filter(|t| names.is_empty() || names.iter().any(|n| n == t.name))
    {
        let outcome = fuzz(t, &root, budget, seed, Some(&crashes));
        println!(
            "{}: {} inputs in {:.1} s, {} panicked",
            t.name,
            outcome.iterations,
            outcome.elapsed.as_secs_f64(),
            outcome.crashes.len()
        );
        for c in &outcome.crashes {
            failed = true;
            println!(
                "  panic: {} ({} bytes{})",
                batchprep_oci::safe_text::line(&c.message),
                c.input.len(),
                c.saved
                    .as_ref()
                    .map(|p| format!(", saved as {}", p.display()))
                    .unwrap_or_default()
            );
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn number(s: &str) -> u64 {
    s.parse()
        .unwrap_or_else(|_| usage(&format!("`{s}` is not a number")))
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "error: {problem}\nusage: batchprep-fuzz [TARGET...] [--iterations N] [--seconds S] [--seed N] [--crashes DIR] [--list]"
    );
    std::process::exit(2)
}
