//! The fuzz targets: one per kind of input (image references, layer tars and the merged view,
//! manifests/indexes/configs, pool files and ARM templates, task files, `batchprep.toml`, CIDRs,
//! credential files, the printing helpers). Each takes bytes; errors are fine, panics and hangs
//! are not. Seeds come from the repository's fixtures.

use std::path::Path;

use batchprep_batch::{
    json_pos::PointerIndex,
    net::{AddressPool, NetworkRange, NetworkSpec, RangeKind, parse_cidr},
    pool_source::read_pool_file,
    spec::PoolSpec,
    task::parse_task_file,
};
use batchprep_oci::{
    ImageSource, MergedFs, OpenOptions, Reference, index_layer,
    registry::{CredentialPaths, CredentialStore},
    safe_text,
};
use batchprep_testkit::{LayoutWriter, TarBuilder, gzip, media, sha256};

use crate::Target;

/// Every target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "reference",
        run: reference,
        seeds: reference_seeds,
        dictionary: &[
            b"docker://",
            b"oci:",
            b"@sha256:",
            b":",
            b"/",
            b"localhost:5000/",
            b"..",
        ],
        max_len: 4096,
    },
    Target {
        name: "tar",
        run: tar_layers,
        seeds: tar_seeds,
        dictionary: &[
            b"\x01a", b"\x02a/b", b"\x05", b"\x06", b"\x07", b"\x08", b"\x09",
        ],
        max_len: 16 * 1024,
    },
    Target {
        name: "image",
        run: image,
        seeds: image_seeds,
        dictionary: &[
            b"\"mediaType\":",
            b"\"layers\":[",
            b"\"manifests\":[",
            b"\"digest\":\"sha256:",
            b"\"size\":",
            b"\"config\":{",
            b"\"Entrypoint\":[\"\\n##vso[x]\"]",
            b"[",
            b"{\"a\":",
        ],
        max_len: 64 * 1024,
    },
    Target {
        name: "pool",
        run: pool,
        seeds: pool_seeds,
        dictionary: JSON_TEMPLATE_TOKENS,
        max_len: 64 * 1024,
    },
    Target {
        name: "task",
        run: task,
        seeds: task_seeds,
        dictionary: &[
            b"\"containerSettings\":{",
            b"\"imageName\":",
            b"\"value\":[",
            b"\"jobManagerTask\":{",
            b"\"containerRunOptions\":\"",
            b"[",
            b"{",
            b"\"\\u0000\"",
        ],
        max_len: 64 * 1024,
    },
    Target {
        name: "config",
        run: config,
        seeds: config_seeds,
        dictionary: &[
            b"[pool]\n",
            b"[network]\n",
            b"[[pool.registries]]\n",
            b"password-env = \"",
            b"vnet = [\"",
            b"image = \"",
            b"= [",
            b"{ a = ",
        ],
        max_len: 32 * 1024,
    },
    Target {
        name: "cidr",
        run: cidr,
        seeds: cidr_seeds,
        dictionary: &[b"/", b".", b":", b"::", b"+", b"base=", b",size="],
        max_len: 1024,
    },
    Target {
        name: "credentials",
        run: credentials,
        seeds: credentials_seeds,
        dictionary: &[
            b"\"auths\":{",
            b"\"auth\":\"",
            b"\"password\":",
            b"\"credHelpers\":{",
        ],
        max_len: 32 * 1024,
    },
    Target {
        name: "safe-text",
        run: safe_text_target,
        seeds: safe_text_seeds,
        dictionary: &[
            b"'",
            b"''",
            b"parameters('",
            b"://",
            b"@",
            b"\x1b[",
            b"\xe2\x80\xae",
        ],
        max_len: 8 * 1024,
    },
];

