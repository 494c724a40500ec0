//! `batchprep inspect`: what an image is and holds, as a runtime will see it: manifest, platform,
//! config, layers, and the merged filesystem answers for `--stat PATH` and `--which NAME`.
//! The facts printed here are the ones the image rules reason about, so users can check them.

use std::{fmt::Write as _, io::Write as _, process::ExitCode};

use anyhow::Context;
use batchprep_oci::{Entry, Image, ImageSource, MergedFs, OpenOptions, Platform, Resolved};
use serde::Serialize;

/// Output formats of `inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    Human,
    /// The stable JSON documented in the README.
    Json,
}

/// Arguments of `batchprep inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The image: `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REF]` or `docker://REF`.
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// The platform to pick from a multi-platform image (os/arch[/variant]).
    #[arg(long, value_name = "PLATFORM", default_value = "linux/amd64", value_parser = parse_platform)]
    pub platform: Platform,
    /// Show this path in the merged filesystem (repeatable).
    #[arg(long = "stat", value_name = "PATH")]
    pub stat: Vec<String>,
    /// Show what a PATH lookup of this program finds (repeatable).
    #[arg(long = "which", value_name = "NAME")]
    pub which: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// For a registry image, read every layer instead of the layer-index cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Configuration file, for its `[registry]` settings (default: `batchprep.toml` found upward).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Registry transport and credentials.
    #[command(flatten)]
    pub registry: crate::cmd::registry::RegistryArgs,
}

fn parse_platform(s: &str) -> Result<Platform, String> {
    s.parse().map_err(|e: batchprep_oci::Error| e.to_string())
}

/// The JSON document (field names are stable; see the README).
#[derive(Debug, Serialize)]
struct Inspection {
    version: u32,
    source: String,
    manifest_digest: String,
    config_digest: String,
    platform: String,
    config: ConfigOut,
    layers: Vec<LayerOut>,
    compressed_size: u64,
    uncompressed_size: u64,
    path: String,
    stat: Vec<StatOut>,
    which: Vec<WhichOut>,
}

#[derive(Debug, Serialize)]
struct ConfigOut {
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    working_dir: Option<String>,
    user: Option<String>,
    env: Vec<String>,
    labels: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
struct LayerOut {
    digest: String,
    media_type: String,
    size: u64,
    uncompressed_size: Option<u64>,
}

#[derive(Debug, Serialize)]
struct StatOut {
    path: String,
    exists: bool,
    #[serde(flatten)]
    entry: Option<EntryOut>,
    removed_by_layer: Option<usize>,
    chain: Vec<String>,
    resolved: ResolvedOut,
}

#[derive(Debug, Serialize)]
struct EntryOut {
    real_path: String,
    #[serde(rename = "type")]
    kind: &'static str,
    mode: String,
    uid: u64,
    gid: u64,
    size: u64,
    layer: usize,
    link_target: Option<String>,
    shebang: Option<String>,
}

#[derive(Debug, Serialize)]
struct ResolvedOut {
    outcome: &'static str,
    path: Option<String>,
    #[serde(rename = "type")]
    kind: Option<&'static str>,
    mode: Option<String>,
}

#[derive(Debug, Serialize)]
struct WhichOut {
    name: String,
    found: Option<String>,
    resolves_to: Option<String>,
}

/// Runs the command.
pub fn run(mut args: Args) -> anyhow::Result<ExitCode> {
    let config = crate::config::Config::discover(args.config.as_deref())?;
    args.registry.with_config(&config)?;
    let source = ImageSource::parse(&args.image)?;
    let access = args.registry.access(args.no_cache)?;
    let options = OpenOptions {
        platform: args.platform.clone(),
    };
    let image = batchprep_preflight::images::open(&source, &options, &access)
        .with_context(|| format!("cannot read image {source}"))?;
    let inspection = inspect(&image, &args.stat, &args.which);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &inspection)?;
            writeln!(out)?;
        }
        Format::Human => out
            .write_all(batchprep_oci::safe_text::printable_lines(&human(&inspection)).as_bytes())?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn inspect(image: &Image, stats: &[String], names: &[String]) -> Inspection {
    let fs = &image.fs;
    let path_var = image.config.path_var().to_owned();
    let c = &image.config;
    Inspection {
        version: 1,
        source: image.source.clone(),
        manifest_digest: image.manifest_digest.clone(),
        config_digest: image.config_digest.clone(),
        platform: image.platform.to_string(),
        config: ConfigOut {
            entrypoint: c.entrypoint.clone(),
            cmd: c.cmd.clone(),
            working_dir: c.working_dir.clone(),
            user: c.user.clone(),
            env: c.env.clone(),
            labels: c.labels.clone(),
        },
        layers: image
            .layers
            .iter()
            .map(|l| LayerOut {
                digest: l.digest.clone(),
                media_type: l.media_type.clone(),
                size: l.size,
                uncompressed_size: l.uncompressed_size,
            })
            .collect(),
        compressed_size: image.layers.iter().map(|l| l.size).sum(),
        uncompressed_size: image
            .layers
            .iter()
            .filter_map(|l| l.uncompressed_size)
            .sum(),
        stat: stats.iter().map(|p| stat(fs, p)).collect(),
        which: names
            .iter()
            .map(|name| {
                let found = fs.which(name, &path_var);
                let resolves_to = found.as_deref().and_then(|f| match fs.resolve(f).outcome {
                    Resolved::Found { path } if path != f => Some(path),
                    _ => None,
                });
                WhichOut {
                    name: name.clone(),
                    found,
                    resolves_to,
                }
            })
            .collect(),
        path: path_var,
    }
}

