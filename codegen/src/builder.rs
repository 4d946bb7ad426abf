//! [`Builder`]: generating bindings from a `build.rs` script.
//!
//! ```no_run
//! // build.rs: generate bindings for the lexicons under `lexicons/`
//! if let Err(e) = atlex_codegen::Builder::new().lexicons("lexicons").compile() {
//!     panic!("{e}");
//! }
//! ```
//!
//! [`Builder::compile`] writes `atlex.rs` into `OUT_DIR`, which the crate's
//! `src/lib.rs` mounts at its root with
//! `include!(concat!(env!("OUT_DIR"), "/atlex.rs"));`. The generated modules
//! refer to each other by relative paths (`super::…`), so they may as well be
//! included in any module (`pub mod lexicons { include!(…); }`).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, LoadOptions};
use crate::diagnostics::Diagnostics;
use crate::output::Layout;
use crate::{Generated, Options};

/// Configures and runs the generator, in the manner of `prost_build::Config`.
#[derive(Clone, Debug)]
pub struct Builder {
    lexicon_dirs: Vec<PathBuf>,
    extern_crates: Vec<(PathBuf, String)>,
    exclude: Vec<String>,
    layout_warnings: bool,
    out_dir: Option<PathBuf>,
    /// Which `lexicons.json` the lexicon files must match.
    manifest: ManifestChoice,
    options: Options,
}

/// Which manifest of pinned lexicons a build checks.
#[derive(Clone, Debug)]
enum ManifestChoice {
    /// Each `lexicons.json` found beside a lexicon directory.
    Found,
    /// This one, which must exist ([`Builder::manifest`]).
    #[cfg_attr(not(feature = "pins"), expect(dead_code))]
    Path(PathBuf),
    /// None.
    Off,
}

/// The name of the manifest `atlex lex install` writes beside the
/// directory it installs into.
const MANIFEST_FILE: &str = "lexicons.json";

/// Whether the files the manifest at `path` pins, in `dirs`, are the ones
/// pinned.
#[cfg(feature = "pins")]
fn check_manifest(path: PathBuf, dirs: &[PathBuf]) -> Result<(), Error> {
    let problems = match crate::pins::Manifest::read(&path) {
        Ok(Some(manifest)) => crate::pins::check_files(&manifest, dirs),
        Ok(None) => vec!["there is no such file".to_owned()],
        Err(err) => vec![err],
    };
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Pins {
            manifest: path,
            problems,
        })
    }
}

/// Without the feature only a found manifest gets here (naming one needs
/// it). Its pins cannot be checked, and a build that ignored them would pass
/// whatever the files hold.
#[cfg(not(feature = "pins"))]
fn check_manifest(path: PathBuf, _dirs: &[PathBuf]) -> Result<(), Error> {
    Err(Error::PinsUnchecked { manifest: path })
}