const JSON_TEMPLATE_TOKENS: &[&[u8]] = &[
    b"[concat(",
    b"concat(",
    b"[variables('",
    b"variables('v')",
    b"[parameters('",
    b"[format('{0}{0}{0}', ",
    b"\"type\": \"securestring\"",
    b"\"defaultValue\": ",
    b"\"registryServer\": \"https://u:p@h\"",
    b"\"password\": ",
    b"[",
    b"{\"a\":",
    b"\"\\n##vso[x]\"",
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The files under `dir` (recursively) whose name ends with one of `suffixes`.
fn files(dir: &Path, suffixes: &[&str]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            out.extend(files(&p, suffixes));
        } else if suffixes.iter().any(|s| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(s))
        }) && let Ok(b) = std::fs::read(&p)
        {
            out.push(b);
        }
    }
    out
}

fn reference(bytes: &[u8]) {
    let s = text(bytes);
    if let Ok(r) = Reference::parse(&s) {
        // What parsed once parses again from its own rendering.
        let again = r.to_string();
        assert!(Reference::parse(&again).is_ok(), "{s:?} -> {again:?}");
    }
    let _ = ImageSource::parse(&s);
}

fn reference_seeds(_: &Path) -> Vec<Vec<u8>> {
    [
        "ubuntu",
        "ubuntu:24.04",
        "myacr.azurecr.io/team/render:2.1",
        "localhost:5000/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "docker://mcr.microsoft.com/azureml/base:latest",
        "oci:/tmp/layout:1.0",
        "oci-archive:image.tar",
        "docker-archive:image.tar:app:1",
        "[::1]:5000/x",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// The names layer programs use: few, so entries collide, replace and remove each other.
const NAMES: &[&str] = &[
    "a",
    "a/b",
    "a/b/c",
    "a/.wh.b",
    "a/.wh..wh..opq",
    ".wh.a",
    "bin/sh",
    "usr/bin/env",
    "./a//b/",
    "a/../b",
    "../x",
    "/abs",
    "etc/ld.so.cache",
    "l",
];

/// The most ops of a layer program that are run.
const MAX_OPS: usize = 256;

/// A layer program: each op byte adds an entry (file, dir, symlink, hard link, long GNU name, PAX
/// path, a deep path) or starts a new layer; the byte after it picks the name.
fn layers_of(program: &[u8]) -> Vec<Vec<u8>> {
    // A few hundred entries find what thousands would, a hundred times faster.
    let program = &program[..program.len().min(2 * MAX_OPS)];
    let mut layers = Vec::new();
    let mut b = tar::Builder::new(Vec::new());
    let mut i = 0;
    let name = |i: usize| NAMES[program.get(i).copied().unwrap_or(0) as usize % NAMES.len()];
    while i < program.len() {
        let op = program[i] % 10;
        let n = name(i + 1);
        i += 2;
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o755);
        h.set_mtime(0);
        let _ = match op {
            0 => {
                let old = std::mem::replace(&mut b, tar::Builder::new(Vec::new()));
                layers.push(old.into_inner().unwrap_or_default());
                continue;
            }
            1 => {
                h.set_entry_type(tar::EntryType::Regular);
                let data = b"#!/bin/sh\n";
                h.set_size(data.len() as u64);
                b.append_data(&mut h, n, &data[..])
            }
            2 => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                b.append_data(&mut h, n, &[][..])
            }
            3 => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, n, name(i - 1 + 2))
            }
            4 => {
                h.set_entry_type(tar::EntryType::Link);
                h.set_size(0);
                b.append_link(&mut h, n, name(i - 1 + 2))
            }
            5 => {
                // A long name: `append_data` writes a GNU long-name header for it.
                let long = format!("{n}/{}", "d/".repeat(200));
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                b.append_data(&mut h, long, &[][..])
            }
            6 => {
                let deep = format!("{n}/{}", "x/".repeat(3000));
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(0);
                b.append_data(&mut h, deep, &[][..])
            }
            7 => b.append_pax_extensions([("path", n.as_bytes())]),
            8 => {
                // Flip: the same path as a directory with children, then as a file.
                for k in 0..32 {
                    let mut c = tar::Header::new_gnu();
                    c.set_entry_type(tar::EntryType::Regular);
                    c.set_size(0);
                    c.set_mode(0o644);
                    let _ = b.append_data(&mut c, format!("{n}/f{k}"), &[][..]);
                }
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(0);
                b.append_data(&mut h, n, &[][..])
            }
            _ => {
                h.set_entry_type(tar::EntryType::Fifo);
                h.set_size(0);
                b.append_data(&mut h, n, &[][..])
            }
        };
    }
    layers.push(b.into_inner().unwrap_or_default());
    layers
}

