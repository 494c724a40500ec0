//! One run, several reports: `--output FORMAT=FILE`, SARIF locations relative to `%SRCROOT%`, colour on
//! a terminal (a real pseudo-terminal from util-linux `script`) and none in a pipe, and `--quiet`.

use std::{
    path::Path,
    process::{Command, Output},
};

use batchprep_testkit::repo_root as root;

/// batchprep in `dir`, with the README example's pinned "today" and no colour settings inherited.
fn batchprep_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_batchprep"));
    cmd.args(args)
        .current_dir(dir)
        .env("BATCHPREP_TODAY", "2026-11-28")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// The README example's arguments, with paths for running from `dir`.
fn example(from: &Path) -> Vec<String> {
    let ex = |f: &str| {
        let path = root().join("testdata/example").join(f);
        pathdiff(from, &path)
    };
    vec![
        "check".into(),
        ex("pool.json"),
        "--task".into(),
        ex("tasks.json"),
        "--config".into(),
        ex("batchprep.toml"),
        "--offline".into(),
    ]
}

/// `path` relative to `from` when it is under it, else absolute (what a user would type).
fn pathdiff(from: &Path, path: &Path) -> String {
    path.strip_prefix(from)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}

fn run(dir: &Path, args: &[String], extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(extra);
    batchprep_in(dir, &all, env)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn one_run_writes_human_sarif_and_junit() {
    let out_dir = tempfile::tempdir().unwrap();
    let sarif = out_dir.path().join("results.sarif");
    let junit = out_dir.path().join("results.xml");
    let root = root();
    let args = example(&root);
    let sarif_arg = format!("--output=sarif={}", sarif.display());
    let junit_arg = format!("--output=junit={}", junit.display());
    let out = run(&root, &args, &[&sarif_arg, &junit_arg], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");

    // Each file is exactly what `--format` gives for the same run; stdout stays human.
    let alone = |format: &str| {
        let o = run(&root, &args, &["--format", format], &[]);
        assert_eq!(o.status.code(), Some(1));
        text(&o.stdout)
    };
    assert_eq!(text(&out.stdout), alone("human"));
    assert_eq!(std::fs::read_to_string(&sarif).unwrap(), alone("sarif"));
    assert_eq!(std::fs::read_to_string(&junit).unwrap(), alone("junit"));
    // Nothing else is left in the directory (no temporary files).
    let mut names: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["results.sarif", "results.xml"]);
}

#[test]
fn a_bad_output_is_one_line_and_exit_2_and_leaves_no_file() {
    let root = root();
    let args = example(&root);
    let missing = tempfile::tempdir()
        .unwrap()
        .path()
        .join("gone/results.sarif");
    let cases = [
        (
            "--output=yaml=x".to_owned(),
            "error: invalid value 'yaml=x' for '--output <FORMAT=FILE>': `yaml` is not a format (one of: human, json, sarif, junit, github, azure)",
        ),
        (
            "--output=results.sarif".to_owned(),
            "error: invalid value 'results.sarif' for '--output <FORMAT=FILE>': `results.sarif`: expected FORMAT=FILE, e.g. sarif=results.sarif",
        ),
        (format!("--output=sarif={}", missing.display()), ""),
    ];
    for (flag, expected) in cases {
        let out = run(&root, &args, &[&flag], &[]);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let err = text(&out.stderr);
        if expected.is_empty() {
            assert_eq!(err.lines().count(), 1, "{flag}: {err}");
            assert!(
                err.starts_with(&format!("error: --output {}: ", missing.display())),
                "{err}"
            );
        } else {
            // clap's usage errors: the line, then its pointer to --help.
            assert_eq!(
                err,
                format!("{expected}\n\nFor more information, try '--help'.\n")
            );
        }
        assert_eq!(
            text(&out.stdout),
            "",
            "{flag}: no report when an output cannot be written"
        );
    }
    assert!(!missing.exists());
}

fn sarif_locations(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut seen = Vec::new();
    for r in doc["runs"][0]["results"].as_array().unwrap() {
        if let Some(a) = r["locations"][0]["physicalLocation"].get("artifactLocation") {
            if !seen.contains(a) {
                seen.push(a.clone());
            }
        }
    }
    seen
}

#[test]
fn sarif_locations_are_relative_to_the_source_root() {
    let root = root();
    let root_uri = format!("file://{}/", root.display());
    // From a subdirectory, with paths typed as `../..`: still relative to the repository root.
    let sub = root.join("crates/batchprep");
    let args = example(&sub);
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.replace(&format!("{}/", root.display()), "../../"))
        .collect();
    assert_eq!(args[1], "../../testdata/example/pool.json");
    let out = run(&sub, &args, &["--format", "sarif"], &[]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["runs"][0]["originalUriBaseIds"],
        serde_json::json!({ "%SRCROOT%": { "uri": root_uri } })
    );
    let rel = |f: &str| serde_json::json!({ "uri": format!("testdata/example/{f}"), "uriBaseId": "%SRCROOT%" });
    assert_eq!(
        sarif_locations(&doc),
        [rel("batchprep.toml"), rel("pool.json"), rel("tasks.json")]
    );

    // A file outside the source root is an absolute file URI, percent-encoded.
    let outside = tempfile::tempdir().unwrap();
    let pool = outside.path().join("my pool.json");
    std::fs::copy(root.join("testdata/example/pool.json"), &pool).unwrap();
    let mut args = example(&root);
    args[1] = pool.display().to_string();
    let out = run(&root, &args, &["--format", "sarif"], &[]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let locations = sarif_locations(&doc);
    let pool_uri = format!("file://{}/my%20pool.json", outside.path().display());
    assert!(
        locations.contains(&serde_json::json!({ "uri": pool_uri })),
        "{locations:?}"
    );

    // --source-root moves the base.
    let args = example(&root);
    let out = run(
        &root,
        &args,
        &["--format", "sarif", "--source-root", "testdata"],
        &[],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/testdata/", root.display())
    );
    assert_eq!(
        sarif_locations(&doc)[1],
        serde_json::json!({ "uri": "example/pool.json", "uriBaseId": "%SRCROOT%" })
    );
    // Rules carry a helpUri only when they have a reference to give.
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for rule in rules {
        let doc = batchprep_lint::rule_doc(rule["name"].as_str().unwrap()).unwrap();
        assert_eq!(
            rule.get("helpUri").and_then(|u| u.as_str()),
            doc.references.first().map(String::as_str),
            "{}",
            rule["name"]
        );
    }
}

/// Runs the README example under a pseudo-terminal (`script`), returning what the terminal shows.
fn on_a_terminal(extra: &str, env: &[(&str, &str)]) -> String {
    let root = root();
    let bin = env!("CARGO_BIN_EXE_batchprep");
    let args: Vec<String> = example(&root)
        .iter()
        .map(|a| shlex::try_quote(a).unwrap().into_owned())
        .collect();
    let command = format!("{bin} {} {extra}", args.join(" "));
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &command, "/dev/null"])
        .current_dir(&root)
        .env("BATCHPREP_TODAY", "2026-11-28")
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("script (util-linux) runs the command on a pseudo-terminal");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    text(&out.stdout).replace("\r\n", "\n")
}

