//! Hand-written serde types of the same shape as the generated bindings of
//! `chat.bsky.convo.listConvos` and `app.bsky.feed.getTimeline` outputs, the
//! baseline that `decode_vs_serde` measures atlex against.
//!
//! They are written as a careful developer would with plain serde: `String`
//! for strings with a format and for strings with known values, `i64` for
//! integers, `serde_json::Value` for `unknown` fields, `Option` fields that
//! are skipped when absent, union members boxed (as the bindings box them)
//! and tagged by `$type`, with a catch-all member that keeps what a newer
//! lexicon adds. Unknown fields of known objects are dropped, as atlex drops
//! them.
//!
//! The same types come in two flavours, which differ only in how a union
//! finds its member:
//!
//! - [`tagged`]: `#[serde(tag = "$type")]` with an untagged `Unknown`
//!   member, the plain choice. serde buffers the whole object (nested
//!   objects included) before it looks at the tag, and each nested union
//!   buffers its part again.
//! - [`peeked`]: a `Deserialize` written by hand that reads the first key
//!   and, when it is `$type` (as AT Protocol services write it), decodes the
//!   member's fields straight from the JSON; otherwise it buffers the object
//!   as a `Value`. See [`peek`].

pub(crate) mod peek;

/// An open union: `#[serde(tag = "$type")]`, the members tried by tag, then
/// the catch-all.
macro_rules! tagged_union {
    ($(#[$attr:meta])* pub(crate) enum $name:ident { $($tag:literal => $member:ident($ty:ty),)* }) => {
        $(#[$attr])*
        #[derive(Debug, Deserialize, Serialize)]
        #[serde(tag = "$type")]
        pub(crate) enum $name {
            $(#[serde(rename = $tag)] $member(Box<$ty>),)*
            /// A member of a type the union does not list, as received.
            #[serde(untagged)]
            Unknown(Value),
        }
    };
}

/// An open union whose `Deserialize` peeks at the first key (see [`peek`]);
/// it serializes as [`tagged_union`] does.
macro_rules! peeked_union {
    ($(#[$attr:meta])* pub(crate) enum $name:ident { $($tag:literal => $member:ident($ty:ty),)* }) => {
        $(#[$attr])*
        #[derive(Debug, Serialize)]
        #[serde(tag = "$type")]
        pub(crate) enum $name {
            $(#[serde(rename = $tag)] $member(Box<$ty>),)*
            /// A member of a type the union does not list, as received.
            #[serde(untagged)]
            Unknown(Value),
        }

        impl super::peek::Members for $name {
            fn knows(tag: &str) -> bool {
                matches!(tag, $($tag)|*)
            }

            fn member<'de, B: super::peek::Body<'de>>(
                tag: &str,
                body: B,
            ) -> Result<Self, B::Error> {
                match tag {
                    $($tag => body.decode().map(|m| $name::$member(Box::new(m))),)*
                    // `knows` is asked first; a tag it denies never gets here.
                    _ => Err(serde::de::Error::custom(format_args!("no member {tag}"))),
                }
            }

            fn unknown(value: Value) -> Self {
                $name::Unknown(value)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                super::peek::deserialize(deserializer)
            }
        }
    };
}

/// The types with [`tagged_union`] unions.
pub(crate) mod tagged {
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    macro_rules! open_union {
        ($($t:tt)*) => { tagged_union! { $($t)* } };
    }

    include!("common.rs");
    include!("actor.rs");
    include!("embed.rs");
    include!("feed.rs");
    include!("chat.rs");
}

/// The types with [`peeked_union`] unions.
pub(crate) mod peeked {
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    macro_rules! open_union {
        ($($t:tt)*) => { peeked_union! { $($t)* } };
    }

    include!("common.rs");
    include!("actor.rs");
    include!("embed.rs");
    include!("feed.rs");
    include!("chat.rs");
}
