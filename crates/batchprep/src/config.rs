//! `batchprep.toml`: found upward from the current directory, or named with `--config`.
//!
//! The file is split here into its sections; each section is parsed by the crate that owns its
//! meaning (`[pool]` and `[network]` by `batchprep-batch`, `[rules]`/`[[ignore]]` by the policy).
//! Unknown keys are errors that name the key and the line.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use batchprep_lint::{Level, Policy, policy::Ignore};
use batchprep_oci::{ImageSource, Reference};
use serde::Deserialize;

/// The name looked for upward from the current directory.
pub const FILE_NAME: &str = "batchprep.toml";

/// The parsed configuration; empty when there is no file.
#[derive(Debug, Default)]
pub struct Config {
    /// The file it came from.
    pub path: Option<PathBuf>,
    /// The raw file contents, kept so findings can point into it.
    pub text: String,
    /// The sections.
    pub file: ConfigFile,
}

/// batchprep's settings for a repository.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "batchprep.toml")]
pub struct ConfigFile {
    /// Severity per rule: `error`, `warning`, `note` or `allow`.
    #[serde(default)]
    pub rules: BTreeMap<String, Level>,
    /// Ignored rules, each with a reason.
    #[serde(default)]
    pub ignore: Vec<Ignore>,
    /// The pool as a short spec: checked by `batchprep check` when no pool file is given, written
    /// out by `batchprep pool emit`.
    #[serde(default)]
    #[schemars(with = "Option<batchprep_batch::spec::PoolSpec>")]
    pub pool: Option<toml::Table>,
    /// The address ranges the nodes must reach, for the docker0 and address-pool check.
    #[serde(default)]
    #[schemars(with = "Option<batchprep_batch::net::NetworkSpec>")]
    pub network: Option<toml::Table>,
    /// Registry settings for every command that reads a registry (flags and `BATCHPREP_*`
    /// variables win); credentials are never stored here.
    #[serde(default)]
    #[schemars(with = "Option<crate::cmd::registry::RegistryConfig>")]
    pub registry: Option<toml::Table>,
    /// Image sources: `[images.local]` maps references to local images.
    #[serde(default)]
    pub images: Option<Images>,
    /// What the pools' Batch node agent accepts beyond what batchprep knows it to.
    #[serde(default)]
    pub node_agent: Option<NodeAgent>,
}

/// `[node-agent]`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NodeAgent {
    /// `containerRunOptions` options (as written: `--ulimit`, `-m`) the node agent accepts beyond
    /// the known set; `unknown-run-option` does not report them.
    #[serde(default)]
    pub accepted_run_options: Vec<String>,
}

/// `[images]`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Images {
    /// Reference -> local image (`oci:DIR:TAG`, ...), read instead of the registry.
    #[serde(default)]
    pub local: BTreeMap<String, String>,
}

impl Config {
    /// Reads `explicit`, or the first `batchprep.toml` upward from the current directory.
    pub fn discover(explicit: Option<&Path>) -> anyhow::Result<Config> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => std::env::current_dir()
                .ok()
                .and_then(|cwd| find_upward(&cwd)),
        };
        match path {
            Some(p) => Config::load(&p),
            None => Ok(Config::default()),
        }
    }

    /// Reads and parses one file.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = crate::input::read(path, "config")?;
        let file: ConfigFile = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!("{}: {}", path.display(), one_line_toml_error(&e, &text))
        })?;
        Ok(Config {
            path: Some(path.to_path_buf()),
            text,
            file,
        })
    }

    /// `[images.local]` plus `--local REF=SOURCE`, keyed by the normalised reference.
    pub fn local_images(&self, flags: &[String]) -> anyhow::Result<BTreeMap<String, ImageSource>> {
        let mut out = BTreeMap::new();
        let from_config = self.file.images.iter().flat_map(|i| {
            i.local
                .iter()
                .map(|(k, v)| (k.clone(), v.clone(), "[images.local]"))
        });
        let from_flags = flags.iter().map(|f| match f.split_once('=') {
            Some((r, s)) => Ok((r.to_owned(), s.to_owned(), "--local")),
            None => Err(anyhow::anyhow!(
                "--local `{f}`: expected REF=TRANSPORT:PATH"
            )),
        });
        for entry in from_config.map(Ok).chain(from_flags) {
            let (reference, source, origin) = entry?;
            let reference =
                Reference::parse(&reference).with_context(|| format!("{origin} `{reference}`"))?;
            let mut parsed =
                ImageSource::parse(&source).with_context(|| format!("{origin} `{source}`"))?;
            // Paths in the config file are relative to the file, like every path a config names.
            let base = self
                .path
                .as_deref()
                .and_then(Path::parent)
                .filter(|_| origin == "[images.local]");
            match &mut parsed {
                ImageSource::OciLayout { dir: path, .. }
                | ImageSource::OciArchive { file: path, .. }
                | ImageSource::DockerArchive { file: path, .. } => {
                    if let Some(base) = base.filter(|_| path.is_relative()) {
                        *path = base.join(&*path);
                    }
                }
                ImageSource::DockerDaemon { .. } => {}
                _ => bail!(
                    "{origin} `{source}`: a local image needs a local transport (oci:, oci-archive:, docker-archive:, docker-daemon:)"
                ),
            }
            out.insert(reference.to_string(), parsed);
        }
        Ok(out)
    }

    /// `[node-agent] accepted-run-options`.
    pub fn accepted_run_options(&self) -> &[String] {
        self.file
            .node_agent
            .as_ref()
            .map_or(&[], |a| a.accepted_run_options.as_slice())
    }

    /// The policy the file sets.
    pub fn policy(&self) -> anyhow::Result<Policy> {
        let mut policy = Policy::default();
        let name = || {
            self.path
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        for (rule, level) in &self.file.rules {
            policy
                .set(rule, *level)
                .with_context(|| format!("{}: [rules]", name()))?;
        }
        for ignore in &self.file.ignore {
            policy
                .ignore(ignore.clone())
                .with_context(|| format!("{}: [[ignore]]", name()))?;
        }
        Ok(policy)
    }
}

fn find_upward(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// toml's errors span several lines with a source excerpt; keep it to one line with the position.
pub fn one_line_toml_error(e: &toml::de::Error, input: &str) -> String {
    let msg = e.message().trim().replace('\n', "; ");
    match e.span() {
        Some(span) if span.start <= input.len() => {
            let line = input[..span.start].matches('\n').count() + 1;
            let col = span.start - input[..span.start].rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {col}: {msg}")
        }
        _ => msg,
    }
}