/// Why a build failed.
#[derive(Debug)]
pub enum Error {
    /// The lexicons have problems; every one found is listed.
    Lexicons(Diagnostics),
    /// A file could not be read or written.
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// No output directory was set and `OUT_DIR` is not set either (not
    /// running under cargo).
    NoOutDir,
    /// An exclusion glob is not a glob.
    Exclude(String),
    /// The manifest of pinned lexicons (named with [`Builder::manifest`],
    /// feature `pins`, or found beside a lexicon directory) cannot be read,
    /// or a pinned file is missing or no longer has its pinned CID.
    Pins {
        /// The manifest.
        manifest: PathBuf,
        /// Every problem found.
        problems: Vec<String>,
    },
    /// A manifest of pinned lexicons was found beside a lexicon directory,
    /// but atlex-codegen is built without feature `pins`, which checks it.
    PinsUnchecked {
        /// The manifest.
        manifest: PathBuf,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Lexicons(d) => write!(f, "lexicons have errors:\n{d}"),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::NoOutDir => f.write_str(
                "no output directory: set one with Builder::out_dir or run under cargo (OUT_DIR)",
            ),
            Error::Exclude(message) => f.write_str(message),
            Error::Pins { manifest, problems } => {
                write!(
                    f,
                    "the lexicons are not those {} pins (run `atlex lex install` to restore them, or `atlex lex install --update` to pin new ones):",
                    manifest.display()
                )?;
                for problem in problems {
                    write!(f, "\n  {problem}")?;
                }
                Ok(())
            }
            Error::PinsUnchecked { manifest } => write!(
                f,
                "{} pins lexicons, but atlex-codegen is built without feature `pins`, which checks them: \
                 enable the feature, or call Builder::no_manifest() to build without the check",
                manifest.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Lexicons(d) => Some(d),
            Error::NoOutDir
            | Error::Exclude(_)
            | Error::Pins { .. }
            | Error::PinsUnchecked { .. } => None,
        }
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// A builder that writes one file, `atlex.rs`, into `OUT_DIR`.
    pub fn new() -> Self {
        Self {
            lexicon_dirs: Vec::new(),
            extern_crates: Vec::new(),
            exclude: Vec::new(),
            layout_warnings: true,
            out_dir: None,
            manifest: ManifestChoice::Found,
            options: Options {
                layout: Layout::SingleFile {
                    file: "atlex.rs".to_owned(),
                },
                regenerate_hint: "it is regenerated by build.rs".to_owned(),
                ..Options::default()
            },
        }
    }

    /// Adds a directory of lexicon JSON, read recursively, in any layout:
    /// each document is known by its `id` (`com/example/getThing.json`,
    /// `lexicons/actor/profile.json` holding `sh.tangled.actor.profile`). A
    /// crate's top-level `src/`, `tests/`, `benches/`, `examples/` and
    /// `target/` are skipped; `*.binding.json` files are HTTP bindings.
    pub fn lexicons(mut self, dir: impl AsRef<Path>) -> Self {
        self.lexicon_dirs.push(dir.as_ref().to_path_buf());
        self
    }

    /// Leaves out the files (and directories) of the lexicon directories
    /// whose path relative to their directory matches `glob` (`vendor/**`,
    /// `**/*.draft.json`; `*` does not cross `/`). Repeatable.
    pub fn exclude(mut self, glob: impl Into<String>) -> Self {
        self.exclude.push(glob.into());
        self
    }

    /// Generates only the documents under the NSID prefix `prefix`
    /// (`sh.tangled`, or one document's NSID) and what they refer to; the
    /// other documents are read but not checked or generated. Repeatable;
    /// without it, everything is generated.
    pub fn only(mut self, prefix: impl Into<String>) -> Self {
        self.options.only.push(prefix.into());
        self
    }

    /// Leaves out invalid documents instead of failing: each is reported
    /// (its errors as warnings), left out with every document that refers to
    /// it (with the chain: "left out: X refers to Y, which is invalid"), and
    /// the rest is generated. Off by default.
    pub fn skip_invalid(mut self, enabled: bool) -> Self {
        self.options.skip_invalid = enabled;
        self
    }

    /// Whether a document whose path does not spell its id is warned about
    /// (default `true`; a path that spells the end of the id, as
    /// `actor/profile.json` for `sh.tangled.actor.profile`, never is).
    pub fn layout_warnings(mut self, enabled: bool) -> Self {
        self.layout_warnings = enabled;
        self
    }

    /// Whether each group of endpoints gets a `Service` trait and a
    /// `register` function for servers (default `true`).
    pub fn service_traits(mut self, enabled: bool) -> Self {
        self.options.service_traits = enabled;
        self
    }

    /// What the `// @generated` header tells readers to do to regenerate.
    pub fn regenerate_hint(mut self, hint: impl Into<String>) -> Self {
        self.options.regenerate_hint = hint.into();
        self
    }

    /// Where files are written (default: `OUT_DIR`).
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The name of the single output file (default `atlex.rs`).
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.options.layout = Layout::SingleFile { file: name.into() };
        self
    }

    /// Writes a directory tree (one file per lexicon) instead of one file;
    /// `root_file` declares the top modules (`mod.rs`).
    pub fn tree_layout(mut self, root_file: impl Into<String>) -> Self {
        self.options.layout = Layout::Tree {
            root_file: root_file.into(),
        };
        self
    }

