//! `batchprep check`: the whole pre-flight of a pool and its tasks, for CI.
//!
//! Reads the pool (data-plane JSON, ARM template, Batch CLI template, or the `[pool]` spec) and the task
//! files, then runs every check batchprep has in one report: the pool rules, the container rules for
//! each (image, task) pair, the registry probe and Docker Hub risk, and the bridge check. Findings about
//! files point into them (JSON pointer, line and column).

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
    process::ExitCode,
    rc::Rc,
};

use crate::fix_args::FixArgs;
use anyhow::{Context, bail};
use batchprep_batch::{
    catalog::Date,
    pool::{PoolDefinition, is_template_expression, parse_pools},
    pool_source::{ShipyardTarget, SourceIndex, read_pool_file, read_pool_path},
    start_task::StartTask,
    task::{ContainerWorkingDirectory, FoundTask, TaskContainer, TaskIdentity},
    task_file::read_task_file,
};
use batchprep_lint::{
    Finding, Location,
    rules::artifact::not_a_container_image,
    rules::container::{ContainerFacts, lint_container},
    rules::coverage::{image_not_inspected, registry_check_skipped},
    rules::pool::template_value_unknown,
    rules::pool::{PoolFacts, PoolTask, RegistryFacts},
    rules::registry::{self as registry_rules, PoolPulls},
};
use batchprep_oci::{
    Image, ImageSource, OpenOptions, Platform, Reference,
    registry::{
        Credential, CredentialPaths, CredentialSource, CredentialStore, Outcome, ProbeResult,
        image::RegistryAccess,
    },
};
use serde_json::json;
use std::sync::Arc;

use crate::{
    cmd::registry::RegistryArgs,
    config::Config,
    findings_args::FindingsArgs,
    network_args::NetworkArgs,
    report::{CheckError, Extra},
};

/// Arguments of `batchprep check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The pool: a data-plane pool JSON, an ARM or Batch CLI template, Terraform (a `.tf` file, a
    /// directory of them, or `terraform show -json` output), Bicep, or a Batch Shipyard `pool.yaml`.
    /// Default: the `[pool]` spec of `batchprep.toml`.
    #[arg(value_name = "POOL")]
    pub pool: Option<PathBuf>,
    /// A task file: one task, an array of tasks, or a job with a `jobManagerTask` (repeatable).
    #[arg(long = "task", value_name = "FILE")]
    pub tasks: Vec<PathBuf>,
    /// Read this image reference from a local image instead of the registry (repeatable), e.g.
    /// `--local myacr.azurecr.io/app:1.0=oci:build/app:1.0`. Adds to `[images.local]`.
    #[arg(long = "local", value_name = "REF=TRANSPORT:PATH")]
    pub local: Vec<String>,
    /// No network: registry checks are reported as skipped, never as passed.
    #[arg(long)]
    pub offline: bool,
    /// Node count for the Docker Hub risk (default: the pool's fixed size).
    #[arg(long, value_name = "N")]
    pub nodes: Option<u64>,
    /// Public addresses the pool's pulls leave from (default: from the pool's public IP mode).
    #[arg(long, value_name = "K")]
    pub egress_ips: Option<u64>,
    /// Read every registry layer again instead of using the layer-index cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Docker Hub pulls per address per 6 hours, instead of what Docker Hub reports.
    #[arg(long, value_name = "N")]
    pub hub_limit: Option<u64>,
    /// Registry transport, and stand-in credentials for registries whose pool credentials are not in
    /// the file (a managed identity, or a password passed as a template parameter).
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Platform of the pool's nodes [default: the pool's: linux/arm64 for an Arm64 VM size or
    /// node image, else linux/amd64].
    #[arg(long, value_name = "OS/ARCH", visible_alias = "platform")]
    pub node_platform: Option<String>,
    /// The day support windows are measured from (`YYYY-MM-DD`; default today).
    #[arg(long, value_name = "DATE", hide = true, env = "BATCHPREP_TODAY")]
    pub today: Option<String>,
    /// Network ranges for the bridge check.
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Output and policy flags.
    #[command(flatten)]
    pub findings: FindingsArgs,
    /// Fixing flags.
    #[command(flatten)]
    pub fix: FixArgs,
}

