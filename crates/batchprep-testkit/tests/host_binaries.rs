//! An image made from host binaries runs in podman: what the runtime tests of the lint rely on.

use batchprep_testkit::{ImageBuilder, run};

#[test]
fn host_binaries_image_runs_in_podman() {
    let tmp = tempfile::tempdir().unwrap();
    let image = ImageBuilder::with_tag(tmp.path(), "hostbin")
        .host_binaries(&["/bin/sh", "/bin/echo"])
        .file("/app/run.sh", 0o755, b"#!/bin/sh\necho \"hello $1\"\n")
        .config(|c| c.entrypoint(&["/app/run.sh"]))
        .build();
    let name = image.podman_load("batchprep-testkit-host-binaries");
    // This machine's hard limits are below podman's defaults: ask for what the host allows.
    let nofile = run("sh", &["-c", "ulimit -Hn"]);
    let nofile = format!("--ulimit=nofile={0}:{0}", nofile.trim());
    let out = run(
        "podman",
        &[
            "run",
            "--rm",
            "--network=none",
            &nofile,
            "--ulimit=nproc=4096:4096",
            &name,
            "batch",
        ],
    );
    run("podman", &["rmi", "-f", &name]);
    assert_eq!(out, "hello batch\n");
}
