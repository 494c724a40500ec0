//! Test support for batchprep: images made by the real tools users make them with, and hand-made
//! images for the edge cases those tools cannot produce.
//!
//! # Tool-made images ([`ImageBuilder`])
//!
//! Builds an OCI layout with `umoci` (new image, unpack, change the root filesystem, repack, config),
//! so what batchprep reads is what real tooling writes:
//!
//! ```no_run
//! use batchprep_testkit::ImageBuilder;
//! let dir = std::env::temp_dir().join("doc-example");
//! let image = ImageBuilder::new(&dir)
//!     .dir("/app", 0o755)
//!     .file("/app/run.sh", 0o755, b"#!/bin/sh\necho hi\n")
//!     .symlink("/bin/sh", "/usr/bin/dash")
//!     .layer() // the changes so far become one layer
//!     .remove("/app/run.sh") // the next layer carries a whiteout for it
//!     .config(|c| c.entrypoint(&["/app/run.sh"]).workdir("/app").env("A=1"))
//!     .build();
//! let oci = image.reference(); // "oci:<dir>/layout:latest"
//! let docker = image.docker_archive(&dir.join("image.tar")); // via skopeo copy
//! # let _ = (oci, docker);
//! ```
//!
//! `host_binaries(&["/bin/sh", "/bin/echo"])` copies host programs and the shared libraries `ldd`
//! names into the root filesystem, so the image actually runs in podman without any download.
//! `docker_archive`, `oci_archive` and `oci_zstd` convert with `skopeo copy`; `podman_load` copies the
//! image into podman's storage for `podman run`.
//!
//! Every step runs the tool and panics with its stderr when it fails, and a missing tool is a
//! failure (CI installs them with `scripts/install-test-deps`), never a skip.
//!
//! # Hand-made images ([`LayoutWriter`], [`TarBuilder`])
//!
//! `TarBuilder` writes layer tars with hard links, odd names and lying headers; `LayoutWriter` puts
//! blobs, manifests (OCI or Docker media types) and indexes into an OCI layout with correct or
//! deliberately wrong digests.
//!
//! # A real Docker engine ([`dockerd::Dockerd`])
//!
//! A private Moby daemon per test binary (or per test, with a bridge inside a network namespace
//! of its own), with `docker`, image load/build/import helpers and a restart script for
//! `systemctl` shims.

use std::{
    collections::BTreeSet,
    fs,
    os::unix::fs::{PermissionsExt, symlink},
    path::{Path, PathBuf},
    process::Command,
};

use sha2::{Digest as _, Sha256};

pub mod batch_schema;
pub mod dockerd;

/// The repository's root directory (absolute), where the fixtures and scripts are.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the testkit crate sits two levels below the repository root")
}

