//! The shell conventions: `--version` with the catalog date, completion scripts that a real bash
//! completes with, and a manual page that groff renders without warnings.

use std::process::{Command, Output};

fn batchprep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_batchprep"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn version_names_the_catalog_date() {
    let as_of = batchprep_batch::catalog::as_of();
    assert_eq!(
        stdout(&batchprep(&["--version"])),
        format!(
            "batchprep {} (node-image catalog {as_of})\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

/// Runs bash's completion function the way the shell does on TAB after `line`.
fn bash_complete(line: &str) -> Vec<String> {
    let script = stdout(&batchprep(&["completions", "bash"]));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("batchprep.bash");
    std::fs::write(&file, script).unwrap();
    let words: Vec<&str> = line.split(' ').collect();
    let driver = format!(
        "source {file}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE={line:?}; COMP_POINT=${{#COMP_LINE}}; \
         _batchprep batchprep {cur:?} {prev:?}; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file = file.display(),
        words = words
            .iter()
            .map(|w| format!("{w:?}"))
            .collect::<Vec<_>>()
            .join(" "),
        cword = words.len() - 1,
        cur = words[words.len() - 1],
        prev = words[words.len() - 2],
    );
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-c", &driver])
        .output()
        .unwrap();
    stdout(&out).lines().map(str::to_owned).collect()
}

#[test]
fn bash_completes_subcommands_and_their_flags() {
    assert_eq!(bash_complete("batchprep ch"), ["check"]);
    let flags = bash_complete("batchprep check --fail");
    assert_eq!(flags, ["--fail-on"]);
    assert_eq!(bash_complete("batchprep completions z"), ["zsh"]);
}

#[test]
fn every_shell_gets_a_script() {
    for (shell, marker) in [
        ("bash", "complete -F _batchprep"),
        ("zsh", "#compdef batchprep"),
        ("fish", "complete -c batchprep"),
        ("elvish", "edit:completion:arg-completer[batchprep]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = stdout(&batchprep(&["completions", shell]));
        assert!(
            script.contains(marker),
            "{shell}: no `{marker}` in\n{script}"
        );
    }
    let bad = batchprep(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid value 'tcsh'"));
}

#[test]
fn man_page_renders_and_lists_the_commands() {
    let page = stdout(&batchprep(&["man"]));
    assert!(page.starts_with(".ie \\n(.g .ds Aq \\(aq"), "{page}");
    assert!(page.contains(".TH batchprep 1"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("batchprep.1");
    std::fs::write(&file, &page).unwrap();
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "groff warnings");
    for sub in ["check", "lint", "inspect", "completions", "man"] {
        assert!(
            page.contains(&format!("batchprep\\-{sub}(1)")),
            "no {sub} in\n{page}"
        );
    }
}

#[test]
fn man_out_dir_writes_a_page_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = batchprep(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    stdout(&out);
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    for page in [
        "batchprep.1",
        "batchprep-check.1",
        "batchprep-pool-emit.1",
        "batchprep-man.1",
    ] {
        assert!(pages.contains(&page.to_owned()), "no {page} in {pages:?}");
    }
}
