//! Decoder errors embedded in messages, read back as words.
//!
//! A union decodes its member from the same input and wraps the member's
//! error in a message naming the member (`invalid app.bsky.embed.images at
//! images: …`); the union code is generic, so it can only print the error,
//! and `serde_ipld_dagcbor`'s errors print as their `Debug` form:
//! `Mismatch { name: "i64", found: 251 }`, `Msg("…")`. This turns such a tail
//! back into the decoder error it shows and describes it as the top level
//! would (`a float (0xfb) where an integer was expected`).

use cbor4ii::core::error::Len;

use super::{Raw, describe, unquote_messages};
use serde_ipld_dagcbor::DecodeError as E;

/// `message` with embedded decoder errors written as words.
pub(super) fn words(message: &str) -> String {
    let message = unquote_messages(message);
    // The error is the tail after one of the `: ` separators (the first
    // whose tail reads whole as one: the error's own fields hold `: ` too).
    let starts = std::iter::once(0).chain(message.match_indices(": ").map(|(at, _)| at + 2));
    for start in starts {
        if let Some(err) = parse(&message[start..]) {
            return format!("{}{}", &message[..start], describe(&err));
        }
    }
    message
}

/// The decoder error whose `Debug` form is `text`, if it is one.
fn parse(text: &str) -> Option<Raw> {
    let (variant, fields) = match text.split_once(" { ") {
        Some((variant, rest)) => (variant, rest.strip_suffix(" }")?),
        None => (text, ""),
    };
    let field = |key: &str| {
        fields
            .split(", ")
            .find_map(|pair| pair.strip_prefix(key)?.strip_prefix(": "))
    };
    let name = || field("name").and_then(|quoted| static_name(quoted.trim_matches('"')));
    let number = |key: &str| field(key)?.parse::<usize>().ok();
    Some(match variant {
        // What the input lacked is not part of the description.
        "Eof" => E::Eof {
            name: name()?,
            expect: Len::Big,
        },
        "Mismatch" => E::Mismatch {
            name: name()?,
            found: u8::try_from(number("found")?).ok()?,
        },
        "Unsupported" => E::Unsupported {
            name: name()?,
            found: u8::try_from(number("found")?).ok()?,
        },
        "NonMinimal" => E::NonMinimal {
            name: name()?,
            found: u8::try_from(number("found")?).ok()?,
        },
        "RequireUtf8" => E::RequireUtf8 { name: name()? },
        "DepthOverflow" => E::DepthOverflow { name: name()? },
        "LengthMismatch" => E::LengthMismatch {
            name: name()?,
            expect: number("expect")?,
            value: number("value")?,
        },
        "TrailingData" if fields.is_empty() => E::TrailingData,
        "IndefiniteSize" if fields.is_empty() => E::IndefiniteSize,
        "UnorderedKey" if fields.is_empty() => E::UnorderedKey,
        _ => return None,
    })
}

/// The decoder's name for what it expected, as the `'static` string the
/// error holds; names this module does not know leave the message as is.
fn static_name(name: &str) -> Option<&'static str> {
    const NAMES: &[&str] = &[
        "any",
        "option",
        "value",
        "map key",
        "str",
        "string",
        "bytes",
        "cid",
        "array",
        "tuple",
        "map",
        "bool",
        "i8",
        "i16",
        "i32",
        "i64",
        "i128",
        "u8",
        "u16",
        "u32",
        "u64",
        "u128",
        "f32",
        "f64",
        "unit",
        "tag",
        "tag head",
        "CBOR tag",
        "CBOR tag head",
        "char",
        "enum",
        "ignored-any",
    ];
    NAMES.iter().copied().find(|known| *known == name)
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn embedded_errors_read_as_words() {
        assert_eq!(
            words(
                r#"invalid app.bsky.embed.images at images: Mismatch { name: "i64", found: 251 }"#
            ),
            "invalid app.bsky.embed.images at images: a float (the data model has none) (0xfb) where an integer was expected"
        );
        assert_eq!(
            words(
                r#"invalid a.b at c: Msg("invalid d.e at f: Eof { name: \"string\", expect: Small(4) }")"#
            ),
            "invalid a.b at c: invalid d.e at f: the input ends inside a string"
        );
        assert_eq!(
            words(r#"invalid a.b at z: DepthOverflow { name: "ignored-any" }"#),
            "invalid a.b at z: nested more than 256 levels deep"
        );
        assert_eq!(
            words("invalid a.b: UnorderedKey"),
            "invalid a.b: map keys repeated or out of canonical order (shorter first, then bytewise)"
        );
        // Anything else stays as it was.
        for text in [
            "invalid a.b at c: expected a thing",
            r#"invalid a.b: Mismatch { name: "something new", found: 1 }"#,
            r#"invalid a.b: Mismatch { name: "i64", found: 999 }"#,
            "Mismatch",
        ] {
            assert_eq!(words(text), text);
        }
    }
}
