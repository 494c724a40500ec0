//! The generated start task run against a real Moby dockerd (Debian's `docker.io`, 20.10.24), one
//! private daemon per test (each test restarts its own), with docker0 in a network namespace made
//! for the test so the host's network is never touched.
//!
//! The only stand-in is `systemctl`: a shim on PATH whose `stop docker`, `start docker` and
//! `restart docker` stop, start and restart the test's dockerd (batchprep-testkit's supervisor
//! scripts). Everything else is real: `docker` talks to the daemon's socket through `DOCKER_HOST`,
//! the daemon reads the `daemon.json` the script writes (`BATCHPREP_DAEMON_JSON`, and `data-root`
//! comes from that file, not a flag), the images are in its data root, pulled before the start task
//! from Debian's `docker-registry` serving inside the node's namespace, and the bridge and networks
//! are what the daemon reports. Needs root (network namespaces) and `scripts/install-test-deps`.

use std::{
    fs,
    os::unix::fs::{PermissionsExt as _, symlink},
    path::{Path, PathBuf},
    process::{Child, Command, Output},
};

use batchprep_batch::{
    net::{self, NodeNetwork},
    start_task::{AddressPool, DataRootTarget, StartTask},
};
use batchprep_testkit::dockerd::{Dockerd, DockerdOptions, NetNs};
use serde_json::{Value, json};

/// The prefetched image, as the node pulled it from [`NodeRegistry`].
const APP: &str = "127.0.0.1:5000/prefetched/app:1";

/// Debian's `docker-registry` on 127.0.0.1:5000 inside a node's network namespace (where its dockerd
/// is; Docker pulls from a loopback registry over plain HTTP). Killed on drop.
struct NodeRegistry {
    child: Child,
    _dir: tempfile::TempDir,
}

impl NodeRegistry {
    fn start(ns: &NetNs) -> NodeRegistry {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yml");
        fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:5000\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", ns.name(), "docker-registry", "serve"])
            .arg(&config)
            .spawn()
            .expect("docker-registry must be installed (scripts/install-test-deps)");
        let registry = NodeRegistry { child, _dir: dir };
        // Bounded: 200 tries, 50 ms apart.
        for _ in 0..200 {
            let up = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    ns.name(),
                    "bash",
                    "-c",
                    "echo > /dev/tcp/127.0.0.1/5000",
                ])
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if up {
                return registry;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!(
            "docker-registry does not listen on 127.0.0.1:5000 in {}",
            ns.name()
        );
    }
}

impl Drop for NodeRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A node: its dockerd (first, so it stops before the rest goes), its network namespace, and a
/// directory with `etc/docker/daemon.json`, the data roots and the `systemctl` shim.
struct Node {
    docker: Dockerd,
    _registry: NodeRegistry,
    ns: NetNs,
    dir: tempfile::TempDir,
}

impl Node {
    /// A daemon running from `<dir>/var/lib/docker` with `config` (plus that data-root) and docker0
    /// on Docker's default 172.17.0.1/16, with the busybox image [`APP`] prefetched: pushed to the
    /// node's registry, removed, and pulled back, as a pool's `containerImageNames` are.
    fn new(config: Value) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let path = |rel: &str| dir.path().join(rel);
        fs::create_dir_all(path("etc/docker")).unwrap();
        fs::create_dir_all(path("bin")).unwrap();
        let mut config = config;
        config["data-root"] = json!(path("var/lib/docker"));
        let daemon_json = path("etc/docker/daemon.json");
        fs::write(&daemon_json, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        let ns = NetNs::new();
        let docker = Dockerd::start(
            DockerdOptions::default()
                .netns(&ns)
                .bridge()
                .data_root_in_config()
                .config_file(&daemon_json),
        );
        let shim = format!(
            r#"#!/bin/sh
# systemctl shim: the test's private dockerd stands in for docker.service.
echo "$*" >> '{log}'
case "$1 $2" in
  "stop docker.socket") exit 0 ;;
  "stop docker") exec '{stop}' ;;
  "start docker") exec '{start}' ;;
  "restart docker") exec '{restart}' ;;
