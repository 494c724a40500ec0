//! Bounded reads of input files (pool, task and config files, credential files, layout files).
//! Every file a user or an image names may be a FIFO, a link to `/dev/zero` or a huge file: reading
//! it whole would hang or exhaust memory, so every input goes through [`read_file`], which refuses
//! anything that is not a regular file and stops at a size limit, with one line naming the file.

use std::{
    fs::File,
    io::{self, Read},
    path::{Path, PathBuf},
};

/// The default limit for a text input (pool, task, config, credential file): 64 MiB.
pub const TEXT_LIMIT: u64 = 64 * 1024 * 1024;

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Open or read failed.
    #[error("cannot read {}: {}", path.display(), crate::safe_text::io_reason(cause))]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause (in the message, not a `source`: the chain would say it twice).
        cause: io::Error,
    },
    /// A FIFO, device, socket or directory.
    #[error("cannot read {}: {kind}, not a regular file", path.display())]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// Larger than the limit.
    #[error("cannot read {}: larger than the {limit} bytes allowed", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// Not UTF-8 text.
    #[error("cannot read {}: not UTF-8 text", path.display())]
    NotText {
        /// The file.
        path: PathBuf,
    },
}

impl InputError {
    /// Whether the file does not exist (callers that skip missing files, such as credential files).
    pub fn is_not_found(&self) -> bool {
        matches!(self, InputError::Io { cause, .. } if cause.kind() == io::ErrorKind::NotFound)
    }

    /// Why, without the file's name (for callers that name the file themselves).
    pub fn reason(&self) -> String {
        match self {
            InputError::Io { cause, .. } => crate::safe_text::io_reason(cause),
            InputError::NotRegular { kind, .. } => format!("{kind}, not a regular file"),
            InputError::TooLarge { limit, .. } => format!("larger than the {limit} bytes allowed"),
            InputError::NotText { .. } => "not UTF-8 text".to_owned(),
        }
    }
}

fn kind_of(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

/// Opens `path` for reading only if it is a regular file (after following links). The type is
/// checked before opening, since opening a FIFO blocks until a writer appears.
pub fn open_regular(path: &Path) -> Result<File, InputError> {
    let io = |cause| InputError::Io {
        path: path.to_owned(),
        cause,
    };
    let not_regular = |kind| InputError::NotRegular {
        path: path.to_owned(),
        kind,
    };
    if let Some(kind) = kind_of(&std::fs::metadata(path).map_err(io)?) {
        return Err(not_regular(kind));
    }
    let file = File::open(path).map_err(io)?;
    // The path may have been swapped between the two calls; check what was opened.
    if let Some(kind) = kind_of(&file.metadata().map_err(io)?) {
        return Err(not_regular(kind));
    }
    Ok(file)
}

/// Reads a regular file whole, failing if it is larger than `limit` bytes.
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|cause| InputError::Io {
            path: path.to_owned(),
            cause,
        })?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge {
            path: path.to_owned(),
            limit,
        });
    }
    Ok(bytes)
}

/// Reads a regular UTF-8 text file of at most [`TEXT_LIMIT`] bytes.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    String::from_utf8(read_file(path, TEXT_LIMIT)?).map_err(|_| InputError::NotText {
        path: path.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_and_dirs_and_bounds_size() {
        let e = read_text(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot read /dev/zero: a character device, not a regular file"
        );
        let e = read_text(Path::new("/")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot read /: a directory, not a regular file"
        );
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("big");
        std::fs::write(&f, [b'x'; 11]).unwrap();
        assert!(matches!(
            read_file(&f, 10),
            Err(InputError::TooLarge { limit: 10, .. })
        ));
        assert_eq!(read_file(&f, 11).unwrap().len(), 11);
        let e = read_text(&dir.path().join("missing")).unwrap_err();
        assert!(e.is_not_found());
    }
}