#[test]
fn the_human_report_is_coloured_on_a_terminal_and_plain_in_a_pipe() {
    let root = root();
    let args = example(&root);
    let piped = text(&run(&root, &args, &[], &[]).stdout);
    assert!(!piped.contains('\x1b'));

    let terminal = on_a_terminal("", &[]);
    assert!(
        terminal.contains("\n\x1b[1m\x1b[91merror[docker-bridge-overlap]\x1b[0m\x1b[1m: docker0 172.17.0.0/16\x1b[0m\n"),
        "{terminal:?}"
    );
    // The colour is escapes only: without them the terminal shows the piped report.
    assert_eq!(strip_ansi(&terminal), piped);

    assert_eq!(on_a_terminal("", &[("NO_COLOR", "1")]), piped);
    assert_eq!(on_a_terminal("--color never", &[]), piped);
    let forced = text(&run(&root, &args, &[], &[("CLICOLOR_FORCE", "1")]).stdout);
    assert_eq!(forced, terminal);
    let always = text(&run(&root, &args, &["--color", "always"], &[("NO_COLOR", "1")]).stdout);
    assert_eq!(always, terminal);
}

/// Removes `ESC [ ... m` sequences.
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn quiet_prints_the_summary_line_and_keeps_the_exit_code() {
    let root = root();
    let args = example(&root);
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("r.json");
    let json_arg = format!("--output=json={}", json.display());
    for flag in ["-q", "--quiet"] {
        let out = run(&root, &args, &[flag, &json_arg], &[]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(text(&out.stdout), "5 errors, 5 warnings, 3 notes\n");
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(doc["findings"].as_array().unwrap().len(), 13);
    }
}
