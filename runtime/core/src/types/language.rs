//! The `language` format.

use super::Reason;

/// Grandfathered tags that do not fit the normal tag syntax (RFC 5646
/// `irregular`); matched ignoring ASCII case.
const IRREGULAR: &[&str] = &[
    "en-GB-oed",
    "i-ami",
    "i-bnn",
    "i-default",
    "i-enochian",
    "i-hak",
    "i-klingon",
    "i-lux",
    "i-mingo",
    "i-navajo",
    "i-pwn",
    "i-tao",
    "i-tay",
    "i-tsu",
    "sgn-BE-FR",
    "sgn-BE-NL",
    "sgn-CH-DE",
];

string_newtype! {
    /// A language tag (Lexicon format `language`), such as `en`, `pt-BR` or
    /// `zh-Hant`: a BCP 47 tag (RFC 5646).
    ///
    /// Accepted: a well-formed RFC 5646 tag — language (with up to three
    /// extended language subtags), then optional script, region, variants,
    /// extensions and private use — or a private-use tag (`x-…`) or an
    /// irregular grandfathered tag (such as `i-default`). Also required, as
    /// RFC 5646 asks of valid tags: no variant and no extension singleton
    /// appears twice (ignoring case).
    ///
    /// Unlike RFC 5646, which ignores case, the primary language subtag must
    /// be lowercase (`JA` is rejected, as the atproto reference validators
    /// do), and the reserved four-letter language subtags are rejected. Tags
    /// are not checked against the IANA registry.
    Language, "language"
}

impl Language {
    /// The primary language subtag: `pt` in `pt-BR`. Empty for private-use
    /// tags, and `i` for the `i-…` grandfathered tags.
    pub fn primary(&self) -> &str {
        let first = self.0.split('-').next().unwrap_or_default();
        if first.eq_ignore_ascii_case("x") {
            ""
        } else {
            first
        }
    }
}

fn is_alpha(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphabetic())
}

fn is_digit(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

fn check(s: &str) -> Result<(), Reason> {
    if s.is_empty() {
        return Err("empty".into());
    }
    if IRREGULAR.iter().any(|tag| tag.eq_ignore_ascii_case(s)) {
        return Ok(());
    }
    for subtag in s.split('-') {
        if subtag.is_empty() {
            return Err("empty subtag (leading, trailing or doubled '-')".into());
        }
        if let Some(c) = subtag.chars().find(|c| !c.is_ascii_alphanumeric()) {
            return Err(format!("invalid character {c:?}").into());
        }
        if subtag.len() > 8 {
            return Err(format!("subtag {subtag:?} longer than 8 characters").into());
        }
    }
    let mut subtags = s.split('-').peekable();
    // `s` is not empty, so there is a first subtag.
    let first = subtags.next().unwrap_or_default();
    if first.eq_ignore_ascii_case("x") {
        return check_private_use(subtags);
    }
    if !first.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(format!("language subtag {first:?} must be lowercase letters").into());
    }
    match first.len() {
        2 | 3 => {
            // Up to three extended language subtags.
            for _ in 0..3 {
                if subtags.next_if(|t| t.len() == 3 && is_alpha(t)).is_none() {
                    break;
                }
            }
        }
        5..=8 => {}
        4 => return Err(format!("four-letter language subtag {first:?} is reserved").into()),
        _ => {
            return Err(format!("language subtag {first:?} must be 2, 3 or 5 to 8 letters").into());
        }
    }
    // Script.
    subtags.next_if(|t| t.len() == 4 && is_alpha(t));
    // Region.
    subtags.next_if(|t| (t.len() == 2 && is_alpha(t)) || (t.len() == 3 && is_digit(t)));
    // Variants.
    let mut seen_variants: Vec<&str> = Vec::new();
    while let Some(variant) = subtags.next_if(|t| {
        (5..=8).contains(&t.len()) || (t.len() == 4 && t.starts_with(|c: char| c.is_ascii_digit()))
    }) {
        if seen_variants
            .iter()
            .any(|v| v.eq_ignore_ascii_case(variant))
        {
            return Err(format!("variant {variant:?} appears twice").into());
        }
        seen_variants.push(variant);
    }
    // Extensions: a singleton other than x, then subtags of 2 to 8 characters.
    let mut seen_singletons: Vec<&str> = Vec::new();
    while let Some(singleton) = subtags.next_if(|t| t.len() == 1 && !t.eq_ignore_ascii_case("x")) {
        if seen_singletons
            .iter()
            .any(|s| s.eq_ignore_ascii_case(singleton))
        {
            return Err(format!("extension singleton {singleton:?} appears twice").into());
        }
        seen_singletons.push(singleton);
        let mut count = 0;
        while subtags.next_if(|t| t.len() >= 2).is_some() {
            count += 1;
        }
        if count == 0 {
            return Err(format!("extension {singleton:?} has no subtags").into());
        }
    }
    // Private use.
    if subtags.next_if(|t| t.eq_ignore_ascii_case("x")).is_some() {
        return check_private_use(subtags);
    }
    match subtags.next() {
        None => Ok(()),
        Some(subtag) => Err(format!("subtag {subtag:?} is out of place").into()),
    }
}

/// Checks what follows a private-use `x`: one or more subtags (already known
/// to be 1 to 8 letters and digits).
fn check_private_use<'a>(mut rest: impl Iterator<Item = &'a str>) -> Result<(), Reason> {
    if rest.next().is_none() {
        return Err("private use 'x' must be followed by at least one subtag".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary() {
        assert_eq!(Language::new("pt-BR").unwrap().primary(), "pt");
        assert_eq!(Language::new("i-default").unwrap().primary(), "i");
        assert_eq!(Language::new("x-whatever").unwrap().primary(), "");
    }

    #[test]
    fn reasons() {
        let reason = |s: &str| Language::validate(s).unwrap_err().reason;
        assert_eq!(
            reason("JA"),
            "language subtag \"JA\" must be lowercase letters"
        );
        assert_eq!(
            reason("jaja"),
            "four-letter language subtag \"jaja\" is reserved"
        );
        assert_eq!(
            reason("ja-"),
            "empty subtag (leading, trailing or doubled '-')"
        );
        assert_eq!(reason("de-DE-1901-1901"), "variant \"1901\" appears twice");
        assert_eq!(
            reason("en-u-co-U-ca"),
            "extension singleton \"U\" appears twice"
        );
        assert_eq!(reason("en-u"), "extension \"u\" has no subtags");
        assert_eq!(reason("en-u-c"), "extension \"u\" has no subtags");
        assert_eq!(
            reason("en-x"),
            "private use 'x' must be followed by at least one subtag"
        );
        assert_eq!(reason("en-GB-US"), "subtag \"US\" is out of place");
        assert_eq!(
            reason("en-abcdefghi"),
            "subtag \"abcdefghi\" longer than 8 characters"
        );
    }

    #[test]
    fn accepts_extlang_and_private_use() {
        for tag in [
            "zh-min-nan",
            "zh-yue-Hant-HK",
            "en-x-a-b-c",
            "de-1996",
            "en-US-u-ca-gregory",
        ] {
            assert!(Language::validate(tag).is_ok(), "{tag}");
        }
    }

    #[test]
    fn serde_round_trip() {
        let lang = Language::new("en-GB").unwrap();
        let json = serde_json::to_string(&lang).unwrap();
        assert_eq!(serde_json::from_str::<Language>(&json).unwrap(), lang);
        let err = serde_json::from_str::<Language>("\"jaja\"").unwrap_err();
        assert!(err.to_string().contains("reserved"), "{err}");
    }
}
