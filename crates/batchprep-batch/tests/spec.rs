//! The `[pool]` spec and the decisions taken from it: every mistake reported with its key and line,
//! and the pool's start task, node agent and scale following the image, the size and `[network]`.

use batchprep_batch::{
    catalog::Date,
    net::NetworkSpec,
    plan::{PlanContext, PoolPlan, Scale},
    spec::PoolSpec,
    start_task::DataRootTarget,
};

fn errors(text: &str) -> Vec<String> {
    let spec = PoolSpec::from_config_text(text, None).unwrap().unwrap();
    spec.check(text, None)
        .err()
        .unwrap()
        .into_iter()
        .map(|e| e.to_string())
        .collect()
}

fn plan(text: &str) -> Result<PoolPlan, String> {
    let spec = PoolSpec::from_config_text(text, None).unwrap().unwrap();
    let checked = spec.check(text, None).map_err(|e| format!("{e:?}"))?;
    let table: toml::Table = toml::from_str(text).unwrap();
    let network = table
        .get("network")
        .and_then(|n| n.as_table())
        .map(|t| NetworkSpec::from_table(t, "batchprep.toml").unwrap());
    PoolPlan::build(
        &checked,
        PlanContext {
            today: Date::parse("2026-06-01").unwrap(),
            network: network.as_ref(),
            file: "batchprep.toml",
        },
    )
    .map_err(|e| e.to_string())
}

const BASE: &str =
    "[pool]\nid = \"p\"\nvm-size = \"Standard_D4ds_v5\"\nimage = \"ubuntu-hpc-2404\"\n";

#[test]
fn scale_registry_and_network_mistakes() {
    assert_eq!(
        errors(&format!(
            "{BASE}dedicated-nodes = 1\n[pool.autoscale]\nmax-nodes = 4\n"
        )),
        ["line 6: [pool] autoscale: cannot be combined with dedicated-nodes or low-priority-nodes"]
    );
    assert_eq!(
        errors(&format!(
            "{BASE}[pool.autoscale]\nevaluation-interval = \"PT5M\"\n"
        )),
        ["line 5: [pool.autoscale]: needs max-nodes (or a formula of your own)"]
    );
    assert_eq!(
        errors(&format!(
            "{BASE}dedicated-nodes = 1\n[[pool.registries]]\nserver = \"a.azurecr.io\"\nidentity = \"/subscriptions/S/resourceGroups/R/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u\"\nusername = \"x\"\n"
        )),
        ["line 6: [[pool.registries]] `a.azurecr.io`: identity excludes username and password-env"]
    );
    assert_eq!(
        errors(&format!(
            "{BASE}dedicated-nodes = 1\n[[pool.registries]]\nserver = \"a.azurecr.io\"\nidentity = \"pool-uai\"\n"
        )),
        [
            "line 6: [[pool.registries]] identity: `pool-uai` is not a user-assigned identity resource id (/subscriptions/.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME)"
        ]
    );
    assert_eq!(
        errors(&format!(
            "{BASE}dedicated-nodes = 1\ndata-root = \"docker\"\npublic-ip = \"nopublicipaddresses\"\npublic-ip-ids = [\"/x\"]\nimages = [\"a:1\", \"docker.io/library/a:1\"]\n"
        )),
        [
            "line 9: [pool] images: `docker.io/library/a:1` is listed twice",
            "line 6: [pool] data-root: `docker` is not `auto`, `keep` or an absolute path",
            "line 8: [pool] public-ip-ids: needs public-ip = \"usermanaged\"",
            "line 7: [pool] public-ip: \"nopublicipaddresses\" needs subnet-id",
        ]
    );
}

#[test]
fn the_start_task_follows_the_image_and_the_size() {
    let nvme = plan(&format!("{BASE}dedicated-nodes = 1\n").replace("D4ds_v5", "D4ds_v6")).unwrap();
    assert_eq!(
        nvme.start_task.unwrap().data_root,
        DataRootTarget::Auto {
            temp_disks: vec!["/mnt/resource".into(), "/mnt".into()]
        }
    );
    let alma =
        plan(&format!("{BASE}dedicated-nodes = 1\n").replace("ubuntu-hpc-2404", "alma-hpc-8"))
            .unwrap();
    assert_eq!(alma.node_agent_sku_id, "batch.node.el 8");
    assert_eq!(
        alma.start_task.unwrap().data_root,
        DataRootTarget::Auto {
            temp_disks: vec!["/mnt/resource".into(), "/mnt".into()]
        }
    );
    let keep = plan(&format!(
        "{BASE}dedicated-nodes = 1\ndata-root = \"keep\"\n"
    ))
    .unwrap();
    assert_eq!(keep.start_task, None);
}

#[test]
fn custom_images_need_a_node_agent_and_unsupported_sizes_fail() {
    let custom =
        format!("{BASE}dedicated-nodes = 1\n").replace("ubuntu-hpc-2404", "contoso:render-image:1");
    assert_eq!(
        plan(&custom).unwrap_err(),
        "[pool] image: contoso:render-image:1:latest is not in batchprep's image catalog, so its node agent is unknown: set node-agent (e.g. \"batch.node.ubuntu 24.04\")"
    );
    let with_agent = plan(&format!(
        "{custom}node-agent = \"batch.node.ubuntu 24.04\"\n"
    ))
    .unwrap();
    assert_eq!(with_agent.node_agent_sku_id, "batch.node.ubuntu 24.04");
    assert_eq!(
        with_agent.start_task, None,
        "an unknown image's data root is left alone"
    );

    let a0 = format!("{BASE}dedicated-nodes = 1\n").replace("Standard_D4ds_v5", "Standard_A0");
    assert_eq!(
        plan(&a0).unwrap_err(),
        "[pool] vm-size: Standard_A0: Batch does not support STANDARD_A0"
    );

    let rdma = format!("{BASE}dedicated-nodes = 1\n").replace(
        "ubuntu-hpc-2404",
        "microsoft-azure-batch:ubuntu-server-container-rdma:20-04-lts",
    );
    assert!(
        plan(&rdma)
            .unwrap_err()
            .contains("is retired (end of life 2025-04-23)")
    );
}

#[test]
fn bridge_settings_come_from_network() {
    // No overlap, but [network] declares the node's settings: the start task applies them.
    let declared = plan(&format!(
        "{BASE}dedicated-nodes = 1\ndata-root = \"keep\"\n[network]\nvnet = [\"10.0.0.0/16\"]\nbip = \"10.99.0.1/24\"\n"
    ))
    .unwrap();
    let task = declared.start_task.unwrap();
    assert_eq!(
        (task.data_root, task.bip.as_deref()),
        (DataRootTarget::Keep, Some("10.99.0.1/24"))
    );

    // docker0 overlaps a peered VNet: the suggestion moves it, and the note says why.
    let overlap = plan(&format!(
        "{BASE}dedicated-nodes = 1\ndata-root = \"keep\"\n[network]\nvnet = [\"10.0.0.0/16\"]\npeered = [\"172.17.0.0/16\"]\n"
    ))
    .unwrap();
    let task = overlap.start_task.unwrap();
    let bip = task.bip.unwrap();
    assert!(!bip.starts_with("172.17."), "{bip}");
    assert!(!task.default_address_pools.is_empty());
    assert!(
        overlap
            .notes
            .iter()
            .any(|n| n.message.starts_with("docker0 172.17.0.0/16 overlaps"))
    );
    assert!(matches!(
        overlap.scale,
        Scale::Fixed {
            dedicated: 1,
            low_priority: 0
        }
    ));
}