    /// The Rust path of the module the generated code is mounted at
    /// (`crate`, `crate::lexicons`): paths between generated modules are then
    /// written from there. By default they are relative to the module they
    /// are in, and hold wherever the code is included.
    pub fn root_path(mut self, path: impl Into<String>) -> Self {
        self.options.root = Some(path.into());
        self
    }

    /// The Rust path of the atlex runtime (default `::atlex`).
    pub fn runtime_path(mut self, path: impl Into<String>) -> Self {
        self.options.runtime = path.into();
        self
    }

    /// Types under the NSID prefix `prefix` are generated elsewhere, at
    /// `rust_path`: for example `("com.atproto",
    /// "::atlex_lexicons::com::atproto")`. Their lexicons must still be
    /// loaded (for reference checking) but are not emitted.
    pub fn extern_path(mut self, prefix: impl Into<String>, rust_path: impl Into<String>) -> Self {
        self.options
            .extern_paths
            .push((prefix.into(), rust_path.into()));
        self
    }

    /// Reads the lexicons of a crate that already has bindings for them (as
    /// `atlex-lexicons` does: `atlex_lexicons::LEXICON_DIR` at `rust_path`
    /// `::atlex_lexicons`), so your lexicons can refer to them; their types
    /// are used from that crate, not generated again. A copy of one of them
    /// among your lexicons (a set that bundles `com.atproto.*`) is ignored
    /// with a warning that says whether and how it differs. A crate's
    /// `src/`, `tests/` and similar directories are skipped.
    pub fn extern_lexicons(mut self, dir: impl AsRef<Path>, rust_path: impl Into<String>) -> Self {
        self.extern_crates
            .push((dir.as_ref().to_path_buf(), rust_path.into()));
        self
    }

    /// Puts each namespace (`com.example`) behind a cargo feature
    /// (`com-example`).
    pub fn namespace_features(mut self, enabled: bool) -> Self {
        self.options.namespace_features = enabled;
        self
    }

    /// Whether objects keep the properties they do not declare and their
    /// `$type`, in an `extra: atlex::data::ExtraFields` field: on unless
    /// turned off here (see [`Options::keep_unknown_fields`]).
    pub fn keep_unknown_fields(mut self, enabled: bool) -> Self {
        self.options.keep_unknown_fields = enabled;
        self
    }

    /// Puts the `Service` traits and `register` functions of servers behind
    /// cargo feature `feature` of the generated crate (see
    /// [`Options::server_feature`]).
    pub fn server_feature(mut self, feature: impl Into<String>) -> Self {
        self.options.server_feature = Some(feature.into());
        self
    }

    /// Checks the lexicon files against the `lexicons.json` at `path`
    /// (written by `atlex lex install`, or `@atproto/lex`'s `lex install`)
    /// before generating: every document it pins must be in one of the
    /// [`lexicons`](Self::lexicons) directories, in NSID layout, with its
    /// pinned CID, or the build fails with [`Error::Pins`] naming each file.
    /// The check reads files only; builds never touch the network. Documents
    /// the manifest does not pin (the project's own) are not checked.
    ///
    /// Without this call the builder looks for the manifest where those
    /// tools write it: a `lexicons.json` beside each lexicon directory
    /// (`lexicons.json` for `.lexicons("lexicons")`), and checks every one it
    /// finds. This call names the manifest instead, and a missing file is
    /// then an error. Feature `pins`.
    ///
    /// ```no_run
    /// // build.rs
    /// atlex_codegen::Builder::new()
    ///     .lexicons("lexicons")
    ///     .manifest("pins/lexicons.json")
    ///     .compile()
    ///     .unwrap_or_else(|e| panic!("{e}"));
    /// ```
    #[cfg(feature = "pins")]
    pub fn manifest(mut self, path: impl AsRef<Path>) -> Self {
        self.manifest = ManifestChoice::Path(path.as_ref().to_path_buf());
        self
    }

