//! The generator's top-level modules form no import cycle: each depends only
//! on modules below it, so each can be read, tested and changed knowing only
//! those.
//!
//! A module's submodules (`diff/engine.rs` of `diff`) are folded into it.
//! Dependencies are the `crate::…` paths of each file (`use` declarations
//! and paths in code, `use crate::{a, b::c}` groups included); the crate root
//! (`lib.rs`) is a node of its own whose dependencies are its paths through
//! modules (`scope::Graph`), and a path to an item the root re-exports
//! (`crate::Catalog`) is a dependency on the module it comes from. Comments
//! and strings are not read: the files are tokenized with `proc-macro2`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// The node of the crate root.
const ROOT: &str = "(crate root)";

#[test]
fn the_generators_modules_form_no_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = read_tree(&src);
    let graph = dependencies(&files);
    // The graph is the real one: the modules every run uses are in it.
    for edge in [("catalog", "lexicon"), ("lexicon", "diagnostics")] {
        assert!(
            graph.get(edge.0).is_some_and(|to| to.contains(edge.1)),
            "{} → {} not found in {graph:?}",
            edge.0,
            edge.1
        );
    }
    let cycles = cycles(&graph);
    assert!(
        cycles.is_empty(),
        "the generator's modules form import cycles (each set depends on itself): {cycles:?}"
    );
}

#[test]
fn a_cycle_through_submodules_groups_and_re_exports_is_found() {
    let files = vec![
        (
            ROOT.to_owned(),
            "pub mod a; pub mod b; pub mod c; pub use c::Thing; fn f() { a::g(); }".to_owned(),
        ),
        (
            "a".to_owned(),
            "use crate::{diagnostics, b::inner::X};".to_owned(),
        ),
        // In a submodule of b, inside a block, written without `use`.
        (
            "b".to_owned(),
            "fn f() { let _ = crate::Thing::new(); }".to_owned(),
        ),
        // Only a comment and a string name a: no dependency.
        (
            "c".to_owned(),
            "// crate::a\nconst S: &str = \"crate::a\"; use super::x;".to_owned(),
        ),
        ("diagnostics".to_owned(), "pub(crate) fn d() {}".to_owned()),
    ];
    let graph = dependencies(&files);
    assert_eq!(
        graph["a"],
        BTreeSet::from(["b".to_owned(), "diagnostics".to_owned()])
    );
    assert_eq!(graph["b"], BTreeSet::from(["c".to_owned()]));
    assert!(graph["c"].is_empty(), "{graph:?}");
    assert!(cycles(&graph).is_empty());
    // c now uses a: a → b → c → a.
    let mut files = files;
    files.push(("c".to_owned(), "fn f() { crate::a::g(); }".to_owned()));
    let found = cycles(&dependencies(&files));
    let expected: BTreeSet<String> = ["a", "b", "c"].map(str::to_owned).into();
    assert_eq!(found, vec![expected]);
}

/// The source files under `src`, each with its top-level module (`lib.rs`:
/// the root).
fn read_tree(src: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("source directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).expect("under src");
            let first = relative.components().next().expect("a file name");
            let first = first.as_os_str().to_str().expect("UTF-8 file name");
            let module = match first.strip_suffix(".rs") {
                Some("lib") => ROOT.to_owned(),
                Some(name) => name.to_owned(),
                None => first.to_owned(),
            };
            let text = std::fs::read_to_string(&path).expect("readable source");
            files.push((module, text));
        }
    }
    files
}

