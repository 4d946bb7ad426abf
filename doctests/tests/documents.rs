//! Every code block of `README.md` and `docs/*.md` is either Rust that
//! `src/lib.rs` hands to rustdoc as a doctest, or tagged as another
//! language. A block rustdoc would skip (`ignore`), a block without a
//! language, or a Markdown file `src/lib.rs` does not include fails here;
//! so does a relative link to a file or heading that does not exist.

use std::fs;
use std::path::{Path, PathBuf};

/// Languages whose blocks are shown, not compiled.
const OTHER_LANGUAGES: &[&str] = &["sh", "text", "toml", "json"];
/// What a Rust block may say after `rust,`: attributes under which rustdoc
/// still compiles it.
const RUST_ATTRIBUTES: &[&str] = &["no_run"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `README.md` and every `docs/*.md`, as paths relative to the root.
fn documents() -> Vec<String> {
    let mut documents = vec!["README.md".to_owned()];
    let docs = fs::read_dir(root().join("docs")).expect("docs/ is readable");
    let mut names: Vec<String> = docs
        .map(|entry| {
            entry
                .expect("docs/ lists")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    names.sort();
    documents.extend(names);
    documents
}

/// A line of a document: prose, or part of a fenced block (its opening
/// line carries the block's info string).
#[derive(Debug, PartialEq)]
enum Line<'a> {
    Prose(&'a str),
    Opening(String),
    Code,
}

/// Sorts the lines of `text` into prose and code.
fn lines(text: &str) -> Vec<Line<'_>> {
    let mut sorted = Vec::new();
    let mut open: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        sorted.push(match (open, marker) {
            (None, None) => Line::Prose(line),
            (None, Some(marker)) => {
                open = Some(marker);
                Line::Opening(trimmed.trim_start_matches(marker).trim().to_owned())
            }
            (Some(opened), Some(marker)) if opened == marker && trimmed.trim_end() == marker => {
                open = None;
                Line::Code
            }
            (Some(_), _) => Line::Code,
        });
    }
    assert!(open.is_none(), "a code block is never closed");
    sorted
}

/// The info string of every fenced block of `text`, with its line number.
fn fences(text: &str) -> Vec<(usize, String)> {
    lines(text)
        .into_iter()
        .enumerate()
        .filter_map(|(index, line)| match line {
            Line::Opening(info) => Some((index + 1, info)),
            _ => None,
        })
        .collect()
}

/// The anchors GitHub gives the headings of `text`: lower case, spaces as
/// hyphens, punctuation other than `-` and `_` left out.
fn anchors(text: &str) -> Vec<String> {
    lines(text)
        .into_iter()
        .filter_map(|line| match line {
            Line::Prose(line) if line.starts_with('#') => Some(line.trim_start_matches('#')),
            _ => None,
        })
        .map(|heading| {
            heading
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

/// The targets of the inline links (`[text](target)`) in the prose of
/// `text`, with their line numbers.
fn links(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    for (index, line) in lines(text).into_iter().enumerate() {
        let Line::Prose(mut rest) = line else {
            continue;
        };
        while let Some(start) = rest.find("](") {
            rest = &rest[start + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            found.push((index + 1, &rest[..end]));
            rest = &rest[end..];
        }
    }
    found
}

/// Why a block of this info string is not acceptable, if it is not.
fn problem(info: &str) -> Option<String> {
    let mut parts = info.split(',').map(str::trim);
    let language = parts.next().unwrap_or_default();
    if language == "rust" {
        let bad: Vec<&str> = parts.filter(|a| !RUST_ATTRIBUTES.contains(a)).collect();
        return (!bad.is_empty()).then(|| {
            format!("`{info}`: {bad:?} is not allowed; Rust blocks compile (`no_run` at most)")
        });
    }
    if OTHER_LANGUAGES.contains(&language) && parts.next().is_none() {
        return None;
    }
    Some(format!(
        "`{info}`: tag blocks `rust` (a doctest) or one of {OTHER_LANGUAGES:?}"
    ))
}

#[test]
fn every_document_is_compiled_as_doctests() {
    let lib = fs::read_to_string(root().join("doctests/src/lib.rs")).expect("lib.rs is readable");
    let missing: Vec<String> = documents()
        .into_iter()
        .filter(|document| {
            let item = format!("#[cfg(doctest)]\n#[doc = include_str!(\"../../{document}\")]");
            !lib.contains(&item)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "doctests/src/lib.rs does not include {missing:?} as a #[cfg(doctest)] item"
    );
}

#[test]
fn every_code_block_is_a_compiled_doctest_or_another_language() {
    let mut problems = Vec::new();
    let mut rust_blocks = 0;
    for document in documents() {
        let text = fs::read_to_string(root().join(&document)).expect("the document is readable");
        for (line, info) in fences(&text) {
            if info.split(',').next() == Some("rust") {
                rust_blocks += 1;
            }
            if let Some(problem) = problem(&info) {
                problems.push(format!("{document}:{line}: {problem}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        rust_blocks > 0,
        "no Rust block found: the documents were not read"
    );
}

#[test]
fn every_relative_link_leads_to_a_file_and_heading_that_exist() {
    let mut problems = Vec::new();
    for document in documents() {
        let path = root().join(&document);
        let text = fs::read_to_string(&path).expect("the document is readable");
        for (line, target) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let linked = if file.is_empty() {
                path.clone()
            } else {
                path.parent().expect("a document is in a folder").join(file)
            };
            if !linked.exists() {
                problems.push(format!("{document}:{line}: {target}: no such file"));
            } else if !anchor.is_empty() {
                let linked_text = fs::read_to_string(&linked).unwrap_or_default();
                if !anchors(&linked_text).iter().any(|a| a == anchor) {
                    problems.push(format!("{document}:{line}: {target}: no such heading"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn links_and_anchors_are_read_as_github_reads_them() {
    let text = "# Lexicon changes: `atlex diff`\n\nSee [a](docs/x.md#y) and [b](#z).\n```sh\n# not a heading [c](d)\n```\n";
    assert_eq!(anchors(text), ["lexicon-changes-atlex-diff"]);
    assert_eq!(links(text), [(3, "docs/x.md#y"), (3, "#z")]);
}

#[test]
fn the_checks_refuse_what_rustdoc_would_not_compile() {
    for refused in [
        "rust,ignore",
        "rust,no_run,ignore",
        "",
        "rs",
        "sh,ignore",
        "text,no_run",
    ] {
        assert!(problem(refused).is_some(), "{refused:?} is accepted");
    }
    for accepted in ["rust", "rust,no_run", "sh", "text", "toml", "json"] {
        assert_eq!(problem(accepted), None);
    }
    let blocks = fences("a\n```rust,ignore\nlet x = 1;\n```\n\n  ```sh\n  ls\n  ```\n");
    assert_eq!(
        blocks,
        [(2, "rust,ignore".to_owned()), (6, "sh".to_owned())]
    );
}