    /// Checks no manifest, not even a `lexicons.json` found beside a
    /// lexicon directory (see [`manifest`](Self::manifest)): for a build
    /// whose lexicons deliberately differ from their pins, or one without
    /// feature `pins` that finds a manifest it cannot check.
    pub fn no_manifest(mut self) -> Self {
        self.manifest = ManifestChoice::Off;
        self
    }

    /// The manifests the build checks: the one named, or those found beside
    /// the lexicon directories (each once).
    fn manifests(&self) -> Vec<PathBuf> {
        match &self.manifest {
            ManifestChoice::Off => Vec::new(),
            ManifestChoice::Path(path) => vec![path.clone()],
            ManifestChoice::Found => {
                let mut found: Vec<PathBuf> = Vec::new();
                for dir in &self.lexicon_dirs {
                    let beside = dir.parent().unwrap_or(Path::new("")).join(MANIFEST_FILE);
                    if beside.is_file() && !found.contains(&beside) {
                        found.push(beside);
                    }
                }
                found
            }
        }
    }

    /// Whether the pinned files of each [manifest](Self::manifest) are the
    /// ones pinned.
    fn check_pins(&self) -> Result<(), Error> {
        for path in self.manifests() {
            check_manifest(path, &self.lexicon_dirs)?;
        }
        Ok(())
    }

    /// The options as configured.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Reads every lexicon: the extern crates' first, then the lexicon
    /// directories. Problems found on the way are in the diagnostics.
    pub fn load(&self) -> Result<(Catalog, Diagnostics), Error> {
        self.check_pins()?;
        let exclude = crate::catalog::exclude_set(&self.exclude).map_err(Error::Exclude)?;
        let mut catalog = Catalog::new();
        let mut diagnostics = Diagnostics::new();
        let extern_options = LoadOptions {
            crate_dir: true,
            layout_warnings: false,
            exclude: None,
        };
        for (dir, rust_path) in &self.extern_crates {
            catalog.load_extern(dir, rust_path, &extern_options, &mut diagnostics);
        }
        let options = LoadOptions {
            crate_dir: true,
            layout_warnings: self.layout_warnings,
            exclude,
        };
        for dir in &self.lexicon_dirs {
            catalog.load(dir, &options, &mut diagnostics);
        }
        Ok((catalog, diagnostics))
    }

    /// Generates in memory. What reading the lexicons reported is settled
    /// and returned with what generating them did (see [`crate::generate`]).
    pub fn generate(&self) -> Result<Generated, Error> {
        let (catalog, diagnostics) = self.load()?;
        crate::generate_after_reading(&catalog, &self.options, diagnostics).map_err(Error::Lexicons)
    }

    /// Generates and writes the files (only those that changed). Under cargo,
    /// asks to be re-run when a lexicon changes and shows warnings as
    /// `cargo:warning` lines.
    pub fn compile(&self) -> Result<Generated, Error> {
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        let under_cargo = std::env::var_os("CARGO").is_some() && self.out_dir.is_none();
        if under_cargo {
            let extern_dirs = self.extern_crates.iter().map(|(dir, _)| dir);
            for dir in self.lexicon_dirs.iter().chain(extern_dirs) {
                println!("cargo:rerun-if-changed={}", dir.display());
            }
            for manifest in self.manifests() {
                println!("cargo:rerun-if-changed={}", manifest.display());
            }
        }
        let generated = self.generate()?;
        if under_cargo {
            for warning in generated.diagnostics.warnings() {
                for line in warning.to_string().lines() {
                    println!("cargo:warning={line}");
                }
            }
        }
        let report =
            crate::sync::compare(&out_dir, &generated.files, &[]).map_err(|source| Error::Io {
                path: out_dir.clone(),
                source,
            })?;
        // Only the generated files are touched; nothing else in the directory
        // is removed.
        let report = crate::sync::SyncReport {
            stale: Vec::new(),
            ..report
        };
        crate::sync::apply(&out_dir, &report).map_err(|source| Error::Io {
            path: out_dir.clone(),
            source,
        })?;
        Ok(generated)
    }
}
