//! The pre-flight of batchprep, one way in and one way out for `check`, `lint` and `registry check`.
//!
//! [`Preflight::run`] gathers the facts with I/O (the registry probe per pool, every image read once,
//! the network analysis), then runs every rule of `batchprep-lint` whose facts exist (a rule that
//! reads only the task runs even when the image could not be read), and gives one [`Outcome`]: the
//! findings, the checks that could not run ([`CheckError`]) and the summary of what was checked.
//! The commands parse arguments, build the inputs and render the outcome; nothing here prints.
//!
//! - [`source`]: the files the user gave, and where findings point into them.
//! - [`tasks`]: the one task reader and the one name of a task.
//! - [`containers`]: the container part alone, as `lint` runs it.
//! - [`images`]: the one image opener (local transports, registries, the nodes' platform).
//! - [`input`]: file arguments, `-` as standard input.

pub mod containers;
pub mod images;
pub mod input;
mod probe;
pub mod source;
pub mod tasks;

use std::{collections::BTreeMap, fmt::Write as _, sync::Arc};

use anyhow::Context;
use batchprep_batch::{
    catalog::Date,
    net::{DockerSettings, NetAnalysis, NetworkRange},
    pool::{PoolDefinition, is_template_expression},
    start_task::StartTask,
    task::{ContainerWorkingDirectory, TaskContainer, TaskIdentity},
};
use batchprep_lint::{
    Finding,
    rules::{
        artifact::not_a_container_image,
        container::{ContainerFacts, lint_container},
        coverage::{image_not_inspected, registry_check_skipped},
        pool::{PoolFacts, PoolTask, RegistryFacts, template_value_unknown},
        registry::{self as registry_rules, PoolPulls},
    },
};
use batchprep_oci::{
    Image, ImageSource, Platform, Reference,
    registry::{
        CredentialStore, Outcome as ProbeOutcome, ProbeOptions, ProbeResult, image::RegistryAccess,
    },
};
use serde_json::json;

pub use source::SourceFile;
pub use tasks::{Task, TaskPlace};

/// A check that could not run: what it was about and why. Reported in every format; the run exits 2
/// whatever the findings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckError {
    /// What could not be checked (`image myacr.azurecr.io/app:1`, `registry 127.0.0.1:5000`).
    pub subject: String,
    /// Why, in one line.
    pub message: String,
}

impl CheckError {
    /// A check about `subject` that could not run, because of `message`.
    pub fn new(subject: impl Into<String>, message: impl Into<String>) -> Self {
        CheckError {
            subject: subject.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not check {}: {}", self.subject, self.message)
    }
}

/// The probe results the registry could not answer (unreachable, TLS error): could not check.
fn probe_errors(results: &[ProbeResult]) -> Vec<CheckError> {
    results
        .iter()
        .filter(|r| r.outcome.is_inconclusive())
        .map(|r| {
            let message = match r.detail.as_deref().filter(|d| !d.is_empty()) {
                Some(detail) => format!("{}: {detail}", r.outcome),
                None => r.outcome.to_string(),
            };
            CheckError::new(format!("image {}", r.reference), message)
        })
        .collect()
}

/// How the pre-flight reaches registries: the run's one registry setting.
pub struct RegistrySettings<'a> {
    /// How the probe asks registries.
    pub probe: ProbeOptions,
    /// How images are read from registries; each registry's credentials are the ones it was probed
    /// with.
    pub access: RegistryAccess,
    /// The local credentials (flags, auth.json, Docker's config), for registries whose credentials
    /// the pool does not hold; asked for only when such a registry is probed.
    pub local_credentials: &'a dyn Fn() -> anyhow::Result<CredentialStore>,
}

/// What the Docker Hub risk counts, where the pool does not say.
#[derive(Debug, Clone, Copy, Default)]
pub struct PullCounts {
    /// Nodes (default: the pool's fixed size).
    pub nodes: Option<u64>,
    /// Egress addresses (default: from the pool's public IP mode).
    pub egress_addresses: Option<u64>,
    /// Docker Hub pulls per address per 6 hours, instead of what Docker Hub reports.
    pub hub_limit: Option<u64>,
}