/// The corpus of real public definitions, `shared/corpus` beside the repository, or beside the
/// directory a git worktree of it sits in (`wt/NAME`).
pub fn corpus_dir() -> PathBuf {
    let root = repo_root();
    root.ancestors()
        .skip(1)
        .map(|dir| dir.join("shared/corpus"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| root.join("../shared/corpus"))
}

/// Runs `program args`, panicking with its output when it is missing or fails; returns stdout.
pub fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `{program}` ({e}): install it with scripts/install-test-deps")
        });
    assert!(
        out.status.success(),
        "`{program} {}` failed ({}):\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `sha256:<hex>` digest of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Image config settings applied with `umoci config` when the image is built.
#[derive(Debug, Default, Clone)]
pub struct ConfigEdit {
    args: Vec<String>,
}

impl ConfigEdit {
    fn push(&mut self, flag: &str, value: &str) -> &mut Self {
        self.args.push(format!("--{flag}={value}"));
        self
    }

    /// `ENTRYPOINT` (each element one argument).
    pub fn entrypoint(&mut self, argv: &[&str]) -> &mut Self {
        for a in argv {
            self.push("config.entrypoint", a);
        }
        self
    }

    /// `CMD`.
    pub fn cmd(&mut self, argv: &[&str]) -> &mut Self {
        for a in argv {
            self.push("config.cmd", a);
        }
        self
    }

    /// `WORKDIR`.
    pub fn workdir(&mut self, dir: &str) -> &mut Self {
        self.push("config.workingdir", dir)
    }

    /// `USER`.
    pub fn user(&mut self, user: &str) -> &mut Self {
        self.push("config.user", user)
    }

    /// One `ENV` entry, `NAME=value`.
    pub fn env(&mut self, kv: &str) -> &mut Self {
        self.push("config.env", kv)
    }

    /// One label, `key=value`.
    pub fn label(&mut self, kv: &str) -> &mut Self {
        self.push("config.label", kv)
    }

    /// The platform, `os/arch` (umoci sets no variant).
    pub fn platform(&mut self, platform: &str) -> &mut Self {
        let (os, arch) = platform
            .split_once('/')
            .expect("platform is os/arch, e.g. linux/arm64");
        self.push("os", os);
        self.push("architecture", arch)
    }
}

/// Builds an OCI image layout with umoci, layer by layer.
#[derive(Debug)]
pub struct ImageBuilder {
    layout: PathBuf,
    bundle: PathBuf,
    tag: String,
    config: ConfigEdit,
    dirty: bool,
}

impl ImageBuilder {
    /// Starts an empty image in `dir` (created if needed; `dir/layout` is the OCI layout, tag `latest`).
    pub fn new(dir: &Path) -> ImageBuilder {
        ImageBuilder::with_tag(dir, "latest")
    }

    /// Starts an empty image tagged `tag`.
    pub fn with_tag(dir: &Path, tag: &str) -> ImageBuilder {
        fs::create_dir_all(dir).unwrap();
        let layout = dir.join("layout");
        let bundle = dir.join("bundle");
        assert!(
            !layout.exists() && !bundle.exists(),
            "{} already holds an image",
            dir.display()
        );
        let image = format!("{}:{tag}", layout.display());
        run("umoci", &["init", "--layout", &layout.to_string_lossy()]);
        run("umoci", &["new", "--image", &image]);
        run(
            "umoci",
            &["unpack", "--image", &image, &bundle.to_string_lossy()],
        );
        ImageBuilder {
            layout,
            bundle,
            tag: tag.to_owned(),
            config: ConfigEdit::default(),
            dirty: false,
        }
    }

    /// The root filesystem being built (change it directly for anything the methods do not cover).
    pub fn rootfs(&self) -> PathBuf {
        self.bundle.join("rootfs")
    }

    fn host_path(&self, path: &str) -> PathBuf {
        assert!(path.starts_with('/'), "image paths are absolute: {path}");
        self.rootfs().join(path.trim_start_matches('/'))
    }

    fn parent_dirs(&self, path: &Path) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
    }

    /// A regular file with `mode` and `contents` (parents created 0755, root-owned).
    pub fn file(mut self, path: &str, mode: u32, contents: &[u8]) -> Self {
        let p = self.host_path(path);
        self.parent_dirs(&p);
        fs::write(&p, contents).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        self.dirty = true;
        self
    }

    /// A regular file owned by `uid:gid`.
    pub fn file_owned(self, path: &str, mode: u32, uid: u32, gid: u32, contents: &[u8]) -> Self {
        let this = self.file(path, mode, contents);
        std::os::unix::fs::lchown(this.host_path(path), Some(uid), Some(gid)).unwrap();
        // chown clears set-id bits: put the mode back.
        fs::set_permissions(this.host_path(path), fs::Permissions::from_mode(mode)).unwrap();
        this
    }

    /// A directory with `mode`.
    pub fn dir(mut self, path: &str, mode: u32) -> Self {
        let p = self.host_path(path);
        fs::create_dir_all(&p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        self.dirty = true;
        self
    }

    /// A symlink at `path` pointing to `target` (stored as given, absolute or relative).
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let p = self.host_path(path);
        self.parent_dirs(&p);
        symlink(target, &p).unwrap();
        self.dirty = true;
        self
    }

    /// A hard link at `path` to the existing file `target`.
    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        let p = self.host_path(path);
        self.parent_dirs(&p);
        fs::hard_link(self.host_path(target), &p).unwrap();
        self.dirty = true;
        self
    }

    /// Deletes `path` (file or tree): the next layer carries umoci's whiteout for it.
    pub fn remove(mut self, path: &str) -> Self {
        let p = self.host_path(path);
        let meta = fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("remove {path}: {e}"));
        if meta.is_dir() {
            fs::remove_dir_all(&p).unwrap();
        } else {
            fs::remove_file(&p).unwrap();
        }
        self.dirty = true;
        self
    }

    /// Copies host programs, and every shared library `ldd` says they load, to the same paths in
    /// the image (symlinks on the host become regular files), so the image runs without a download.
    pub fn host_binaries(mut self, programs: &[&str]) -> Self {
        let mut files: BTreeSet<String> = programs.iter().map(|p| (*p).to_owned()).collect();
        for program in programs {
            let out = Command::new("ldd").arg(program).output().unwrap();
            // Static binaries make ldd fail: nothing more to copy.
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let path = match line.split_once("=>") {
                    Some((_, rest)) => rest.split_whitespace().next(),
                    None => line.split_whitespace().next(),
                };
                if let Some(p) = path.filter(|p| p.starts_with('/')) {
                    files.insert(p.to_owned());
                }
            }
        }
        for file in files {
            let dest = self.host_path(&file);
            self.parent_dirs(&dest);
            fs::copy(&file, &dest).unwrap_or_else(|e| panic!("copy {file}: {e}"));
        }
        self.dirty = true;
        self
    }

    /// Ends the current layer: `umoci repack` of the changes so far.
    pub fn layer(mut self) -> Self {
        if self.dirty {
            run(
                "umoci",
                &[
                    "repack",
                    "--refresh-bundle",
                    "--image",
                    &self.image(),
                    &self.bundle.to_string_lossy(),
                ],
            );
            self.dirty = false;
        }
        self
    }

    /// Sets config fields (applied with `umoci config` at [`ImageBuilder::build`]).
    pub fn config(mut self, edit: impl FnOnce(&mut ConfigEdit) -> &mut ConfigEdit) -> Self {
        edit(&mut self.config);
        self
    }

    fn image(&self) -> String {
        format!("{}:{}", self.layout.display(), self.tag)
    }

    /// Repacks what is pending, applies the config, removes unused blobs and the bundle.
    pub fn build(self) -> BuiltImage {
        let this = self.layer();
        if !this.config.args.is_empty() {
            let image = this.image();
            let mut args = vec!["config", "--image", &image];
            args.extend(this.config.args.iter().map(String::as_str));
            run("umoci", &args);
        }
        run("umoci", &["gc", "--layout", &this.layout.to_string_lossy()]);
        fs::remove_dir_all(&this.bundle).unwrap();
        BuiltImage {
            layout: this.layout,
            tag: this.tag,
        }
    }
}

