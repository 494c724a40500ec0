//! The dockerd harness against the real daemon: it answers, builds and runs images, restarts with
//! a new config, reports a failed start and recovers, runs a bridge inside its own network
//! namespace, and leaves no daemon behind.

use std::path::Path;

use batchprep_testkit::dockerd::{Dockerd, DockerdOptions, NetNs};

/// A runnable image: busybox-static as `/bin/sh`.
fn busybox(d: &Dockerd, tag: &str) {
    let busybox =
        std::fs::read("/bin/busybox").expect("busybox-static (scripts/install-test-deps)");
    d.build_dockerfile(
        tag,
        "FROM scratch\nCOPY busybox /bin/sh\nENTRYPOINT [\"/bin/sh\", \"-c\"]\n",
        &[("busybox", busybox, 0o755)],
    );
}

#[test]
fn shared_daemon_builds_and_runs_an_image() {
    let d = Dockerd::shared();
    busybox(d, "harness/busybox:1");
    assert_eq!(
        d.docker(&[
            "run",
            "--rm",
            "--network",
            "none",
            "harness/busybox:1",
            "echo hello"
        ]),
        "hello"
    );
    assert_eq!(
        d.docker(&["info", "-f", "{{.DockerRootDir}}"]),
        d.data_root().to_str().unwrap()
    );
    // Its own bridge is off: only the built-in host and null networks exist.
    assert_eq!(
        d.docker(&["network", "ls", "--format", "{{.Name}}"]),
        "host\nnone"
    );
}

#[test]
fn restart_rereads_the_config_and_a_failed_start_is_reported() {
    let d = Dockerd::start(DockerdOptions::default());
    let pid = d.pid().unwrap();
    std::fs::write(d.config_file(), r#"{"labels": ["batchprep=1"]}"#).unwrap();
    d.restart().unwrap();
    assert_ne!(d.pid().unwrap(), pid);
    assert_eq!(d.docker(&["info", "-f", "{{.Labels}}"]), "[batchprep=1]");

    // A config dockerd refuses: the script fails and says why; the daemon stays down.
    std::fs::write(d.config_file(), r#"{"no-such-key": true}"#).unwrap();
    let out = std::process::Command::new(d.restart_script())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("dockerd did not start: exited"),
        "{stderr}"
    );
    assert!(stderr.contains("no-such-key"), "{stderr}");
    assert_eq!(d.pid(), None);

    // Fixed config: the next restart brings it back.
    std::fs::write(d.config_file(), "{}").unwrap();
    let out = std::process::Command::new(d.restart_script())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(d.docker(&["info", "-f", "{{.Labels}}"]), "[]");
}

#[test]
fn bridge_in_its_own_network_namespace() {
    let ns = NetNs::new();
    let d = Dockerd::start(
        DockerdOptions::default()
            .netns(&ns)
            .bridge()
            .config(serde_json::json!({"bip": "10.213.0.1/24"})),
    );
    assert_eq!(
        d.docker(&[
            "network",
            "inspect",
            "-f",
            "{{(index .IPAM.Config 0).Subnet}}",
            "bridge"
        ]),
        "10.213.0.0/24"
    );
    let addr = ns.run(&["ip", "-o", "-4", "addr", "show", "docker0"]);
    assert!(addr.contains("inet 10.213.0.1/24"), "{addr}");
    // The host has no docker0 of this daemon's.
    let host = std::process::Command::new("ip")
        .args(["-o", "-4", "addr"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&host.stdout).contains("10.213.0.1"));
}

#[test]
fn drop_stops_the_daemon_and_removes_its_directory() {
    let d = Dockerd::start(DockerdOptions::default());
    let pid = d.pid().unwrap();
    let dir = d.dir().to_owned();
    drop(d);
    assert!(!Path::new("/proc").join(pid.to_string()).exists());
    assert!(!dir.exists());
}

#[test]
fn the_daemon_in_a_namespace_reads_its_resolv_conf() {
    let ns = NetNs::new();
    ns.resolv_conf("nameserver 10.77.0.53\n");
    let d = Dockerd::start(DockerdOptions::default().netns(&ns));
    // A container on the default network gets the nameserver the daemon read.
    let busybox = std::fs::read("/bin/busybox").unwrap();
    d.build_dockerfile(
        "harness/cat:1",
        "FROM scratch\nCOPY busybox /bin/cat\n",
        &[("busybox", busybox, 0o755)],
    );
    assert_eq!(
        d.docker(&[
            "run",
            "--rm",
            "--network",
            "host",
            "harness/cat:1",
            "/bin/cat",
            "/etc/resolv.conf"
        ]),
        "nameserver 10.77.0.53"
    );
}