esac
echo "systemctl shim: unexpected $*" >&2
exit 1
"#,
            log = path("systemctl.log").display(),
            stop = docker.stop_script().display(),
            start = docker.start_script().display(),
            restart = docker.restart_script().display(),
        );
        fs::write(path("bin/systemctl"), shim).unwrap();
        fs::set_permissions(path("bin/systemctl"), fs::Permissions::from_mode(0o755)).unwrap();
        let registry = NodeRegistry::start(&ns);
        docker.import_busybox("built/app:1");
        docker.docker(&["tag", "built/app:1", APP]);
        docker.docker(&["push", APP]);
        docker.docker(&["rmi", APP, "built/app:1"]);
        docker.docker(&["pull", APP]);
        let node = Node {
            docker,
            _registry: registry,
            ns,
            dir,
        };
        assert_eq!(node.run_app(&[]), "hello");
        node
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn daemon_json(&self) -> PathBuf {
        self.path("etc/docker/daemon.json")
    }

    fn old_root(&self) -> String {
        self.path("var/lib/docker").display().to_string()
    }

    /// Runs the task's script as Batch would (bash, as root), against this node: in its network
    /// namespace, where its routes are.
    fn start_task(&self, task: &StartTask) -> Output {
        let script = self.path("start-task.sh");
        fs::write(&script, task.script()).unwrap();
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("nsenter")
            .arg(format!("--net=/run/netns/{}", self.ns.name()))
            .arg("bash")
            .arg(&script)
            .env("PATH", path)
            .env("DOCKER_HOST", self.docker.host())
            .env("BATCHPREP_DAEMON_JSON", self.daemon_json())
            .env("BATCHPREP_WAIT_SECONDS", "60")
            .output()
            .unwrap()
    }

    /// `docker run --rm --network none [args] APP echo hello`.
    fn run_app(&self, args: &[&str]) -> String {
        let mut argv = vec!["run", "--rm", "--network", "none"];
        argv.extend(args);
        argv.extend([APP, "echo", "hello"]);
        self.docker.docker(&argv)
    }

    fn root(&self) -> String {
        self.docker
            .docker(&["info", "--format", "{{.DockerRootDir}}"])
    }

    fn systemctl_log(&self) -> String {
        fs::read_to_string(self.path("systemctl.log")).unwrap_or_default()
    }

    /// docker0's IPv4 address in the node's namespace.
    fn docker0(&self) -> String {
        docker0(&self.ns)
    }
}

/// `ip -4 addr show dev docker0`'s address, e.g. `172.17.0.1/16`.
fn docker0(ns: &NetNs) -> String {
    let out = ns.run(&["ip", "-4", "-o", "addr", "show", "dev", "docker0"]);
    let mut words = out.split_whitespace();
    words.find(|w| *w == "inet");
    words.next().unwrap_or_default().to_owned()
}

