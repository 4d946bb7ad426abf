//! Output: emitted modules laid out as files, formatted with prettyplease.
//!
//! Two layouts:
//! - [`Layout::Tree`]: a directory tree mirroring the NSIDs, one file per
//!   document (`chat/bsky/convo/leave_convo.rs`) and a `mod.rs` per namespace;
//!   used for checked-in bindings.
//! - [`Layout::SingleFile`]: one file of nested inline modules, for `build.rs`
//!   and `include!`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diagnostics::{Diagnostic, Diagnostics, Location};
use crate::emit::{EmittedModule, docs, ident};

/// How the generated modules are laid out in files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One file per document under a directory; `root_file` declares the
    /// top-level modules (`mod.rs`, or `lib.rs` when the tree is a crate).
    Tree {
        /// The name of the root file.
        root_file: String,
    },
    /// One file holding every module inline.
    SingleFile {
        /// The file's name.
        file: String,
    },
}

impl Default for Layout {
    fn default() -> Self {
        Self::Tree {
            root_file: "mod.rs".to_owned(),
        }
    }
}

/// One module of the tree being laid out.
#[derive(Default)]
struct Node {
    children: BTreeMap<String, Node>,
    /// The NSID prefix this node stands for (`chat.bsky`).
    prefix: String,
    module: Option<EmittedModule>,
}

impl Node {
    fn insert(&mut self, path: &[String], nsid_segments: &[&str], module: EmittedModule) {
        let mut node = self;
        for (depth, segment) in path.iter().enumerate() {
            node = node.children.entry(segment.clone()).or_default();
            if node.prefix.is_empty() {
                node.prefix = nsid_segments
                    .get(..=depth)
                    .map(|s| s.join("."))
                    .unwrap_or_default();
            }
        }
        node.module = Some(module);
    }

    fn doc(&self) -> String {
        match self.module.as_ref().and_then(|m| m.doc.clone()) {
            Some(doc) => doc,
            None => format!("Lexicons under `{}`.", self.prefix),
        }
    }
}

/// The cargo feature of a namespace (`chat.bsky` → `chat-bsky`).
pub fn namespace_feature(namespace: &str) -> String {
    namespace.replace('.', "-")
}

/// The namespace of an NSID: its first two segments.
pub fn namespace_of(nsid: &str) -> String {
    nsid.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// Lays out and formats modules.
pub struct Writer<'a> {
    /// The layout.
    pub layout: &'a Layout,
    /// Whether each namespace (depth-2 module) is behind its cargo feature.
    pub namespace_features: bool,
    /// The command the header tells readers to run to regenerate.
    pub regenerate_hint: &'a str,
}

impl Writer<'_> {
    /// Lays out `modules` (each with its module path) as files.
    pub fn write(
        &self,
        modules: Vec<(Vec<String>, EmittedModule)>,
        diagnostics: &mut Diagnostics,
    ) -> BTreeMap<PathBuf, String> {
        let mut root = Node::default();
        for (path, module) in modules {
            let nsid = module.nsid.clone();
            let segments: Vec<&str> = nsid.split('.').collect();
            root.insert(&path, &segments, module);
        }
        let mut files = BTreeMap::new();
        match self.layout {
            Layout::Tree { root_file } => {
                let mut jobs = Vec::new();
                self.tree_jobs(&root, PathBuf::new(), root_file, 0, &mut jobs);
                for (path, result) in format_all(jobs) {
                    match result {
                        Ok(text) => {
                            files.insert(path, text);
                        }
                        Err(message) => diagnostics.push(internal_error(&path, message)),
                    }
                }
            }
            Layout::SingleFile { file } => {
                let body = self.inline(&root, 0);
                let path = PathBuf::from(file);
                match format_file(body) {
                    Ok(text) => {
                        let header = header(None, self.regenerate_hint);
                        files.insert(path, format!("{header}{text}"));
                    }
                    Err(message) => diagnostics.push(internal_error(&path, message)),
                }
            }
        }
        files
    }

    fn cfg(&self, depth: usize, child: &Node) -> TokenStream {
        if self.namespace_features && depth == 1 {
            let feature = namespace_feature(&child.prefix);
            quote!(#[cfg(feature = #feature)])
        } else {
            TokenStream::new()
        }
    }

    fn child_decls(&self, node: &Node, depth: usize) -> TokenStream {
        let mut out = TokenStream::new();
        for (name, child) in &node.children {
            let name = ident(name);
            let doc = docs(Some(&child.doc()));
            let cfg = self.cfg(depth, child);
            out.extend(quote! {
                #doc
                #cfg
                pub mod #name;
            });
        }
        out
    }

    /// Collects (file, tokens, header) for `node` and its descendants.
    fn tree_jobs(
        &self,
        node: &Node,
        dir: PathBuf,
        file: &str,
        depth: usize,
        jobs: &mut Vec<(PathBuf, TokenStream, String)>,
    ) {
        let mut tokens = self.child_decls(node, depth);
        if let Some(module) = &node.module {
            tokens.extend(module.tokens.clone());
        }
        let source = node.module.as_ref().map(|m| m.nsid.as_str());
        jobs.push((dir.join(file), tokens, header(source, self.regenerate_hint)));
        for (name, child) in &node.children {
            let bare = name.trim_start_matches("r#");
            if child.children.is_empty() {
                self.tree_jobs(child, dir.clone(), &format!("{bare}.rs"), depth + 1, jobs);
            } else {
                self.tree_jobs(child, dir.join(bare), "mod.rs", depth + 1, jobs);
            }
        }
    }

    fn inline(&self, node: &Node, depth: usize) -> TokenStream {
        let mut out = TokenStream::new();
        if let Some(module) = &node.module {
            out.extend(module.tokens.clone());
        }
        for (name, child) in &node.children {
            let name = ident(name);
            let doc = docs(Some(&child.doc()));
            let cfg = self.cfg(depth, child);
            let body = self.inline(child, depth + 1);
            out.extend(quote! {
                #doc
                #cfg
                pub mod #name {
                    #body
                }
            });
        }
        out
    }
}

