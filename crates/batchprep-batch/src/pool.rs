//! Pool definitions as users keep them, read into one model: a data-plane pool body (`az batch pool
//! create --json-file`, the REST body, or `az batch pool show` output), the REST spec's example wrapper
//! (`parameters.pool`), a Batch CLI-extensions (NCJ) template (`pool` with `parameters`), or an ARM
//! template holding `Microsoft.Batch/batchAccounts/pools` resources. Every field keeps the JSON pointer
//! of where it was written, so findings can point into the file.

use batchprep_oci::registry::Secret;
use serde_json::Value;

use crate::{
    json_pos::push_token,
    template::{Node, Resolver, Spanned},
};

/// A value and where in the file it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<T> {
    /// The value.
    pub value: T,
    /// JSON pointer into the file.
    pub pointer: String,
}

/// Which shape the pool came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolShape {
    /// A data-plane pool body (camelCase, `virtualMachineConfiguration` at the top).
    DataPlane,
    /// The REST spec's example wrapper around a data-plane body (`parameters.pool`).
    ExampleWrapper,
    /// A Batch CLI-extensions template: `parameters`, `variables`, and a data-plane `pool`.
    NcjTemplate,
    /// An ARM template resource `Microsoft.Batch/batchAccounts/pools` (under `deploymentConfiguration`).
    Arm,
    /// A Terraform `azurerm_batch_pool` resource in `.tf` files.
    Terraform,
    /// An AzAPI `azapi_resource` of type `Microsoft.Batch/batchAccounts/pools` in `.tf` files: the
    /// ARM resource body.
    TerraformAzapi,
    /// An `azurerm_batch_pool` in `terraform show -json` plan output.
    TerraformPlan,
    /// A Bicep `Microsoft.Batch/batchAccounts/pools` resource.
    Bicep,
    /// A Batch Shipyard `pool.yaml`, as Shipyard creates the pool.
    Shipyard,
}

/// `imageReference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReference {
    /// Marketplace publisher.
    pub publisher: Option<Field<String>>,
    /// Marketplace offer.
    pub offer: Option<Field<String>>,
    /// Marketplace SKU.
    pub sku: Option<Field<String>>,
    /// Image version.
    pub version: Option<Field<String>>,
    /// A custom or gallery image id instead of a marketplace image.
    pub virtual_machine_image_id: Option<Field<String>>,
    /// Where `imageReference` is.
    pub pointer: String,
}

/// One `containerRegistries` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRegistry {
    /// `registryServer` (the API defaults it to `docker.io`).
    pub server: Option<Field<String>>,
    /// `username`.
    pub username: Option<Field<String>>,
    /// `password`, when written in the file (a template parameter stays an expression). Prints as
    /// `<redacted>`.
    pub password: Option<Secret>,
    /// `identityReference.resourceId`.
    pub identity: Option<Field<String>>,
    /// Where the entry is.
    pub pointer: String,
}

impl ContainerRegistry {
    /// The registry server as a reference names it (`docker.io` when the entry has none).
    pub fn normalised_server(&self) -> String {
        crate::spec::normalise_server(
            self.server
                .as_ref()
                .map_or("docker.io", |s| s.value.as_str()),
        )
    }

    /// The username and password the nodes log in with, when both are written in the file as values
    /// batchprep can use; `None` for a managed identity or a template parameter.
    pub fn usable_login(&self) -> Option<(&Field<String>, &Secret)> {
        match (&self.username, &self.password) {
            (Some(user), Some(password))
                if !is_template_expression(password.expose())
                    && !is_template_expression(&user.value) =>
            {
                Some((user, password))
            }
            _ => None,
        }
    }
}

/// `[parameters('x')]` and friends: an ARM value the template fills in at deployment (`[[` escapes a
/// literal `[`).
pub fn is_template_expression(s: &str) -> bool {
    s.starts_with('[') && s.ends_with(']') && !s.starts_with("[[")
}

/// `containerConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerConfiguration {
    /// `type`: `dockerCompatible`, `criCompatible`, or the legacy `docker`.
    pub kind: Option<Field<String>>,
    /// `containerImageNames`, as written.
    pub image_names: Vec<Field<String>>,
    /// `containerRegistries`.
    pub registries: Vec<ContainerRegistry>,
    /// Where `containerConfiguration` is.
    pub pointer: String,
}

