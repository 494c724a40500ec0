//! Every bad image gets one line on stderr naming the file or blob, exit code 2, and nothing on
//! stdout. The images are hand-made (the tools refuse to write them) with correct digests unless the
//! digest is what is wrong.

use std::{path::Path, process::Command};

use batchprep_testkit::{LayoutWriter, TarBuilder, gzip, media, sha256, zstd};
use serde_json::json;

/// Runs `batchprep inspect ARGS` and returns (exit code, stdout, stderr).
fn inspect(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_batchprep"))
        .arg("inspect")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Asserts the one-line error and exit code 2 for `inspect oci:DIR:1.0`.
fn assert_error(dir: &Path, expected: &str) {
    let (code, stdout, stderr) = inspect(&[&format!("oci:{}:1.0", dir.display())]);
    assert_eq!(stderr, format!("error: {expected}\n"));
    assert_eq!((code, stdout.as_str()), (2, ""));
}

fn image_with_layer(dir: &Path, media_type: &str, layer: &[u8]) -> String {
    LayoutWriter::single(dir, "1.0", media_type, layer, json!({}));
    sha256(layer)
}

fn prefix(dir: &Path) -> String {
    format!("cannot read image oci:{}:1.0", dir.display())
}

#[test]
fn truncated_tar() {
    let tmp = tempfile::tempdir().unwrap();
    let mut tar = TarBuilder::new()
        .file("app/data", 0o644, &[7; 1000])
        .unfinished();
    tar.truncate(512 + 300);
    let layer = image_with_layer(tmp.path(), media::OCI_TAR, &tar);
    assert_error(
        tmp.path(),
        &format!(
            "{}: layer {layer}: tar ends inside entry `app/data`, whose header claims 1000 bytes",
            prefix(tmp.path())
        ),
    );
}

#[test]
fn header_claiming_a_huge_size() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = TarBuilder::new()
        .lying_file("big", 1 << 40, b"tiny")
        .finish();
    let layer = image_with_layer(tmp.path(), media::OCI_TAR, &tar);
    assert_error(
        tmp.path(),
        &format!(
            "{}: layer {layer}: tar ends inside entry `big`, whose header claims 1099511627776 bytes",
            prefix(tmp.path())
        ),
    );
}

#[test]
fn corrupt_gzip() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = TarBuilder::new().file("a", 0o644, &[1; 4096]).finish();
    let mut gz = gzip(&tar);
    let middle = gz.len() / 2;
    gz[middle..middle + 8].copy_from_slice(&[0xff; 8]);
    let layer = image_with_layer(tmp.path(), media::OCI_GZIP, &gz);
    assert_error(
        tmp.path(),
        &format!(
            "{}: layer {layer}: corrupt gzip data: corrupt deflate stream",
            prefix(tmp.path())
        ),
    );
}

#[test]
fn corrupt_zstd() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = TarBuilder::new().file("a", 0o644, &[1; 4096]).finish();
    let mut zst = zstd(&tar);
    let end = zst.len();
    zst[end - 6..].copy_from_slice(&[0xff; 6]);
    let layer = image_with_layer(tmp.path(), media::OCI_ZSTD, &zst);
    assert_error(
        tmp.path(),
        &format!(
            "{}: layer {layer}: corrupt zstd data: Data corruption detected",
            prefix(tmp.path())
        ),
    );
}

#[test]
fn digest_mismatch() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = TarBuilder::new().file("a", 0o644, b"real").finish();
    let claimed = sha256(b"something else");
    let w = LayoutWriter::new(tmp.path());
    let layer = w.blob_as(media::OCI_TAR, &tar, &claimed);
    let config = w.config("linux/amd64", json!({}), 1);
    let manifest = w.manifest(media::OCI_MANIFEST, &config, &[layer]);
    w.tag(&manifest, "1.0").finish();
    let hex = claimed.trim_start_matches("sha256:");
    assert_error(
        tmp.path(),
        &format!(
            "{}: blob {}/blobs/sha256/{hex} does not match its digest: expected {claimed}, found {}",
            prefix(tmp.path()),
            tmp.path().display(),
            sha256(&tar)
        ),
    );
}

#[test]
fn missing_blob() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = TarBuilder::new().file("a", 0o644, b"x").finish();
    let layer = image_with_layer(tmp.path(), media::OCI_TAR, &tar);
    std::fs::remove_file(
        tmp.path()
            .join("blobs/sha256")
            .join(layer.trim_start_matches("sha256:")),
    )
    .unwrap();
    assert_error(
        tmp.path(),
        &format!(
            "{}: blob {layer} is missing from {}",
            prefix(tmp.path()),
            tmp.path().display()
        ),
    );
}

#[test]
fn invalid_manifest_json() {
    let tmp = tempfile::tempdir().unwrap();
    let w = LayoutWriter::new(tmp.path());
    let manifest = w.blob(media::OCI_MANIFEST, b"{\"schemaVersion\": 2, \"layers\": [");
    w.tag(&manifest, "1.0").finish();
    let hex = manifest["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:");
    assert_error(
        tmp.path(),
        &format!(
            "{}: invalid manifest JSON in {}/blobs/sha256/{hex}: EOF while parsing a list at line 1 column 32",
            prefix(tmp.path()),
            tmp.path().display()
        ),
    );
}