fn tar_layers(bytes: &[u8]) {
    let Some((&mode, rest)) = bytes.split_first() else {
        return;
    };
    let blobs: Vec<Vec<u8>> = match mode % 3 {
        // Raw tar bytes: the tar crate's and our own handling of broken headers.
        0 => vec![rest.to_vec()],
        1 => layers_of(rest),
        _ => layers_of(rest).iter().map(|l| gzip(l)).collect(),
    };
    let media_type = if mode % 3 == 2 {
        media::OCI_GZIP
    } else {
        media::OCI_TAR
    };
    let mut indexes = Vec::new();
    for blob in &blobs {
        match index_layer(&blob[..], media_type, &sha256(blob)) {
            Ok(i) => indexes.push(i),
            Err(e) => {
                let _ = safe_text::line(&e.to_string());
            }
        }
    }
    let fs = MergedFs::from_layers(indexes);
    for path in [
        "/",
        "/a",
        "/a/b/c",
        "/bin/sh",
        "/l",
        "/usr/bin/env",
        "/x/../a",
    ] {
        let _ = fs.resolve(path);
        let _ = fs.entry(path);
    }
    let _ = fs.which("sh", "/bin:/a:/usr/bin");
    assert!(fs.iter().count() == fs.len());
}

fn tar_seeds(_: &Path) -> Vec<Vec<u8>> {
    let raw = TarBuilder::new()
        .dir("a", 0o755)
        .file("a/b", 0o644, b"x")
        .symlink("l", "a/b")
        .hardlink("h", "a/b")
        .file("a/.wh.b", 0o644, b"")
        .finish();
    let mut seeds = vec![[&[0u8][..], &raw].concat()];
    for program in [
        &[2, 0, 1, 1, 3, 13, 0, 0, 4, 1][..],
        &[2, 0, 8, 0, 2, 0, 8, 0, 2, 0, 7, 2, 1, 0],
        &[5, 0, 6, 1, 0, 0, 1, 5, 1, 4],
    ] {
        seeds.push([&[1u8][..], program].concat());
        seeds.push([&[2u8][..], program].concat());
    }
    seeds
}

/// The base image for [`image`]: one small layer, an empty config.
struct BaseImage {
    layer: serde_json::Value,
    config: serde_json::Value,
    manifest: serde_json::Value,
}

fn base_image(w: &LayoutWriter) -> BaseImage {
    let tar = TarBuilder::new()
        .file("bin/sh", 0o755, b"#!/bin/sh\n")
        .finish();
    let layer = w.blob(media::OCI_TAR, &tar);
    let config = w.config(
        "linux/amd64",
        serde_json::json!({"Entrypoint": ["/bin/sh"], "Labels": {"a": "b"}}),
        1,
    );
    let manifest = w.manifest(media::OCI_MANIFEST, &config, std::slice::from_ref(&layer));
    BaseImage {
        layer,
        config,
        manifest,
    }
}

/// The first byte picks what the rest replaces: the config blob, the manifest or `index.json`.
fn image(bytes: &[u8]) {
    let Some((&which, json)) = bytes.split_first() else {
        return;
    };
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let w = LayoutWriter::new(dir.path());
    let base = base_image(&w);
    let w = match which % 3 {
        0 => {
            let config = w.blob(media::OCI_CONFIG, json);
            let manifest = w.manifest(media::OCI_MANIFEST, &config, &[base.layer]);
            w.tag(&manifest, "1")
        }
        1 => {
            let manifest = w.blob(media::OCI_MANIFEST, json);
            w.tag(&manifest, "1")
        }
        _ => {
            let _ = base.config;
            if std::fs::write(dir.path().join("index.json"), json).is_err() {
                return;
            }
            // `finish` would overwrite it.
            open_layout(dir.path());
            return;
        }
    };
    let dir_path = w.finish();
    open_layout(&dir_path);
}

