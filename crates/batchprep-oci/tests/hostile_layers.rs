//! Layers built to make the merged view slow or large (issue #14): a path of half a million
//! components, and one layer that turns a crowded directory into a file and back many times. Each
//! workload runs in a child copy of this test binary under `prlimit`, so a quadratic algorithm fails
//! on its address-space or CPU-time limit instead of passing slowly; no wall clock is read.

use std::process::Command;

use batchprep_oci::{EntryKind, MergedFs, digest::Algorithm, index_layer};

/// Set in the child that runs a workload under its limits.
const CHILD: &str = "BATCHPREP_HOSTILE_CHILD";

/// Runs test `name` again in a child process under `prlimit` `limits`; true when this is the child.
fn in_limited_child(name: &str, limits: &[&str]) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let out = Command::new("prlimit")
        .args(limits)
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", name, "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("prlimit runs (util-linux)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} under {limits:?}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    false
}

fn append(b: &mut tar::Builder<Vec<u8>>, path: &str, kind: tar::EntryType) {
    let mut h = tar::Header::new_gnu();
    h.set_size(0);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_entry_type(kind);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    b.append_data(&mut h, path, &[][..]).unwrap();
}

fn merged(tar: &[u8]) -> MergedFs {
    let digest = batchprep_oci::Digest::of(Algorithm::Sha256, tar).to_string();
    let index = index_layer(tar, "application/vnd.oci.image.layer.v1.tar", &digest).unwrap();
    MergedFs::from_layers(vec![index])
}

#[test]
fn a_path_of_half_a_million_components_costs_linear_memory() {
    // Storing each missing parent with its full path would need about 250 GB here.
    if !in_limited_child(
        "a_path_of_half_a_million_components_costs_linear_memory",
        &["--as=2147483648"],
    ) {
        return;
    }
    const DEPTH: usize = 500_000;
    let path = vec!["d"; DEPTH].join("/");
    let mut b = tar::Builder::new(Vec::new());
    append(&mut b, &path, tar::EntryType::Regular);
    let fs = merged(&b.into_inner().unwrap());
    assert_eq!(fs.len(), DEPTH + 1);
    let deepest = format!("/{path}");
    assert_eq!(fs.entry(&deepest).unwrap().kind, EntryKind::File);
    assert_eq!(fs.entry(&deepest).unwrap().layer, 0);
    let parent = &deepest[..deepest.len() - 2];
    let dir = fs.entry(parent).unwrap();
    assert_eq!((dir.kind, dir.mode, dir.uid), (EntryKind::Dir, 0o755, 0));
    assert_eq!(fs.entry(&format!("{deepest}/x")), None);
}

#[test]
fn flipping_a_crowded_directory_costs_what_it_removes() {
    // Rescanning the 40,000 descendants on each of 40,000 flips is 1.6 billion steps.
    if !in_limited_child(
        "flipping_a_crowded_directory_costs_what_it_removes",
        &["--cpu=20"],
    ) {
        return;
    }
    const FILES: usize = 40_000;
    const FLIPS: usize = 40_000;
    let mut b = tar::Builder::new(Vec::new());
    append(&mut b, "d", tar::EntryType::Directory);
    for i in 0..FILES {
        append(&mut b, &format!("d/f{i}"), tar::EntryType::Regular);
    }
    for _ in 0..FLIPS {
        append(&mut b, "d", tar::EntryType::Regular);
        append(&mut b, "d", tar::EntryType::Directory);
    }
    append(&mut b, "d/last", tar::EntryType::Regular);
    let fs = merged(&b.into_inner().unwrap());
    // A runtime's unpacker removes the whole tree when a file replaces a directory.
    let paths: Vec<String> = fs.iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["/", "/d", "/d/last"]);
    assert_eq!(fs.entry("/d").unwrap().kind, EntryKind::Dir);
    assert_eq!(fs.entry("/d/f0"), None);
    assert_eq!(fs.removed_by("/d/f0"), None);
}