/// An OCI layout made by [`ImageBuilder`].
#[derive(Debug, Clone)]
pub struct BuiltImage {
    /// The layout directory.
    pub layout: PathBuf,
    /// Its tag.
    pub tag: String,
}

impl BuiltImage {
    /// `oci:<layout>:<tag>`, the argument batchprep takes.
    pub fn reference(&self) -> String {
        format!("oci:{}:{}", self.layout.display(), self.tag)
    }

    /// `skopeo copy` to a docker-archive at `file` (tagged `example.com/test:<tag>`); returns
    /// `docker-archive:<file>`.
    pub fn docker_archive(&self, file: &Path) -> String {
        let dest = format!(
            "docker-archive:{}:example.com/test:{}",
            file.display(),
            self.tag
        );
        run("skopeo", &["copy", "-q", &self.reference(), &dest]);
        format!("docker-archive:{}", file.display())
    }

    /// `skopeo copy` to an oci-archive at `file`; returns `oci-archive:<file>:<tag>`.
    pub fn oci_archive(&self, file: &Path) -> String {
        let dest = format!("oci-archive:{}:{}", file.display(), self.tag);
        run("skopeo", &["copy", "-q", &self.reference(), &dest]);
        dest
    }

    /// `skopeo copy` to an OCI layout at `dir` with zstd layers; returns `oci:<dir>:<tag>`.
    pub fn oci_zstd(&self, dir: &Path) -> String {
        let dest = format!("oci:{}:{}", dir.display(), self.tag);
        run(
            "skopeo",
            &[
                "copy",
                "-q",
                "--dest-compress-format",
                "zstd",
                &self.reference(),
                &dest,
            ],
        );
        dest
    }

    /// Copies the image into podman's storage as `localhost/<name>:<tag>` (`skopeo copy` to
    /// `containers-storage:`) and returns that name, for `podman run`. `name` must be lowercase.
    pub fn podman_load(&self, name: &str) -> String {
        let target = format!("localhost/{name}:{}", self.tag);
        run(
            "skopeo",
            &[
                "copy",
                "-q",
                &self.reference(),
                &format!("containers-storage:{target}"),
            ],
        );
        target
    }

