//! Images made by umoci and skopeo, read back through every local transport and compression.

use batchprep_oci::{EntryKind, ImageSource, OpenOptions, Resolved, open};
use batchprep_testkit::{BuiltImage, ImageBuilder};

fn open_str(source: &str) -> batchprep_oci::Image {
    open(
        &ImageSource::parse(source).unwrap(),
        &OpenOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{source}: {e}"))
}

/// Two layers: an app with a symlinked shell and a hard link, then a layer that removes a file.
fn two_layer_image(dir: &std::path::Path) -> BuiltImage {
    ImageBuilder::with_tag(dir, "2.0")
        .file("/app/run.sh", 0o755, b"#!/bin/sh\r\necho hi\n")
        .file("/app/old.sh", 0o700, b"#!/bin/bash\n")
        .file_owned("/usr/bin/dash", 0o4755, 0, 0, b"\x7fELF....")
        .hardlink("/usr/bin/sh.hard", "/usr/bin/dash")
        .symlink("/bin", "usr/bin")
        .symlink("/usr/bin/sh", "dash")
        .layer()
        .remove("/app/old.sh")
        .config(|c| {
            c.entrypoint(&["/app/run.sh"])
                .cmd(&["--fast"])
                .workdir("/app")
                .user("1000:1000")
                .env("PATH=/usr/bin")
                .label("org.example=yes")
        })
        .build()
}

fn assert_two_layer_view(image: &batchprep_oci::Image) {
    assert_eq!(image.layers.len(), 2);
    assert_eq!(image.platform.to_string(), "linux/amd64");
    assert_eq!(
        image.config.entrypoint,
        Some(vec!["/app/run.sh".to_owned()])
    );
    assert_eq!(image.config.cmd, Some(vec!["--fast".to_owned()]));
    assert_eq!(image.config.working_dir.as_deref(), Some("/app"));
    assert_eq!(image.config.user.as_deref(), Some("1000:1000"));
    assert_eq!(image.config.path_var(), "/usr/bin");
    assert_eq!(image.config.labels["org.example"], "yes");
    let fs = &image.fs;
    let run = fs.entry("/app/run.sh").unwrap();
    assert_eq!((run.kind, run.mode, run.layer), (EntryKind::File, 0o755, 0));
    assert_eq!(run.first_line.as_deref(), Some(&b"#!/bin/sh\r\n"[..]));
    assert_eq!(fs.entry("/app/old.sh"), None);
    assert_eq!(fs.removed_by("/app/old.sh"), Some(1));
    let hard = fs.entry("/usr/bin/sh.hard").unwrap();
    assert_eq!(
        (hard.kind, hard.mode, hard.size),
        (EntryKind::File, 0o4755, 8)
    );
    let sh = fs.resolve("/bin/sh");
    assert_eq!(sh.chain, ["/bin", "/usr/bin/sh"]);
    assert_eq!(
        sh.outcome,
        Resolved::Found {
            path: "/usr/bin/dash".into()
        }
    );
    assert_eq!(
        fs.which("sh", image.config.path_var()),
        Some("/usr/bin/sh".into())
    );
    for layer in &image.layers {
        assert!(layer.uncompressed_size.unwrap() >= 1024, "{layer:?}");
    }
}

#[test]
fn umoci_layout_with_two_layers() {
    let tmp = tempfile::tempdir().unwrap();
    let built = two_layer_image(tmp.path());
    let image = open_str(&built.reference());
    assert_two_layer_view(&image);
    assert_eq!(
        image.layers[0].media_type,
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(image.layers[0].digest, built.layer_digests()[0]);
}

#[test]
fn skopeo_docker_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let built = two_layer_image(&tmp.path().join("img"));
    let archive = built.docker_archive(&tmp.path().join("image.tar"));
    assert_two_layer_view(&open_str(&archive));
    let image = open_str(&format!("{archive}:example.com/test:2.0"));
    assert_eq!(
        image.layers[1].media_type,
        "application/vnd.docker.image.rootfs.diff.tar"
    );
    // Uncompressed layers: the stored size is the tar size.
    assert_eq!(
        Some(image.layers[1].size),
        image.layers[1].uncompressed_size
    );
}

#[test]
fn skopeo_oci_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let built = two_layer_image(&tmp.path().join("img"));
    let archive = built.oci_archive(&tmp.path().join("image.tar"));
    assert_two_layer_view(&open_str(&archive));
}

#[test]
fn skopeo_zstd_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let built = two_layer_image(&tmp.path().join("img"));
    let zstd = built.oci_zstd(&tmp.path().join("zstd"));
    let image = open_str(&zstd);
    assert_eq!(
        image.layers[0].media_type,
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
    assert_two_layer_view(&image);
}

/// A Singularity image as `singularity push` stores it: the reader names the config media type and
/// reads nothing more (testdata/rules/not-a-container-image/make-sif).
#[test]
fn a_singularity_artifact_is_not_a_container_image() {
    let dir = batchprep_testkit::repo_root().join("testdata/rules/not-a-container-image/sif");
    let source = ImageSource::parse(&format!("oci:{}:1.0", dir.display())).unwrap();
    let err = open(&source, &OpenOptions::default()).unwrap_err();
    match &err {
        batchprep_oci::Error::NotAContainerImage {
            media_type, kind, ..
        } => {
            assert_eq!(media_type, "application/vnd.sylabs.sif.config.v1+json");
            assert_eq!(*kind, "a Singularity (SIF) image");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().ends_with(
            "is not a container image: its manifest's config is `application/vnd.sylabs.sif.config.v1+json`, a Singularity (SIF) image"
        ),
        "{err}"
    );
}
