//! The pool as batchprep decides it, before any surface's spelling: the checked spec joined with the
//! image catalog (node agent, data-root placement), the VM size traits, prefetch and registries, the
//! bridge fix from `[network]`, and the start task when one is needed. Every emitter renders this.

use crate::{
    catalog::{Date, ImageRef, ImageStatus, NodeImage, OsFamily},
    net::{self, NetworkSpec},
    prefetch::{self, Prefetch},
    spec::{CheckedSpec, DataRoot, PublicIp, RegistryAuth},
    start_task::{AddressPool, DataRootTarget, StartTask},
    vm_size::{self, TempDisk},
};

/// How loud a note is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum NoteLevel {
    /// Worth knowing.
    Note,
    /// Likely to bite.
    Warning,
}

/// Something the user should know about the pool that was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// How loud.
    pub level: NoteLevel,
    /// What, with the concrete values.
    pub message: String,
}

impl Note {
    /// A note.
    pub fn new(level: NoteLevel, message: impl Into<String>) -> Note {
        Note {
            level,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let label = match self.level {
            NoteLevel::Note => "note",
            NoteLevel::Warning => "warning",
        };
        write!(f, "{label}: {}", self.message)
    }
}

/// Node counts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scale {
    /// Fixed counts.
    Fixed {
        /// Dedicated nodes.
        dedicated: u32,
        /// Spot/low-priority nodes.
        low_priority: u32,
    },
    /// An autoscale formula.
    Auto {
        /// The formula.
        formula: String,
        /// ISO 8601 evaluation interval.
        evaluation_interval: String,
    },
}

/// Network settings of the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolNetwork {
    /// Subnet resource id.
    pub subnet_id: Option<String>,
    /// Public IP provisioning.
    pub public_ip: Option<PublicIp>,
    /// Public IP resource ids (user managed).
    pub public_ip_ids: Vec<String>,
}

/// The decided pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolPlan {
    /// Pool id.
    pub id: String,
    /// Display name.
    pub display_name: Option<String>,
    /// VM size.
    pub vm_size: String,
    /// Marketplace image.
    pub image: ImageRef,
    /// Node agent SKU, from the catalog.
    pub node_agent_sku_id: String,
    /// Node counts.
    pub scale: Scale,
    /// Task slots per node.
    pub task_slots_per_node: Option<u32>,
    /// Prefetched images and registries.
    pub prefetch: Prefetch,
    /// User-assigned identities the pool needs (ACR `identityReference`s), in spec order.
    pub identities: Vec<String>,
    /// The start task, when the data root moves or the bridge changes.
    pub start_task: Option<StartTask>,
    /// Subnet and public IPs.
    pub network: Option<PoolNetwork>,
    /// What the user should know.
    pub notes: Vec<Note>,
}

/// Why no pool can be written from the spec.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The image is retired or past its end of life.
    #[error("[pool] image: {image} is retired{}: use {} (alias `{}`)", .end_of_life.map(|d| format!(" (end of life {d})")).unwrap_or_default(), .instead, .alias)]
    RetiredImage {
        /// The image.
        image: String,
        /// Its end of life.
        end_of_life: Option<Date>,
        /// The recommended image.
        instead: String,
        /// Its alias.
        alias: String,
    },
    /// The image is not in the catalog and the spec gives no node agent.
    #[error(
        "[pool] image: {0} is not in batchprep's image catalog, so its node agent is unknown: set node-agent (e.g. \"batch.node.ubuntu 24.04\")"
    )]
    UnknownNodeAgent(String),
    /// The catalog knows the image but no source names its node agent, and the spec gives none.
    #[error(
        "[pool] image: {0}: batchprep's image catalog has no documented node agent for it: set node-agent (the `nodeAgentSKUId` that `az batch pool supported-images list` shows for it)"
    )]
    UndocumentedNodeAgent(String),
    /// Batch refuses the VM size.
    #[error("[pool] vm-size: {size}: {reason}")]
    UnsupportedSize {
        /// The size.
        size: String,
        /// Why.
        reason: String,
    },
    /// A Windows image with a Linux start task.
    #[error(
        "[pool] data-root: {0} is a Windows image; the data-root start task is for Linux pools (use data-root = \"keep\")"
    )]
    WindowsDataRoot(String),
    /// `[network]` is wrong.
    #[error("{0}")]
    Network(#[from] net::NetError),
    /// No room for a bridge outside the networks.
    #[error(
        "[network]: Docker's bridge overlaps the pool's networks and no free private range is left: {0}"
    )]
    NoRoom(String),
}

/// What the plan needs besides the spec.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    /// The day end-of-life dates are compared with.
    pub today: Date,
    /// `[network]`, when the file has one.
    pub network: Option<&'a NetworkSpec>,
    /// The file name for messages.
    pub file: &'a str,
}