/// Everything the pre-flight of a pool file and its tasks reads, gathered by the caller.
pub struct Preflight<'a> {
    /// The pool file (or the `[pool]` spec it was generated from).
    pub pool_file: &'a SourceFile,
    /// Its pools.
    pub pools: &'a [PoolDefinition],
    /// The tasks of the task files.
    pub tasks: &'a [Task],
    /// The platform of the nodes.
    pub node: &'a Platform,
    /// Image references read from local images instead of the registry (normalised reference →
    /// source).
    pub local: &'a BTreeMap<String, ImageSource>,
    /// `None`: offline; registry checks are reported as skipped, never as passed.
    pub registry: Option<RegistrySettings<'a>>,
    /// What the Docker Hub risk counts.
    pub pulls: PullCounts,
    /// The network ranges the nodes must reach and Docker's settings on them, for the bridge check.
    pub network: Option<&'a (Vec<NetworkRange>, DockerSettings)>,
    /// Points the network findings at where their ranges were given.
    pub locate_network: &'a dyn Fn(&mut [Finding], &NetAnalysis),
    /// The day support windows are measured from.
    pub today: Date,
    /// Run options the node agent is known to accept (`[node-agent]`).
    pub accepted_run_options: &'a [String],
}

/// What a pre-flight found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The findings, before policy.
    pub findings: Vec<Finding>,
    /// The checks that could not run.
    pub errors: Vec<CheckError>,
    /// What was checked, per part (`registry`, `pool`, `containers`, `network`), for JSON.
    pub checks: serde_json::Map<String, serde_json::Value>,
    /// The same as lines for people.
    pub summary: String,
}

/// One (image, task) pair the container rules run on.
struct Pair<'a> {
    reference: Reference,
    task: TaskContainer,
    place: Option<&'a TaskPlace>,
}

