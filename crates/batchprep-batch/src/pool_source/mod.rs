//! Pool files as users keep them in their repositories, whatever the tool: the JSON shapes of
//! [`crate::pool`], Terraform (`.tf` files, a directory of them, or `terraform show -json` plan
//! output), Bicep, and Batch Shipyard YAML. Each reader maps its file to the same resolved value tree
//! the JSON reader builds, so one set of pool builders and one set of rules serve every surface, and
//! records where each value was written so every finding points at the line and column of its
//! attribute.

mod bicep;
mod detect;
mod shipyard;
mod shipyard_jobs;
mod terraform;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

pub use detect::{PoolKind, detect};
pub use shipyard::{ShipyardPool, ShipyardSpec, read_shipyard};
pub use shipyard_jobs::{ShipyardJobs, ShipyardTarget, ShipyardTask, read_jobs};

use crate::{
    json_pos::{PointerIndex, Position},
    pool::{PoolDefinition, PoolError, parse_pools},
    template::{Node, Spanned},
};

/// The kinds of pool file batchprep reads, for messages.
pub const KINDS_READ: &str = "pool JSON (REST body, `az batch pool show`, Batch CLI or ARM template), Terraform (`.tf`, a directory of them, or `terraform show -json` output), Bicep (`.bicep`) or Batch Shipyard YAML (`pool.yaml`)";

/// The deepest nesting a reader follows; hostile input gets an error, not a stack overflow.
pub(crate) const MAX_DEPTH: usize = 64;

/// Where the values of a pool file were written: pointer -> file and line/column.
#[derive(Debug, Clone, Default)]
pub struct SourceIndex {
    /// The files read (one, or every `.tf` file of a directory).
    files: Vec<PathBuf>,
    /// JSON files: the scanner's index.
    json: Option<PointerIndex>,
    /// Other files: the position of each pointer the reader produced, with its file.
    positions: HashMap<String, (usize, Position)>,
}

/// A place in a pool file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePlace {
    /// The file (for a directory, the `.tf` file the value is in).
    pub file: PathBuf,
    /// 1-based line and column.
    pub position: Position,
}

impl SourceIndex {
    /// The index of one JSON file.
    pub fn json(path: &Path, text: &str) -> SourceIndex {
        SourceIndex {
            files: vec![path.to_path_buf()],
            json: Some(PointerIndex::build(text)),
            positions: HashMap::new(),
        }
    }

    /// Where `pointer` was written; for a pointer the reader did not record (a default the file
    /// leaves out), its nearest recorded parent.
    pub fn locate(&self, pointer: &str) -> SourcePlace {
        let first = || self.files.first().cloned().unwrap_or_default();
        if let Some(json) = &self.json {
            return SourcePlace {
                file: first(),
                position: json.position(pointer),
            };
        }
        let mut p = pointer;
        loop {
            if let Some((file, position)) = self.positions.get(p) {
                return SourcePlace {
                    file: self.files.get(*file).cloned().unwrap_or_else(first),
                    position: *position,
                };
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => {
                    return SourcePlace {
                        file: first(),
                        position: Position { line: 1, column: 1 },
                    };
                }
            }
        }
    }

    /// The files read, in the order their positions refer to.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Records that `pointer` is at `position` of `file` (one of the files read), replacing what
    /// was recorded: for values a reader derives from others written elsewhere.
    pub(crate) fn insert(&mut self, pointer: &str, file: &Path, position: Position) {
        let file = self.files.iter().position(|f| f == file).unwrap_or(0);
        self.positions.insert(pointer.to_owned(), (file, position));
    }

    fn record(&mut self, pointer: &str, file: usize, position: Position) {
        self.positions
            .entry(pointer.to_owned())
            .or_insert((file, position));
    }
}

/// The pools of one pool file (or directory) and where their values are.
#[derive(Debug, Clone)]
pub struct PoolFile {
    /// What kind of file it was.
    pub kind: PoolKind,
    /// The pools, in file order.
    pub pools: Vec<PoolDefinition>,
    /// Where each pointer of the pools is.
    pub locations: SourceIndex,
    /// The text of a pool JSON file, as read (for `check --fix`, which edits what was checked).
    pub json_text: Option<String>,
}