/// Autoscale formula for a cap: follow the pending tasks, shrink gently when idle, and let running tasks
/// finish before a node goes (the documented pattern).
pub fn autoscale_formula(max_nodes: u32) -> String {
    format!(
        "$samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 5);\n\
         $tasks = $samples < 70 ? max(0, $PendingTasks.GetSample(1)) : max($PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 5)));\n\
         $targetVMs = $tasks > 0 ? $tasks : max(0, $TargetDedicatedNodes / 2);\n\
         $TargetDedicatedNodes = max(0, min($targetVMs, {max_nodes}));\n\
         $NodeDeallocationOption = taskcompletion;"
    )
}

impl PoolPlan {
    /// Decides the pool.
    pub fn build(checked: &CheckedSpec, cx: PlanContext<'_>) -> Result<PoolPlan, PlanError> {
        let spec = &checked.spec;
        let mut notes = Vec::new();
        let image = checked.image.clone();
        let vm_size = spec.vm_size.get_ref().clone();

        if let Some(reason) = vm_size::unsupported_reason(&vm_size) {
            return Err(PlanError::UnsupportedSize {
                size: vm_size,
                reason: reason.to_owned(),
            });
        }
        let traits = vm_size::traits(&vm_size);
        let known = image.known;
        if let Some(k) = known {
            let recommended = crate::catalog::recommended();
            match k.status(cx.today) {
                ImageStatus::Retired { end_of_life } => {
                    return Err(PlanError::RetiredImage {
                        image: k.urn(),
                        end_of_life,
                        instead: recommended.urn(),
                        alias: recommended.aliases.first().cloned().unwrap_or_default(),
                    });
                }
                ImageStatus::EndingSoon {
                    end_of_life,
                    days_left,
                } => notes.push(Note::new(
                    NoteLevel::Warning,
                    format!(
                        "{} reaches end of life on {end_of_life} ({days_left} days): plan the move to {}",
                        k.urn(),
                        recommended.urn()
                    ),
                )),
                _ => {}
            }
            if !k.docker_preinstalled {
                notes.push(Note::new(
                    NoteLevel::Warning,
                    format!("{} has no container runtime preinstalled: Batch container tasks need a Docker-compatible engine on the image", k.urn()),
                ));
            }
            if let Some(t) = traits {
                if k.rdma_only && !t.infiniband {
                    notes.push(Note::new(
                        NoteLevel::Warning,
                        format!(
                            "{} is for InfiniBand sizes only and {vm_size} has no InfiniBand",
                            k.urn()
                        ),
                    ));
                }
                if t.gpu && !k.gpu {
                    notes.push(Note::new(
                        NoteLevel::Warning,
                        format!(
                            "{vm_size} has NVIDIA GPUs but {} has no GPU drivers",
                            k.urn()
                        ),
                    ));
                }
            }
        }
        let node_agent_sku_id = match (&spec.node_agent, known.and_then(|k| k.node_agent())) {
            (Some(agent), Some(needed)) if !agent.eq_ignore_ascii_case(needed) => {
                notes.push(Note::new(
                    NoteLevel::Warning,
                    format!(
                        "node-agent \"{agent}\" does not match {}, which needs \"{needed}\"; using \"{needed}\"",
                        known.map(NodeImage::urn).unwrap_or_default(),
                    ),
                ));
                needed.to_owned()
            }
            (_, Some(needed)) => needed.to_owned(),
            (Some(agent), None) => agent.clone(),
            (None, None) if known.is_some() => {
                return Err(PlanError::UndocumentedNodeAgent(image.to_string()));
            }
            (None, None) => return Err(PlanError::UnknownNodeAgent(image.to_string())),
        };

        let scale = match &spec.autoscale {
            Some(auto) => {
                let a = auto.get_ref();
                Scale::Auto {
                    formula: a
                        .formula
                        .clone()
                        .unwrap_or_else(|| autoscale_formula(a.max_nodes.unwrap_or(0))),
                    evaluation_interval: a
                        .evaluation_interval
                        .clone()
                        .unwrap_or_else(|| "PT5M".to_owned()),
                }
            }
            None => Scale::Fixed {
                dedicated: spec.dedicated_nodes.as_ref().map_or(0, |n| *n.get_ref()),
                low_priority: spec.low_priority_nodes.as_ref().map_or(0, |n| *n.get_ref()),
            },
        };

        let prefetch = prefetch::plan(&checked.images, &checked.registries, &mut notes);
        let mut identities: Vec<String> = Vec::new();
        for (_, auth) in &checked.registries {
            if let RegistryAuth::Identity(id) = auth
                && !identities.contains(id)
            {
                identities.push(id.clone());
            }
        }

        let family = known.map(|k| k.os_family);
        let data_root = match &checked.data_root {
            DataRoot::Keep => DataRootTarget::Keep,
            DataRoot::Path(p) => DataRootTarget::Path(p.clone()),
            DataRoot::Auto => match known {
                Some(k) if k.docker_data_root_on_os_disk && k.os_family != OsFamily::Windows => {
                    match traits.map(|t| t.temp_disk) {
                        Some(TempDisk::None) => {
                            notes.push(Note::new(
                                NoteLevel::Warning,
                                format!(
                                    "{} keeps Docker's data on the OS disk and {vm_size} has no temp disk to move it to: image pulls fill the OS disk; pick a size with a local disk (a `d` in the name) or set data-root to a data disk path",
                                    k.urn()
                                ),
                            ));
                            DataRootTarget::Keep
                        }
                        Some(TempDisk::Nvme) => DataRootTarget::Auto {
                            temp_disks: vec!["/mnt/resource".to_owned(), "/mnt".to_owned()],
                        },
                        _ => DataRootTarget::auto_for(family),
                    }
                }
                Some(k) if k.docker_data_root_on_os_disk => {
                    notes.push(Note::new(
                        NoteLevel::Warning,
                        format!("{} keeps Docker's data on the OS disk; batchprep's start task is for Linux pools", k.urn()),
                    ));
                    DataRootTarget::Keep
                }
                Some(_) => DataRootTarget::Keep,
                None => {
                    notes.push(Note::new(
                        NoteLevel::Note,
                        format!("{image} is not in the catalog: batchprep does not know where its Docker data root is and leaves it alone (set data-root to move it)"),
                    ));
                    DataRootTarget::Keep
                }
            },
        };
        if family == Some(OsFamily::Windows) && data_root != DataRootTarget::Keep {
            return Err(PlanError::WindowsDataRoot(image.to_string()));
        }

        let (bip, default_address_pools) = bridge_settings(cx, &mut notes)?;
        let task = StartTask {
            data_root,
            bip,
            default_address_pools,
            prefetch: prefetch.container_image_names.clone(),
        };
        let start_task = task.is_needed().then_some(task);

        let public_ip = spec.public_ip.as_ref().map(|p| *p.get_ref());
        let public_ip_ids = spec
            .public_ip_ids
            .as_ref()
            .map(|ids| ids.get_ref().clone())
            .unwrap_or_default();
        let network = (spec.subnet_id.is_some() || public_ip.is_some()).then(|| PoolNetwork {
            subnet_id: spec.subnet_id.clone(),
            public_ip,
            public_ip_ids,
        });
        if network.is_none() && cx.network.is_some() {
            notes.push(Note::new(
                NoteLevel::Note,
                "[network] lists ranges but [pool] has no subnet-id: the pool is not joined to a VNet",
            ));
        }

        Ok(PoolPlan {
            id: spec.id.get_ref().clone(),
            display_name: spec.display_name.clone(),
            vm_size,
            image,
            node_agent_sku_id,
            scale,
            task_slots_per_node: spec.task_slots_per_node,
            prefetch,
            identities,
            start_task,
            network,
            notes,
        })
    }
}