impl Preflight<'_> {
    /// Runs the whole pre-flight: registry, pool, container and network checks.
    pub fn run(&self) -> anyhow::Result<Outcome> {
        let mut out = Outcome::default();
        // Images the probe found not pullable are reported once, by the registry rules, not opened
        // again.
        let mut unpullable: Vec<String> = Vec::new();
        // The credentials the probe used per registry: images are read from the registry with the same.
        let mut stores: BTreeMap<String, Arc<CredentialStore>> = BTreeMap::new();
        let pool_tasks: Vec<PoolTask> = self.tasks.iter().map(|t| t.pool_task.clone()).collect();

        for pool in self.pools {
            let registry = self.check_registry(pool, &mut out, &mut unpullable, &mut stores)?;
            self.check_pool(pool, &pool_tasks, &registry, &mut out);
        }
        out.checks.insert("pool".into(), json!("checked"));
        self.check_unknown_task_images(&mut out);
        self.check_containers(&unpullable, &stores, &mut out)?;
        self.summarise_network(&mut out);
        Ok(out)
    }

    /// The registry part for one pool: what the probe learns feeds the pool rules (digests, private
    /// registries).
    fn check_registry(
        &self,
        pool: &PoolDefinition,
        out: &mut Outcome,
        unpullable: &mut Vec<String>,
        stores: &mut BTreeMap<String, Arc<CredentialStore>>,
    ) -> anyhow::Result<RegistryFacts> {
        let mut facts = RegistryFacts::default();
        let images = distinct_images(pool, self.tasks);
        let Some(settings) = &self.registry else {
            if !images.is_empty() {
                out.findings.push(registry_check_skipped::offline(
                    pool.display_id(),
                    images.len(),
                ));
            }
            out.checks
                .insert("registry".into(), json!("skipped (offline)"));
            return Ok(facts);
        };
        let probed = probe::probe_pool(
            pool,
            &self.pool_file.display,
            &images,
            &settings.probe,
            settings.local_credentials,
        )?;
        out.errors.extend(probe_errors(&probed.results));
        for r in &probed.results {
            if r.outcome.is_not_pullable() || r.outcome.is_inconclusive() {
                unpullable.push(r.reference.to_string());
            }
            if let Some(digest) = &r.digest {
                facts
                    .digests
                    .insert(r.reference.to_string(), digest.clone());
            }
            if r.outcome == ProbeOutcome::CredentialsRequired
                && !facts.needs_credentials.contains(&r.registry)
            {
                facts.needs_credentials.push(r.registry.clone());
            }
            let _ = writeln!(
                out.summary,
                "registry: {} {} ({})",
                r.reference.familiar(),
                r.outcome.as_str(),
                probed.auth_note(&r.registry)
            );
        }
        let pulls = PoolPulls::of_pool(
            pool,
            self.pulls.nodes,
            self.pulls.egress_addresses,
            self.pulls.hub_limit,
        );
        out.findings
            .extend(registry_rules::check(&probed.results, pulls));
        out.findings.extend(probed.notes);
        out.checks.insert(
            "registry".into(),
            json!({"probed": probed.results.len(), "not_pullable": probed.results.iter().filter(|r| r.outcome.is_not_pullable()).count()}),
        );
        stores.extend(probed.stores);
        Ok(facts)
    }

    /// The pool rules and the bridge check of one pool.
    fn check_pool(
        &self,
        pool: &PoolDefinition,
        pool_tasks: &[PoolTask],
        registry: &RegistryFacts,
        out: &mut Outcome,
    ) {
        let locate = |p: &str| self.pool_file.locate(p);
        // Docker on the pool's nodes: as configured, then as the pool's own start task sets it.
        let analysis = self.network.map(|(ranges, docker)| {
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
            tasks: pool_tasks,
            today: self.today,
            registry,
            network: analysis.as_ref(),
        };
        out.findings
            .extend(batchprep_lint::rules::pool::check(&facts));
        if let Some(analysis) = &analysis {
            let edit = facts.start_task_edit();
            let mut net = batchprep_lint::rules::network::check(analysis, edit.as_ref());
            (self.locate_network)(&mut net, analysis);
            if self.pools.len() > 1 {
                for f in &mut net {
                    f.subject = format!("pool {}: {}", pool.display_id(), f.subject);
                }
            }
            out.findings.extend(net);
        }
        let _ = writeln!(
            out.summary,
            "pool {} ({}): {} prefetched image(s), {} task(s)",
            pool.display_id(),
            self.pool_file.display.display(),
            pool.container.as_ref().map_or(0, |c| c.image_names.len()),
            self.tasks.len()
        );
    }

    /// A task whose image is a template expression: unknown, and the rules that read only the task
    /// still run.
    fn check_unknown_task_images(&self, out: &mut Outcome) {
        for t in self.tasks {
            let Some(image) = t
                .pool_task
                .image
                .as_deref()
                .filter(|i| is_template_expression(i))
            else {
                continue;
            };
            out.findings.push(template_value_unknown::task_image(
                &t.pool_task.id,
                image,
                t.pool_task.location.clone(),
            ));
            if let Some(container) = &t.container {
                let facts = ContainerFacts::without_image(container, self.node)
                    .accepting(self.accepted_run_options);
                out.findings
                    .extend(container_findings(&facts, Some(&t.place)));
            }
        }
    }

    /// The container rules for each (image, task) pair; without task files, each prefetched image
    /// as Batch runs it with an empty command line.
    fn check_containers(
        &self,
        unpullable: &[String],
        stores: &BTreeMap<String, Arc<CredentialStore>>,
        out: &mut Outcome,
    ) -> anyhow::Result<()> {
        let pairs = self.container_pairs()?;
        let offline = self.registry.is_none();
        // The image readers run on other threads: they see only what they need.
        let registry_access = self.registry.as_ref().map(|s| &s.access);
        let node = self.node;
        let open_source = |source: &ImageSource| -> Result<Image, batchprep_oci::Error> {
            let access = match (source, registry_access) {
                (ImageSource::Registry(r), Some(access)) => RegistryAccess {
                    credentials: stores
                        .get(&r.registry)
                        .cloned()
                        .unwrap_or_else(|| Arc::new(CredentialStore::anonymous())),
                    ..access.clone()
                },
                // Local images never reach a registry.
                _ => local_access(),
            };
            images::open_on_node(source, node, &access)
        };
        // The source of each image to read: a local copy, else the registry (unless offline, or the
        // probe already found it not pullable, which the registry rules report).
        let source_of = |reference: &Reference| -> Option<ImageSource> {
            let key = reference.to_string();
            match self.local.get(&key) {
                Some(source) => Some(source.clone()),
                None if offline || unpullable.contains(&key) => None,
                None => Some(ImageSource::Registry(reference.clone())),
            }
        };
        let mut wanted: Vec<(String, ImageSource)> = pairs
            .iter()
            .filter_map(|p| Some((p.reference.to_string(), source_of(&p.reference)?)))
            .collect();
        wanted.sort_by(|a, b| a.0.cmp(&b.0));
        wanted.dedup_by(|a, b| a.0 == b.0);
        let images = images::open_all(&wanted, &open_source);
        let mut linted = 0usize;
        // Images already reported as not inspected, so each is reported once.
        let mut reported: Vec<String> = Vec::new();
        for pair in &pairs {
            let key = pair.reference.to_string();
            let image = match images.get(&key) {
                Some(Ok(image)) => Some(image),
                // An artifact given as an image is the user's finding, not a read failure.
                Some(Err(e)) => {
                    if let Some(finding) =
                        artifact_finding(e, &pair.task, &pair.reference.familiar(), pair.place)
                    {
                        out.findings.push(finding);
                    } else if !reported.contains(&key) {
                        reported.push(key.clone());
                        out.errors.push(CheckError::new(
                            format!("image {}", pair.reference.familiar()),
                            format!("could not read the image: {e}"),
                        ));
                        out.findings.push(image_not_inspected::unreadable(
                            &pair.reference.familiar(),
                            e,
                        ));
                    }
                    None
                }
                None if offline && !self.local.contains_key(&key) => {
                    if !reported.contains(&key) {
                        reported.push(key.clone());
                        out.findings
                            .push(image_not_inspected::offline(&pair.reference.familiar()));
                    }
                    None
                }
                // Not pullable: the registry rules said so; the task rules still run.
                None => None,
            };
            let facts = match image {
                Some(image) => {
                    linted += 1;
                    ContainerFacts::new(image, &pair.task, self.node)
                }
                None => ContainerFacts::without_image(&pair.task, self.node),
            }
            .accepting(self.accepted_run_options);
            out.findings.extend(container_findings(&facts, pair.place));
        }
        out.checks.insert(
            "containers".into(),
            json!({"pairs": pairs.len(), "linted": linted}),
        );
        let _ = writeln!(
            out.summary,
            "containers: {linted} of {} (image, task) pair(s) linted",
            pairs.len()
        );
        Ok(())
    }

    fn container_pairs(&self) -> anyhow::Result<Vec<Pair<'_>>> {
        let mut pairs = Vec::new();
        if self.tasks.is_empty() {
            for pool in self.pools {
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
                    pairs.push(Pair {
                        reference,
                        task,
                        place: None,
                    });
                }
            }
        }
        for t in self.tasks {
            let Some(container) = &t.container else {
                continue;
            };
            // A template expression is reported as unknown, not as a bad reference.
            if is_template_expression(&container.image) {
                continue;
            }
            let reference = Reference::parse(&container.image)
                .with_context(|| format!("task {}: containerSettings.imageName", t.pool_task.id))?;
            pairs.push(Pair {
                reference,
                task: container.clone(),
                place: Some(&t.place),
            });
        }
        pairs.sort_by(|a, b| {
            a.reference
                .cmp(&b.reference)
                .then_with(|| a.task.id.cmp(&b.task.id))
        });
        pairs.dedup_by(|a, b| a.reference == b.reference && a.task == b.task);
        Ok(pairs)
    }

    fn summarise_network(&self, out: &mut Outcome) {
        match self.network {
            Some((ranges, _)) => {
                out.checks
                    .insert("network".into(), json!({"ranges": ranges.len()}));
                let _ = writeln!(
                    out.summary,
                    "network: {} range(s) checked against docker0 and Docker's address pools",
                    ranges.len()
                );
            }
            None => {
                out.checks
                    .insert("network".into(), json!("skipped (no ranges)"));
                let _ = writeln!(
                    out.summary,
                    "network: not checked (give --vnet/--peered/--on-prem or [network])"
                );
            }
        }
    }
}