/// Why a pool file could not be read. Each message is one line naming what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolFileError {
    /// The file or directory could not be read.
    #[error("cannot be read: {0}")]
    Io(String),
    /// A kind of file batchprep does not read.
    #[error("not a pool file batchprep reads ({0}); it reads {KINDS_READ}")]
    Unsupported(String),
    /// The JSON readers' error.
    #[error(transparent)]
    Json(#[from] PoolError),
    /// A syntax error at a place in the file.
    #[error("{file}line {line}, column {column}: {message}", file = file.as_ref().map(|f| format!("{}: ", f.display())).unwrap_or_default())]
    Syntax {
        /// For a directory, the file the error is in.
        file: Option<PathBuf>,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// What is wrong.
        message: String,
    },
    /// The file is of a kind batchprep reads, but holds no pool.
    #[error("no pool found: {0}")]
    NoPool(String),
    /// A task file of a kind batchprep reads, but with no task in it.
    #[error("no task found: {0}")]
    NoTask(String),
}

impl PoolFileError {
    /// The one line to show for `path`: `cannot read PATH: ...` or `PATH: ...`.
    pub fn describe(&self, path: &Path) -> String {
        match self {
            PoolFileError::Io(e) => format!("cannot read {}: {e}", path.display()),
            e => format!("{}: {e}", path.display()),
        }
    }
}

/// Reads the pool file or directory at `path`: a directory is a Terraform module (every `.tf` file in
/// it); a Shipyard `pool.yaml` also reads the `config.yaml` and `credentials.yaml` beside it, as
/// `shipyard pool add --configdir` does.
pub fn read_pool_path(path: &Path) -> Result<PoolFile, PoolFileError> {
    if path.is_dir() {
        return terraform::read_dir(path);
    }
    // Bounded: a FIFO or a link to /dev/zero is one clear error, never a hang.
    let bytes = batchprep_oci::input::read_file(path, batchprep_oci::input::TEXT_LIMIT)
        .map_err(|e| PoolFileError::Io(e.reason()))?;
    read_pool_file(path, &bytes)
}

/// Reads one pool file from its bytes; `path` names it in locations and tells its kind by extension
/// (the content decides when the extension does not).
pub fn read_pool_file(path: &Path, bytes: &[u8]) -> Result<PoolFile, PoolFileError> {
    let kind = detect(path, bytes)?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| PoolFileError::Unsupported("not UTF-8 text".into()))?;
    // A byte order mark is not part of any of these languages.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (pools, locations) = match kind {
        PoolKind::Json => (parse_pools(text)?, SourceIndex::json(path, text)),
        PoolKind::TerraformPlan => terraform::read_plan(path, text)?,
        PoolKind::Terraform => terraform::read_files(&[(path.to_path_buf(), text.to_owned())])?,
        PoolKind::Bicep => bicep::read(path, text)?,
        PoolKind::Shipyard => {
            let read = shipyard::read_configdir(path, text)?;
            (vec![read.pool], read.locations)
        }
    };
    Ok(PoolFile {
        kind,
        pools,
        locations,
        json_text: (kind == PoolKind::Json).then(|| text.to_owned()),
    })
}

/// A Batch Shipyard `pool.yaml` and the config files beside it, for `pool emit --from-shipyard`.
pub fn read_shipyard_pool(path: &Path) -> Result<ShipyardPool, PoolFileError> {
    let text = batchprep_oci::input::read_text(path).map_err(|e| PoolFileError::Io(e.reason()))?;
    shipyard::read_configdir(path, &text)
}

/// The tasks of a Batch Shipyard `jobs.yaml` (and the `config.yaml` and `credentials.yaml` beside
/// it, for volumes and storage accounts), as Shipyard adds them to a pool of kind `target`.
pub fn read_shipyard_jobs(
    path: &Path,
    text: &str,
    target: ShipyardTarget,
) -> Result<ShipyardJobs, PoolFileError> {
    shipyard_jobs::read_jobs_configdir(path, text, target)
}

/// Byte offset -> line and column (in characters), for readers whose parsers give byte spans.
pub(crate) struct LineTable<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineTable<'a> {
    pub(crate) fn new(text: &'a str) -> LineTable<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineTable { text, starts }
    }

    pub(crate) fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|s| *s <= offset) - 1;
        let start = self.starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        Position {
            line: line as u32 + 1,
            column: column as u32 + 1,
        }
    }
}

/// A value tree node at `origin`.
pub(crate) fn node(node: Node, origin: &str) -> Spanned {
    Spanned {
        node,
        origin: origin.to_owned(),
    }
}

/// An object of the members that are present.
pub(crate) fn object(origin: &str, members: Vec<(&str, Option<Spanned>)>) -> Spanned {
    node(
        Node::Object(
            members
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_owned(), v?)))
                .collect(),
        ),
        origin,
    )
}