fn mode(m: u32) -> String {
    format!("{m:04o}")
}

fn entry_out(real_path: String, e: &Entry) -> EntryOut {
    EntryOut {
        real_path,
        kind: e.kind.as_str(),
        mode: mode(e.mode),
        uid: e.uid,
        gid: e.gid,
        size: e.size,
        layer: e.layer,
        link_target: e.link_target.clone(),
        shebang: e
            .first_line
            .as_deref()
            .filter(|l| l.starts_with(b"#!"))
            .map(|l| String::from_utf8_lossy(l).into_owned()),
    }
}

/// `lstat` semantics for the last component, after resolving the directories above it.
fn stat(fs: &MergedFs, path: &str) -> StatOut {
    let normal = batchprep_oci::fs::normalise(path);
    let (dir, name) = match normal.rsplit_once('/') {
        Some((d, n)) if !n.is_empty() => (if d.is_empty() { "/" } else { d }, Some(n)),
        _ => ("/", None),
    };
    let lstat = match (fs.resolve(dir).outcome, name) {
        (Resolved::Found { path: dir }, Some(name)) => {
            let real = if dir == "/" {
                format!("/{name}")
            } else {
                format!("{dir}/{name}")
            };
            fs.entry(&real).map(|e| entry_out(real.clone(), &e))
        }
        (_, None) => fs.entry("/").map(|e| entry_out("/".into(), &e)),
        _ => None,
    };
    let resolution = fs.resolve(&normal);
    let resolved = match &resolution.outcome {
        Resolved::Found { path } => {
            let e = fs.entry(path);
            let e = e.as_ref();
            ResolvedOut {
                outcome: "found",
                path: Some(path.clone()),
                kind: e.map(|e| e.kind.as_str()),
                mode: e.map(|e| mode(e.mode)),
            }
        }
        Resolved::Missing { path } => ResolvedOut {
            outcome: "missing",
            path: Some(path.clone()),
            kind: None,
            mode: None,
        },
        Resolved::NotADirectory { path } => ResolvedOut {
            outcome: "not-a-directory",
            path: Some(path.clone()),
            kind: None,
            mode: None,
        },
        Resolved::Loop => ResolvedOut {
            outcome: "loop",
            path: None,
            kind: None,
            mode: None,
        },
    };
    StatOut {
        path: path.to_owned(),
        exists: lstat.is_some(),
        removed_by_layer: if lstat.is_none() {
            fs.removed_by(&normal)
        } else {
            None
        },
        entry: lstat,
        chain: resolution.chain,
        resolved,
    }
}

fn list(v: &Option<Vec<String>>) -> String {
    match v {
        None => "(none)".into(),
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
    }
}

