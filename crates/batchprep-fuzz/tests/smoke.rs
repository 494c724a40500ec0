//! Every fuzz target, briefly, on every `cargo test` (and so in `scripts/test` and CI): the seeds
//! from the fixtures and a few thousand mutations each, under an address-space and CPU-time limit,
//! so a panic, a memory blow-up or a hang fails the run. `BATCHPREP_FUZZ_ITERATIONS` changes the
//! count.

use std::process::Command;

#[test]
fn every_target_survives_a_short_run() {
    let iterations =
        std::env::var("BATCHPREP_FUZZ_ITERATIONS").unwrap_or_else(|_| "2000".to_owned());
    let crashes = tempfile::tempdir().unwrap();
    let out = Command::new("prlimit")
        // 4 GiB of address space, each target stopping after 10 s, 300 CPU seconds in all.
        .args(["--as=4294967296", "--cpu=300", "--"])
        .arg(env!("CARGO_BIN_EXE_batchprep-fuzz"))
        .args([
            "--iterations",
            &iterations,
            "--seconds",
            "10",
            "--seed",
            "14",
        ])
        .arg("--crashes")
        .arg(crashes.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        batchprep_fuzz::TARGETS.len(),
        "one line per target: {stdout}"
    );
    for (line, t) in lines.iter().zip(batchprep_fuzz::TARGETS) {
        assert!(
            line.starts_with(&format!("{}: ", t.name)) && line.ends_with(", 0 panicked"),
            "{line}"
        );
    }
}