#[test]
fn unknown_layer_media_type() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = TarBuilder::new().file("a", 0o644, b"x").finish();
    let layer = image_with_layer(tmp.path(), "application/vnd.example.layer.v1.tar+lz4", &tar);
    assert_error(
        tmp.path(),
        &format!(
            "{}: layer {layer} has unknown media type `application/vnd.example.layer.v1.tar+lz4`",
            prefix(tmp.path())
        ),
    );
}

#[test]
fn entry_climbing_out_of_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = TarBuilder::new()
        .file("app/../../etc/shadow", 0o644, b"x")
        .finish();
    let layer = image_with_layer(tmp.path(), media::OCI_TAR, &tar);
    assert_error(
        tmp.path(),
        &format!(
            "{}: layer {layer}: entry `app/../../etc/shadow` escapes the image root with `..`",
            prefix(tmp.path())
        ),
    );
}

#[test]
fn entry_with_an_absolute_path() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = TarBuilder::new().file("/etc/passwd", 0o644, b"x").finish();
    let layer = image_with_layer(tmp.path(), media::OCI_TAR, &tar);
    assert_error(
        tmp.path(),
        &format!(
            "{}: layer {layer}: entry `/etc/passwd` is an absolute path",
            prefix(tmp.path())
        ),
    );
}

#[test]
fn non_utf8_entry_name() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = TarBuilder::new()
        .file(b"app/caf\xe9.sh", 0o755, b"#!/bin/sh\n")
        .finish();
    let layer = image_with_layer(tmp.path(), media::OCI_TAR, &tar);
    assert_error(
        tmp.path(),
        &format!(
            "{}: layer {layer}: entry name \"app/caf\\xe9.sh\" is not UTF-8",
            prefix(tmp.path())
        ),
    );
}

#[test]
fn tag_not_in_the_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = TarBuilder::new().file("a", 0o644, b"x").finish();
    LayoutWriter::single(tmp.path(), "2.0", media::OCI_TAR, &tar, json!({}));
    assert_error(
        tmp.path(),
        &format!(
            "{}: tag `1.0` not found in {} (it has: 2.0)",
            prefix(tmp.path()),
            tmp.path().display()
        ),
    );
}

#[test]
fn not_an_image_directory() {
    let tmp = tempfile::tempdir().unwrap();
    assert_error(
        tmp.path(),
        &format!(
            "{}: cannot read {}/index.json: not an OCI image layout (no index.json)",
            prefix(tmp.path()),
            tmp.path().display()
        ),
    );
}

#[test]
fn unknown_transport() {
    let (code, stdout, stderr) = inspect(&["containers-storage:app"]);
    assert_eq!(
        stderr,
        "error: unknown transport in `containers-storage:app`: use oci:DIR[:TAG], \
         oci-archive:FILE[:TAG], docker-archive:FILE[:REF], docker-daemon:REF or docker://REF\n"
    );
    assert_eq!((code, stdout.as_str()), (2, ""));
}

#[test]
fn symlink_loop_is_a_result_not_a_hang() {
    // A loop is a fact about the image, not an unreadable image: inspect reports it and exits 0.
    let tmp = tempfile::tempdir().unwrap();
    let tar = TarBuilder::new()
        .symlink("bin/a", "b")
        .symlink("bin/b", "/bin/a")
        .finish();
    image_with_layer(tmp.path(), media::OCI_TAR, &tar);
    let (code, stdout, stderr) = inspect(&[
        &format!("oci:{}:1.0", tmp.path().display()),
        "--stat",
        "/bin/a",
        "--which",
        "a",
    ]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    let via = ["/bin/a", "/bin/b"].repeat(20).join(" -> ");
    let expected = format!(
        "stat /bin/a:\n  /bin/a symlink 0777 uid=0 gid=0 size=0 layer=0 -> b\n  via:     {via}\n  \
         resolves: symlink loop\nPATH:         /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n\
         which a: not found\n"
    );
    assert!(stdout.ends_with(&expected), "{stdout}");
}

/// `--timeout` reaches the image reader: a registry (on 127.0.0.1) that answers each request only
/// after two seconds is a timeout with `--timeout 1` and its real answer (404) with `--timeout 10`.
#[test]
fn timeout_bounds_each_wait_for_the_registry() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        // Bounded: the two runs make a handful of requests.
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                std::thread::sleep(std::time::Duration::from_secs(2));
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            });
        }
    });
    let host = format!("127.0.0.1:{port}");
    let image = format!("docker://{host}/x:1");
    let run =
        |timeout: &str| inspect(&[&image, "--insecure-registry", &host, "--timeout", timeout]);
    let (code, stdout, stderr) = run("1");
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (
            2,
            "",
            format!("error: cannot read image {image}: cannot read from the registry: error sending request for url (http://{host}/v2/x/manifests/1): operation timed out\n").as_str()
        )
    );
    let (code, _, stderr) = run("10");
    assert_eq!(code, 2);
    assert!(stderr.contains("code: 404"), "{stderr}");
}
