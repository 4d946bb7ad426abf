//! `atlex lex lint` over the upstream lexicons: no errors, and the
//! rule table and `docs/lint.md` agree.

use std::collections::BTreeMap;
use std::path::PathBuf;

use atlex_codegen::Severity;
use atlex_codegen::catalog::LoadOptions;
use atlex_codegen::lint::{RULES, lint_dirs, rules_markdown};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn upstream_lexicons_lint_without_errors() {
    let dir = workspace().join("lexicons");
    let report = lint_dirs(&[dir.as_path()], &LoadOptions::default());
    assert!(report.documents > 300, "{} documents", report.documents);
    let errors: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(ToString::to_string)
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in &report.findings {
        *by_rule.entry(finding.rule.name).or_default() += 1;
    }
    println!(
        "{} documents, warnings by rule: {by_rule:?}",
        report.documents
    );
}

/// The part of `docs/lint.md` made from the rule table, between these
/// markers; `ATLEX_BLESS=1` rewrites it.
const BEGIN: &str = "<!-- rules: made by atlex_codegen::lint::rules_markdown -->\n";
const END: &str = "<!-- end of rules -->\n";

#[test]
fn docs_list_every_rule() {
    let path = workspace().join("docs/lint.md");
    let docs = std::fs::read_to_string(&path).unwrap();
    let (Some(begin), Some(end)) = (docs.find(BEGIN), docs.find(END)) else {
        panic!("docs/lint.md lacks the rule markers");
    };
    let start = begin + BEGIN.len();
    let actual = &docs[start..end];
    let expected = rules_markdown();
    if std::env::var_os("ATLEX_BLESS").is_some() {
        let text = format!("{}{expected}{}", &docs[..start], &docs[end..]);
        std::fs::write(&path, text).unwrap();
        return;
    }
    assert!(
        actual == expected,
        "docs/lint.md does not list the rules as the table has them; run with ATLEX_BLESS=1"
    );
    for rule in RULES {
        assert!(docs.contains(rule.name), "{}", rule.name);
    }
}
