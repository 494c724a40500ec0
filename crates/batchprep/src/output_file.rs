//! Files batchprep writes (`--output`, `pool emit --out`, `init`): whole or not at all, through a
//! temporary file in the same directory that is renamed into place, with the mode a shell would give.

use std::{io::Write, os::unix::fs::PermissionsExt, path::Path};

use anyhow::Context;

/// Writes `path` with what `write` produces; on any error the old file (or no file) is left.
pub fn write_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        anyhow::bail!(
            "cannot write {}: directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    let context = || format!("cannot write {}", path.display());
    // 0666 less the umask, as for a file the user's shell creates (tempfile's default is 0600).
    let mut tmp = tempfile::Builder::new()
        .prefix(".batchprep-")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(plain)
        .with_context(context)?;
    write(tmp.as_file_mut())
        .and_then(|()| tmp.as_file_mut().flush())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(plain)
        .with_context(context)?;
    tmp.persist(path)
        .map_err(|e| plain(e.error))
        .with_context(context)?;
    Ok(())
}

/// Writes `bytes` to `path`, atomically.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_with(path, |w| w.write_all(bytes))
}

/// tempfile's errors name its random temporary path; the user only knows the one they asked for.
fn plain(e: std::io::Error) -> std::io::Error {
    e.raw_os_error()
        .map_or_else(|| e.kind().into(), std::io::Error::from_raw_os_error)
}
