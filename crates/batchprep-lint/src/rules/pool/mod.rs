//! Pool rules: what Azure Batch would reject or run badly in a pool definition and its tasks, decided
//! from the definition, the node image catalog and the VM size table. No I/O: the caller reads the
//! files and hands over the facts, and a locator that turns a JSON pointer into a file position.

use std::collections::BTreeMap;

use batchprep_batch::{
    catalog::{self, Date, NodeImage},
    pool::{Field, PoolDefinition},
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

    /// The start task `pool emit` writes for this pool's image: Docker's data root to the temp
    /// disk, the prefetched images carried over. `None` for Windows.
    fn batchprep_start_task(&self) -> Option<batchprep_batch::start_task::StartTask> {
        use batchprep_batch::{catalog::OsFamily, start_task::DataRootTarget};
        let family = self.node_image().map(|i| i.os_family);
        if family == Some(OsFamily::Windows) {
            return None;
        }
        Some(batchprep_batch::start_task::StartTask {
            data_root: DataRootTarget::auto_for(family),
            bip: None,
            default_address_pools: Vec::new(),
            prefetch: self
                .pool
                .container
                .iter()
                .flat_map(|c| &c.image_names)
                .filter_map(|i| batchprep_oci::Reference::parse(&i.value).ok())
                .map(|r| r.to_string())
                .collect(),
        })
    }

    /// The edits that move the pool to the recommended node image and its agent: unsafe, since the
    /// tasks then run on another OS release. Empty when the image is not a marketplace triple.
    fn move_to_recommended(&self) -> Vec<crate::finding::Edit> {
        use crate::finding::{Change, Edit};
        let next = batchprep_batch::catalog::recommended();
        let Some(image) = &self.pool.image else {
            return Vec::new();
        };
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
            (agent, next.node_agent_sku_id.as_str()),
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
        let image = self.pool.image.as_ref()?;
        catalog::lookup(
            &image.publisher.as_ref()?.value,
            &image.offer.as_ref()?.value,
            &image.sku.as_ref()?.value,
        )
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