fn header(source: Option<&str>, hint: &str) -> String {
    let from = source.map_or(String::new(), |nsid| format!(" from lexicon `{nsid}`"));
    format!("// @generated by atlex-codegen{from}. Do not edit: {hint}.\n\n")
}

fn internal_error(path: &std::path::Path, message: String) -> Diagnostic {
    Diagnostic::error(
        Location::new(None, ""),
        format!(
            "internal error: the code generated for {} does not parse ({message}); please report this",
            path.display()
        ),
    )
}

fn format_file(tokens: TokenStream) -> Result<String, String> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| e.to_string())?;
    Ok(space_items(&prettyplease::unparse(&file)))
}

/// Puts a blank line between consecutive items (prettyplease writes them
/// back to back), as a person would.
fn space_items(text: &str) -> String {
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut previous: Option<&str> = None;
    for line in text.lines() {
        if let Some(prev) = previous {
            let this = line.trim_start();
            let last = prev.trim_start();
            let starts_item = [
                "pub ", "impl", "#[", "///", "fn ", "const ", "type ", "mod ",
            ]
            .iter()
            .any(|p| this.starts_with(p));
            let ends_item = last == "}" || (last.ends_with(';') && !last.starts_with("//"));
            if starts_item && ends_item && indent(line) == indent(prev) {
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
        previous = Some(line);
    }
    out
}

/// Formats every job, spread over the machine's cores.
fn format_all(jobs: Vec<(PathBuf, TokenStream, String)>) -> Vec<(PathBuf, Result<String, String>)> {
    // TokenStream is not Send, so each worker receives text and re-lexes it;
    // that costs far less than formatting.
    let jobs: Vec<(PathBuf, String, String)> = jobs
        .into_iter()
        .map(|(path, tokens, header)| (path, tokens.to_string(), header))
        .collect();
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 16);
    let chunk = jobs.len().div_ceil(workers).max(1);
    let mut results = Vec::with_capacity(jobs.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(path, text, header)| {
                            let formatted = text
                                .parse::<TokenStream>()
                                .map_err(|e| e.to_string())
                                .and_then(format_file)
                                .map(|body| format!("{header}{body}"));
                            (path.clone(), formatted)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            match handle.join() {
                Ok(chunk) => results.extend(chunk),
                Err(_) => results.push((
                    PathBuf::new(),
                    Err("a formatting thread panicked".to_owned()),
                )),
            }
        }
    });
    results
}

/// The features each namespace needs: its own and those of namespaces its
/// types refer to.
pub fn namespace_features(
    dependencies: &BTreeMap<&str, BTreeSet<&str>>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut features: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in dependencies {
        let ns = namespace_of(from);
        let entry = features.entry(namespace_feature(&ns)).or_default();
        for target in targets {
            let target_ns = namespace_of(target);
            if target_ns != ns {
                entry.insert(namespace_feature(&target_ns));
            }
        }
    }
    features
}
