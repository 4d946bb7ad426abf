//! Every code block of `README.md` and `docs/*.md` is either Rust that
//! `src/lib.rs` hands to rustdoc as a doctest, or tagged as another
//! language. A block rustdoc would skip (`ignore`), a block without a
//! language, or a Markdown file `src/lib.rs` does not include fails here.

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

/// The info string of every fenced block of `text`, with its line number.
fn fences(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut open: Option<&str> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker = if trimmed.starts_with("```") {
            "```"
        } else if trimmed.starts_with("~~~") {
            "~~~"
        } else {
            continue;
        };
        match open {
            None => {
                found.push((
                    index + 1,
                    trimmed.trim_start_matches(marker).trim().to_owned(),
                ));
                open = Some(marker);
            }
            Some(opened) if opened == marker && trimmed.trim_end() == marker => open = None,
            Some(_) => {}
        }
    }
    assert!(open.is_none(), "a code block is never closed");
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
