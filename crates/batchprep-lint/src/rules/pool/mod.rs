//! Pool rules: what Azure Batch would reject or run badly in a pool definition and its tasks, decided
//! from the definition, the node image catalog and the VM size table. No I/O: the caller reads the
//! files and hands over the facts, and a locator that turns a JSON pointer into a file position.

use std::collections::BTreeMap;

use batchprep_batch::{
    catalog::{self, Date, NodeImage},
    pool::{Field, PoolDefinition},
    start_task::StartTask,
};
use batchprep_oci::Reference;

use crate::{Finding, Location, rules::Rule};

pub(crate) mod container_type_missing;
pub(crate) mod docker_data_root_on_os_disk;
pub(crate) mod gpu_image_without_nvidia_runtime;
pub(crate) mod gpu_not_driven_by_image;
pub(crate) mod invalid_registry_server;
pub(crate) mod legacy_pool_field;
pub(crate) mod missing_registry_credentials;
pub(crate) mod mutable_image_tag;
pub(crate) mod node_agent_mismatch;
pub(crate) mod node_image_end_of_life;
pub(crate) mod node_image_without_docker;
pub(crate) mod obsolete_docker_daemon_flags;
pub(crate) mod rdma_image_on_non_rdma_size;
pub(crate) mod registry_host_uppercase;
pub(crate) mod retired_node_image;
pub(crate) mod task_image_not_prefetched;
pub(crate) mod task_missing_container_settings;
pub mod template_value_unknown;
pub(crate) mod unsupported_vm_size;
pub(crate) mod vm_size_architecture_mismatch;

/// A task that will run on the pool, as the pool rules need it.
#[derive(Debug, Clone)]
pub struct PoolTask {
    /// Task id (or its position when it has none).
    pub id: String,
    /// `containerSettings.imageName`, when the task has container settings.
    pub image: Option<String>,
    /// Where the task (or its `containerSettings`) is in its file.
    pub location: Location,
}

/// What the registry said about an image, for the rules that can use it.
#[derive(Debug, Clone, Default)]
pub struct RegistryFacts {
    /// Normalised reference -> manifest digest, for images the probe resolved.
    pub digests: BTreeMap<String, String>,
    /// Registries (hosts) whose probe answered that credentials are required.
    pub needs_credentials: Vec<String>,
}

/// Everything the pool rules read.
pub struct PoolFacts<'a> {
    /// The pool.
    pub pool: &'a PoolDefinition,
    /// Turns a JSON pointer in the pool's file into a location.
    pub locate: &'a dyn Fn(&str) -> Location,
    /// The tasks that will run on it.
    pub tasks: &'a [PoolTask],
    /// The day support windows are measured from.
    pub today: Date,
    /// Registry answers, when the registry was asked.
    pub registry: &'a RegistryFacts,
    /// Docker's bridge and pools against the networks the nodes must reach (with the pool's own
    /// start task applied), when ranges were given.
    pub network: Option<&'a batchprep_batch::net::NetAnalysis>,
}

