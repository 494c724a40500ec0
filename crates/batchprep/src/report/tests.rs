//! Every renderer against one report: exact output, and SARIF against the OASIS schema.

use std::path::PathBuf;

use batchprep_lint::{Finding, Location, Report, Severity};

use super::{CheckError, Extra, Format, RenderOptions, render};

fn finding(name: &str, id: &str, severity: Severity, subject: &str, message: &str) -> Finding {
    Finding {
        name: name.into(),
        id: id.into(),
        severity,
        subject: subject.into(),
        message: message.into(),
        fix: None,
        location: None,
        field: None,
        edits: Vec::new(),
    }
}

/// A report with a located error, an unlocated warning with a fix, and a note, where the located
/// finding points into a real file so `human` can show the source line.
fn sample(dir: &std::path::Path) -> Report {
    let file = dir.join("pool.json");
    std::fs::write(&file, "{\n  \"id\": \"render\",\n  \"startTask\": {\"commandLine\": \"docker daemon -g /mnt/docker\"}\n}\n").unwrap();
    let mut located = finding(
        "obsolete-docker-daemon-flags",
        "BP411",
        Severity::Error,
        "pool render",
        "the start task runs `docker daemon -g`, removed from Docker 17.12; a; b]c, 100%",
    );
    located.location = Some(Location {
        file: PathBuf::from("pool.json"),
        pointer: "/startTask/commandLine".into(),
        line: 3,
        column: 32,
    });
    let mut warned = finding(
        "mutable-image-tag",
        "BP412",
        Severity::Warning,
        "pool render",
        "`ubuntu:latest` is prefetched by tag <latest> & may differ between nodes",
    );
    warned.fix = Some("pin `ubuntu@sha256:...`".into());
    let noted = finding(
        "redundant-rm-option",
        "BP112",
        Severity::Note,
        "task t1",
        "`--rm` is redundant",
    );
    Report::new(vec![noted, warned, located], 1)
}

fn rendered(format: Format) -> String {
    let dir = tempfile::tempdir().unwrap();
    let report = sample(dir.path());
    let cwd = std::env::current_dir().unwrap();
    // Locations are relative to where the user ran the command; render from the temp dir.
    std::env::set_current_dir(dir.path()).unwrap();
    let mut out = Vec::new();
    let extra = Extra {
        human: "pool render: 3 checks\n".into(),
        ..Extra::default()
    };
    let options = RenderOptions {
        color: false,
        source_root: Some(dir.path().to_path_buf()),
    };
    let result = render(&mut out, format, &report, &extra, &options);
    std::env::set_current_dir(cwd).unwrap();
    result.unwrap();
    String::from_utf8(out).unwrap()
}

// One test for all formats: they change the process's working directory, which tests must not race on.
#[test]
fn every_format_renders_the_same_report() {
    insta::assert_snapshot!("human", rendered(Format::Human));
    insta::assert_snapshot!("json", rendered(Format::Json));
    insta::assert_snapshot!("junit", rendered(Format::Junit));
    insta::assert_snapshot!("github", rendered(Format::Github));
    insta::assert_snapshot!("azure", rendered(Format::Azure));

    let sarif: serde_json::Value = serde_json::from_str(&rendered(Format::Sarif)).unwrap();
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/schemas/sarif-2.1.0.json"
    );
    let schema = sarif_schema(&std::fs::read_to_string(schema_path).unwrap());
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["ruleId"], "BP411");
    assert_eq!(results[0]["level"], "error");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"],
        serde_json::json!({"startLine": 3, "startColumn": 32})
    );
    // The driver lists the whole catalog, so code scanning can show docs for every rule.
    assert_eq!(
        sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        batchprep_lint::catalog().len()
    );
}

#[test]
fn junit_with_no_findings_has_one_passing_case() {
    let mut out = Vec::new();
    render(
        &mut out,
        Format::Junit,
        &Report::new(vec![], 0),
        &Extra::default(),
        &RenderOptions::default(),
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(r#"tests="1" failures="0""#), "{text}");
    assert!(
        text.contains(r#"<testcase classname="batchprep" name="no findings"/>"#),
        "{text}"
    );
}

/// Renders an empty report with one check that could not run.
fn could_not_check(format: Format) -> String {
    let extra = Extra {
        errors: vec![CheckError::new(
            "image 127.0.0.1:1/app:1",
            "unreachable: connection refused",
        )],
        ..Extra::default()
    };
    let mut out = Vec::new();
    render(
        &mut out,
        format,
        &Report::new(vec![], 0),
        &extra,
        &RenderOptions::default(),
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn every_format_reports_what_could_not_be_checked() {
    let reason = "could not check image 127.0.0.1:1/app:1: unreachable: connection refused";
    let json: serde_json::Value = serde_json::from_str(&could_not_check(Format::Json)).unwrap();
    assert_eq!(
        json["errors"],
        serde_json::json!([{"subject": "image 127.0.0.1:1/app:1", "message": "unreachable: connection refused"}])
    );
    let sarif: serde_json::Value = serde_json::from_str(&could_not_check(Format::Sarif)).unwrap();
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(
        invocation["toolExecutionNotifications"][0]["message"]["text"],
        reason
    );
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/schemas/sarif-2.1.0.json"
    );
    let schema = sarif_schema(&std::fs::read_to_string(schema_path).unwrap());
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert_eq!(validator.iter_errors(&sarif).count(), 0);
    let junit = could_not_check(Format::Junit);
    assert!(
        junit.contains(r#"tests="1" failures="0" errors="1">"#),
        "{junit}"
    );
    assert!(
        junit.contains(&format!(
            r#"<error type="could-not-check" message="unreachable: connection refused">{reason}</error>"#
        )),
        "{junit}"
    );
    assert!(!junit.contains("no findings"), "{junit}");
    assert_eq!(
        could_not_check(Format::Github),
        format!("::error title=could not check::{reason}\n")
    );
    assert_eq!(
        could_not_check(Format::Azure),
        format!("##vso[task.logissue type=error;code=could-not-check]{reason}\n")
    );
}

/// The OASIS 2.1.0 schema's `language` patterns have a stray `]` that regex engines reject; the
/// corrected pattern takes their place so the rest of the schema can be compiled.
fn sarif_schema(text: &str) -> serde_json::Value {
    let fixed = text.replace(
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
        r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
    );
    serde_json::from_str(&fixed).unwrap()
}