/// Each module's dependencies on other modules (the root's included).
fn dependencies(files: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<&str> = files
        .iter()
        .map(|(module, _)| module.as_str())
        .filter(|module| *module != ROOT)
        .collect();
    let tokens: Vec<(&str, TokenStream)> = files
        .iter()
        .map(|(module, text)| {
            let tokens = text
                .parse()
                .unwrap_or_else(|e| panic!("a file of {module} does not tokenize: {e}"));
            (module.as_str(), tokens)
        })
        .collect();
    // What the root re-exports, by name: `pub use c::Thing;`.
    let mut re_exports = BTreeMap::new();
    for (module, tokens) in &tokens {
        if *module == ROOT {
            collect_re_exports(tokens.clone(), &mut re_exports);
            re_exports.retain(|_, from| modules.contains(from.as_str()));
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, tokens) in &tokens {
        let mut first_segments = Vec::new();
        if *module == ROOT {
            collect_root_paths(tokens.clone(), &modules, &mut first_segments);
        } else {
            collect_crate_paths(tokens.clone(), &mut first_segments);
        }
        let to = graph.entry((*module).to_owned()).or_default();
        for segment in first_segments {
            let target = if modules.contains(segment.as_str()) {
                segment
            } else if let Some(from) = re_exports.get(&segment) {
                from.clone()
            } else {
                // An item of the root itself (`crate::generate`).
                ROOT.to_owned()
            };
            if target != *module {
                to.insert(target);
            }
        }
    }
    graph
}

/// `pub use module::Name;` and `pub use module::{A, B};` of the root.
fn collect_re_exports(tokens: TokenStream, re_exports: &mut BTreeMap<String, String>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        let (TokenTree::Ident(keyword), Some(TokenTree::Ident(module))) =
            (token, tokens.get(i + 1))
        else {
            continue;
        };
        if keyword != "use" || !is_path_separator(&tokens, i + 2) {
            continue;
        }
        // After `::`: a name or a group of names.
        match tokens.get(i + 4) {
            Some(TokenTree::Ident(name)) => {
                re_exports.insert(name.to_string(), module.to_string());
            }
            Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
                for name in group.stream() {
                    if let TokenTree::Ident(name) = name {
                        re_exports.insert(name.to_string(), module.to_string());
                    }
                }
            }
            _ => {}
        }
    }
}

/// The first segment after each `crate::` (each entry of a
/// `crate::{…}` group), in every nested group of tokens.
fn collect_crate_paths(tokens: TokenStream, found: &mut Vec<String>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Group(group) => collect_crate_paths(group.stream(), found),
            TokenTree::Ident(ident) if ident == "crate" && is_path_separator(&tokens, i + 1) => {
                match tokens.get(i + 3) {
                    Some(TokenTree::Ident(next)) => found.push(next.to_string()),
                    Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
                        group_entries(group.stream(), found)
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

/// The first name of each comma-separated entry of a `{…}` use group.
fn group_entries(stream: TokenStream, found: &mut Vec<String>) {
    let mut at_start = true;
    for token in stream {
        match &token {
            TokenTree::Punct(p) if p.as_char() == ',' => at_start = true,
            TokenTree::Ident(ident) if at_start => {
                found.push(ident.to_string());
                at_start = false;
            }
            _ => at_start = false,
        }
    }
}

/// In the root: `module::…` paths through modules (not after `::`, so
/// `std::fmt` is not taken for a module named `fmt`), `crate::…` paths, and
/// not the `pub mod` declarations or `pub use` re-exports.
fn collect_root_paths(tokens: TokenStream, modules: &BTreeSet<&str>, found: &mut Vec<String>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut in_use = false;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Group(group) => collect_root_paths(group.stream(), modules, found),
            TokenTree::Ident(ident) if ident == "use" => in_use = true,
            TokenTree::Punct(p) if p.as_char() == ';' => in_use = false,
            TokenTree::Ident(ident)
                if !in_use
                    && modules.contains(ident.to_string().as_str())
                    && is_path_separator(&tokens, i + 1)
                    && !(i >= 1 && is_path_separator(&tokens, i - 1))
                    && !(i >= 2 && is_path_separator(&tokens, i - 2)) =>
            {
                found.push(ident.to_string());
            }
            _ => {}
        }
    }
    let mut crate_paths = Vec::new();
    collect_crate_paths(tokens.into_iter().collect(), &mut crate_paths);
    found.extend(crate_paths);
}

/// Whether `tokens[i]` and `tokens[i + 1]` are `::`.
fn is_path_separator(tokens: &[TokenTree], i: usize) -> bool {
    let colon =
        |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == ':');
    colon(tokens.get(i)) && colon(tokens.get(i + 1))
}

/// The strongly connected components of more than one module (Tarjan's
/// algorithm), each as its set of modules, in a stable order.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(state: &mut State<'a>, node: &'a str) {
        let index = state.index.len();
        state.index.insert(node, index);
        state.low.insert(node, index);
        state.stack.push(node);
        state.on_stack.insert(node);
        for next in state.graph.get(node).into_iter().flatten() {
            let next = next.as_str();
            if !state.index.contains_key(next) {
                visit(state, next);
                let low = state.low[node].min(state.low[next]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(next) {
                let low = state.low[node].min(state.index[next]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = BTreeSet::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                component.insert(member.to_owned());
                if member == node {
                    break;
                }
            }
            if component.len() > 1 {
                state.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node.as_str()) {
            visit(&mut state, node);
        }
    }
    state.found.sort();
    state.found
}
