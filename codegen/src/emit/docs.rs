//! Doc comments, identifiers and paths as tokens.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, quote};

use crate::names::split_raw;

/// An identifier from a name the names phase produced (`r#type` is raw).
/// Names are sanitized there; anything else still yields a valid identifier.
pub(crate) fn ident(name: &str) -> Ident {
    let (raw, bare) = split_raw(name);
    let valid = bare
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && bare != "_";
    if !valid {
        return Ident::new("__invalid_name", Span::call_site());
    }
    if raw && !matches!(bare, "crate" | "self" | "super" | "Self") {
        Ident::new_raw(bare, Span::call_site())
    } else {
        Ident::new(bare, Span::call_site())
    }
}

/// Tokens of a path such as `::atlex` or `crate::lexicons`.
pub(crate) fn path_tokens(path: &str) -> TokenStream {
    let mut out = TokenStream::new();
    let absolute = path.starts_with("::");
    for (i, segment) in path.trim_start_matches("::").split("::").enumerate() {
        if i > 0 || absolute {
            out.extend(quote!(::));
        }
        ident(segment).to_tokens(&mut out);
    }
    out
}

/// Doc attributes for a description: one `#[doc]` per line, leading
/// whitespace trimmed (so nothing turns into a code block or doctest),
/// brackets escaped (no accidental intra-doc links) and bare URLs wrapped.
pub(crate) fn docs(text: Option<&str>) -> TokenStream {
    let Some(text) = text else {
        return TokenStream::new();
    };
    let lines: Vec<String> = text
        .trim()
        .lines()
        // Tabs become spaces: rustdoc and clippy expect no tabs in docs.
        .map(|line| format!(" {}", doc_line(&line.trim().replace('\t', "    "))))
        .map(|line| line.trim_end().to_owned())
        .collect();
    quote!(#(#[doc = #lines])*)
}

/// Doc attributes for a description, or for `fallback` when the lexicon
/// gives none (or an empty one): every generated item is documented.
pub(crate) fn docs_or(text: Option<&str>, fallback: impl FnOnce() -> String) -> TokenStream {
    match text.filter(|text| !text.trim().is_empty()) {
        Some(text) => docs(Some(text)),
        None => docs(Some(&fallback())),
    }
}

/// Doc attributes for text the generator writes itself: taken as it is, so
/// that its intra-doc links (``[`register`]``) work.
pub(super) fn own_docs(text: &str) -> TokenStream {
    let lines = text
        .lines()
        .map(|line| format!(" {line}").trim_end().to_owned());
    quote!(#(#[doc = #lines])*)
}

fn doc_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let is_url = word.starts_with("https://") || word.starts_with("http://");
        if is_url {
            let end = word.trim_end_matches(['.', ',', ')', ';', ':']).len();
            let (url, tail) = word.split_at(end);
            out.push('<');
            out.push_str(url);
            out.push('>');
            out.push_str(&escape_doc(tail));
        } else {
            out.push_str(&escape_doc(word));
        }
    }
    out
}

fn escape_doc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_escaped_and_own_text_is_not() {
        let text = docs(Some("see [x] <b> https://a.example/x.")).to_string();
        assert!(
            text.contains(r"see \\[x\\] &lt;b&gt; <https://a.example/x>."),
            "{text}"
        );
        let text = own_docs("Mount it with [`register`].").to_string();
        assert!(text.contains("Mount it with [`register`]."), "{text}");
    }
}
