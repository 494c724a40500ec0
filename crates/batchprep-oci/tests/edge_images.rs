//! Hand-made images for what the tools do not write: Docker manifest lists and v2 manifests,
//! platform choice, sha512 digests, opaque directories, hard links and odd symlinks.

use batchprep_oci::{
    EntryKind, Error, ImageSource, OpenOptions, Platform, Resolved, index_layer, open,
};
use batchprep_testkit::{LayoutWriter, TarBuilder, gzip, media, zstd};
use serde_json::json;

fn open_dir(dir: &std::path::Path, platform: &str) -> Result<batchprep_oci::Image, Error> {
    let source = ImageSource::parse(&format!("oci:{}:multi", dir.display())).unwrap();
    open(
        &source,
        &OpenOptions {
            platform: platform.parse::<Platform>().unwrap(),
        },
    )
}

/// A Docker manifest list with an amd64 and an arm64/v8 image, each with one marker file.
fn multi_arch(dir: &std::path::Path, list_type: &str, manifest_type: &str) {
    let w = LayoutWriter::new(dir);
    let mut entries = Vec::new();
    for platform in ["linux/amd64", "linux/arm64/v8"] {
        let arch = platform.split('/').nth(1).unwrap();
        let tar = TarBuilder::new()
            .file(format!("arch-{arch}"), 0o644, b"")
            .finish();
        let layer = w.blob(media::DOCKER_GZIP, &gzip(&tar));
        let config = w.config(platform, json!({"Cmd": [arch]}), 1);
        entries.push((w.manifest(manifest_type, &config, &[layer]), platform));
    }
    let list = w.index(list_type, &entries);
    w.tag(&list, "multi").finish();
}

#[test]
fn docker_manifest_list_picks_the_platform() {
    let tmp = tempfile::tempdir().unwrap();
    multi_arch(tmp.path(), media::DOCKER_LIST, media::DOCKER_MANIFEST);
    let amd = open_dir(tmp.path(), "linux/amd64").unwrap();
    assert_eq!(amd.platform.to_string(), "linux/amd64");
    assert!(amd.fs.entry("/arch-amd64").is_some());
    let arm = open_dir(tmp.path(), "linux/arm64").unwrap();
    assert_eq!(arm.platform.to_string(), "linux/arm64/v8");
    assert_eq!(arm.config.cmd, Some(vec!["arm64".to_owned()]));
    assert!(arm.fs.entry("/arch-arm64").is_some());
}