fn open_layout(dir: &Path) {
    let source = ImageSource::OciLayout {
        dir: dir.to_owned(),
        tag: None,
    };
    match batchprep_oci::open(&source, &OpenOptions::default()) {
        Ok(image) => {
            let _ = image.fs.resolve("/bin/sh");
        }
        Err(e) => {
            let _ = safe_text::line(&e.to_string());
        }
    }
}

fn image_seeds(root: &Path) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let Ok(dir) = tempfile::tempdir() else {
        return seeds;
    };
    let w = LayoutWriter::new(dir.path());
    let base = base_image(&w);
    let blob = |d: &serde_json::Value| {
        let digest = d["digest"].as_str().unwrap_or_default();
        std::fs::read(
            dir.path()
                .join("blobs/sha256")
                .join(digest.trim_start_matches("sha256:")),
        )
        .unwrap_or_default()
    };
    seeds.push([&[0u8][..], &blob(&base.config)].concat());
    seeds.push([&[1u8][..], &blob(&base.manifest)].concat());
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [base.manifest]});
    seeds.push([&[2u8][..], index.to_string().as_bytes()].concat());
    // The fixture images' own JSON, whatever it is.
    for (i, b) in files(&root.join("testdata/images"), &[""])
        .into_iter()
        .filter(|b| b.first() == Some(&b'{'))
        .enumerate()
    {
        seeds.push([&[i as u8][..], &b].concat());
    }
    seeds
}

/// The file names that select each pool reader.
const POOL_NAMES: &[&str] = &[
    "/nonexistent/pool.json",
    "/nonexistent/main.tf",
    "/nonexistent/pools.bicep",
    "/nonexistent/pool.yaml",
    "/nonexistent/plan.json",
];

/// The first byte picks the reader (by file name); the rest is the file.
fn pool(bytes: &[u8]) {
    let Some((&which, body)) = bytes.split_first() else {
        return;
    };
    let path = Path::new(POOL_NAMES[which as usize % POOL_NAMES.len()]);
    match read_pool_file(path, body) {
        Ok(file) => {
            for pointer in [
                "",
                "/id",
                "/virtualMachineConfiguration/containerConfiguration",
            ] {
                let _ = file.locations.locate(pointer);
            }
        }
        Err(e) => {
            let _ = e.describe(path);
        }
    }
    let text = text(body);
    let index = PointerIndex::build(&text);
    let _ = index.position("/a/0/~1b");
    let _ = safe_text::json_secrets(&text);
}

fn pool_seeds(root: &Path) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for (i, suffixes) in [
        &[".json"][..],
        &[".tf"],
        &[".bicep"],
        &[".yaml"],
        &["plan.json"],
    ]
    .iter()
    .enumerate()
    {
        for dir in ["testdata/pool-sources", "testdata/example", "testdata"] {
            for b in files(&root.join(dir), suffixes) {
                seeds.push([&[i as u8][..], &b].concat());
            }
        }
    }
    seeds.retain(|s| s.len() < 64 * 1024);
    seeds
}

fn task(bytes: &[u8]) {
    let text = text(bytes);
    if let Err(e) = parse_task_file("tasks.json", &text) {
        let message = e.to_string();
        assert!(!message.contains('\n'), "{message:?}");
    }
    let _ = PointerIndex::build(&text).position("/0/containerSettings/imageName");
}

