//! Rich text for `app.bsky.richtext.facet`: facets whose byte ranges are
//! computed from the text, so no one counts UTF-8 bytes by hand.
//!
//! Two ways in:
//!
//! - [`RichText`] builds the text and its facets together, piece by piece;
//! - [`Facet::link`], [`Facet::mention`] and [`Facet::tag`] find a part of
//!   text already written and annotate it.
//!
//! ```
//! use atlex_lexicons::richtext::RichText;
//!
//! let did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz".parse()?;
//! let (text, facets) = RichText::new()
//!     .text("Grüße, ")
//!     .mention("@alice.example.com", did)
//!     .text("! Read ")
//!     .link("the docs", "https://atproto.com/specs/lexicon".parse()?)
//!     .text(" ")
//!     .tag("atproto")
//!     .into_parts();
//! assert_eq!(text, "Grüße, @alice.example.com! Read the docs #atproto");
//! // Byte offsets: "Grüße, " is 9 bytes in UTF-8.
//! assert_eq!(facets[0].index.byte_start, 9);
//! assert_eq!(facets[0].index.byte_end, 27);
//! assert_eq!(&text[43..51], "#atproto");
//! assert_eq!((facets[2].index.byte_start, facets[2].index.byte_end), (43, 51));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use atlex::types::{Did, Uri};

use crate::app::bsky::richtext::facet::{ByteSlice, Facet, FacetFeaturesItem, Link, Mention, Tag};

impl ByteSlice {
    /// The byte range `range` of a text, as a facet index.
    pub fn of(range: std::ops::Range<usize>) -> Self {
        Self::builder()
            .byte_start(to_i64(range.start))
            .byte_end(to_i64(range.end))
            .build()
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Facet {
    /// A facet of `features` over the byte range `range` of a text.
    pub fn over(range: std::ops::Range<usize>, features: Vec<FacetFeaturesItem>) -> Self {
        Self::builder()
            .index(ByteSlice::of(range))
            .features(features)
            .build()
    }

    /// A link facet over the first occurrence of `part` in `text`, or `None`
    /// when `text` does not contain it.
    pub fn link(text: &str, part: &str, uri: Uri) -> Option<Self> {
        let range = find(text, part)?;
        Some(Self::over(range, vec![Link::new(uri).into()]))
    }

    /// A mention facet over the first occurrence of `part` (usually
    /// `@handle`) in `text`. Like the reference client's, it writes its
    /// `$type` (see [`RichText::mention`]).
    pub fn mention(text: &str, part: &str, did: Did) -> Option<Self> {
        let range = find(text, part)?;
        Some(Self::mention_over(range, did))
    }

    /// A mention facet over `range`, with its `$type` written.
    fn mention_over(range: std::ops::Range<usize>, did: Did) -> Self {
        let mut facet = Self::over(range, vec![Mention::new(did).into()]);
        facet.extra.set_writes_type(true);
        facet
    }

    /// A tag facet over the first occurrence of `part` in `text`; the tag is
    /// `part` without its leading `#`.
    pub fn tag(text: &str, part: &str) -> Option<Self> {
        let range = find(text, part)?;
        let tag = part.strip_prefix('#').unwrap_or(part);
        Some(Self::over(range, vec![Tag::new(tag).into()]))
    }
}

fn find(text: &str, part: &str) -> Option<std::ops::Range<usize>> {
    if part.is_empty() {
        return None;
    }
    let start = text.find(part)?;
    Some(start..start + part.len())
}

/// Text and its facets, built together: each piece is appended to the text,
/// and the annotated ones get a facet over exactly their bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RichText {
    text: String,
    facets: Vec<Facet>,
}

impl RichText {
    /// Empty text.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends plain text.
    #[must_use]
    pub fn text(mut self, text: &str) -> Self {
        self.text.push_str(text);
        self
    }

    /// Appends `text` as a link to `uri`.
    #[must_use]
    pub fn link(self, text: &str, uri: Uri) -> Self {
        self.annotated(text, Link::new(uri).into())
    }

    /// Appends `text` (usually `@handle`) as a mention of `did`.
    ///
    /// The facet writes its `$type` (`app.bsky.richtext.facet`), as the
    /// reference TypeScript client's facet detection does for mentions (and
    /// not for links and tags): a post built here from the same text has the
    /// bytes, and the CID, of the one that client writes.
    #[must_use]
    pub fn mention(mut self, text: &str, did: Did) -> Self {
        let start = self.text.len();
        self.text.push_str(text);
        self.facets
            .push(Facet::mention_over(start..self.text.len(), did));
        self
    }

    /// Appends `#tag` as a hashtag (`tag` is given without its `#`).
    #[must_use]
    pub fn tag(self, tag: &str) -> Self {
        let text = format!("#{tag}");
        self.annotated(&text, Tag::new(tag).into())
    }

    /// Appends `text` with a facet of `feature` over it.
    #[must_use]
    pub fn annotated(mut self, text: &str, feature: FacetFeaturesItem) -> Self {
        let start = self.text.len();
        self.text.push_str(text);
        self.facets
            .push(Facet::over(start..self.text.len(), vec![feature]));
        self
    }

    /// The text so far.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The facets so far.
    pub fn facets(&self) -> &[Facet] {
        &self.facets
    }

    /// The text and its facets, for a post (`Post::new(text, …).with_facets(facets)`).
    pub fn into_parts(self) -> (String, Vec<Facet>) {
        (self.text, self.facets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facets_over_existing_text_count_utf8_bytes() {
        let text = "✨ grüße: https://example.com/news #rust @bob.test";
        let uri: Uri = "https://example.com/news".parse().unwrap();
        let link = Facet::link(text, "https://example.com/news", uri).unwrap();
        let start = usize::try_from(link.index.byte_start).unwrap();
        let end = usize::try_from(link.index.byte_end).unwrap();
        assert_eq!(&text[start..end], "https://example.com/news");
        assert_eq!(start, "✨ grüße: ".len());
        assert_eq!(start, 13);
        let tag = Facet::tag(text, "#rust").unwrap();
        assert!(matches!(&tag.features[0], FacetFeaturesItem::Tag(t) if t.tag == "rust"));
        let did: Did = "did:plc:bob00000000000000000000b".parse().unwrap();
        let mention = Facet::mention(text, "@bob.test", did).unwrap();
        assert_eq!(usize::try_from(mention.index.byte_end).unwrap(), text.len());
        assert!(Facet::tag(text, "#go").is_none());
        assert!(Facet::tag(text, "").is_none());
    }

    #[test]
    fn built_text_and_facets_agree_and_validate() {
        use atlex::validate::Validate;
        let (text, facets) = RichText::new()
            .text("日本語 ")
            .tag("tag")
            .text(" and ")
            .link("a link", "https://example.com".parse().unwrap())
            .into_parts();
        assert_eq!(text, "日本語 #tag and a link");
        let slices: Vec<(i64, i64)> = facets
            .iter()
            .map(|f| (f.index.byte_start, f.index.byte_end))
            .collect();
        assert_eq!(slices, [(10, 14), (19, 25)]);
        for facet in &facets {
            facet.validate().unwrap();
        }
    }
}