#[test]
fn oci_index_without_the_platform_lists_what_it_has() {
    let tmp = tempfile::tempdir().unwrap();
    multi_arch(tmp.path(), media::OCI_INDEX, media::OCI_MANIFEST);
    let err = open_dir(tmp.path(), "linux/s390x").unwrap_err();
    let index = std::fs::read_to_string(tmp.path().join("index.json")).unwrap();
    let digest: serde_json::Value = serde_json::from_str(&index).unwrap();
    let hex = digest["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_owned();
    assert_eq!(
        err.to_string(),
        format!(
            "no image for platform linux/s390x in {}/blobs/sha256/{hex} (it has: linux/amd64, linux/arm64/v8)",
            tmp.path().display()
        )
    );
}

#[test]
fn opaque_dirs_hardlinks_and_symlinks_in_tar_layers() {
    let tmp = tempfile::tempdir().unwrap();
    let w = LayoutWriter::new(tmp.path());
    let base = TarBuilder::new()
        .dir("etc/", 0o755)
        .file("etc/old.conf", 0o644, b"")
        .file_owned("usr/bin/tool", 0o750, 0, 10, b"#!/usr/bin/python3\n")
        .hardlink("usr/bin/tool2", "usr/bin/tool")
        .symlink("usr/bin/loop", "loop2")
        .symlink("usr/bin/loop2", "/usr/bin/loop")
        .symlink("usr/bin/up", "../../../../usr/bin/tool")
        .finish();
    let top = TarBuilder::new()
        .dir("etc/", 0o700)
        .file("etc/.wh..wh..opq", 0o644, b"")
        .file("etc/new.conf", 0o600, b"")
        .finish();
    let layers = [
        w.blob(media::OCI_TAR, &base),
        w.blob(media::OCI_ZSTD, &zstd(&top)),
    ];
    let config = w.config("linux/amd64", json!({}), 2);
    let manifest = w.manifest(media::OCI_MANIFEST, &config, &layers);
    w.tag(&manifest, "multi").finish();
    let image = open_dir(tmp.path(), "linux/amd64").unwrap();
    let fs = &image.fs;
    assert_eq!(fs.entry("/etc/old.conf"), None);
    assert_eq!(fs.removed_by("/etc/old.conf"), Some(1));
    assert_eq!(fs.entry("/etc").unwrap().mode, 0o700);
    assert_eq!(fs.entry("/etc/new.conf").unwrap().layer, 1);
    let tool2 = fs.entry("/usr/bin/tool2").unwrap();
    assert_eq!(
        (tool2.kind, tool2.mode, tool2.gid),
        (EntryKind::File, 0o750, 10)
    );
    assert_eq!(
        tool2.first_line.as_deref(),
        Some(&b"#!/usr/bin/python3\n"[..])
    );
    assert_eq!(fs.resolve("/usr/bin/loop").outcome, Resolved::Loop);
    assert_eq!(
        fs.resolve("/usr/bin/up").outcome,
        Resolved::Found {
            path: "/usr/bin/tool".into()
        }
    );
    assert_eq!(image.layers[0].uncompressed_size, Some(base.len() as u64));
}

#[test]
fn sha512_digests_are_accepted() {
    use sha2::Digest as _;
    let tar = TarBuilder::new().file("a", 0o755, b"#!/bin/sh\n").finish();
    let digest = format!("sha512:{}", hex::encode(sha2::Sha512::digest(&tar)));
    let index = index_layer(&tar[..], media::OCI_TAR, &digest).unwrap();
    assert_eq!(index.digest, digest);
    assert_eq!(index.entries.get(0).unwrap().path, "/a");
}

#[test]
fn several_tags_need_one_named() {
    let tmp = tempfile::tempdir().unwrap();
    let w = LayoutWriter::new(tmp.path());
    let layer = w.blob(media::OCI_TAR, &TarBuilder::new().finish());
    let config = w.config("linux/amd64", json!({}), 1);
    let manifest = w.manifest(media::OCI_MANIFEST, &config, &[layer]);
    w.tag(&manifest, "a").tag(&manifest, "b").finish();
    let source = ImageSource::parse(&format!("oci:{}", tmp.path().display())).unwrap();
    let err = open(&source, &OpenOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} holds several images; name one of: a, b",
            tmp.path().display()
        )
    );
}

/// `docker save` of old stores a repeated layer once and links the others to it.
#[test]
fn docker_archive_with_a_linked_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let layer = TarBuilder::new().file("same", 0o644, b"x").finish();
    let diff_id = batchprep_testkit::sha256(&layer);
    let config = json!({
        "os": "linux", "architecture": "amd64", "config": {"Entrypoint": ["/same"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id, diff_id]},
    })
    .to_string();
    let config_name = format!(
        "{}.json",
        &batchprep_testkit::sha256(config.as_bytes())[7..]
    );
    let manifest = json!([{
        "Config": config_name,
        "RepoTags": ["app:1"],
        "Layers": ["first/layer.tar", "second/layer.tar"],
    }])
    .to_string();
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    };
    add("first/layer.tar", &layer);
    add(&config_name, config.as_bytes());
    add("manifest.json", manifest.as_bytes());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    h.set_mtime(0);
    b.append_link(&mut h, "second/layer.tar", "../first/layer.tar")
        .unwrap();
    let file = tmp.path().join("saved.tar");
    std::fs::write(&file, b.into_inner().unwrap()).unwrap();
    let source = ImageSource::parse(&format!("docker-archive:{}:app:1", file.display())).unwrap();
    let image = open(&source, &OpenOptions::default()).unwrap();
    assert_eq!(image.layers.len(), 2);
    assert_eq!(image.layers[1].digest, diff_id);
    assert_eq!(image.fs.entry("/same").unwrap().layer, 1);
    assert_eq!(
        image.config.entrypoint.as_deref(),
        Some(&["/same".to_owned()][..])
    );
}
