//! Lexicon files on disk: which top-level directories of a crate hold none,
//! and the NSID a file's path spells. The catalog and the diff's sources
//! both read directories of lexicons this way.

use std::path::Path;

/// Top-level directories of a crate that hold no lexicons.
pub const CRATE_DIRS: &[&str] = &["src", "tests", "benches", "examples", "target"];

/// `chat/bsky/convo/leaveConvo.json` → `chat.bsky.convo.leaveConvo`.
pub fn nsid_from_relative_path(relative: &Path) -> Option<String> {
    let stem = relative.with_extension("");
    let parts: Option<Vec<&str>> = stem.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nsid_from_path() {
        assert_eq!(
            nsid_from_relative_path(Path::new("chat/bsky/convo/leaveConvo.json")).as_deref(),
            Some("chat.bsky.convo.leaveConvo")
        );
    }
}
