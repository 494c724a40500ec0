//! The rule catalog and the code agree: every rule in `rules::all()` has exactly one `rules/<name>.toml`
//! and the other way round, ids are unique and in their category's range, every entry is complete,
//! and every container rule has a failing and a passing fixture in the unit and runtime suites.

use std::collections::BTreeSet;

use batchprep_lint::{catalog, rules};

#[test]
fn code_and_catalog_are_one_to_one() {
    let code: BTreeSet<&str> = rules::all().map(rules::Rule::name).collect();
    assert_eq!(
        code.len(),
        rules::all().count(),
        "a rule is listed twice in the rule registry"
    );
    let docs: BTreeSet<&str> = catalog().iter().map(|d| d.name.as_str()).collect();
    let missing_docs: Vec<_> = code.difference(&docs).collect();
    let missing_code: Vec<_> = docs.difference(&code).collect();
    assert!(
        missing_docs.is_empty(),
        "rules without rules/<name>.toml: {missing_docs:?}"
    );
    assert!(
        missing_code.is_empty(),
        "catalog entries without code: {missing_code:?}"
    );
}

#[test]
fn every_catalog_file_is_named_for_its_rule_and_complete() {
    let mut ids = BTreeSet::new();
    for (file, text) in batchprep_lint::catalog::catalog_files() {
        let doc: batchprep_lint::RuleDoc =
            toml::from_str(text).unwrap_or_else(|e| panic!("rules/{file}: {e}"));
        assert_eq!(
            file,
            format!("{}.toml", doc.name),
            "rules/{file} holds rule `{}`",
            doc.name
        );
        assert!(ids.insert(doc.id.clone()), "id {} is used twice", doc.id);
        let digits = doc
            .id
            .strip_prefix("BP")
            .filter(|d| d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit()));
        let digits = digits
            .unwrap_or_else(|| panic!("rules/{file}: id `{}` is not BP and three digits", doc.id));
        let expected: &[&str] = match &digits[..1] {
            "1" => &["image", "task"],
            "2" => &["registry"],
            "3" => &["network"],
            "4" => &["pool"],
            _ => &[],
        };
        assert!(
            expected.contains(&doc.category.as_str()),
            "rules/{file}: {} is in the {:?} range but says `{}`",
            doc.id,
            expected,
            doc.category
        );
        assert!(
            !doc.name.is_empty()
                && doc
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-'),
            "rules/{file}: name is not kebab-case"
        );
        assert!(
            !doc.summary.trim().is_empty() && !doc.summary.contains('\n'),
            "rules/{file}: summary must be one line"
        );
        assert!(!doc.why.trim().is_empty(), "rules/{file}: empty why");
        assert!(!doc.fix.trim().is_empty(), "rules/{file}: empty fix");
    }
}

#[test]
fn every_container_rule_has_fixtures_that_fail_and_pass() {
    let unit = include_str!("../src/rules/container/tests.rs");
    let runtime = include_str!("../../batchprep/tests/runtime.rs");
    for rule in rules::container::RULES {
        let name = rule.rule.name();
        let doc = rule.rule.doc().unwrap();
        assert!(
            doc.id.starts_with("BP1"),
            "{name} is a container rule with id {}",
            doc.id
        );
        assert!(
            unit.contains(&format!("\"{name}: ")),
            "{name} has no unit fixture in rules/container/tests.rs"
        );
        assert!(
            runtime.contains(&format!("\"{name}\"")),
            "{name} has no case in the runtime suite (crates/batchprep/tests/runtime.rs)"
        );
    }
}