/// `startTask`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartTask {
    /// `commandLine`.
    pub command_line: Option<Field<String>>,
    /// `userIdentity.autoUser.scope`.
    pub scope: Option<Field<String>>,
    /// `userIdentity.autoUser.elevationLevel`.
    pub elevation: Option<Field<String>>,
    /// `waitForSuccess` (data-plane default true).
    pub wait_for_success: Option<Field<bool>>,
    /// `containerSettings.imageName` when the start task runs in a container.
    pub container_image: Option<Field<String>>,
    /// Where `startTask` is.
    pub pointer: String,
}

/// One pool, whatever shape it came in.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolDefinition {
    /// The shape it was read from.
    pub shape: PoolShape,
    /// Pointer of the pool object in the file.
    pub pointer: String,
    /// Pointer of the object that holds the pool's members (`startTask`, `vmSize`): the pool
    /// object itself, or an ARM resource's `properties`.
    pub body_pointer: String,
    /// `id` (for ARM, the last segment of the resource name).
    pub id: Option<Field<String>>,
    /// `vmSize`.
    pub vm_size: Option<Field<String>>,
    /// `virtualMachineConfiguration.imageReference`.
    pub image: Option<ImageReference>,
    /// `nodeAgentSKUId` / `nodeAgentSkuId`.
    pub node_agent_sku_id: Option<Field<String>>,
    /// Where `virtualMachineConfiguration` is, when present.
    pub vm_configuration_pointer: Option<String>,
    /// `containerConfiguration`.
    pub container: Option<ContainerConfiguration>,
    /// `startTask`.
    pub start_task: Option<StartTask>,
    /// `networkConfiguration.subnetId`.
    pub subnet_id: Option<Field<String>>,
    /// `networkConfiguration.publicIPAddressConfiguration.provision`, lowercased.
    pub public_ip_provision: Option<Field<String>>,
    /// `targetDedicatedNodes` (ARM: `scaleSettings.fixedScale`).
    pub target_dedicated_nodes: Option<u64>,
    /// `targetLowPriorityNodes`.
    pub target_low_priority_nodes: Option<u64>,
    /// Whether autoscale is on (`enableAutoScale` or ARM `scaleSettings.autoScale`).
    pub auto_scale: bool,
    /// Legacy fields the current API no longer takes, with the current name.
    pub legacy_fields: Vec<LegacyField>,
    /// Template expressions that could not be resolved: (pointer, expression).
    pub unknowns: Vec<(String, String)>,
}

impl PoolDefinition {
    /// `AZ_BATCH_NODE_ROOT_DIR` on the pool's Linux nodes, from the VM size's temp disk and the node
    /// image (DESIGN §7): `/opt/batch/data` without a temp disk, `/mnt/resource/batch` on NVMe-only
    /// sizes and the RHEL family, `/mnt/batch` otherwise (and when neither is known).
    pub fn node_root_dir(&self) -> &'static str {
        use crate::{catalog::OsFamily, task, vm_size::TempDisk};
        let disk = self
            .vm_size
            .as_ref()
            .and_then(|s| crate::vm_size::traits(&s.value))
            .map(|t| t.temp_disk);
        let family = self.catalog_image().map(|i| i.os_family);
        match (disk, family) {
            (Some(TempDisk::None), _) => task::NODE_ROOT_DIR_NO_TEMP_DISK,
            (Some(TempDisk::Nvme), _) | (_, Some(OsFamily::El)) => task::NODE_ROOT_DIR_RESOURCE,
            _ => task::NODE_ROOT_DIR,
        }
    }

    /// The CPU architecture of the pool's nodes: the VM size's (the hardware decides), else the
    /// catalogued node image's; `None` when neither is known.
    pub fn node_architecture(&self) -> Option<crate::catalog::Architecture> {
        let size = self
            .vm_size
            .as_ref()
            .and_then(|s| crate::vm_size::traits(&s.value));
        if let Some(t) = size {
            return Some(t.architecture);
        }
        self.catalog_image().map(|i| i.architecture)
    }

    /// The catalog entry of the pool's marketplace image, when the catalog lists it.
    pub fn catalog_image(&self) -> Option<&'static crate::catalog::NodeImage> {
        let image = self.image.as_ref()?;
        crate::catalog::lookup(
            &image.publisher.as_ref()?.value,
            &image.offer.as_ref()?.value,
            &image.sku.as_ref()?.value,
        )
    }

    /// Nodes the pool asks for at its fixed size (dedicated plus low-priority), when known.
    pub fn fixed_node_count(&self) -> Option<u64> {
        match (self.target_dedicated_nodes, self.target_low_priority_nodes) {
            (None, None) => None,
            (d, l) => Some(d.unwrap_or(0) + l.unwrap_or(0)),
        }
    }

    /// The pool's id, or a placeholder for reports.
    pub fn display_id(&self) -> &str {
        self.id.as_ref().map_or("(unnamed)", |f| f.value.as_str())
    }
}

