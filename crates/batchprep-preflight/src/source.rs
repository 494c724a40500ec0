//! The files the user gave, kept with what findings need to point into them and what `--fix` edits.

use std::path::{Path, PathBuf};

use batchprep_batch::{
    pool::PoolDefinition,
    pool_source::{ShipyardTarget, SourceIndex, read_pool_file, read_pool_path},
    task::FoundTask,
    task_file::read_task_file,
};
use batchprep_lint::Location;

use crate::input;

/// A file the user gave, with what findings need to point into it.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user gave it (`-` for standard input).
    pub display: PathBuf,
    /// For a pool made from the `[pool]` spec: every finding points at the `[pool]` line, since the
    /// JSON the checks read was generated from it.
    spec_line: Option<u32>,
    /// Where its reader found each value (any surface, or a Terraform directory).
    places: SourceIndex,
    /// The text of a JSON file, as read: what `--fix` edits.
    json_text: Option<String>,
}

impl SourceFile {
    /// A pool file of any surface (data-plane JSON, ARM, Terraform, Bicep, Shipyard), or a
    /// Terraform directory; `-` reads standard input.
    pub fn read_pools(path: &Path) -> anyhow::Result<(SourceFile, Vec<PoolDefinition>)> {
        let read = if input::is_stdin(path) {
            read_pool_file(path, input::read_stdin("pool")?.as_bytes())
        } else {
            read_pool_path(path)
        }
        .map_err(|e| anyhow::anyhow!(e.describe(path)))?;
        let file = SourceFile {
            display: path.to_path_buf(),
            spec_line: None,
            places: read.locations,
            json_text: read.json_text,
        };
        Ok((file, read.pools))
    }

    /// The pool generated from a spec at `line` of `path` (the `[pool]` of `batchprep.toml`).
    pub fn generated(path: &Path, line: u32) -> SourceFile {
        SourceFile {
            display: path.to_path_buf(),
            spec_line: Some(line),
            places: SourceIndex::default(),
            json_text: None,
        }
    }

    /// A task file: task JSON or a Shipyard `jobs.yaml`, whose tasks depend on the pool (`target`).
    pub fn read_tasks(
        path: &Path,
        target: ShipyardTarget,
    ) -> anyhow::Result<(SourceFile, Vec<FoundTask>)> {
        let text = input::read(path, "task file")?;
        let read = read_task_file(path, &text, target)?;
        let json = !batchprep_batch::task_file::is_shipyard_jobs(path, &text);
        Ok((
            SourceFile {
                display: path.to_path_buf(),
                spec_line: None,
                places: read.locations,
                json_text: json.then_some(text),
            },
            read.tasks,
        ))
    }

    /// Where the value at `pointer` is in this file.
    pub fn locate(&self, pointer: &str) -> Location {
        if let Some(line) = self.spec_line {
            return Location {
                file: self.display.clone(),
                pointer: format!("[pool] (generated {pointer})"),
                line,
                column: 1,
            };
        }
        let place = self.places.locate(pointer);
        Location {
            file: place.file,
            pointer: pointer.to_owned(),
            line: place.position.line,
            column: place.position.column,
        }
    }

    /// The files of this source `--fix` may edit, with their texts: a JSON file as it was parsed, the
    /// files of the other readers (a Terraform directory's, a Shipyard config directory's) read now.
    /// Standard input is not a file to write back to; a generated pool has none.
    pub fn fix_texts(&self) -> anyhow::Result<Vec<(PathBuf, String)>> {
        if input::is_stdin(&self.display) {
            return Ok(Vec::new());
        }
        match &self.json_text {
            Some(text) => Ok(vec![(self.display.clone(), text.clone())]),
            None => self
                .places
                .files()
                .iter()
                .filter(|p| !input::is_stdin(p))
                .map(|p| Ok((p.clone(), input::read(p, "")?)))
                .collect(),
        }
    }
}

/// The files findings of `files` can point into, each once, with their texts (see
/// [`SourceFile::fix_texts`]).
pub fn fix_sources<'a>(
    files: impl IntoIterator<Item = &'a SourceFile>,
) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut sources: Vec<(PathBuf, String)> = Vec::new();
    for file in files {
        for (path, text) in file.fix_texts()? {
            if !sources.iter().any(|(p, _)| *p == path) {
                sources.push((path, text));
            }
        }
    }
    Ok(sources)
}
