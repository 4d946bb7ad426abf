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
