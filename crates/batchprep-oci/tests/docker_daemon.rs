//! `docker-daemon:` against a real dockerd (the test binary's own, from batchprep-testkit): images
//! built with `docker build` and copied in with skopeo read field for field the same as the copy
//! `skopeo copy docker-daemon:... oci:...` makes of them; the engine's errors are one clear line.

use batchprep_oci::{
    Image, ImageSource, OpenOptions, docker_daemon::open as open_daemon, engine_api::EngineHost,
    open,
};
use batchprep_testkit::{ImageBuilder, dockerd::Dockerd};

fn host(d: &Dockerd) -> EngineHost {
    EngineHost::parse(&d.host()).unwrap()
}

/// The image read through `oci:` after `skopeo copy docker-daemon:NAME oci:DIR:t`.
fn through_oci(d: &Dockerd, name: &str, dir: &std::path::Path) -> Image {
    let dest = format!("oci:{}:t", dir.display());
    batchprep_testkit::run(
        "skopeo",
        &[
            "copy",
            "-q",
            "--src-daemon-host",
            &d.host(),
            &format!("docker-daemon:{name}"),
            &dest,
        ],
    );
    open(&ImageSource::parse(&dest).unwrap(), &OpenOptions::default()).unwrap()
}

/// The diff ids in the config of the OCI copy at `dir` (skopeo gzips the layers it copies there).
fn diff_ids(dir: &std::path::Path) -> Vec<String> {
    let json = |digest: &str| -> serde_json::Value {
        let hex = digest.trim_start_matches("sha256:");
        serde_json::from_slice(&std::fs::read(dir.join("blobs/sha256").join(hex)).unwrap()).unwrap()
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let manifest = json(index["manifests"][0]["digest"].as_str().unwrap());
    let config = json(manifest["config"]["digest"].as_str().unwrap());
    config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect()
}

/// Every field but the digests of manifest and config (the engine has no manifest: its digest is
/// the image ID, as for docker-archive; skopeo rewrites the config as an OCI config) and the stored
/// layers (the engine's are plain tars named by their diff ids, the copy's are gzipped).
fn assert_same(daemon: &Image, oci: &Image, diff_ids: &[String]) {
    assert_eq!(daemon.manifest_digest, daemon.config_digest);
    assert_ne!(daemon.config_digest, oci.config_digest);
    assert_eq!(daemon.platform, oci.platform);
    assert_eq!(daemon.config, oci.config);
    assert_eq!(daemon.layers.len(), oci.layers.len());
    for ((a, b), diff_id) in daemon.layers.iter().zip(&oci.layers).zip(diff_ids) {
        assert_eq!(&a.digest, diff_id);
        assert_eq!(Some(a.size), a.uncompressed_size);
        assert_eq!(a.uncompressed_size, b.uncompressed_size);
        assert_eq!(a.media_type, "application/vnd.docker.image.rootfs.diff.tar");
    }
    let entries = |i: &Image| {
        i.fs.iter()
            .map(|(p, e)| (p.to_owned(), e.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(entries(daemon), entries(oci));
}

#[test]
fn a_docker_build_image_reads_as_its_oci_copy() {
    let d = Dockerd::shared();
    let busybox =
        std::fs::read("/bin/busybox").expect("busybox-static (scripts/install-test-deps)");
    // Five layers, one removing a file.
    d.build_dockerfile(
        "example.com/app:1",
        "FROM scratch\n\
         COPY busybox /bin/busybox\n\
         COPY busybox /bin/sh\n\
         COPY run.sh /app/run.sh\n\
         RUN [\"/bin/busybox\", \"rm\", \"/bin/sh\"]\n\
         COPY busybox /bin/busybox\n\
         ENV PATH=/bin A=1\n\
         WORKDIR /app\n\
         USER 1000:1000\n\
         LABEL org.example=yes\n\
         ENTRYPOINT [\"/app/run.sh\"]\n\
         CMD [\"--fast\"]\n",
        &[
            ("busybox", busybox, 0o755),
            ("run.sh", b"#!/bin/sh\necho hi\n".to_vec(), 0o755),
        ],
    );
    let daemon = open_daemon("example.com/app:1", &host(d), &OpenOptions::default()).unwrap();
    assert_eq!(daemon.source, "docker-daemon:example.com/app:1");
    assert_eq!(daemon.layers.len(), 5);
    assert_eq!(
        daemon.config.entrypoint.as_deref(),
        Some(&["/app/run.sh".to_owned()][..])
    );
    assert_eq!(daemon.fs.removed_by("/bin/sh"), Some(3));
    let id = d.docker(&["image", "inspect", "-f", "{{.Id}}", "example.com/app:1"]);
    assert_eq!(daemon.config_digest, id);
    // The same image by its ID.
    let by_id = open_daemon(&id, &host(d), &OpenOptions::default()).unwrap();
    assert_eq!(by_id.config_digest, id);
    let tmp = tempfile::tempdir().unwrap();
    let oci = through_oci(d, "example.com/app:1", &tmp.path().join("oci"));
    assert_same(&daemon, &oci, &diff_ids(&tmp.path().join("oci")));
}

#[test]
fn an_umoci_image_copied_in_reads_as_its_oci_copy() {
    let d = Dockerd::shared();
    let tmp = tempfile::tempdir().unwrap();
    let built = ImageBuilder::with_tag(&tmp.path().join("src"), "2.0")
        .file("/app/run.sh", 0o755, b"#!/bin/sh\r\necho hi\n")
        .file("/app/old.sh", 0o700, b"#!/bin/bash\n")
        .hardlink("/app/run.hard", "/app/run.sh")
        .symlink("/bin", "usr/bin")
        .layer()
        .remove("/app/old.sh")
        .config(|c| c.entrypoint(&["/app/run.sh"]).env("PATH=/usr/bin"))
        .build();
    d.import(&built.reference(), "umoci/app:2.0");
    let daemon = open_daemon("umoci/app:2.0", &host(d), &OpenOptions::default()).unwrap();
    let id = d.docker(&["image", "inspect", "-f", "{{.Id}}", "umoci/app:2.0"]);
    assert_eq!(daemon.config_digest, id);
    assert_eq!(daemon.fs.removed_by("/app/old.sh"), Some(1));
    let oci = through_oci(d, "umoci/app:2.0", &tmp.path().join("oci"));
    assert_same(&daemon, &oci, &diff_ids(&tmp.path().join("oci")));
}

#[test]
fn engine_errors_are_one_clear_line() {
    let d = Dockerd::shared();
    let err = open_daemon("no/such:image", &host(d), &OpenOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Docker engine at {}: no such image: no/such:image: No such image: no/such:image \
             (HTTP 404)",
            d.host()
        )
    );
    let gone = EngineHost::parse("unix:///nonexistent/docker.sock").unwrap();
    let err = open_daemon("app:1", &gone, &OpenOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Docker engine at unix:///nonexistent/docker.sock: cannot connect (No such file or \
         directory (os error 2)); is dockerd running, and DOCKER_HOST right?"
    );
}