    /// The manifest the tag points to, parsed.
    pub fn manifest(&self) -> serde_json::Value {
        let index: serde_json::Value =
            serde_json::from_slice(&fs::read(self.layout.join("index.json")).unwrap()).unwrap();
        let digest = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == self.tag.as_str())
            .expect("tag in index.json")["digest"]
            .as_str()
            .unwrap()
            .to_owned();
        serde_json::from_slice(&fs::read(self.blob_path(&digest)).unwrap()).unwrap()
    }

    /// The file of blob `digest`.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let (alg, hex) = digest.split_once(':').unwrap();
        self.layout.join("blobs").join(alg).join(hex)
    }

    /// The digests of the layers, base first.
    pub fn layer_digests(&self) -> Vec<String> {
        self.manifest()["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// OCI media types, for [`LayoutWriter`].
pub mod media {
    /// Uncompressed OCI layer.
    pub const OCI_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
    /// gzip OCI layer.
    pub const OCI_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// zstd OCI layer.
    pub const OCI_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    /// Docker gzip layer.
    pub const DOCKER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /// OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// OCI image index.
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// Docker v2 schema 2 manifest.
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker manifest list.
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// OCI config.
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// Docker config.
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
}

/// gzip-compresses `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// zstd-compresses `bytes`.
pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).unwrap()
}

/// Writes an OCI layout by hand: blobs, manifests and indexes with any media types and digests.
#[derive(Debug)]
pub struct LayoutWriter {
    dir: PathBuf,
    index: Vec<serde_json::Value>,
}

/// A descriptor as JSON (`mediaType`, `digest`, `size`).
pub type Descriptor = serde_json::Value;

impl LayoutWriter {
    /// Starts a layout at `dir` (created).
    pub fn new(dir: &Path) -> LayoutWriter {
        fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        LayoutWriter {
            dir: dir.to_owned(),
            index: Vec::new(),
        }
    }

    /// Stores `bytes` under their own digest; returns their descriptor with `media_type`.
    pub fn blob(&self, media_type: &str, bytes: &[u8]) -> Descriptor {
        let digest = sha256(bytes);
        self.blob_as(media_type, bytes, &digest)
    }

    /// Stores `bytes` under `digest`, right or wrong.
    pub fn blob_as(&self, media_type: &str, bytes: &[u8], digest: &str) -> Descriptor {
        let (alg, hex) = digest.split_once(':').unwrap();
        fs::create_dir_all(self.dir.join("blobs").join(alg)).unwrap();
        fs::write(self.dir.join("blobs").join(alg).join(hex), bytes).unwrap();
        serde_json::json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
    }

    /// A config blob for `platform` (`os/arch[/variant]`) with `config` as its `config` object.
    pub fn config(&self, platform: &str, config: serde_json::Value, diff_ids: usize) -> Descriptor {
        let mut parts = platform.split('/');
        let mut json = serde_json::json!({
            "os": parts.next().unwrap(),
            "architecture": parts.next().unwrap(),
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": vec!["sha256:".to_owned() + &"0".repeat(64); diff_ids]},
        });
        if let Some(v) = parts.next() {
            json["variant"] = v.into();
        }
        self.blob(media::OCI_CONFIG, json.to_string().as_bytes())
    }

