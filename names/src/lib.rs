//! The names `atlex-codegen` and `atlex-derive` must agree on, in one place.
//!
//! The generator names Rust items from lexicon names and writes
//! `#[lex(...)]` attributes only where a derive would not get a name right
//! by itself; the derives compute those default names. Both sides call the
//! functions here, so the two cannot drift apart.

/// The JSON name the `Object` and `Params` derives give a field that does
/// not name its own (`#[lex(rename = "…")]`): the field's name, without
/// `r#`, in lowerCamelCase. Underscores start a new word, except leading
/// ones; a trailing one is dropped.
///
/// ```
/// use atlex_names::wire_name;
///
/// assert_eq!(wire_name("created_at"), "createdAt");
/// assert_eq!(wire_name("r#type"), "type");
/// assert_eq!(wire_name("self_"), "self");
/// assert_eq!(wire_name("uri_2"), "uri2");
/// ```
pub fn wire_name(field: &str) -> String {
    let bare = field.strip_prefix("r#").unwrap_or(field);
    let mut out = String::with_capacity(bare.len());
    let mut upper = false;
    for c in bare.chars() {
        if c == '_' {
            upper = !out.is_empty();
            continue;
        }
        if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The builder type the `Object` and `Params` derives make for a struct
/// named `type_name` with two or more required fields, unless told another
/// name (`#[lex(builder = "…")]`, which the generator writes when this one
/// is taken in the module).
///
/// ```
/// assert_eq!(atlex_names::builder_name("Post"), "PostBuilder");
/// ```
pub fn builder_name(type_name: &str) -> String {
    format!("{type_name}Builder")
}

/// The event-stream subprotocols a subscription may declare as its default
/// (the lexicon's `subprotocol`), each with the variant of
/// `Subprotocol` (in the runtime's `xrpc` module) that the `Subscription`
/// derive sets for `#[lex(subprotocol = "…")]`. The generator refuses any
/// other token; the runtime's enum is tested against this table.
pub const SUBPROTOCOLS: &[(&str, &str)] = &[
    ("xrpc.v0.cbor", "V0Cbor"),
    ("xrpc.v1.json", "V1Json"),
    ("xrpc.v1.cbor", "V1Cbor"),
];

/// The `Subprotocol` variant of a subprotocol token, `None` for a token
/// that is not one of [`SUBPROTOCOLS`].
///
/// ```
/// assert_eq!(atlex_names::subprotocol_variant("xrpc.v1.json"), Some("V1Json"));
/// assert_eq!(atlex_names::subprotocol_variant("xrpc.v2.json"), None);
/// ```
pub fn subprotocol_variant(token: &str) -> Option<&'static str> {
    SUBPROTOCOLS
        .iter()
        .find(|(known, _)| *known == token)
        .map(|(_, variant)| *variant)
}

#[cfg(test)]
mod tests {
    use super::wire_name;

    #[test]
    fn wire_names() {
        for (field, json) in [
            ("created_at", "createdAt"),
            ("text", "text"),
            ("self_", "self"),
            ("uri_2", "uri2"),
            ("is_thread_muted", "isThreadMuted"),
            ("r#type", "type"),
            ("_private", "private"),
        ] {
            assert_eq!(wire_name(field), json, "{field}");
        }
    }
}
