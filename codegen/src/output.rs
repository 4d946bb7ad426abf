//! Output: emitted modules laid out as files, formatted with prettyplease.
//!
//! Two layouts:
//! - [`Layout::Tree`]: a directory tree mirroring the NSIDs, one file per
//!   document (`chat/bsky/convo/leave_convo.rs`) and a `mod.rs` per namespace;
//!   used for checked-in bindings.
//! - [`Layout::SingleFile`]: one file of nested inline modules, for `build.rs`
//!   and `include!`.
//!
//! Emitting and formatting are the expensive part of generation; for the tree
//! layout each worker thread emits and formats whole files on its own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diagnostics::{Diagnostic, Diagnostics, Location};
use crate::emit::{docs, ident};

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

/// A module to lay out: its path, its NSID and its doc text.
#[derive(Clone, Debug)]
pub(crate) struct ModuleEntry {
    /// The module path, as identifiers.
    pub path: Vec<String>,
    /// The document's NSID.
    pub nsid: String,
    /// The module's doc text.
    pub doc: Option<String>,
}

/// One module of the tree being laid out.
#[derive(Default)]
struct Node {
    children: BTreeMap<String, Node>,
    /// The NSID prefix this node stands for (`chat.bsky`).
    prefix: String,
    /// The document emitted in this module, if any, and its doc.
    module: Option<(String, Option<String>)>,
}

impl Node {
    fn insert(&mut self, entry: ModuleEntry) {
        let segments: Vec<&str> = entry.nsid.split('.').collect();
        let mut node = self;
        for (depth, segment) in entry.path.iter().enumerate() {
            node = node.children.entry(segment.clone()).or_default();
            if node.prefix.is_empty() {
                node.prefix = segments
                    .get(..=depth)
                    .map(|s| s.join("."))
                    .unwrap_or_default();
            }
        }
        node.module = Some((entry.nsid, entry.doc));
    }

    fn doc(&self) -> String {
        match self.module.as_ref().and_then(|(_, doc)| doc.clone()) {
            Some(doc) => doc,
            None => format!("Lexicons under `{}`.", self.prefix),
        }
    }
}

/// The cargo feature of a namespace (`chat.bsky` → `chat-bsky`).
pub(crate) fn namespace_feature(namespace: &str) -> String {
    namespace.replace('.', "-")
}

/// The namespace of an NSID: its first two segments.
pub(crate) fn namespace_of(nsid: &str) -> String {
    nsid.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// Emits the items of a module: the NSID prefix it stands for, and the
/// document emitted in it, if any.
pub(crate) type EmitFn<'a> = dyn Fn(&str, Option<&str>) -> TokenStream + Sync + 'a;

/// Lays out and formats modules.
pub(crate) struct Writer<'a> {
    /// The layout.
    pub layout: &'a Layout,
    /// Whether each namespace (depth-2 module) is behind its cargo feature.
    pub namespace_features: bool,
    /// The command the header tells readers to run to regenerate.
    pub regenerate_hint: &'a str,
}

impl Writer<'_> {
    /// Lays out `modules` as files, calling `emit` for each module's items.
    pub(crate) fn write(
        &self,
        modules: Vec<ModuleEntry>,
        emit: &EmitFn<'_>,
        diagnostics: &mut Diagnostics,
    ) -> BTreeMap<PathBuf, String> {
        let mut root = Node::default();
        for entry in modules {
            root.insert(entry);
        }
        let mut files = BTreeMap::new();
        match self.layout {
            Layout::Tree { root_file } => {
                let mut jobs = Vec::new();
                tree_jobs(&root, PathBuf::new(), root_file.clone(), 0, &mut jobs);
                let results = run_parallel(&jobs, |(path, node, depth)| {
                    let mut tokens = self.child_decls(node, *depth);
                    let nsid = node.module.as_ref().map(|(nsid, _)| nsid.as_str());
                    tokens.extend(emit(&node.prefix, nsid));
                    let source = node.module.as_ref().map(|(nsid, _)| nsid.as_str());
                    let header = header(source, self.regenerate_hint);
                    (
                        path.clone(),
                        format_file(tokens).map(|body| format!("{header}{body}")),
                    )
                });
                for (path, result) in results {
                    match result {
                        Ok(text) => {
                            files.insert(path, text);
                        }
                        Err(message) => diagnostics.push(internal_error(&path, message)),
                    }
                }
            }
            Layout::SingleFile { file } => {
                let body = self.inline(&root, 0, emit);
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

    fn inline(&self, node: &Node, depth: usize, emit: &EmitFn<'_>) -> TokenStream {
        let mut out = TokenStream::new();
        let nsid = node.module.as_ref().map(|(nsid, _)| nsid.as_str());
        out.extend(emit(&node.prefix, nsid));
        for (name, child) in &node.children {
            let name = ident(name);
            let doc = docs(Some(&child.doc()));
            let cfg = self.cfg(depth, child);
            let body = self.inline(child, depth + 1, emit);
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

/// Collects (file, node, depth) for `node` and its descendants: a node with
/// children is a directory with `mod.rs`, a leaf is `<name>.rs`.
fn tree_jobs<'n>(
    node: &'n Node,
    dir: PathBuf,
    file: String,
    depth: usize,
    jobs: &mut Vec<(PathBuf, &'n Node, usize)>,
) {
    jobs.push((dir.join(file), node, depth));
    for (name, child) in &node.children {
        let bare = name.trim_start_matches("r#");
        if child.children.is_empty() {
            tree_jobs(child, dir.clone(), format!("{bare}.rs"), depth + 1, jobs);
        } else {
            tree_jobs(child, dir.join(bare), "mod.rs".to_owned(), depth + 1, jobs);
        }
    }
}

/// Maps `f` over `items` on every core; results come back in input order.
fn run_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 16);
    if workers == 1 || items.len() < 2 {
        return items.iter().map(&f).collect();
    }
    // Each worker takes the next item not yet taken, so that a few big
    // files do not leave one worker busy while the others wait.
    let f = &f;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let next = &next;
    let mut slots: Vec<Option<R>> = Vec::with_capacity(items.len());
    slots.resize_with(items.len(), || None);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        for handle in handles {
            // A worker that panicked would leave its slots empty; `f` does not
            // panic (formatting errors are values), so this is not expected.
            if let Ok(results) = handle.join() {
                for (i, result) in results {
                    slots[i] = Some(result);
                }
            }
        }
    });
    slots.into_iter().flatten().collect()
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

/// The features each namespace needs: its own and those of namespaces its
/// types refer to.
pub(crate) fn namespace_features(
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