/// The bridge settings the start task must apply: the `[network]` suggestion when Docker's bridge or
/// pools overlap a range the node must reach, else the settings `[network]` declares.
fn bridge_settings(
    cx: PlanContext<'_>,
    notes: &mut Vec<Note>,
) -> Result<(Option<String>, Vec<AddressPool>), PlanError> {
    let Some(spec) = cx.network else {
        return Ok((None, Vec::new()));
    };
    let ranges = spec.ranges(cx.file)?;
    let docker = spec.docker_settings(cx.file)?;
    let analysis = net::analyze(&ranges, &docker);
    let to_pools = |pools: &[net::AddressPool]| {
        pools
            .iter()
            .map(|p| AddressPool {
                base: p.base.to_string(),
                size: p.size,
            })
            .collect::<Vec<_>>()
    };
    if analysis.overlaps.is_empty() {
        return Ok((
            docker.bip.map(|b| b.to_string()),
            docker
                .default_address_pools
                .as_deref()
                .map(to_pools)
                .unwrap_or_default(),
        ));
    }
    let suggestion = analysis
        .suggestion
        .map_err(|e| PlanError::NoRoom(e.to_string()))?;
    let first = &analysis.overlaps[0];
    notes.push(Note::new(
        NoteLevel::Note,
        format!(
            "{} overlaps {} ({} overlap{} in all): the start task sets bip {} and default-address-pools {}",
            first.docker,
            first.network,
            analysis.overlaps.len(),
            if analysis.overlaps.len() == 1 { "" } else { "s" },
            suggestion.bip,
            suggestion
                .default_address_pools
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ));
    Ok((
        Some(suggestion.bip.to_string()),
        to_pools(&suggestion.default_address_pools),
    ))
}