/// Why a file is not a pool definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// Not JSON.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// JSON, but no pool in any known shape.
    #[error(
        "no pool found: expected a data-plane pool body (with `vmSize` or `virtualMachineConfiguration`), an ARM template with a `Microsoft.Batch/batchAccounts/pools` resource, or a template with a `pool` object"
    )]
    NoPool,
}

/// Reads every pool in a JSON document.
pub fn parse_pools(text: &str) -> Result<Vec<PoolDefinition>, PoolError> {
    let root: Value = serde_json::from_str(text).map_err(|e| PoolError::Json(e.to_string()))?;
    let mut resolver = Resolver::new(&root);
    let mut pools = Vec::new();
    if let Some(resources) = root.get("resources").and_then(Value::as_array) {
        arm_pools(resources, "/resources", &mut resolver, &mut pools);
    } else if let Some(pool) = root.get("pool").filter(|p| p.is_object()) {
        // NCJ templates may wrap the body as a resource (`type` + `properties`).
        let (body, at) = match pool.get("properties") {
            Some(p) if p.is_object() => (p, "/pool/properties"),
            _ => (pool, "/pool"),
        };
        pools.push(data_plane(
            &resolver.resolve(body, at),
            PoolShape::NcjTemplate,
        ));
    } else if let Some(pool) = root
        .get("parameters")
        .and_then(|p| p.get("pool"))
        .filter(|p| p.is_object())
    {
        pools.push(data_plane(
            &resolver.resolve(pool, "/parameters/pool"),
            PoolShape::ExampleWrapper,
        ));
    } else if root.is_object()
        && ["vmSize", "virtualMachineConfiguration"]
            .iter()
            .any(|k| root.get(k).is_some())
    {
        pools.push(data_plane(
            &resolver.resolve(&root, ""),
            PoolShape::DataPlane,
        ));
    }
    if pools.is_empty() {
        return Err(PoolError::NoPool);
    }
    Ok(pools)
}

fn arm_pools(
    resources: &[Value],
    at: &str,
    resolver: &mut Resolver<'_>,
    out: &mut Vec<PoolDefinition>,
) {
    for (i, r) in resources.iter().enumerate() {
        let here = format!("{at}/{i}");
        let kind = r.get("type").and_then(Value::as_str).unwrap_or_default();
        // Top level `Microsoft.Batch/batchAccounts/pools`, or `pools` nested in an account resource.
        if kind.eq_ignore_ascii_case("Microsoft.Batch/batchAccounts/pools")
            || kind.eq_ignore_ascii_case("pools")
        {
            let resolved = resolver.resolve(r, &here);
            let mut pool = arm_pool(&resolved);
            // `[format('{0}/{1}', parameters('account'), 'render')]`: the account may be unknown,
            // the pool id is not.
            if pool.id.is_none()
                && let Some(name) = r.get("name").and_then(Value::as_str)
                && let Some(id) = resolver.last_segment(name)
            {
                let pointer = format!("{here}/name");
                pool.unknowns.retain(|(p, _)| *p != pointer);
                pool.id = Some(Field { value: id, pointer });
            }
            out.push(pool);
        }
        if let Some(children) = r.get("resources").and_then(Value::as_array) {
            arm_pools(children, &format!("{here}/resources"), resolver, out);
        }
    }
}

fn string(node: Option<&Spanned>) -> Option<Field<String>> {
    let n = node?;
    match &n.node {
        Node::String(s) => Some(Field {
            value: s.clone(),
            pointer: n.origin.clone(),
        }),
        _ => None,
    }
}