    /// An image manifest of `media_type` over `config` and `layers`; returns its descriptor.
    pub fn manifest(
        &self,
        media_type: &str,
        config: &Descriptor,
        layers: &[Descriptor],
    ) -> Descriptor {
        let mut config = config.clone();
        if media_type == media::DOCKER_MANIFEST {
            config["mediaType"] = media::DOCKER_CONFIG.into();
        }
        let json = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": config,
            "layers": layers,
        });
        self.blob(media_type, json.to_string().as_bytes())
    }

    /// An index (or Docker manifest list) of `(manifest, "os/arch[/variant]")`; returns its descriptor.
    pub fn index(&self, media_type: &str, manifests: &[(Descriptor, &str)]) -> Descriptor {
        let entries: Vec<serde_json::Value> = manifests
            .iter()
            .map(|(d, platform)| {
                let mut d = d.clone();
                let mut parts = platform.split('/');
                let mut p = serde_json::json!({
                    "os": parts.next().unwrap(),
                    "architecture": parts.next().unwrap(),
                });
                if let Some(v) = parts.next() {
                    p["variant"] = v.into();
                }
                d["platform"] = p;
                d
            })
            .collect();
        let json = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "manifests": entries,
        });
        self.blob(media_type, json.to_string().as_bytes())
    }

    /// Lists `descriptor` in `index.json` under `tag`.
    pub fn tag(mut self, descriptor: &Descriptor, tag: &str) -> Self {
        let mut d = descriptor.clone();
        d["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": tag});
        self.index.push(d);
        self
    }

    /// Writes `index.json`; returns the layout directory.
    pub fn finish(self) -> PathBuf {
        let json = serde_json::json!({"schemaVersion": 2, "manifests": self.index});
        fs::write(self.dir.join("index.json"), json.to_string()).unwrap();
        self.dir
    }

    /// A one-layer image tagged `tag` with `layer` (already compressed as `media_type`), config
    /// `config` for linux/amd64. Returns the layout directory.
    pub fn single(
        dir: &Path,
        tag: &str,
        media_type: &str,
        layer: &[u8],
        config: serde_json::Value,
    ) -> PathBuf {
        let w = LayoutWriter::new(dir);
        let layer = w.blob(media_type, layer);
        let config = w.config("linux/amd64", config, 1);
        let manifest = w.manifest(media::OCI_MANIFEST, &config, &[layer]);
        w.tag(&manifest, tag).finish()
    }
}

/// Builds layer tars entry by entry, including what real tools never write.
#[derive(Default)]
pub struct TarBuilder {
    out: Vec<u8>,
}

impl std::fmt::Debug for TarBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TarBuilder({} bytes)", self.out.len())
    }
}

impl TarBuilder {
    /// An empty tar.
    pub fn new() -> TarBuilder {
        TarBuilder::default()
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(size);
        h
    }

    /// Appends a header whose name field holds `name` bytes as they are (no checks), then `data`.
    fn raw(mut self, mut h: tar::Header, name: &[u8], link: &[u8], data: &[u8]) -> Self {
        let ustar = h.as_ustar_mut().unwrap();
        assert!(
            name.len() <= 100 && link.len() <= 100,
            "names up to 100 bytes"
        );
        ustar.name = [0; 100];
        ustar.name[..name.len()].copy_from_slice(name);
        ustar.linkname = [0; 100];
        ustar.linkname[..link.len()].copy_from_slice(link);
        h.set_cksum();
        self.out.extend_from_slice(h.as_bytes());
        self.out.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.out.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    /// A regular file (`name` bytes stored verbatim: `../x`, `/abs` and non-UTF-8 are allowed).
    pub fn file(self, name: impl AsRef<[u8]>, mode: u32, data: &[u8]) -> Self {
        let h = Self::header(tar::EntryType::Regular, mode, data.len() as u64);
        self.raw(h, name.as_ref(), b"", data)
    }

    /// A regular file owned by `uid:gid`.
    pub fn file_owned(self, name: &str, mode: u32, uid: u64, gid: u64, data: &[u8]) -> Self {
        let mut h = Self::header(tar::EntryType::Regular, mode, data.len() as u64);
        h.set_uid(uid);
        h.set_gid(gid);
        self.raw(h, name.as_bytes(), b"", data)
    }

    /// A directory.
    pub fn dir(self, name: &str, mode: u32) -> Self {
        let h = Self::header(tar::EntryType::Directory, mode, 0);
        self.raw(h, name.as_bytes(), b"", b"")
    }

    /// A symlink.
    pub fn symlink(self, name: &str, target: &str) -> Self {
        let h = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.raw(h, name.as_bytes(), target.as_bytes(), b"")
    }

    /// A hard link to an earlier entry.
    pub fn hardlink(self, name: &str, target: &str) -> Self {
        let h = Self::header(tar::EntryType::Link, 0o644, 0);
        self.raw(h, name.as_bytes(), target.as_bytes(), b"")
    }

    /// A file header that claims `claimed` bytes while only `data` follows.
    pub fn lying_file(self, name: &str, claimed: u64, data: &[u8]) -> Self {
        let h = Self::header(tar::EntryType::Regular, 0o644, claimed);
        let mut this = self.raw(h, name.as_bytes(), b"", b"");
        this.out.extend_from_slice(data);
        this
    }

    /// The tar with its two zero end blocks.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.extend(std::iter::repeat_n(0u8, 1024));
        self.out
    }

    /// The tar as written so far, without end blocks (a truncated archive).
    pub fn unfinished(self) -> Vec<u8> {
        self.out
    }
}
