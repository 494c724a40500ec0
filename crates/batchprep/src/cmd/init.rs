//! `batchprep init`: a commented `batchprep.toml` to start from (drafted from an existing pool when
//! given), and beside it the JSON Schema the file names on its first line, so editors with a TOML
//! language server (Taplo, Tombi) complete and validate it. `batchprep schema` prints the schema.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::bail;
use batchprep_batch::{pool_source::read_pool_path, spec_draft::SpecDraft};

use crate::{config, output_file::write_atomically};

/// The schema's file name, beside `batchprep.toml`.
pub const SCHEMA_FILE: &str = "batchprep.schema.json";

/// Arguments of `batchprep init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Draft `[pool]` from this pool (any file `check` reads: pool JSON, ARM, Terraform, Bicep,
    /// Shipyard `pool.yaml`) instead of a starting spec.
    #[arg(long, value_name = "POOL")]
    pub from: Option<PathBuf>,
    /// The pool to draft when the file holds several (its id; default: the first).
    #[arg(long, value_name = "ID", requires = "from")]
    pub pool_id: Option<String>,
    /// Where to write `batchprep.toml` and `batchprep.schema.json`.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Replace an existing `batchprep.toml`.
    #[arg(long)]
    pub force: bool,
}

/// Runs `batchprep init`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let target = args.dir.join(config::FILE_NAME);
    if target.exists() && !args.force {
        bail!("{} exists; pass --force to replace it", target.display());
    }
    let pool = match &args.from {
        Some(path) => Some(drafted(path, args.pool_id.as_deref())?),
        None => None,
    };
    let text = config_text(pool.as_ref());
    // The file must be one batchprep reads: a draft that is not is a bug here, not the user's.
    if let Err(e) = toml::from_str::<config::ConfigFile>(&text) {
        bail!(
            "internal error: the drafted {} does not parse: {e}",
            config::FILE_NAME
        );
    }
    write_atomically(&args.dir.join(SCHEMA_FILE), schema_text().as_bytes())?;
    write_atomically(&target, text.as_bytes())?;
    eprintln!(
        "wrote {} and {}",
        target.display(),
        args.dir.join(SCHEMA_FILE).display()
    );
    if let Some((_, draft)) = &pool {
        for note in &draft.notes {
            eprintln!(
                "note: {}",
                batchprep_oci::safe_text::printable(&note.to_string())
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `batchprep schema`.
pub fn run_schema() -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(schema_text().as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The JSON Schema of `batchprep.toml`, generated from the types the file is parsed into.
pub fn schema_text() -> String {
    let schema = schemars::schema_for!(config::ConfigFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

/// The pool read from `path` and its draft.
fn drafted(path: &Path, id: Option<&str>) -> anyhow::Result<(String, SpecDraft)> {
    let file = read_pool_path(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let pool = match id {
        Some(id) => file
            .pools
            .iter()
            .find(|p| p.id.as_ref().is_some_and(|f| f.value == id))
            .ok_or_else(|| anyhow::anyhow!("{}: no pool with id `{id}`", path.display()))?,
        None => file
            .pools
            .first()
            .ok_or_else(|| anyhow::anyhow!("{}: no pool in the file", path.display()))?,
    };
    let draft = batchprep_batch::spec_draft::draft(pool);
    let mut origin = path.display().to_string();
    if file.pools.len() > 1 {
        let _ = write!(
            origin,
            " (pool {} of {} pools)",
            pool.display_id(),
            file.pools.len()
        );
    }
    Ok((origin, draft))
}

/// The file `init` writes.
fn config_text(pool: Option<&(String, SpecDraft)>) -> String {
    let mut t = String::new();
    t.push_str(&format!("#:schema ./{SCHEMA_FILE}\n"));
    t.push_str(
        "# batchprep's settings for this repository. `batchprep check`, `lint` and `pool emit` find this\n\
         # file from here or any directory below. Every key is in batchprep.schema.json.\n\n",
    );
    t.push_str(
        "# The pool as a short spec: `batchprep check` checks it when no pool file is given, and\n\
         # `batchprep pool emit --format rest|arm|bicep|terraform` writes it out in full.\n",
    );
    match pool {
        Some((origin, draft)) => {
            t.push_str(&format!("# Drafted from {origin}.\n"));
            for note in &draft.notes {
                t.push_str(&format!("# - {note}\n"));
            }
            t.push_str("[pool]\n");
            t.push_str(&toml_table(&draft.pool));
            for registry in &draft.registries {
                t.push_str("\n[[pool.registries]]\n");
                t.push_str(&toml_table(registry));
            }
            if draft
                .registries
                .iter()
                .any(|r| r.iter().any(|(k, _)| *k == "password-env"))
            {
                t.push_str(
                    "# The password is never written here: `password-env` names the variable that\n\
                     # holds it when `pool emit --include-secrets` runs.\n",
                );
            }
        }
        None => t.push_str(STARTING_POOL),
    }
    t.push_str(REST);
    t
}

/// `key = value` lines, values written by the toml crate (quoting and escapes).
fn toml_table(entries: &[(&str, toml::Value)]) -> String {
    entries
        .iter()
        .map(|(k, v)| format!("{k} = {v}\n"))
        .collect()
}

const STARTING_POOL: &str = r#"[pool]
id = "my-pool"
vm-size = "Standard_D4ds_v5"
# A catalog alias (`batchprep pool emit` knows its node agent) or publisher:offer:sku[:version].
image = "ubuntu-hpc-2404"
dedicated-nodes = 2
# Images every node pulls before tasks start.
# images = ["myacr.azurecr.io/app:1.0"]
# Where Docker keeps its data: "auto" (the temp disk, on images that keep it on the OS disk), "keep",
# or an absolute path.
# data-root = "auto"

# How nodes authenticate to a private registry: a managed identity with AcrPull, or a user name and
# the environment variable that holds the password (never the password itself).
# [[pool.registries]]
# server = "myacr.azurecr.io"
# identity = "/subscriptions/.../resourceGroups/.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/pull"
"#;

const REST: &str = r#"
# The address ranges the nodes must reach, checked against docker0 (172.17.0.0/16 unless `bip` is
# set) and Docker's address pools.
# [network]
# vnet = ["10.0.0.0/16"]
# peered = ["10.1.0.0/16"]
# on-prem = ["192.168.0.0/16"]

# Images to read from a local build instead of the registry.
# [images.local]
# "myacr.azurecr.io/app:1.0" = "docker-daemon:app:latest"

# Registry settings for every command that reads one (flags and BATCHPREP_* variables win).
# [registry]
# insecure-registries = ["localhost:5000"]

# A rule's severity: "error", "warning", "note" or "allow" (`batchprep rules` lists them).
# [rules]
# mutable-image-tag = "error"

# A finding silenced, with the reason the next reader needs.
# [[ignore]]
# rule = "mutable-image-tag"
# subject = "pool my-pool"
# reason = "ubuntu:24.04 is rebuilt upstream for security fixes and we want them"
"#;
