//! File arguments: `-` reads standard input, for every file a command takes (the pool, `--task`,
//! `--config`, `pool emit`'s spec). Standard input can be read once per run; a second `-` (or `-`
//! together with `--password-stdin`) is one clear error instead of an empty file.

use std::{
    io::Read,
    path::Path,
    sync::atomic::{AtomicBool, Ordering},
};

use anyhow::{Context, bail};

/// Whether something already read standard input in this run.
static STDIN_TAKEN: AtomicBool = AtomicBool::new(false);

/// Whether `path` means standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Reads all of standard input for `what` (`--task -`, `--password-stdin`); fails if it was read.
pub fn read_stdin(what: &str) -> anyhow::Result<String> {
    if STDIN_TAKEN.swap(true, Ordering::SeqCst) {
        bail!("{what}: standard input was already read by another argument");
    }
    let limit = batchprep_oci::input::TEXT_LIMIT;
    let mut text = String::new();
    std::io::stdin()
        .take(limit + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("{what}: cannot read standard input"))?;
    if text.len() as u64 > limit {
        bail!("{what}: standard input is larger than the {limit} bytes allowed");
    }
    Ok(text)
}

/// Reads the file `path`, or standard input when it is `-`. `what` names the argument for errors.
pub fn read(path: &Path, what: &str) -> anyhow::Result<String> {
    if is_stdin(path) {
        return read_stdin(what);
    }
    // Bounded: a FIFO, a device or a huge file is one clear error, never a hang.
    batchprep_oci::input::read_text(path).map_err(|e| match what {
        "" => anyhow::anyhow!(e),
        what => anyhow::anyhow!("cannot read {what} {}: {}", path.display(), e.reason()),
    })
}