fn human(i: &Inspection) -> String {
    let mut s = String::new();
    use batchprep_oci::safe_text::printable;
    let or_none = |v: &Option<String>| {
        v.as_deref()
            .map_or_else(|| "(none)".into(), |v| printable(v).into_owned())
    };
    let _ = writeln!(s, "image:        {}", i.source);
    let _ = writeln!(s, "manifest:     {}", i.manifest_digest);
    let _ = writeln!(s, "config:       {}", i.config_digest);
    let _ = writeln!(s, "platform:     {}", i.platform);
    let _ = writeln!(s, "entrypoint:   {}", list(&i.config.entrypoint));
    let _ = writeln!(s, "cmd:          {}", list(&i.config.cmd));
    let _ = writeln!(s, "workdir:      {}", or_none(&i.config.working_dir));
    let _ = writeln!(s, "user:         {}", or_none(&i.config.user));
    if i.config.env.is_empty() {
        let _ = writeln!(s, "env:          (none)");
    } else {
        let _ = writeln!(s, "env:");
        for e in &i.config.env {
            let _ = writeln!(s, "  {}", printable(e));
        }
    }
    if i.config.labels.is_empty() {
        let _ = writeln!(s, "labels:       (none)");
    } else {
        let _ = writeln!(s, "labels:");
        for (k, v) in &i.config.labels {
            let _ = writeln!(s, "  {}={}", printable(k), printable(v));
        }
    }
    let _ = writeln!(
        s,
        "layers:       {} ({} bytes compressed, {} bytes uncompressed)",
        i.layers.len(),
        i.compressed_size,
        i.uncompressed_size
    );
    for (n, l) in i.layers.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {n}: {} {} {} bytes ({} uncompressed)",
            l.digest,
            l.media_type,
            l.size,
            l.uncompressed_size
                .map_or_else(|| "?".to_owned(), |u| u.to_string())
        );
    }
    for st in &i.stat {
        let _ = writeln!(s, "stat {}:", st.path);
        match &st.entry {
            Some(e) => {
                let _ = write!(
                    s,
                    "  {} {} {} uid={} gid={} size={} layer={}",
                    e.real_path, e.kind, e.mode, e.uid, e.gid, e.size, e.layer
                );
                if let Some(t) = &e.link_target {
                    let _ = write!(s, " -> {t}");
                }
                let _ = writeln!(s);
                if let Some(sb) = &e.shebang {
                    // The line as the kernel reads it; a CRLF ending breaks the interpreter name.
                    let line = sb.trim_end_matches('\n');
                    match line.strip_suffix('\r') {
                        Some(l) => {
                            let _ = writeln!(s, "  shebang: {l} (CRLF line ending)");
                        }
                        None => {
                            let _ = writeln!(s, "  shebang: {line}");
                        }
                    }
                }
            }
            None => {
                let _ = write!(s, "  does not exist");
                if let Some(n) = st.removed_by_layer {
                    let _ = write!(s, " (removed by layer {n})");
                }
                let _ = writeln!(s);
            }
        }
        if !st.chain.is_empty() {
            let _ = writeln!(s, "  via:     {}", st.chain.join(" -> "));
        }
        let r = &st.resolved;
        match (r.outcome, &r.path) {
            ("found", Some(p)) => {
                let _ = writeln!(
                    s,
                    "  resolves: {p} ({} {})",
                    r.kind.unwrap_or("?"),
                    r.mode.as_deref().unwrap_or("?")
                );
            }
            ("missing", Some(p)) => {
                let _ = writeln!(s, "  resolves: missing at {p}");
            }
            ("not-a-directory", Some(p)) => {
                let _ = writeln!(s, "  resolves: {p} is not a directory");
            }
            _ => {
                let _ = writeln!(s, "  resolves: symlink loop");
            }
        }
    }
    if !i.which.is_empty() {
        let _ = writeln!(s, "PATH:         {}", i.path);
    }
    for w in &i.which {
        match (&w.found, &w.resolves_to) {
            (Some(f), Some(r)) => {
                let _ = writeln!(s, "which {}: {f} -> {r}", w.name);
            }
            (Some(f), None) => {
                let _ = writeln!(s, "which {}: {f}", w.name);
            }
            (None, _) => {
                let _ = writeln!(s, "which {}: not found", w.name);
            }
        }
    }
    s
}