fn image_reference(n: Option<&Spanned>) -> Option<ImageReference> {
    let n = n.filter(|n| !n.is_null())?;
    Some(ImageReference {
        publisher: string(n.get("publisher")),
        offer: string(n.get("offer")),
        sku: string(n.get("sku")),
        version: string(n.get("version")),
        virtual_machine_image_id: string(n.get("virtualMachineImageId"))
            .or_else(|| string(n.get("id"))),
        pointer: n.origin.clone(),
    })
}

fn container_configuration(n: Option<&Spanned>) -> Option<ContainerConfiguration> {
    let n = n.filter(|n| !n.is_null())?;
    let image_names = n
        .get("containerImageNames")
        .and_then(Spanned::as_array)
        .map(|items| items.iter().filter_map(|i| string(Some(i))).collect())
        .unwrap_or_default();
    let registries = n
        .get("containerRegistries")
        .and_then(Spanned::as_array)
        .map(|items| {
            items
                .iter()
                .map(|r| ContainerRegistry {
                    server: string(r.get("registryServer")),
                    username: string(r.get("username")),
                    password: r.get("password").and_then(|p| match &p.node {
                        Node::String(s) => Some(Secret::new(s.clone())),
                        // Kept in ARM's `[expression]` form whatever the surface, so a caller
                        // never mistakes `var.acr_password` for the password itself.
                        Node::Unknown(expr) if expr.starts_with('[') => {
                            Some(Secret::new(expr.clone()))
                        }
                        Node::Unknown(expr) => Some(Secret::new(format!("[{expr}]"))),
                        _ => None,
                    }),
                    identity: string(r.path(&["identityReference", "resourceId"])),
                    pointer: r.origin.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    Some(ContainerConfiguration {
        kind: string(n.get("type")),
        image_names,
        registries,
        pointer: n.origin.clone(),
    })
}

fn start_task(n: Option<&Spanned>) -> Option<StartTask> {
    let n = n.filter(|n| !n.is_null())?;
    let wait = n.get("waitForSuccess").and_then(|w| {
        w.as_bool().map(|value| Field {
            value,
            pointer: w.origin.clone(),
        })
    });
    Some(StartTask {
        command_line: string(n.get("commandLine")),
        scope: string(n.path(&["userIdentity", "autoUser", "scope"])),
        elevation: string(n.path(&["userIdentity", "autoUser", "elevationLevel"])),
        wait_for_success: wait,
        container_image: string(n.path(&["containerSettings", "imageName"])),
        pointer: n.origin.clone(),
    })
}

fn network(pool: &mut PoolDefinition, n: Option<&Spanned>) {
    let Some(n) = n else { return };
    pool.subnet_id = string(n.get("subnetId"));
    pool.public_ip_provision =
        string(n.path(&["publicIPAddressConfiguration", "provision"])).map(|f| Field {
            value: f.value.to_ascii_lowercase(),
            pointer: f.pointer,
        });
}

fn empty(shape: PoolShape, pointer: &str) -> PoolDefinition {
    PoolDefinition {
        shape,
        pointer: pointer.to_owned(),
        body_pointer: pointer.to_owned(),
        id: None,
        vm_size: None,
        image: None,
        node_agent_sku_id: None,
        vm_configuration_pointer: None,
        container: None,
        start_task: None,
        subnet_id: None,
        public_ip_provision: None,
        target_dedicated_nodes: None,
        target_low_priority_nodes: None,
        auto_scale: false,
        legacy_fields: Vec::new(),
        unknowns: Vec::new(),
    }
}

fn vm_configuration(pool: &mut PoolDefinition, vm: Option<&Spanned>) {
    let Some(vm) = vm.filter(|v| !v.is_null()) else {
        return;
    };
    pool.vm_configuration_pointer = Some(vm.origin.clone());
    pool.image = image_reference(vm.get("imageReference"));
    pool.node_agent_sku_id = string(vm.get("nodeAgentSKUId"));
    pool.container = container_configuration(vm.get("containerConfiguration"));
}

/// A pool from a resolved data-plane body (also what the Terraform and Shipyard readers map to).
pub(crate) fn data_plane(body: &Spanned, shape: PoolShape) -> PoolDefinition {
    let mut pool = empty(shape, &body.origin);
    pool.id = string(body.get("id"));
    pool.vm_size = string(body.get("vmSize"));
    vm_configuration(&mut pool, body.get("virtualMachineConfiguration"));
    pool.start_task = start_task(body.get("startTask"));
    network(&mut pool, body.get("networkConfiguration"));
    pool.target_dedicated_nodes = body.get("targetDedicatedNodes").and_then(Spanned::as_u64);
    pool.target_low_priority_nodes = body.get("targetLowPriorityNodes").and_then(Spanned::as_u64);
    pool.auto_scale = body
        .get("enableAutoScale")
        .and_then(Spanned::as_bool)
        .unwrap_or(false);
    legacy(&mut pool, body);
    pool.unknowns = read_unknowns(body, &["id"]);
    pool
}

/// A pool from a resolved ARM resource (also what the Bicep reader maps to).
pub(crate) fn arm_pool(resource: &Spanned) -> PoolDefinition {
    arm_shaped(resource, PoolShape::Arm)
}

/// A pool from an ARM-shaped resource, tagged with the shape it was read from.
pub(crate) fn arm_shaped(resource: &Spanned, shape: PoolShape) -> PoolDefinition {
    let mut pool = empty(shape, &resource.origin);
    // `account/pool`: the pool id is the last segment of the resource name.
    pool.id = string(resource.get("name")).map(|f| Field {
        value: f.value.rsplit('/').next().unwrap_or_default().to_owned(),
        pointer: f.pointer,
    });
    let Some(props) = resource.get("properties") else {
        pool.unknowns = read_unknowns(resource, &["name"]);
        return pool;
    };
    pool.body_pointer = props.origin.clone();
    pool.vm_size = string(props.get("vmSize"));
    vm_configuration(
        &mut pool,
        props.path(&["deploymentConfiguration", "virtualMachineConfiguration"]),
    );
    pool.start_task = start_task(props.get("startTask"));
    network(&mut pool, props.get("networkConfiguration"));
    if let Some(fixed) = props.path(&["scaleSettings", "fixedScale"]) {
        pool.target_dedicated_nodes = fixed.get("targetDedicatedNodes").and_then(Spanned::as_u64);
        pool.target_low_priority_nodes = fixed
            .get("targetLowPriorityNodes")
            .and_then(Spanned::as_u64);
    }
    pool.auto_scale = props
        .path(&["scaleSettings", "autoScale"])
        .is_some_and(|a| !a.is_null());
    legacy(&mut pool, props);
    pool.unknowns = read_unknowns(resource, &["name"]);
    pool.unknowns.extend(read_unknowns(props, &[]));
    pool
}

/// Unresolved expressions in the fields the checks read (`dependsOn`, tags and the like are ignored:
/// nothing is skipped for want of them).
fn read_unknowns(node: &Spanned, extra: &[&str]) -> Vec<(String, String)> {
    const READ: &[&str] = &[
        "vmSize",
        "virtualMachineConfiguration",
        "deploymentConfiguration",
        "startTask",
        "targetDedicatedNodes",
        "targetLowPriorityNodes",
        "enableAutoScale",
        "scaleSettings",
    ];
    READ.iter()
        .chain(extra)
        .filter_map(|k| node.get(k))
        .flat_map(Spanned::unknowns)
        .collect()
}

/// A field or value of an older API version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyField {
    /// What changed, in words.
    pub message: String,
    /// Where it is.
    pub pointer: String,
    /// Its current spelling, when the change is a mere rename.
    pub current: Option<CurrentSpelling>,
}

/// The current API's spelling of a legacy field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CurrentSpelling {
    /// The member is now called `new`.
    Name {
        /// As written.
        old: String,
        /// Now.
        new: String,
    },
    /// The value is now `new`.
    Value {
        /// As written.
        old: String,
        /// Now.
        new: String,
    },
}

/// Fields of older API versions, kept so checks can say what changed instead of guessing.
fn legacy(pool: &mut PoolDefinition, body: &Spanned) {
    if let Some(m) = body.get("maxTasksPerNode") {
        pool.legacy_fields.push(LegacyField {
            message: "`maxTasksPerNode` is `taskSlotsPerNode` since API 2020-09-01.12.0".into(),
            pointer: m.origin.clone(),
            current: Some(CurrentSpelling::Name {
                old: "maxTasksPerNode".into(),
                new: "taskSlotsPerNode".into(),
            }),
        });
    }
    if let Some(kind) = pool.container.as_ref().and_then(|c| c.kind.as_ref())
        && kind.value.eq_ignore_ascii_case("docker")
    {
        pool.legacy_fields.push(LegacyField {
            message: "container type `docker` is `dockerCompatible` in current API versions".into(),
            pointer: kind.pointer.clone(),
            current: Some(CurrentSpelling::Value {
                old: kind.value.clone(),
                new: "dockerCompatible".into(),
            }),
        });
    }
    if body.get("cloudServiceConfiguration").is_some() {
        pool.legacy_fields.push(LegacyField {
            message:
                "`cloudServiceConfiguration` pools were retired in 2024 and cannot run containers"
                    .into(),
            pointer: push_token(&body.origin, "cloudServiceConfiguration"),
            current: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_data_plane_body() {
        let text = r#"{
  "id": "render",
  "vmSize": "Standard_NC6s_v3",
  "virtualMachineConfiguration": {
    "imageReference": {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2404", "version": "latest"},
    "nodeAgentSKUId": "batch.node.ubuntu 24.04",
    "containerConfiguration": {
      "type": "dockerCompatible",
      "containerImageNames": ["myacr.azurecr.io/render:2.1", "ubuntu:24.04"],
      "containerRegistries": [{"registryServer": "myacr.azurecr.io", "username": "u", "password": "p"}]
    }
  },
  "networkConfiguration": {"subnetId": "/s", "publicIPAddressConfiguration": {"provision": "NoPublicIPAddresses"}},
  "targetDedicatedNodes": 4
}"#;
        let pools = parse_pools(text).unwrap();
        let p = &pools[0];
        assert_eq!(p.shape, PoolShape::DataPlane);
        assert_eq!(p.display_id(), "render");
        let c = p.container.as_ref().unwrap();
        assert_eq!(c.image_names[1].value, "ubuntu:24.04");
        assert_eq!(
            c.image_names[1].pointer,
            "/virtualMachineConfiguration/containerConfiguration/containerImageNames/1"
        );
        assert_eq!(c.registries[0].password, Some(Secret::new("p")));
        assert_eq!(
            format!("{:?}", c.registries[0].password),
            "Some(<redacted>)"
        );
        assert_eq!(
            p.public_ip_provision.as_ref().unwrap().value,
            "nopublicipaddresses"
        );
        assert_eq!(p.fixed_node_count(), Some(4));
    }

    #[test]
    fn reads_an_arm_pool_resource() {
        let text = r#"{
  "parameters": {"size": {"type": "string", "defaultValue": "Standard_D2s_v3"}, "acct": {"type": "string"}},
  "resources": [{
    "type": "Microsoft.Batch/batchAccounts/pools",
    "name": "[concat(parameters('acct'), '/pool1')]",
    "properties": {
      "vmSize": "[parameters('size')]",
      "deploymentConfiguration": {"virtualMachineConfiguration": {
        "imageReference": {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2204"},
        "nodeAgentSkuId": "batch.node.ubuntu 22.04",
        "containerConfiguration": {"type": "DockerCompatible", "containerImageNames": ["ubuntu"]}
      }},
      "scaleSettings": {"fixedScale": {"targetDedicatedNodes": 2}}
    }
  }]
}"#;
        let p = &parse_pools(text).unwrap()[0];
        assert_eq!(p.shape, PoolShape::Arm);
        assert_eq!(p.vm_size.as_ref().unwrap().value, "Standard_D2s_v3");
        assert_eq!(
            p.vm_size.as_ref().unwrap().pointer,
            "/parameters/size/defaultValue"
        );
        assert_eq!(
            p.node_agent_sku_id.as_ref().unwrap().value,
            "batch.node.ubuntu 22.04"
        );
        assert_eq!(p.fixed_node_count(), Some(2));
        // The account name has no default, but the pool id, the name's last segment, is known.
        assert_eq!(p.display_id(), "pool1");
        assert_eq!(p.unknowns, Vec::<(String, String)>::new());
    }

    #[test]
    fn rejects_what_is_not_a_pool() {
        assert_eq!(
            parse_pools(r#"{"id": "t", "commandLine": "x"}"#),
            Err(PoolError::NoPool)
        );
        assert!(matches!(parse_pools("{"), Err(PoolError::Json(_))));
    }
}