/// The registry part alone (`registry check`): each reference probed with `credentials`, the
/// not-pullable and Docker Hub findings for a pool pulling as `pulls` says, and the references the
/// registry could not answer for.
pub fn check_references(
    references: &[Reference],
    credentials: CredentialStore,
    options: ProbeOptions,
    pulls: PoolPulls,
) -> anyhow::Result<(Vec<ProbeResult>, Outcome)> {
    let results = batchprep_oci::registry::probe_all(references, Arc::new(credentials), options)?;
    let outcome = Outcome {
        findings: registry_rules::check(&results, pulls),
        errors: probe_errors(&results),
        ..Outcome::default()
    };
    Ok((results, outcome))
}

/// The container rules on `facts`, each finding pointed at the field of the task it is about when
/// the task comes from a file: the one way `lint` and `check` run and place them.
pub fn container_findings(facts: &ContainerFacts<'_>, place: Option<&TaskPlace>) -> Vec<Finding> {
    lint_container(facts)
        .into_iter()
        .map(|f| match place {
            Some(place) => place.locate(f),
            None => f,
        })
        .collect()
}

/// The finding of an artifact given as an image (`image` as the user named it), pointed at the task's
/// `imageName` when the task comes from a file: the user's finding, not a read failure. `None` for
/// any other error.
fn artifact_finding(
    e: &batchprep_oci::Error,
    task: &TaskContainer,
    image: &str,
    place: Option<&TaskPlace>,
) -> Option<Finding> {
    let batchprep_oci::Error::NotAContainerImage {
        media_type, kind, ..
    } = e
    else {
        return None;
    };
    let finding = not_a_container_image::finding(
        &batchprep_lint::rules::container::subject(&task.image, task),
        image,
        media_type,
        kind,
    );
    Some(match place {
        Some(place) => place.locate(finding),
        None => finding,
    })
}

/// Registry access for images that never reach a registry.
fn local_access() -> RegistryAccess {
    RegistryAccess {
        credentials: Arc::new(CredentialStore::anonymous()),
        insecure_registries: Vec::new(),
        cert_dir: None,
        cache_dir: None,
        timeout: batchprep_oci::registry::image::DEFAULT_TIMEOUT,
        docker_hub_host: batchprep_oci::reference::DOCKER_HUB_API_HOST.to_owned(),
    }
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