/// The subnets (and gateways) of the network's IPAM config.
fn ipam(docker: &Dockerd, network: &str) -> Value {
    serde_json::from_str(&docker.docker(&[
        "network",
        "inspect",
        network,
        "--format",
        "{{json .IPAM.Config}}",
    ]))
    .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn pools(list: &[(&str, u8)]) -> Vec<AddressPool> {
    list.iter()
        .map(|(base, size)| AddressPool {
            base: (*base).to_owned(),
            size: *size,
        })
        .collect()
}

fn net_pools(list: &[AddressPool]) -> Vec<net::AddressPool> {
    list.iter()
        .map(|p| net::AddressPool::parse(&format!("{}/{}", p.base, p.size), "test").unwrap())
        .collect()
}

#[test]
fn moves_the_data_root_keeps_images_and_keys_sets_the_bridge_and_a_second_run_changes_nothing() {
    let runc = String::from_utf8(Command::new("which").arg("runc").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_owned();
    // What the HPC images ship: the nvidia runtime registered (here pointing at plain runc), and
    // a log driver that is not Docker's default.
    let node = Node::new(json!({
        "runtimes": {"nvidia": {"path": runc, "runtimeArgs": []}},
        "log-driver": "local",
    }));
    assert_eq!(node.docker0(), "172.17.0.1/16");
    // The temp disk is reached through a symlink: Docker reports the resolved path.
    fs::create_dir_all(node.path("disk-real")).unwrap();
    symlink(node.path("disk-real"), node.path("mnt")).unwrap();
    let new_root = node.path("mnt/docker").display().to_string();
    let real_root = node.path("disk-real/docker").display().to_string();
    let task = StartTask {
        data_root: DataRootTarget::Path(new_root.clone()),
        bip: Some("10.199.0.1/24".into()),
        default_address_pools: pools(&[("10.200.0.0/16", 24)]),
        prefetch: vec![APP.into()],
    };

    let first = node.start_task(&task);
    assert_eq!(
        first.status.code(),
        Some(0),
        "stdout:\n{}stderr:\n{}dockerd log:\n{}",
        text(&first.stdout),
        text(&first.stderr),
        node.docker.log()
    );
    let old = node.old_root();
    assert_eq!(
        text(&first.stdout),
        format!(
            "batchprep start task: stopping Docker to apply {daemon}\n\
             batchprep start task: carrying over {old} to {new_root}\n\
             batchprep start task: starting Docker\n\
             batchprep start task: Docker data root: {real_root}\n\
             batchprep start task: removed the old data root {old}\n\
             batchprep start task: done\n",
            daemon = node.daemon_json().display()
        )
    );
    assert_eq!(text(&first.stderr), "");
    assert_eq!(
        node.systemctl_log(),
        "stop docker.socket\nstop docker\nstart docker\n"
    );

    // The daemon runs from the new root, with every other key kept.
    assert_eq!(node.root(), real_root);
    assert!(!Path::new(&old).exists(), "the old root left the OS disk");
    let daemon: Value = serde_json::from_slice(&fs::read(node.daemon_json()).unwrap()).unwrap();
    assert_eq!(
        daemon,
        json!({
            "runtimes": {"nvidia": {"path": runc, "runtimeArgs": []}},
            "log-driver": "local",
            "data-root": new_root,
            "bip": "10.199.0.1/24",
            "default-address-pools": [{"base": "10.200.0.0/16", "size": 24}],
        })
    );
    assert_eq!(
        node.docker
            .docker(&["info", "--format", "{{.LoggingDriver}}"]),
        "local"
    );
    let runtimes = node
        .docker
        .docker(&["info", "--format", "{{json .Runtimes}}"]);
    assert!(runtimes.contains("\"nvidia\""), "{runtimes}");

    // The prefetched image came along: listed, and it runs (with the registered runtime too).
    assert_eq!(
        node.docker
            .docker(&["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]),
        APP
    );
    assert_eq!(node.run_app(&[]), "hello");
    assert_eq!(node.run_app(&["--runtime", "nvidia"]), "hello");

    // The bridge and user networks are where the settings say.
    assert_eq!(node.docker0(), "10.199.0.1/24");
    assert_eq!(
        ipam(&node.docker, "bridge"),
        json!([{"Subnet": "10.199.0.0/24", "Gateway": "10.199.0.1"}])
    );
    let mut created = Vec::new();
    for name in ["one", "two", "three"] {
        node.docker.docker(&["network", "create", name]);
        created.push(ipam(&node.docker, name)[0]["Subnet"].clone());
    }
    assert_eq!(
        created,
        [
            json!("10.200.0.0/24"),
            json!("10.200.1.0/24"),
            json!("10.200.2.0/24")
        ]
    );
    let model = net::user_networks(
        &net_pools(&task.default_address_pools),
        Some("10.199.0.1/24".parse().unwrap()),
        &NodeNetwork::default(),
        3,
    );
    assert_eq!(
        created,
        model
            .iter()
            .map(|n| json!(n.to_string()))
            .collect::<Vec<_>>()
    );

    // Again: nothing changes, Docker is not restarted.
    let before = fs::read(node.daemon_json()).unwrap();
    let (pid, starts) = (node.docker.pid(), node.docker.starts());
    let second = node.start_task(&task);
    assert_eq!(
        second.status.code(),
        Some(0),
        "stderr: {}",
        text(&second.stderr)
    );
    assert_eq!(
        text(&second.stdout),
        format!(
            "batchprep start task: daemon.json already has the settings and Docker runs with them\n\
             batchprep start task: Docker data root: {real_root}\n\
             batchprep start task: done\n"
        )
    );
    assert_eq!(fs::read(node.daemon_json()).unwrap(), before);
    assert_eq!(node.docker.pid(), pid);
    assert_eq!(node.docker.starts(), starts);
    assert_eq!(
        node.systemctl_log(),
        "stop docker.socket\nstop docker\nstart docker\n"
    );
    assert_eq!(node.run_app(&[]), "hello");
}

#[test]
fn pools_without_bip_move_docker0_too() {
    let node = Node::new(json!({}));
    assert_eq!(node.docker0(), "172.17.0.1/16");
    let task = StartTask {
        data_root: DataRootTarget::Path(node.path("disk/docker").display().to_string()),
        bip: None,
        default_address_pools: pools(&[("10.60.0.0/16", 24)]),
        prefetch: vec![],
    };
    assert_eq!(task.effective_bip().as_deref(), Some("10.60.0.1/24"));
    let out = node.start_task(&task);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let daemon: Value = serde_json::from_slice(&fs::read(node.daemon_json()).unwrap()).unwrap();
    assert_eq!(daemon["bip"], "10.60.0.1/24");
    // Without that bip, docker0 would have kept 172.17.0.1/16 (tests/bridge_dockerd.rs).
    assert_eq!(node.docker0(), "10.60.0.1/24");
    assert_eq!(
        ipam(&node.docker, "bridge"),
        json!([{"Subnet": "10.60.0.0/24", "Gateway": "10.60.0.1"}])
    );
    node.docker.docker(&["network", "create", "one"]);
    assert_eq!(ipam(&node.docker, "one")[0]["Subnet"], "10.60.1.0/24");
    assert_eq!(node.run_app(&[]), "hello");
}

#[test]
fn an_unusable_data_root_fails_before_docker_is_touched() {
    let node = Node::new(json!({"log-driver": "local"}));
    fs::write(node.path("not-a-dir"), "").unwrap();
    let target = node.path("not-a-dir/docker");
    let before = fs::read(node.daemon_json()).unwrap();
    let (pid, starts) = (node.docker.pid(), node.docker.starts());
    let out = node.start_task(&StartTask {
        data_root: DataRootTarget::Path(target.display().to_string()),
        bip: Some("10.199.0.1/24".into()),
        default_address_pools: vec![],
        prefetch: vec![],
    });
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "batchprep start task: error: cannot create or write the Docker data root {}\n",
            target.display()
        )
    );
    assert_eq!(fs::read(node.daemon_json()).unwrap(), before);
    assert_eq!((node.docker.pid(), node.docker.starts()), (pid, starts));
    assert_eq!(node.systemctl_log(), "");
    assert_eq!(node.root(), node.old_root());
    assert_eq!(node.run_app(&[]), "hello");
}

#[test]
fn a_daemon_that_refuses_the_new_settings_gets_the_old_ones_back() {
    let node = Node::new(json!({"log-driver": "local"}));
    let before = fs::read(node.daemon_json()).unwrap();
    let new_root = node.path("disk/docker");
    // A bip that is its network's address: dockerd refuses to start with it.
    let out = node.start_task(&StartTask {
        data_root: DataRootTarget::Path(new_root.display().to_string()),
        bip: Some("10.199.0.0/24".into()),
        default_address_pools: vec![],
        prefetch: vec![],
    });
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    let daemon = node.daemon_json().display().to_string();
    assert_eq!(
        stderr,
        format!(
            "batchprep start task: error: Docker did not start with the new {daemon}: \
             failed to start daemon: Error initializing network controller: Error creating default \"bridge\" network: \
             failed to allocate gateway (10.199.0.0): Address already in use; \
             put the previous {daemon} back and Docker runs again\n"
        )
    );
    // The old configuration works: same file, the old root, the image runs.
    assert_eq!(fs::read(node.daemon_json()).unwrap(), before);
    assert!(!Path::new(&format!("{daemon}.batchprep-new")).exists());
    assert!(!Path::new(&format!("{daemon}.batchprep-previous")).exists());
    assert_eq!(node.root(), node.old_root());
    assert!(!new_root.exists(), "the partial copy is removed");
    assert_eq!(node.run_app(&[]), "hello");
    assert_eq!(
        node.docker
            .docker(&["info", "--format", "{{.LoggingDriver}}"]),
        "local"
    );
    assert_eq!(node.docker0(), "172.17.0.1/16");
    assert_eq!(
        node.systemctl_log(),
        "stop docker.socket\nstop docker\nstart docker\nstop docker\nstart docker\n"
    );
}

#[test]
fn a_bip_on_the_nodes_own_subnet_is_refused_before_anything_changes() {
    // Docker would take it as given (tests/bridge_dockerd.rs): docker0 on 10.50.0.1/24 cuts the
    // node off from the rest of its subnet.
    let node = Node::new(json!({}));
    for args in [
        &[
            "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p",
        ][..],
        &["ip", "link", "set", "eth0", "up"],
        &["ip", "addr", "add", "10.50.0.10/24", "dev", "eth0"],
    ] {
        node.ns.run(args);
    }
    let before = fs::read(node.daemon_json()).unwrap();
    let (pid, starts) = (node.docker.pid(), node.docker.starts());
    let out = node.start_task(&StartTask {
        data_root: DataRootTarget::Path(node.path("disk/docker").display().to_string()),
        bip: Some("10.50.0.1/24".into()),
        default_address_pools: vec![],
        prefetch: vec![],
    });
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "batchprep start task: error: bip 10.50.0.1/24 overlaps the on-link route 10.50.0.0/24 (dev eth0): \
         Docker would put docker0 on it as given; choose a bip outside the node's subnets and nameservers\n"
    );
    assert_eq!(fs::read(node.daemon_json()).unwrap(), before);
    assert_eq!((node.docker.pid(), node.docker.starts()), (pid, starts));
    assert_eq!(node.systemctl_log(), "");
    assert_eq!(node.docker0(), "172.17.0.1/16");
    assert!(!node.path("disk").exists(), "no data root was made");
}