impl PoolFacts<'_> {
    fn subject(&self) -> String {
        format!("pool {}", self.pool.display_id())
    }

    fn finding<T>(&self, rule: Rule, field: &Field<T>, message: impl Into<String>) -> Finding {
        self.finding_at(rule, &field.pointer, message)
    }

    fn finding_at(&self, rule: Rule, pointer: &str, message: impl Into<String>) -> Finding {
        Finding::new(rule, self.subject(), message).at((self.locate)(pointer))
    }

    /// The start task batchprep writes for this pool: what a start task batchprep wrote already
    /// sets, Docker's data root moved to the temp disk where the image keeps it on the OS disk (or
    /// the pool's start task tried to move it), the bridge and pools the network analysis
    /// suggests where they overlap, and the prefetched images carried over. `None` for Windows.
    fn batchprep_start_task(&self) -> Option<StartTask> {
        use batchprep_batch::{catalog::OsFamily, net::DockerRange, start_task::DataRootTarget};
        let family = self.node_image().map(|i| i.os_family);
        if family == Some(OsFamily::Windows) {
            return None;
        }
        let command_line = self.start_task_command_line();
        let mut task = command_line
            .and_then(|c| StartTask::read_command_line(&c.value))
            .map_or(
                StartTask {
                    data_root: DataRootTarget::Keep,
                    bip: None,
                    default_address_pools: Vec::new(),
                    prefetch: Vec::new(),
                },
                |(task, _)| task,
            );
        let move_root = self
            .node_image()
            .is_some_and(|i| i.docker_data_root_on_os_disk)
            || command_line
                .is_some_and(|c| !obsolete_docker_daemon_flags::problems(&c.value).is_empty());
        if task.data_root == DataRootTarget::Keep && move_root {
            task.data_root = DataRootTarget::auto_for(family);
        }
        if let Some(network) = self.network
            && let Ok(suggestion) = &network.suggestion
        {
            let bridge =
                |o: &&batchprep_batch::net::Overlap| matches!(o.docker, DockerRange::Bridge { .. });
            if network.overlaps.iter().any(|o| bridge(&o)) {
                task.bip = Some(suggestion.bip.to_string());
            }
            if network.overlaps.iter().any(|o| !bridge(&o)) {
                task.default_address_pools = suggestion
                    .default_address_pools
                    .iter()
                    .map(|p| batchprep_batch::start_task::AddressPool {
                        base: p.base.to_string(),
                        size: p.size,
                    })
                    .collect();
            }
        }
        task.prefetch = self
            .pool
            .container
            .iter()
            .flat_map(|c| &c.image_names)
            .filter_map(|i| Reference::parse(&i.value).ok())
            .map(|r| r.to_string())
            .collect();
        Some(task)
    }

    fn start_task_command_line(&self) -> Option<&Field<String>> {
        self.pool.start_task.as_ref()?.command_line.as_ref()
    }

    /// The one edit that gives the pool batchprep's start task (`batchprep_start_task`), for every finding whose
    /// fix is that start task (the data root, the bridge, the obsolete daemon flags), so they all
    /// ask for the same change and one application fixes them all:
    /// - no start task: add it (safe);
    /// - a start task batchprep wrote: rewrite it with the new settings, keeping what it set and
    ///   the pool's own command line it runs after (safe);
    /// - `docker daemon -g` and the like: replace it (unsafe: whatever else it did is gone);
    /// - another start task that runs as admin and is waited for: run the script before it under
    ///   the same bash (unsafe: bash now reads a command line Batch ran without a shell).
    ///
    /// `None` when the pool already has it, or its start task cannot take it (not admin, not waited
    /// for), or for Windows.
    pub fn start_task_edit(&self) -> Option<crate::finding::Edit> {
        use crate::finding::{Change, Edit};
        let task = self.batchprep_start_task()?;
        let Some(start_task) = &self.pool.start_task else {
            return Some(
                Edit::safe(Change::InsertMember {
                    name: "startTask".into(),
                    value: task.to_rest(),
                })
                .at((self.locate)(&self.pool.body_pointer)),
            );
        };
        let c = start_task.command_line.as_ref()?;
        let replace = |to: String| Change::ReplaceString {
            from: c.value.clone(),
            to,
        };
        let edit = if let Some((_, then)) = StartTask::read_command_line(&c.value) {
            let to = match then {
                Some(then) => task.command_line_before(&then),
                None => task.command_line(),
            };
            if to == c.value {
                return None;
            }
            Edit::safe(replace(to))
        } else if !obsolete_docker_daemon_flags::problems(&c.value).is_empty() {
            Edit::unsafe_(replace(task.command_line()))
        } else {
            let admin = start_task
                .elevation
                .as_ref()
                .is_some_and(|e| e.value.eq_ignore_ascii_case("admin"));
            let waited = start_task.wait_for_success.as_ref().is_none_or(|w| w.value);
            if !(admin && waited) {
                return None;
            }
            Edit::unsafe_(replace(task.command_line_before(&c.value)))
        };
        Some(edit.at((self.locate)(&c.pointer)))
    }

    /// Whether the pool's node image is a Windows image the catalog knows.
    fn is_windows(&self) -> bool {
        self.node_image()
            .is_some_and(|i| i.os_family == batchprep_batch::catalog::OsFamily::Windows)
    }

    /// Where to move a pool off a retired or ending node image: the recommended Linux image, or a
    /// current Windows Server SKU for a Windows pool.
    fn move_fix(&self) -> String {
        if self.is_windows() {
            return "move to a current Windows Server SKU (`microsoftwindowsserver:windowsserver:2022-datacenter`) with node agent `batch.node.windows amd64`".to_owned();
        }
        let next = batchprep_batch::catalog::recommended();
        format!(
            "move to `{}` with node agent `{}`",
            next.urn(),
            catalog::recommended_node_agent()
        )
    }

    /// The edits that move the pool to the recommended node image and its agent: unsafe, since the
    /// tasks then run on another OS release. Empty when the image is not a marketplace triple, or
    /// when the recommended image does not drive the VM size's GPU.
    fn move_to_recommended(&self) -> Vec<crate::finding::Edit> {
        use crate::finding::{Change, Edit};
        let next = batchprep_batch::catalog::recommended();
        let Some(image) = &self.pool.image else {
            return Vec::new();
        };
        // The recommended image is Linux: a Windows pool's tasks would not run on it.
        if self.is_windows() {
            return Vec::new();
        }
        // A move that leaves the VM size's GPU undriven trades one finding for a worse one.
        let gpu = self
            .pool
            .vm_size
            .as_ref()
            .and_then(|s| batchprep_batch::vm_size::traits(&s.value)?.gpu_model);
        if gpu.is_some_and(|m| {
            next.gpus_not_driven
                .iter()
                .any(|n| n.eq_ignore_ascii_case(m))
        }) {
            return Vec::new();
        }
        let (Some(publisher), Some(offer), Some(sku)) =
            (&image.publisher, &image.offer, &image.sku)
        else {
            return Vec::new();
        };
        let version = image.version.as_ref().filter(|v| v.value != "latest");
        let agent = self.pool.node_agent_sku_id.as_ref();
        [
            (Some(publisher), next.publisher.as_str()),
            (Some(offer), next.offer.as_str()),
            (Some(sku), next.sku.as_str()),
            (version, "latest"),
            (agent, catalog::recommended_node_agent()),
        ]
        .into_iter()
        .filter_map(|(field, to)| {
            let field = field?;
            (!field.value.eq_ignore_ascii_case(to)).then(|| {
                Edit::unsafe_(Change::ReplaceString {
                    from: field.value.clone(),
                    to: to.to_owned(),
                })
                .at((self.locate)(&field.pointer))
            })
        })
        .collect()
    }

    /// The catalog entry of the pool's marketplace image.
    fn node_image(&self) -> Option<&'static NodeImage> {
        self.pool.catalog_image()
    }

    /// `publisher:offer:sku` as written.
    fn image_urn(&self) -> Option<String> {
        let image = self.pool.image.as_ref()?;
        Some(format!(
            "{}:{}:{}",
            image.publisher.as_ref()?.value,
            image.offer.as_ref()?.value,
            image.sku.as_ref()?.value
        ))
    }

    /// The prefetched images, parsed (those that parse).
    fn prefetched(&self) -> Vec<(&Field<String>, Reference)> {
        self.pool
            .container
            .iter()
            .flat_map(|c| &c.image_names)
            .filter_map(|f| Reference::parse(&f.value).ok().map(|r| (f, r)))
            .collect()
    }
}

