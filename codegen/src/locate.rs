//! Finding the line and column of a JSON pointer in a text, so diagnostics
//! made far from the reader (reference checks, naming) point into the file
//! as an editor shows it. The text is read with the generator's one JSON
//! reader (`crate::json`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The 1-based line and column (in characters) where the value at `pointer`
/// starts in `text`, or `None` if the text is not JSON or the pointer does
/// not lead to a value.
pub fn line_col(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let parsed = crate::json::parse(text).ok()?;
    pointer_line_col(text, &parsed.value, pointer)
}

/// Like [`line_col`], for a text already parsed into `root`.
pub fn pointer_line_col(
    text: &str,
    root: &crate::json::Value,
    pointer: &str,
) -> Option<(usize, usize)> {
    crate::json::line_col(text, root.pointer(pointer)?.at)
}

/// Line and column of pointers into files whose text `source` gives (for
/// [`crate::Diagnostics::locate`]): each file is parsed once, however many
/// pointers lead into it.
pub struct Files<S> {
    source: S,
    parsed: HashMap<Arc<Path>, Option<(Arc<str>, crate::json::Value)>>,
}

impl<S: FnMut(&Path) -> Option<Arc<str>>> Files<S> {
    /// Files whose text `source` gives (`None`: not known).
    pub fn new(source: S) -> Self {
        Self {
            source,
            parsed: HashMap::new(),
        }
    }

    /// Where the value at `pointer` starts in `file`; `None` when the text
    /// of `file` is not known or not JSON, or the pointer leads nowhere.
    pub fn line_col(&mut self, file: &Arc<Path>, pointer: &str) -> Option<(usize, usize)> {
        let source = &mut self.source;
        let parsed = self.parsed.entry(file.clone()).or_insert_with(|| {
            let text = source(file)?;
            let value = crate::json::parse(&text).ok()?.value;
            Some((text, value))
        });
        let (text, root) = parsed.as_ref()?;
        pointer_line_col(text, root, pointer)
    }
}

#[cfg(test)]
mod tests {
    use super::line_col;

    const TEXT: &str = "{\n  \"a\": 1,\n  \"b\": {\n    \"c/d\": [true, {\"e\": \"x\\\"y\"}],\n    \"f\": null\n  }\n}";

    #[test]
    fn finds_nested_values() {
        assert_eq!(line_col(TEXT, ""), Some((1, 1)));
        assert_eq!(line_col(TEXT, "/a"), Some((2, 8)));
        assert_eq!(line_col(TEXT, "/b/c~1d"), Some((4, 12)));
        assert_eq!(line_col(TEXT, "/b/c~1d/1/e"), Some((4, 25)));
        assert_eq!(line_col(TEXT, "/b/f"), Some((5, 10)));
    }

    #[test]
    fn missing_paths_and_garbage_give_none() {
        assert_eq!(line_col(TEXT, "/zzz"), None);
        assert_eq!(line_col(TEXT, "/b/c~1d/7"), None);
        assert_eq!(line_col(TEXT, "a"), None);
        assert_eq!(line_col("{\"a\": [1, 2", "/a/5"), None);
        assert_eq!(line_col("{{{{", "/a"), None);
        assert_eq!(line_col("\"unterminated", "/a"), None);
        assert_eq!(line_col(&"[".repeat(10_000), "/0/0/0"), None);
    }
}