/// A file the user gave, with what findings need to point into it.
struct SourceFile {
    display: PathBuf,
    /// For a pool made from the `[pool]` spec: every finding points at the `[pool]` line, since the
    /// JSON the checks read was generated from it.
    spec_line: Option<u32>,
    /// Where its reader found each value (any surface, or a Terraform directory).
    places: SourceIndex,
    /// The text of a JSON file, as read: what `--fix` edits.
    json_text: Option<String>,
}

impl SourceFile {
    /// A task file: task JSON or a Shipyard `jobs.yaml`, whose tasks depend on the pool (`target`).
    fn read_tasks(
        path: &Path,
        target: ShipyardTarget,
    ) -> anyhow::Result<(SourceFile, Vec<FoundTask>)> {
        let text = if crate::input::is_stdin(path) {
            crate::input::read_stdin("task file")?
        } else {
            crate::input::read(path, "")?
        };
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

    fn locate(&self, pointer: &str) -> Location {
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
}

/// One task of the task files, ready for both the pool rules and the container rules.
struct Task {
    pool_task: PoolTask,
    container: Option<TaskContainer>,
    place: TaskPlace,
}

/// Where a task sits in its file.
#[derive(Clone)]
struct TaskPlace {
    file: Rc<SourceFile>,
    pointer: String,
}

/// Runs the command.
pub fn run(mut args: Args, verbose: bool) -> anyhow::Result<ExitCode> {
    let config = args.findings.load_config()?;
    args.registry.with_config(&config)?;
    let today = match &args.today {
        Some(d) => Date::parse(d).map_err(|e| anyhow::anyhow!("--today: {e}"))?,
        None => Date::today(),
    };
    let flag_platform: Option<Platform> = args
        .node_platform
        .as_deref()
        .map(|p| {
            p.parse()
                .map_err(|e| anyhow::anyhow!("--node-platform `{p}`: {e}"))
        })
        .transpose()?;
    let local = config.local_images(&args.local)?;

    let (pool_file, pools) = read_pools(args.pool.as_deref(), &config, today)?;
    let node = flag_platform.unwrap_or_else(|| nodes_platform(&pools));
    let tasks = read_tasks(&args.tasks, &pools)?;
    // Everything is read and valid before any check runs: bad input is exit 2 with nothing reported.
    let network = args.network.gather(&config)?;
    // What --fix edits (and SARIF's fixes point into), as read now: a file that changes while the
    // checks run is not touched. Read for every check: which edits `fixable` promises depends on
    // the text of a Terraform, Bicep or YAML file.
    let sources = fix_sources(&pool_file, &tasks)?;

    let mut findings = Vec::new();
    let mut human = String::new();
    let mut checks = serde_json::Map::new();
    let mut errors: Vec<CheckError> = Vec::new();
    // Images the probe found not pullable are reported once, by the registry rules, not opened again.
    let mut unpullable: Vec<String> = Vec::new();
    // The credentials the probe used per registry: images are read from the registry with the same.
    let mut stores: BTreeMap<String, Arc<CredentialStore>> = BTreeMap::new();
    let pool_tasks: Vec<PoolTask> = tasks.iter().map(|t| t.pool_task.clone()).collect();

    for pool in &pools {
        let locate = |p: &str| pool_file.locate(p);
        // Registry: what the probe learns feeds the pool rules (digests, private registries).
        let mut registry = RegistryFacts::default();
        let images = distinct_images(pool, &tasks);
        if args.offline {
            if !images.is_empty() {
                findings.push(registry_check_skipped::offline(
                    pool.display_id(),
                    images.len(),
                ));
            }
            checks.insert("registry".into(), json!("skipped (offline)"));
        } else {
            let probed = probe_pool(pool, &pool_file.display, &images, &args, verbose)?;
            errors.extend(crate::report::probe_errors(&probed.results));
            for r in &probed.results {
                if r.outcome.is_not_pullable() || r.outcome.is_inconclusive() {
                    unpullable.push(r.reference.to_string());
                }
                if let Some(digest) = &r.digest {
                    registry
                        .digests
                        .insert(r.reference.to_string(), digest.clone());
                }
                if r.outcome == Outcome::CredentialsRequired
                    && !registry.needs_credentials.contains(&r.registry)
                {
                    registry.needs_credentials.push(r.registry.clone());
                }
                let _ = writeln!(
                    human,
                    "registry: {} {} ({})",
                    r.reference.familiar(),
                    r.outcome.as_str(),
                    probed.auth_note(&r.registry)
                );
            }
            findings.extend(registry_rules::check(&probed.results, probed.pulls));
            findings.extend(probed.notes);
            stores.extend(probed.stores);
            checks.insert(
                "registry".into(),
                json!({"probed": probed.results.len(), "not_pullable": probed.results.iter().filter(|r| r.outcome.is_not_pullable()).count()}),
            );
        }
        // Docker on the pool's nodes: as configured, then as the pool's own start task sets it.
        let analysis = network.as_ref().map(|(ranges, docker)| {
            let docker = pool
                .start_task
                .as_ref()
                .and_then(|s| s.command_line.as_ref())
                .and_then(|c| StartTask::read_command_line(&c.value))
                .map_or_else(|| docker.clone(), |(task, _)| task.applied_to(docker));
            batchprep_batch::net::analyze(ranges, &docker)
        });
        let facts = PoolFacts {
            pool,
            locate: &locate,
            tasks: &pool_tasks,
            today,
            registry: &registry,
            network: analysis.as_ref(),
        };
        findings.extend(batchprep_lint::rules::pool::check(&facts));
        if let Some(analysis) = &analysis {
            let edit = facts.start_task_edit();
            let mut net = batchprep_lint::rules::network::check(analysis, edit.as_ref());
            crate::network_args::locate_findings(&mut net, analysis, &config);
            if pools.len() > 1 {
                for f in &mut net {
                    f.subject = format!("pool {}: {}", pool.display_id(), f.subject);
                }
            }
            findings.extend(net);
        }
        let _ = writeln!(
            human,
            "pool {} ({}): {} prefetched image(s), {} task(s)",
            pool.display_id(),
            pool_file.display.display(),
            pool.container.as_ref().map_or(0, |c| c.image_names.len()),
            tasks.len()
        );
    }
    checks.insert("pool".into(), json!("checked"));

    for t in &tasks {
        if let Some(image) = t
            .pool_task
            .image
            .as_deref()
            .filter(|i| is_template_expression(i))
        {
            findings.push(template_value_unknown::task_image(
                &t.pool_task.id,
                image,
                t.pool_task.location.clone(),
            ));
            // The rules that read only the task still run.
            if let Some(container) = &t.container {
                let facts = ContainerFacts::without_image(container, &node)
                    .accepting(config.accepted_run_options());
                for f in lint_container(&facts) {
                    findings.push(f.in_task(&t.place.pointer, |p| t.place.file.locate(p)));
                }
            }
        }
    }

    // Container rules for each (image, task) pair; without task files, each prefetched image as Batch
    // runs it with an empty command line.
    let pairs = container_pairs(&pools, &tasks)?;
    // Local images never reach a registry.
    let anonymous = RegistryAccess {
        credentials: Arc::new(CredentialStore::anonymous()),
        insecure_registries: Vec::new(),
        cert_dir: None,
        cache_dir: None,
        timeout: batchprep_oci::registry::image::DEFAULT_TIMEOUT,
    };
    let open_source = |source: &ImageSource| -> Result<Image, batchprep_oci::Error> {
        crate::image_open::open_for_node(&node, |platform| {
            let options = OpenOptions {
                platform: platform.clone(),
            };
            match source {
                ImageSource::Registry(r) => {
                    let credentials = stores
                        .get(&r.registry)
                        .cloned()
                        .unwrap_or_else(|| Arc::new(CredentialStore::anonymous()));
                    let access = args.registry.access_with(credentials, args.no_cache);
                    crate::image_open::open(source, &options, &access)
                }
                local => crate::image_open::open(local, &options, &anonymous),
            }
        })
    };
    // The source of each image to read: a local copy, else the registry (unless offline, or the
    // probe already found it not pullable, which the registry rules report).
    let source_of = |reference: &Reference| -> Option<ImageSource> {
        let key = reference.to_string();
        match local.get(&key) {
            Some(source) => Some(source.clone()),
            None if args.offline || unpullable.contains(&key) => None,
            None => Some(ImageSource::Registry(reference.clone())),
        }
    };
    let mut wanted: Vec<(String, ImageSource)> = pairs
        .iter()
        .filter_map(|(r, _, _)| Some((r.to_string(), source_of(r)?)))
        .collect();
    wanted.sort_by(|a, b| a.0.cmp(&b.0));
    wanted.dedup_by(|a, b| a.0 == b.0);
    // Images are read in parallel: a registry image is mostly waiting on the network.
    let images: BTreeMap<String, Result<Image, batchprep_oci::Error>> =
        open_all(&wanted, &open_source);
    let mut linted = 0usize;
    // Images already reported as not inspected, so each is reported once.
    let mut reported: Vec<String> = Vec::new();
    for (reference, task, place) in &pairs {
        let key = reference.to_string();
        let image = match images.get(&key) {
            Some(Ok(image)) => Some(image),
            // An artifact given as an image is the user's finding, not a read failure.
            Some(Err(batchprep_oci::Error::NotAContainerImage {
                media_type, kind, ..
            })) => {
                let finding = not_a_container_image::finding(
                    &batchprep_lint::rules::container::subject(&task.image, task),
                    &reference.familiar(),
                    media_type,
                    kind,
                );
                findings.push(match place {
                    Some(place) => finding.in_task(&place.pointer, |p| place.file.locate(p)),
                    None => finding,
                });
                None
            }
            Some(Err(e)) => {
                if !reported.contains(&key) {
                    reported.push(key.clone());
                    errors.push(CheckError::new(
                        format!("image {}", reference.familiar()),
                        format!("could not read the image: {e}"),
                    ));
                    findings.push(image_not_inspected::unreadable(&reference.familiar(), e));
                }
                None
            }
            None if args.offline && !local.contains_key(&key) => {
                if !reported.contains(&key) {
                    reported.push(key.clone());
                    findings.push(image_not_inspected::offline(&reference.familiar()));
                }
                None
            }
            // Not pullable: the registry rules said so; the task rules still run.
            None => None,
        };
        let facts = match image {
            Some(image) => {
                linted += 1;
                ContainerFacts::new(image, task, &node)
            }
            None => ContainerFacts::without_image(task, &node),
        }
        .accepting(config.accepted_run_options());
        for mut f in lint_container(&facts) {
            if let Some(place) = place {
                f = f.in_task(&place.pointer, |p| place.file.locate(p));
            }
            findings.push(f);
        }
    }
    checks.insert(
        "containers".into(),
        json!({"pairs": pairs.len(), "linted": linted}),
    );
    let _ = writeln!(
        human,
        "containers: {linted} of {} (image, task) pair(s) linted",
        pairs.len()
    );

    match network {
        Some((ranges, _)) => {
            checks.insert("network".into(), json!({"ranges": ranges.len()}));
            let _ = writeln!(
                human,
                "network: {} range(s) checked against docker0 and Docker's address pools",
                ranges.len()
            );
        }
        None => {
            checks.insert("network".into(), json!("skipped (no ranges)"));
            let _ = writeln!(
                human,
                "network: not checked (give --vnet/--peered/--on-prem or [network])"
            );
        }
    }
    human.push('\n');

    let mut json_extra = serde_json::Map::new();
    json_extra.insert("checks".into(), serde_json::Value::Object(checks));
    let mut extra = Extra {
        human,
        json: json_extra,
        errors,
        fixes: Vec::new(),
    };
    let mut report = args.findings.policy(&config)?.apply(findings);
    crate::fix_args::keep_applicable_edits(&mut report, &sources);
    if !args.fix.requested() {
        if args.findings.wants_sarif() {
            extra.fixes = crate::fix_args::sarif_fixes(&report, &sources);
        }
        return args.findings.emit(&report, &extra);
    }
    let report = args.fix.apply(report, &sources)?;
    if args.findings.wants_sarif() {
        // What is left to fix, against the files as they are now.
        let now = if args.fix.diff {
            sources
        } else {
            fix_sources(&pool_file, &tasks)?
        };
        extra.fixes = crate::fix_args::sarif_fixes(&report, &now);
    }
    args.findings.emit_to(&report, &extra, !args.fix.diff)
}

fn read_pools(
    path: Option<&Path>,
    config: &Config,
    today: Date,
) -> anyhow::Result<(SourceFile, Vec<PoolDefinition>)> {
    let Some(path) = path else {
        // No pool file: the `[pool]` spec, as `pool emit --format rest` would write it.
        let (Some(spec_path), Some(_)) = (&config.path, &config.file.pool) else {
            bail!(
                "no pool given: pass a pool JSON or ARM template, or put a [pool] spec in {}",
                crate::config::FILE_NAME
            );
        };
        let plan = crate::cmd::pool::plan_from(config, spec_path, today)?;
        let body = batchprep_batch::emit::emit(&plan, batchprep_batch::emit::Surface::Rest, None);
        let pools = parse_pools(&body.text)
            .map_err(|e| anyhow::anyhow!("{}: [pool]: {e}", spec_path.display()))?;
        let line = config
            .text
            .lines()
            .position(|l| l.trim() == "[pool]")
            .map_or(1, |i| i as u32 + 1);
        let file = SourceFile {
            display: spec_path.clone(),
            spec_line: Some(line),
            places: SourceIndex::default(),
            json_text: None,
        };
        return Ok((file, pools));
    };
    let read = if crate::input::is_stdin(path) {
        read_pool_file(path, crate::input::read_stdin("pool")?.as_bytes())
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

/// The files findings can point into, with their texts: JSON as it was parsed, the files of the
/// other readers (a Terraform directory's, a Shipyard config directory's) read now.
fn fix_sources(pool: &SourceFile, tasks: &[Task]) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut sources: Vec<(PathBuf, String)> = Vec::new();
    for file in std::iter::once(pool).chain(tasks.iter().map(|t| &*t.place.file)) {
        // Standard input is not a file to write back to.
        if crate::input::is_stdin(&file.display) {
            continue;
        }
        let texts = match &file.json_text {
            Some(text) => vec![(file.display.clone(), text.clone())],
            None => file
                .places
                .files()
                .iter()
                .filter(|p| !crate::input::is_stdin(p))
                .map(|p| Ok((p.clone(), crate::input::read(p, "")?)))
                .collect::<anyhow::Result<_>>()?,
        };
        for (path, text) in texts {
            if !sources.iter().any(|(p, _)| *p == path) {
                sources.push((path, text));
            }
        }
    }
    Ok(sources)
}

/// The tasks of the task files; a Shipyard `jobs.yaml` is read for the (first) pool it runs on.
fn read_tasks(paths: &[PathBuf], pools: &[PoolDefinition]) -> anyhow::Result<Vec<Task>> {
    let target = pools.first().map(ShipyardTarget::of).unwrap_or_default();
    // The node root of the pools' nodes, when they agree (tasks are not tied to one pool).
    let node_root =
        agreed(pools, |p| Some(p.node_root_dir())).unwrap_or(batchprep_batch::task::NODE_ROOT_DIR);
    let mut tasks = Vec::new();
    for path in paths {
        let (file, found) = SourceFile::read_tasks(path, target)?;
        let file = Rc::new(file);
        for found in found {
            let id = found
                .task
                .id
                .clone()
                .unwrap_or_else(|| format!("{}#{}", path.display(), found.pointer));
            let settings = found.task.container_settings.as_ref();
            let pointer = match settings {
                Some(_) => format!("{}/containerSettings/imageName", found.pointer),
                None => found.pointer.clone(),
            };
            let container = match settings {
                Some(_) => Some(TaskContainer {
                    node_root: node_root.to_owned(),
                    ..TaskContainer::from_json(&found.task)
                        .with_context(|| format!("{}: task {id}", path.display()))?
                }),
                None => None,
            };
            tasks.push(Task {
                pool_task: PoolTask {
                    id,
                    image: settings.map(|s| s.image_name.clone()),
                    location: file.locate(&pointer),
                },
                container,
                place: TaskPlace {
                    file: Rc::clone(&file),
                    pointer: found.pointer.clone(),
                },
            });
        }
    }
    Ok(tasks)
}

/// Every distinct image the pool needs: prefetched and task images, normalised.
fn distinct_images(pool: &PoolDefinition, tasks: &[Task]) -> Vec<Reference> {
    let mut refs: Vec<Reference> = pool
        .container
        .iter()
        .flat_map(|c| c.image_names.iter().map(|f| f.value.clone()))
        .chain(tasks.iter().filter_map(|t| t.pool_task.image.clone()))
        .filter_map(|s| Reference::parse(&s).ok())
        .collect();
    refs.sort();
    refs.dedup();
    refs
}

type Pair = (Reference, TaskContainer, Option<TaskPlace>);

/// The platform the pools' nodes run, when `--node-platform` does not say: the one architecture
/// their VM sizes (or node images) have; linux/amd64 when none is known or they differ (tasks are not
/// tied to one pool of a multi-pool file).
fn nodes_platform(pools: &[PoolDefinition]) -> Platform {
    let arch = agreed(pools, |p| Some(p.node_architecture()?.as_str())).unwrap_or("amd64");
    format!("linux/{arch}")
        .parse()
        .expect("linux/amd64 and linux/arm64 are platforms")
}

/// The one value `of` gives for every pool that has one; `None` when none has one or they differ
/// (tasks are not tied to one pool of a multi-pool file).
fn agreed<T: Ord>(
    pools: &[PoolDefinition],
    of: impl Fn(&PoolDefinition) -> Option<T>,
) -> Option<T> {
    let mut values: Vec<T> = pools.iter().filter_map(of).collect();
    values.sort_unstable();
    values.dedup();
    match values.len() {
        1 => values.pop(),
        _ => None,
    }
}

fn container_pairs(pools: &[PoolDefinition], tasks: &[Task]) -> anyhow::Result<Vec<Pair>> {
    let mut pairs = Vec::new();
    if tasks.is_empty() {
        for pool in pools {
            for name in pool.container.iter().flat_map(|c| &c.image_names) {
                let Ok(reference) = Reference::parse(&name.value) else {
                    continue;
                };
                let task = TaskContainer {
                    node_root: pool.node_root_dir().to_owned(),
                    ..TaskContainer::new(
                        &name.value,
                        "",
                        "",
                        ContainerWorkingDirectory::default(),
                        TaskIdentity::default(),
                    )?
                };
                pairs.push((reference, task, None));
            }
        }
    }
    for t in tasks {
        let Some(container) = &t.container else {
            continue;
        };
        // A template expression is reported by the caller as unknown, not as a bad reference.
        if is_template_expression(&container.image) {
            continue;
        }
        let reference = Reference::parse(&container.image)
            .with_context(|| format!("task {}: containerSettings.imageName", t.pool_task.id))?;
        pairs.push((reference, container.clone(), Some(t.place.clone())));
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    pairs.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    Ok(pairs)
}

/// Opens every image, at most eight at a time, keyed as given.
fn open_all(
    wanted: &[(String, ImageSource)],
    open: &(dyn Fn(&ImageSource) -> Result<Image, batchprep_oci::Error> + Sync),
) -> BTreeMap<String, Result<Image, batchprep_oci::Error>> {
    const PARALLEL: usize = 8;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PARALLEL.min(wanted.len()))
            .map(|w| {
                scope.spawn(move || {
                    wanted
                        .iter()
                        .skip(w)
                        .step_by(PARALLEL)
                        .map(|(key, source)| (key.clone(), open(source)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// What the registry probe of one pool found.
struct ProbedPool {
    results: Vec<ProbeResult>,
    /// The credentials each registry was probed with; images are read with the same.
    stores: BTreeMap<String, Arc<CredentialStore>>,
    pulls: PoolPulls,
    /// How each registry was probed: the pool's own credentials, a stand-in, or anonymous.
    auth: BTreeMap<String, &'static str>,
    notes: Vec<Finding>,
}

impl ProbedPool {
    fn auth_note(&self, registry: &str) -> &'static str {
        self.auth
            .get(registry)
            .copied()
            .unwrap_or("anonymous, as the nodes pull")
    }
}

/// Probes every image of the pool with the credentials the pool itself carries: a registry with a
/// username and password in the file is probed with them; one whose credentials the file does not hold
/// (a managed identity, a template parameter) with the local credentials standing in, said in a note;
/// every other registry anonymously, as the nodes will pull.
fn probe_pool(
    pool: &PoolDefinition,
    pool_path: &Path,
    images: &[Reference],
    args: &Args,
    verbose: bool,
) -> anyhow::Result<ProbedPool> {
    let mut own: BTreeMap<String, Credential> = BTreeMap::new();
    let mut stand_in: Vec<String> = Vec::new();
    for r in pool.container.iter().flat_map(|c| &c.registries) {
        match r.usable_login() {
            Some((user, password)) => {
                let mut credential = Credential::from_flags(user.value.clone(), password.clone());
                credential.source = CredentialSource::PoolDefinition(pool_path.to_path_buf());
                own.insert(r.normalised_server(), credential);
            }
            None => stand_in.push(r.normalised_server()),
        }
    }
    let mut auth = BTreeMap::new();
    let mut notes = Vec::new();
    let mut groups: BTreeMap<String, Vec<Reference>> = BTreeMap::new();
    for image in images {
        groups
            .entry(image.registry.clone())
            .or_default()
            .push(image.clone());
    }
    let options = args.registry.probe_options(verbose);
    let mut results = Vec::new();
    let mut stores = BTreeMap::new();
    for (registry, refs) in groups {
        let store = if let Some(credential) = own.get(&registry) {
            auth.insert(registry.clone(), "the pool's username and password");
            CredentialStore::load(&CredentialPaths::default(), Some(credential.clone()))?
        } else if stand_in.contains(&registry) {
            auth.insert(
                registry.clone(),
                "local credentials standing in for the pool's",
            );
            notes.push(registry_check_skipped::stand_in_credentials(
                pool.display_id(),
                &registry,
            ));
            args.registry.credentials()?
        } else {
            CredentialStore::anonymous()
        };
        let store = Arc::new(store);
        stores.insert(registry.clone(), Arc::clone(&store));
        results.extend(batchprep_oci::registry::probe_all(
            &refs,
            store,
            options.clone(),
        )?);
    }
    let pulls = PoolPulls::of_pool(pool, args.nodes, args.egress_ips, args.hub_limit);
    Ok(ProbedPool {
        results,
        stores,
        pulls,
        auth,
        notes,
    })
}
