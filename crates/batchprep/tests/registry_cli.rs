//! `batchprep registry check` as users run it, against a real registry (Debian's docker-registry)
//! and the in-process Docker Hub server: exact output (the registry's port and image digests are
//! replaced by `REGISTRY` and `sha256:DIGEST`), exit codes, and no secret in any output.

#[path = "../../batchprep-oci/tests/registry_harness/mod.rs"]
mod registry_harness;

use std::{
    io::Write as _,
    path::Path,
    process::{Command, Stdio},
};

use registry_harness::{ALICE, Auth, HubServer, Registry, TokenServer};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn batchprep(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>, cwd: &Path) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_batchprep"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("DOCKER_CONFIG")
        .env_remove("XDG_RUNTIME_DIR")
        .env("HOME", cwd)
        .env("XDG_CONFIG_HOME", cwd.join(".config"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Replaces the registry address and digests, which change from run to run.
fn normalise(s: &str, host: &str) -> String {
    let s = s.replace(host, "REGISTRY");
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find("sha256:") {
        out.push_str(&rest[..i]);
        let hex = &rest[i + 7..];
        let n = hex.bytes().take_while(|b| b.is_ascii_hexdigit()).count();
        if n == 64 {
            out.push_str("sha256:DIGEST");
            rest = &hex[64..];
        } else {
            out.push_str("sha256:");
            rest = hex;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn check_reports_each_image_and_fails_on_refused_ones() {
    let registry = Registry::start(Auth::Anonymous, false);
    registry.push("team/app:1.0");
    let h = registry.host.clone();
    let dir = tempfile::tempdir().unwrap();
    let run = batchprep(
        &[
            "registry",
            "check",
            &format!("docker://{h}/team/app:1.0"),
            &format!("{h}/team/app:2.0"),
            &format!("{h}/team/gone"),
            "--insecure-registry",
            &h,
        ],
        &[],
        None,
        dir.path(),
    );
    assert_eq!(run.stderr, "");
    assert_eq!(
        normalise(&run.stdout, &h),
        "\
REGISTRY/team/app:1.0
  outcome:    pullable
  digest:     sha256:DIGEST
  platforms:  linux/amd64
  auth:       anonymous
REGISTRY/team/app:2.0
  outcome:    manifest-not-found
  auth:       anonymous
  detail:     team/app has no manifest 2.0
REGISTRY/team/gone:latest
  outcome:    repository-not-found
  auth:       anonymous
  detail:     repository team/gone does not exist on REGISTRY

error[image-not-pullable]: REGISTRY/team/app:2.0
  = manifest-not-found: team/app has no manifest 2.0
  = why: Batch pulls `containerImageNames` while a node starts and task images when a task starts; a pull that fails leaves the node unusable or the task failed, long after the pool was created. The probe asks the registry exactly what a node would (a HEAD of the manifest with the node's Accept list, after the registry's token flow) and reports the outcome: `credentials-required` (anonymous pulls refused; Docker Hub answers the same for private and missing repositories), `bad-credentials`, `denied` (authenticated but not authorised), `repository-not-found`, `manifest-not-found` (tag or digest missing), or `rate-limited`.
  = fix: push `2.0`, or fix the tag or digest

error[image-not-pullable]: REGISTRY/team/gone:latest
  = repository-not-found: repository team/gone does not exist on REGISTRY
  = fix: push the image, or fix the repository name `team/gone`

2 errors, 0 warnings, 0 notes
"
    );
    assert_eq!(run.code, 1);
}

#[test]
fn could_not_check_exits_2_and_json_lists_every_image() {
    let registry = Registry::start(Auth::Anonymous, false);
    registry.push("app:1");
    let h = registry.host.clone();
    let closed = format!("127.0.0.1:{}", registry_harness::free_port());
    let dir = tempfile::tempdir().unwrap();
    let run = batchprep(
        &[
            "registry",
            "check",
            &format!("{h}/app:1"),
            &format!("{closed}/app:1"),
            "--insecure-registry",
            &h,
            "--format",
            "json",
        ],
        &[],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let images = doc["images"].as_array().unwrap();
    let outcomes: Vec<(&str, &str)> = images
        .iter()
        .map(|i| {
            (
                i["reference"].as_str().unwrap(),
                i["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (format!("{h}/app:1").as_str(), "pullable"),
            (format!("{closed}/app:1").as_str(), "unreachable"),
        ]
    );
    assert_eq!(images[0]["platforms"], serde_json::json!(["linux/amd64"]));
    assert_eq!(
        images[0]["auth"],
        serde_json::json!({"scheme": "anonymous"})
    );
    assert_eq!(doc["findings"], serde_json::json!([]));
}

#[test]
fn docker_hub_risk_for_a_nat_pool() {
    let hub = HubServer::start();
    let dir = tempfile::tempdir().unwrap();
    let args = |extra: &[&str]| {
        let mut a = vec![
            "registry".to_owned(),
            "check".into(),
            "ubuntu:24.04".into(),
            "--docker-hub-host".into(),
            hub.host.clone(),
            "--insecure-registry".into(),
            hub.host.clone(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let a = args(&["--nodes", "200"]);
    let run = batchprep(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
        None,
        dir.path(),
    );
    assert_eq!(run.stderr, "");
    assert_eq!(
        run.stdout,
        "\
docker.io/library/ubuntu:24.04
  outcome:    pullable
  digest:     sha256:2e863c44b718727c860746568e1d54afd13b2fa71b160f5cd9058fc436217b30
  platforms:  not read (a Docker Hub manifest GET counts as a pull)
  auth:       bearer (anonymous token)
  rate limit: 76 of 100 pulls left per 6 h (counted against 192.0.2.10)

error[docker-hub-rate-limit-risk]: Docker Hub pulls
  = 200 node(s) through 1 egress address(es) pull 1 Docker Hub image(s) x 1 architecture(s): 200 pulls per address per 6 h against a quota of 76 (remaining now, from Docker Hub's ratelimit-remaining, anonymous): docker.io/library/ubuntu:24.04
  = why: Every node pulls every image itself, and each manifest GET of each image on each node is a Docker Hub pull (a multi-arch image counts once per architecture pulled). Docker Hub allows, per 6 hours, 100 pulls per IPv4 address (or IPv6 /64) for anonymous users and 200 for a Personal account. Nodes behind one NAT (`nopublicipaddresses`) share one address and one quota; BatchManaged public IPs give one address per up to 100 nodes. When the quota runs out, pulls fail with 429 TOOMANYREQUESTS and nodes go unusable or tasks fail long after the pipeline said green. The finding is an error when the pulls needed per address exceed the quota (the remaining count Docker Hub reported when known, else the documented limit), and a warning when they use more than 80% of it.
  = fix: give the pool Docker Hub credentials (200 pulls per 6 h per address on a Personal account, unlimited on paid plans); mirror the images into ACR (`az acr import` or an ACR cache rule for docker.io); spread the nodes over at least 3 egress addresses

1 error, 0 warnings, 0 notes
"
    );
    assert_eq!(run.code, 1);

    // Four addresses: 50 pulls each, within the quota: clean.
    let a = args(&["--nodes", "200", "--egress-ips", "4", "--format", "json"]);
    let run = batchprep(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["docker_hub"],
        serde_json::json!({
            "images": ["docker.io/library/ubuntu:24.04"],
            "nodes": 200,
            "egress_addresses": 4,
            "architectures": 1,
            "pulls_per_address": 50,
            "quota": 76,
            "quota_basis": "remaining",
            "window_secs": 21600,
            "authenticated": false,
        })
    );
    assert_eq!(
        doc["images"][0]["rate_limit"],
        serde_json::json!({"limit": 100, "remaining": 76, "window_secs": 21600, "source": "192.0.2.10"})
    );
    // The probe never spent a pull: only HEADs of manifests.
    assert!(
        hub.manifest_requests()
            .iter()
            .all(|r| r.starts_with("HEAD "))
    );
}

/// `check` counts the pool's own nodes and addresses; `[registry]`'s `nodes` is `registry check`'s
/// (which has no pool), its `hub-limit` applies to both.
#[test]
fn check_counts_the_pools_nodes_against_the_configured_hub_limit() {
    let hub = HubServer::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pool.json"),
        serde_json::json!({
            "id": "nat-pool",
            "vmSize": "standard_d2s_v3",
            "virtualMachineConfiguration": {
                "imageReference": {"publisher": "canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"},
                "nodeAgentSKUId": "batch.node.ubuntu 24.04",
                "containerConfiguration": {"type": "dockerCompatible", "containerImageNames": ["ubuntu:24.04"]}
            },
            "targetDedicatedNodes": 4,
            "networkConfiguration": {"publicIPAddressConfiguration": {"provision": "nopublicipaddresses"}}
        })
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("batchprep.toml"),
        "[registry]\nnodes = 1000\nhub-limit = 3\n",
    )
    .unwrap();
    let run = batchprep(
        &[
            "check",
            "pool.json",
            // The image itself is read locally: the hand-made Hub answers only the probe.
            "--local",
            &format!(
                "ubuntu:24.04=oci:{}/../../testdata/images/hello:1.0",
                env!("CARGO_MANIFEST_DIR")
            ),
            "--docker-hub-host",
            &hub.host,
            "--insecure-registry",
            &hub.host,
            "--format",
            "json",
        ],
        &[],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let risk: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["name"] == "docker-hub-rate-limit-risk")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        risk,
        [
            "4 node(s) through 1 egress address(es) pull 1 Docker Hub image(s) x 1 architecture(s): 4 pulls per address per 6 h against a quota of 3 (--hub-limit, anonymous): docker.io/library/ubuntu:24.04"
        ]
    );
}

#[test]
fn bad_references_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (arg, stderr) in [
        (
            "Ubuntu",
            "error: invalid image reference `Ubuntu`: repository name must be lowercase\n",
        ),
        (
            "ubuntu@sha256:abc",
            "error: invalid image reference `ubuntu@sha256:abc`: malformed digest\n",
        ),
        ("", "error: empty image reference\n"),
    ] {
        let run = batchprep(&["registry", "check", arg], &[], None, dir.path());
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (2, "", stderr),
            "{arg:?}"
        );
    }
    let run = batchprep(
        &["registry", "check", "ubuntu", "--creds", "nocolon"],
        &[],
        None,
        dir.path(),
    );
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (2, "error: --creds must be USER:PASSWORD\n")
    );
}

const SECRET: &str = "Sup3r-S3cret-Pa55";

/// Every output format and `-v`, for credentials from every source: the secret is never printed.
#[test]
fn secrets_never_appear_in_any_output() {
    let registry = Registry::start(
        Auth::Htpasswd {
            user: "ci".into(),
            password: SECRET.into(),
        },
        true,
    );
    registry.push("app:1");
    let h = registry.host.clone();
    let ca = registry.ca_dir.clone().unwrap();
    let ca = ca.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let image = format!("{h}/app:1");
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };

    // Sources: --creds, --password-stdin, REGISTRY_AUTH_FILE, DOCKER_CONFIG auths, credHelpers,
    // credsStore, and podman's runtime auth.json.
    let auth_file = dir.path().join("auth.json");
    std::fs::write(
        &auth_file,
        format!(
            r#"{{"auths":{{"{h}":{{"auth":"{}"}}}}}}"#,
            b64(&format!("ci:{SECRET}"))
        ),
    )
    .unwrap();
    let docker_dir = dir.path().join("docker");
    std::fs::create_dir_all(&docker_dir).unwrap();
    std::fs::write(
        docker_dir.join("config.json"),
        format!(
            r#"{{"auths":{{"https://{h}":{{"auth":"{}"}}}}}}"#,
            b64(&format!("ci:{SECRET}"))
        ),
    )
    .unwrap();
    let helper_home = dir.path().join("helper");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(helper_home.join("docker")).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(
        helper_home.join("docker/config.json"),
        format!(r#"{{"credHelpers":{{"{h}":"batchprep-test"}}}}"#),
    )
    .unwrap();
    registry_harness::credential_helper(
        &bin,
        "batchprep-test",
        &h,
        &format!(r#"{{"ServerURL":"{h}","Username":"ci","Secret":"{SECRET}"}}"#),
    );
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let auth_file = auth_file.to_str().unwrap().to_owned();
    let docker_dir = docker_dir.to_str().unwrap().to_owned();
    let helper_docker = helper_home.join("docker").to_str().unwrap().to_owned();
    // credsStore with the placeholder `auths` entry Docker writes beside it.
    let store_docker = dir.path().join("store");
    std::fs::create_dir_all(&store_docker).unwrap();
    std::fs::write(
        store_docker.join("config.json"),
        format!(r#"{{"credsStore":"batchprep-test","auths":{{"{h}":{{}}}}}}"#),
    )
    .unwrap();
    let store_docker = store_docker.to_str().unwrap().to_owned();
    // Podman's default location: $XDG_RUNTIME_DIR/containers/auth.json.
    let runtime_dir = dir.path().join("run");
    std::fs::create_dir_all(runtime_dir.join("containers")).unwrap();
    std::fs::write(
        runtime_dir.join("containers/auth.json"),
        format!(
            r#"{{"auths":{{"{h}":{{"auth":"{}"}}}}}}"#,
            b64(&format!("ci:{SECRET}"))
        ),
    )
    .unwrap();
    let runtime_dir = runtime_dir.to_str().unwrap().to_owned();
    let runtime_auth_file = format!("{runtime_dir}/containers/auth.json");
    let creds = format!("ci:{SECRET}");
    let wrong = format!("ci:{SECRET}-wrong");
    type Source<'a> = (
        &'a str,
        Vec<&'a str>,
        Vec<(&'a str, &'a str)>,
        Option<String>,
    );
    let sources: Vec<Source<'_>> = vec![
        ("--creds", vec!["--creds", &creds], vec![], None),
        ("--creds (wrong)", vec!["--creds", &wrong], vec![], None),
        (
            "--password-stdin",
            vec!["--username", "ci", "--password-stdin"],
            vec![],
            Some(format!("{SECRET}\n")),
        ),
        (
            "REGISTRY_AUTH_FILE",
            vec![],
            vec![("REGISTRY_AUTH_FILE", &auth_file)],
            None,
        ),
        // The flag wins over the variable (which names another file that would work too).
        (
            "--authfile",
            vec!["--authfile", &auth_file],
            vec![("REGISTRY_AUTH_FILE", &runtime_auth_file)],
            None,
        ),
        (
            "DOCKER_CONFIG",
            vec![],
            vec![("DOCKER_CONFIG", &docker_dir)],
            None,
        ),
        (
            "credential helper",
            vec![],
            vec![("DOCKER_CONFIG", &helper_docker), ("PATH", &path)],
            None,
        ),
        (
            "credsStore",
            vec![],
            vec![("DOCKER_CONFIG", &store_docker), ("PATH", &path)],
            None,
        ),
        (
            "XDG_RUNTIME_DIR auth.json",
            vec![],
            vec![("XDG_RUNTIME_DIR", &runtime_dir)],
            None,
        ),
    ];
    let expected_auth = [
        "basic as ci (command-line flags)",
        "basic as ci (command-line flags)",
        "basic as ci (command-line flags)",
        &format!("basic as ci (auth file {auth_file})"),
        &format!("basic as ci (auth file {auth_file})"),
        &format!("basic as ci (docker config {docker_dir}/config.json)"),
        "basic as ci (credential helper docker-credential-batchprep-test)",
        "basic as ci (credential helper docker-credential-batchprep-test)",
        &format!("basic as ci (auth file {runtime_dir}/containers/auth.json)"),
    ];
    let missing = dir.path().join("no-such-auth.json");
    let run = batchprep(
        &[
            "registry",
            "check",
            &image,
            "--authfile",
            missing.to_str().unwrap(),
        ],
        &[],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        format!(
            "error: --authfile {}: No such file or directory (os error 2)\n",
            missing.display()
        )
    );
    for ((name, flags, env, stdin), auth) in sources.iter().zip(expected_auth) {
        for format in ["human", "json", "sarif", "junit", "github", "azure"] {
            let mut args = vec![
                "-v",
                "registry",
                "check",
                &image,
                "--cert-dir",
                ca,
                "--format",
                format,
            ];
            args.extend(flags.iter().copied());
            let run = batchprep(&args, env, stdin.as_deref(), dir.path());
            let all = format!("{}{}", run.stdout, run.stderr);
            assert!(
                !all.contains(SECRET),
                "{name} --format {format} printed the secret:\n{all}"
            );
            assert!(
                !all.contains(&b64(&format!("ci:{SECRET}"))),
                "{name}: base64 of the secret"
            );
            let wrong = name.contains("wrong");
            assert_eq!(
                run.code,
                if wrong { 1 } else { 0 },
                "{name} {format}: {all}"
            );
            if format == "human" {
                assert!(
                    run.stdout.contains(&format!("  auth:       {auth}\n")),
                    "{name}: {}",
                    run.stdout
                );
                let outcome = if wrong { "bad-credentials" } else { "pullable" };
                assert!(
                    run.stdout.contains(&format!("  outcome:    {outcome}\n")),
                    "{name}: {}",
                    run.stdout
                );
                assert!(
                    run.stderr.contains(&format!(
                        "batchprep: {image}: HEAD https://{h}/v2/app/manifests/1 -> {}\n",
                        if wrong { "401 Unauthorized" } else { "200 OK" }
                    )),
                    "{}",
                    run.stderr
                );
            }
        }
    }
}

#[test]
fn token_registry_with_identity_token_in_docker_config() {
    let registry = Registry::start(Auth::Token(TokenServer::start()), false);
    registry.push("private/app:1");
    let h = registry.host.clone();
    let dir = tempfile::tempdir().unwrap();
    let docker = dir.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths":{{"{h}":{{"auth":"","identitytoken":"{}"}}}}}}"#,
            registry_harness::ALICE_REFRESH_TOKEN
        ),
    )
    .unwrap();
    let image = format!("{h}/private/app:1");
    let docker = docker.to_str().unwrap();
    let run = batchprep(
        &["-v", "registry", "check", &image, "--insecure-registry", &h],
        &[("DOCKER_CONFIG", docker)],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "  auth:       bearer ({})\n",
            format_args!("docker config {docker}/config.json")
        )),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains(registry_harness::ALICE_REFRESH_TOKEN));
    assert!(
        run.stderr.contains("token POST refresh token"),
        "{}",
        run.stderr
    );
    let _ = ALICE;
}

#[test]
fn registry_settings_from_batchprep_toml() {
    let hub = HubServer::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("batchprep.toml"),
        format!(
            "[registry]\nnodes = 200\negress-ips = 2\ninsecure-registries = [\"{}\"]\n",
            hub.host
        ),
    )
    .unwrap();
    let run = batchprep(
        &[
            "registry",
            "check",
            "ubuntu:24.04",
            "--docker-hub-host",
            &hub.host,
            "--format",
            "json",
        ],
        &[],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["docker_hub"]["pulls_per_address"], 100);
    assert_eq!(doc["findings"][0]["id"], "BP201");
    assert_eq!(doc["findings"][0]["severity"], "error");

    // A flag wins over the file: 4 addresses, 50 pulls each.
    let run = batchprep(
        &[
            "registry",
            "check",
            "ubuntu:24.04",
            "--docker-hub-host",
            &hub.host,
            "--egress-ips",
            "4",
        ],
        &[],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    std::fs::write(dir.path().join("batchprep.toml"), "[registry]\nnode = 3\n").unwrap();
    let run = batchprep(&["registry", "check", "ubuntu"], &[], None, dir.path());
    assert_eq!(
        (run.code, run.stderr),
        (
            2,
            format!(
                "error: {}: [registry]: unknown field `node`, expected one of `insecure-registries`, `cert-dir`, `nodes`, `egress-ips`, `hub-limit`\n",
                dir.path().join("batchprep.toml").display()
            )
        )
    );
}

/// One registry setting for every command that reads a registry: `--insecure-registry`,
/// `BATCHPREP_INSECURE_REGISTRIES` and `[registry] insecure-registries` each let `inspect`, `lint`,
/// `registry check` and `check` read from a plain-HTTP registry; without any of them each fails with
/// exit 2 (HTTPS against a plain-HTTP registry).
#[test]
fn one_registry_setting_from_flag_env_or_config_on_every_command() {
    let registry = Registry::start(Auth::Anonymous, false);
    registry.push("team/app:1.0");
    let h = registry.host.clone();
    let image = format!("{h}/team/app:1.0");
    let dir = tempfile::tempdir().unwrap();
    let pool = dir.path().join("pool.json");
    std::fs::write(
        &pool,
        serde_json::json!({
            "id": "p",
            "vmSize": "standard_d2s_v3",
            "virtualMachineConfiguration": {
                "imageReference": {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2204", "version": "latest"},
                "nodeAgentSKUId": "batch.node.ubuntu 22.04",
                "containerConfiguration": {"type": "dockerCompatible", "containerImageNames": [image]}
            }
        })
        .to_string(),
    )
    .unwrap();
    let pool = pool.to_str().unwrap().to_owned();
    let commands: Vec<(&str, Vec<String>)> = vec![
        (
            "inspect",
            vec!["inspect".into(), image.clone(), "--no-cache".into()],
        ),
        (
            "lint",
            vec!["lint".into(), image.clone(), "--no-cache".into()],
        ),
        (
            "registry check",
            vec!["registry".into(), "check".into(), image.clone()],
        ),
        (
            "check",
            vec![
                "check".into(),
                pool.clone(),
                "--no-cache".into(),
                "--format".into(),
                "json".into(),
            ],
        ),
    ];
    let config = dir.path().join("batchprep.toml");
    for (name, args) in &commands {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let _ = std::fs::remove_file(&config);
        let without = batchprep(&args, &[], None, dir.path());
        assert_eq!(
            without.code, 2,
            "{name} without a setting: {}{}",
            without.stdout, without.stderr
        );

        let mut with_flag = args.clone();
        with_flag.extend(["--insecure-registry", &h]);
        let flag = batchprep(&with_flag, &[], None, dir.path());
        let env = batchprep(
            &args,
            &[("BATCHPREP_INSECURE_REGISTRIES", &h)],
            None,
            dir.path(),
        );
        std::fs::write(
            &config,
            format!("[registry]\ninsecure-registries = [\"{h}\"]\n"),
        )
        .unwrap();
        let file = batchprep(&args, &[], None, dir.path());
        for (source, run) in [("flag", &flag), ("environment", &env), ("config", &file)] {
            assert!(
                matches!(run.code, 0 | 1),
                "{name} with the {source}: exit {}: {}{}",
                run.code,
                run.stdout,
                run.stderr
            );
            assert!(
                !run.stderr.contains("error"),
                "{name} with the {source}: {}",
                run.stderr
            );
        }
        assert_eq!(flag.stdout, env.stdout, "{name}: flag and environment");
        assert_eq!(flag.stdout, file.stdout, "{name}: flag and config");
    }
}