/// A pool rule: its identity and its check.
#[derive(Clone, Copy)]
pub struct PoolRule {
    /// The rule.
    pub rule: Rule,
    check: fn(&PoolFacts<'_>, &mut Vec<Finding>),
}

/// Every pool rule; each module is listed once, here.
pub const RULES: &[PoolRule] = &[
    PoolRule {
        rule: container_type_missing::RULE,
        check: container_type_missing::check,
    },
    PoolRule {
        rule: docker_data_root_on_os_disk::RULE,
        check: docker_data_root_on_os_disk::check,
    },
    PoolRule {
        rule: gpu_image_without_nvidia_runtime::RULE,
        check: gpu_image_without_nvidia_runtime::check,
    },
    PoolRule {
        rule: gpu_not_driven_by_image::RULE,
        check: gpu_not_driven_by_image::check,
    },
    PoolRule {
        rule: invalid_registry_server::RULE,
        check: invalid_registry_server::check,
    },
    PoolRule {
        rule: legacy_pool_field::RULE,
        check: legacy_pool_field::check,
    },
    PoolRule {
        rule: missing_registry_credentials::RULE,
        check: missing_registry_credentials::check,
    },
    PoolRule {
        rule: mutable_image_tag::RULE,
        check: mutable_image_tag::check,
    },
    PoolRule {
        rule: node_agent_mismatch::RULE,
        check: node_agent_mismatch::check,
    },
    PoolRule {
        rule: node_image_end_of_life::RULE,
        check: node_image_end_of_life::check,
    },
    PoolRule {
        rule: node_image_without_docker::RULE,
        check: node_image_without_docker::check,
    },
    PoolRule {
        rule: obsolete_docker_daemon_flags::RULE,
        check: obsolete_docker_daemon_flags::check,
    },
    PoolRule {
        rule: rdma_image_on_non_rdma_size::RULE,
        check: rdma_image_on_non_rdma_size::check,
    },
    PoolRule {
        rule: registry_host_uppercase::RULE,
        check: registry_host_uppercase::check,
    },
    PoolRule {
        rule: retired_node_image::RULE,
        check: retired_node_image::check,
    },
    PoolRule {
        rule: task_image_not_prefetched::RULE,
        check: task_image_not_prefetched::check,
    },
    PoolRule {
        rule: task_missing_container_settings::RULE,
        check: task_missing_container_settings::check,
    },
    PoolRule {
        rule: template_value_unknown::RULE,
        check: template_value_unknown::check,
    },
    PoolRule {
        rule: unsupported_vm_size::RULE,
        check: unsupported_vm_size::check,
    },
    PoolRule {
        rule: vm_size_architecture_mismatch::RULE,
        check: vm_size_architecture_mismatch::check,
    },
];

/// Runs every pool rule.
pub fn check(facts: &PoolFacts<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in RULES {
        (rule.check)(facts, &mut out);
    }
    out
}

#[cfg(test)]
mod tests;
