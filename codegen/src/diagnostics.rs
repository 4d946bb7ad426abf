//! Diagnostics: every problem found in lexicon documents, with the file, the
//! JSON location and the lexicon location (`nsid#def.field`) it concerns.
//!
//! Phases never stop at the first problem: they push diagnostics into a
//! [`Diagnostics`] and go on, and the caller reports them all at the end.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; generation goes on (an unknown key, a renamed item).
    Warning,
    /// The input cannot be used as written; nothing is generated.
    Error,
}

/// Where a diagnostic points.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The lexicon file, when the document came from one.
    pub file: Option<Arc<Path>>,
    /// A JSON pointer into the document (`/defs/main/input/schema`).
    pub pointer: String,
    /// The lexicon location, `nsid#def.field`, when known.
    pub lexicon: Option<String>,
    /// 1-based line and column of `pointer` in the file, when it was found.
    pub line_col: Option<(usize, usize)>,
    /// The NSID of the lexicon document the problem belongs to (for a
    /// binding, the endpoint it binds), when known: an error there makes
    /// that document invalid, and nothing else.
    pub nsid: Option<String>,
}

impl Location {
    /// A location in a file.
    pub fn new(file: Option<Arc<Path>>, pointer: impl Into<String>) -> Self {
        Self {
            file,
            pointer: pointer.into(),
            lexicon: None,
            line_col: None,
            nsid: None,
        }
    }
}

/// One problem.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    /// Where it is.
    pub location: Location,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in a sentence.
    pub message: String,
    /// Other places involved (for example every reference to a missing def).
    pub related: Vec<(Location, String)>,
}

impl Diagnostic {
    /// Every place the diagnostic points at: its own location, then those of
    /// its related notes.
    pub fn places(&self) -> impl Iterator<Item = &Location> {
        std::iter::once(&self.location).chain(self.related.iter().map(|(location, _)| location))
    }

    /// An error at `location`.
    pub fn error(location: Location, message: impl Into<String>) -> Self {
        Self {
            location,
            severity: Severity::Error,
            message: message.into(),
            related: Vec::new(),
        }
    }

    /// A warning at `location`.
    pub fn warning(location: Location, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(location, message)
        }
    }

    /// Adds a related location.
    pub fn with_related(mut self, location: Location, note: impl Into<String>) -> Self {
        self.related.push((location, note.into()));
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

fn write_location(f: &mut fmt::Formatter<'_>, location: &Location) -> fmt::Result {
    match &location.file {
        Some(file) => write!(f, "{}", file.display())?,
        None => f.write_str("<input>")?,
    }
    if let Some((line, col)) = location.line_col {
        write!(f, ":{line}:{col}")?;
    }
    if !location.pointer.is_empty() {
        write!(f, " ({})", location.pointer)?;
    }
    if let Some(lexicon) = &location.lexicon {
        write!(f, " at {lexicon}")?;
    }
    Ok(())
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{label}: {}\n  --> ", self.message)?;
        write_location(f, &self.location)?;
        for (location, note) in &self.related {
            write!(f, "\n  note: {note}\n  --> ")?;
            write_location(f, location)?;
        }
        Ok(())
    }
}

/// A collection of diagnostics, kept in the order they were found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// No diagnostics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Adds all of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// Whether any is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// All of them.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.is_error())
    }

    /// The warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| !d.is_error())
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Keeps only the diagnostics for which `keep` holds.
    pub fn retain(&mut self, keep: impl FnMut(&Diagnostic) -> bool) {
        self.items.retain(keep);
    }

    /// Turns every error for which `which` holds into a warning.
    pub fn downgrade(&mut self, which: impl Fn(&Diagnostic) -> bool) {
        for item in &mut self.items {
            if item.is_error() && which(item) {
                item.severity = Severity::Warning;
            }
        }
    }

    /// Sorts by file, position and message, and drops exact duplicates, so
    /// reports are stable whatever order phases ran in.
    pub fn sort(&mut self) {
        self.items.sort();
        self.items.dedup();
    }

    /// Fills in line and column for every location in a file that has
    /// none, with what `line_col` finds for its file and JSON pointer
    /// (see [`crate::Catalog::locate`]).
    pub fn locate(&mut self, mut line_col: impl FnMut(&Arc<Path>, &str) -> Option<(usize, usize)>) {
        let mut fill = |location: &mut Location| {
            if location.line_col.is_none()
                && let Some(file) = &location.file
            {
                location.line_col = line_col(file, &location.pointer);
            }
        };
        for item in &mut self.items {
            fill(&mut item.location);
            for (location, _) in &mut item.related {
                fill(location);
            }
        }
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for item in &self.items {
            writeln!(f, "{item}")?;
        }
        let errors = self.errors().count();
        let warnings = self.items.len() - errors;
        write!(f, "{errors} error(s), {warnings} warning(s)")
    }
}

impl std::error::Error for Diagnostics {}

/// Appends one reference token to a JSON pointer, escaping `~` and `/`.
pub fn pointer_push(pointer: &str, token: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + token.len() + 1);
    out.push_str(pointer);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// A path for display, relative to the working directory when possible.
pub fn display_path(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}

/// The lexicon location of a JSON pointer in the document `nsid`:
/// `/defs/main/input/schema/properties/convoId` → `nsid#main.input.convoId`.
pub fn lexicon_location(nsid: &str, pointer: &str) -> Option<String> {
    let mut tokens = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"));
    if tokens.next().as_deref() != Some("defs") {
        return Some(nsid.to_owned());
    }
    let Some(def) = tokens.next() else {
        return Some(nsid.to_owned());
    };
    let mut out = format!("{nsid}#{def}");
    let rest: Vec<String> = tokens.collect();
    let mut i = 0;
    while i < rest.len() {
        let token = rest[i].as_str();
        match token {
            "properties" => {
                if let Some(name) = rest.get(i + 1) {
                    out.push('.');
                    out.push_str(name);
                    i += 1;
                }
            }
            "schema" | "record" | "items" | "type" | "ref" => {}
            "input" | "output" | "parameters" | "message" | "errors" | "refs" | "required"
            | "nullable" | "enum" | "knownValues" => {
                out.push('.');
                out.push_str(token);
            }
            other if other.parse::<usize>().is_ok() => {
                out.push('[');
                out.push_str(other);
                out.push(']');
            }
            _ => {}
        }
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_read_like_lexicon_paths() {
        assert_eq!(
            lexicon_location("a.b.c", "/defs/main/input/schema/properties/convoId").as_deref(),
            Some("a.b.c#main.input.convoId")
        );
        assert_eq!(
            lexicon_location("a.b.c", "/defs/view/properties/items/items/refs/2").as_deref(),
            Some("a.b.c#view.items.refs[2]")
        );
        assert_eq!(lexicon_location("a.b.c", "/id").as_deref(), Some("a.b.c"));
    }
}