fn task_seeds(root: &Path) -> Vec<Vec<u8>> {
    let mut seeds = files(&root.join("testdata"), &["tasks.json"]);
    seeds.push(br#"{"value": [{"id": "a", "commandLine": "x", "containerSettings": {"imageName": "i", "workingDirectory": "containerImageDefault"}}]}"#.to_vec());
    seeds.push(br#"{"jobManagerTask": {"id": "m", "commandLine": "x"}}"#.to_vec());
    seeds
}

fn config(bytes: &[u8]) {
    let text = text(bytes);
    if let Ok(Some(spec)) = PoolSpec::from_config_text(&text, None) {
        let _ = spec.check(&text, None);
    }
    if let Ok(table) = text.parse::<toml::Table>()
        && let Some(toml::Value::Table(network)) = table.get("network")
        && let Ok(spec) = NetworkSpec::from_table(network, "batchprep.toml")
    {
        let _ = spec.ranges("batchprep.toml");
        let _ = spec.docker_settings("batchprep.toml");
    }
}

fn config_seeds(root: &Path) -> Vec<Vec<u8>> {
    let mut seeds = files(&root.join("testdata"), &["batchprep.toml"]);
    seeds.push(b"[network]\nvnet = [\"10.0.0.0/16\"]\nbip = \"172.17.0.1/16\"\n".to_vec());
    seeds
}

fn cidr(bytes: &[u8]) {
    let text = text(bytes);
    match parse_cidr(&text, "--vnet") {
        Ok(net) => {
            let again = net.to_string();
            assert!(
                parse_cidr(&again, "--vnet").is_ok(),
                "{text:?} -> {again:?}"
            );
        }
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains('\n'), "{message:?}");
        }
    }
    let _ = NetworkRange::parse(RangeKind::Vnet, &text, "--vnet");
    let _ = AddressPool::parse(&text, "--default-address-pool");
}

fn cidr_seeds(_: &Path) -> Vec<Vec<u8>> {
    [
        "10.0.0.0/8",
        "10.0.0.0/+8",
        "192.168.1.7/24",
        "fd00::/64",
        "::ffff:10.0.0.1/128",
        "10.10.0.0/16/24",
        "base=10.10.0.0/16,size=24",
        "0.0.0.0/0",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn credentials(bytes: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let file = dir.path().join("auth.json");
    if std::fs::write(&file, bytes).is_err() {
        return;
    }
    let paths = CredentialPaths {
        registry_auth_file: Some(file),
        ..CredentialPaths::default()
    };
    if let Err(e) = CredentialStore::load(&paths, None) {
        let message = e.to_string();
        assert!(!message.contains('\n'), "{message:?}");
    }
}

fn credentials_seeds(_: &Path) -> Vec<Vec<u8>> {
    vec![
        br#"{"auths": {"myacr.azurecr.io": {"auth": "dXNlcjpwYXNz"}}}"#.to_vec(),
        br#"{"auths": {"r.example.com": {"username": "u", "password": "p"}}, "credHelpers": {"x.io": "acr"}}"#.to_vec(),
        br#"{"auths": {"r": {"identitytoken": "t"}}, "credsStore": "desktop"}"#.to_vec(),
    ]
}

fn safe_text_target(bytes: &[u8]) {
    let text = text(bytes);
    let column = 1 + bytes.first().copied().unwrap_or(0) as usize * 7 % (text.chars().count() + 1);
    let width = 1 + bytes.get(1).copied().unwrap_or(0) as usize % 64;
    let (part, col) = safe_text::excerpt(&text, column, width);
    assert!(col <= part.chars().count() + 1, "{col} in {part:?}");
    let p = safe_text::printable(&text);
    assert!(!p.chars().any(char::is_control), "{p:?}");
    let _ = safe_text::template_expression(&text);
    let _ = safe_text::redact_userinfo(&text);
    let _ = safe_text::serde_message(&text);
    let _ = safe_text::value(&text);
    let _ = safe_text::assignment_secrets(&text);
}

fn safe_text_seeds(_: &Path) -> Vec<Vec<u8>> {
    [
        "[concat(parameters('user'), ':', 'hun''ter2')]",
        "https://user:pw@host/x@y",
        "invalid type: string \"hunter2\", expected u16",
        "a\n##vso[task.setvariable]\u{1b}[31m\u{202e}é",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}
