//! What the values of a permission must look like: NSIDs, MIME types and
//! patterns, and the audience of an `rpc` permission (a service of an
//! atproto DID, `did:web:api.example.com#svc_appview`).

use atlex_core::types::Nsid;

pub(crate) fn is_nsid(value: &str) -> bool {
    value.parse::<Nsid>().is_ok()
}

/// `*` or an NSID.
pub(crate) fn is_nsid_or_any(value: &str) -> bool {
    value == "*" || is_nsid(value)
}

/// `type/subtype`: one `/`, something on each side, no space.
fn is_type_slash_subtype(value: &str) -> bool {
    match value.split_once('/') {
        Some((kind, sub)) => {
            !kind.is_empty() && !sub.is_empty() && !sub.contains('/') && !value.contains(' ')
        }
        None => false,
    }
}

/// A MIME type, no wildcard.
pub(crate) fn is_mime(value: &str) -> bool {
    is_type_slash_subtype(value) && !value.contains('*')
}

/// A MIME type or a pattern of them: `*/*`, `image/*`, `image/png`.
pub(crate) fn is_accept(value: &str) -> bool {
    value == "*/*"
        || (is_type_slash_subtype(value) && (!value.contains('*') || value.ends_with("/*")))
}

/// Whether pattern `accept` takes MIME type `mime` (both already checked).
pub(crate) fn accept_matches(accept: &str, mime: &str) -> bool {
    if accept == "*/*" {
        true
    } else if accept.ends_with("/*") {
        mime.starts_with(&accept[..accept.len() - 1])
    } else {
        accept == mime
    }
}

/// `*` or a service of an atproto DID.
pub(crate) fn is_audience(value: &str) -> bool {
    value == "*" || is_service_ref(value)
}

/// A DID, `#`, and a fragment: the DID a `did:plc` or a `did:web` of a host
/// alone (a port only on `localhost`).
pub(crate) fn is_service_ref(value: &str) -> bool {
    let Some((did, fragment)) = value.split_once('#') else {
        return false;
    };
    !fragment.is_empty()
        && !fragment.contains('#')
        && is_fragment(fragment)
        && did.len() <= 2048
        && (is_did_plc(did) || is_atproto_did_web(did))
}

/// RFC 3986 fragment characters, percent escapes complete.
fn is_fragment(value: &str) -> bool {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => {}
            b'-' | b'.' | b'_' | b'~' => {}
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' => {}
            b':' | b'@' | b'/' | b'?' => {}
            b'%' => {
                match bytes.get(i + 1..i + 3) {
                    Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => {}
                    _ => return false,
                }
                i += 2;
            }
            _ => return false,
        }
        i += 1;
    }
    true
}

fn is_did_plc(did: &str) -> bool {
    did.len() == 32
        && did.starts_with("did:plc:")
        && did.as_bytes()[8..]
            .iter()
            .all(|c| matches!(c, b'a'..=b'z' | b'2'..=b'7'))
}

/// A `did:web` naming a host (its `:`-free method-specific id), with a port
/// only for `localhost`.
fn is_atproto_did_web(did: &str) -> bool {
    let Some(id) = did.strip_prefix("did:web:") else {
        return false;
    };
    if id.is_empty() || id.contains(':') || !is_method_specific_id(id) {
        return false;
    }
    let localhost = id == "localhost" || id.starts_with("localhost%3A");
    if !localhost && id.contains("%3A") {
        return false;
    }
    let host = id.replace("%3A", ":");
    let scheme = if localhost { "http" } else { "https" };
    url::Url::parse(&format!("{scheme}://{host}")).is_ok()
}

/// A DID's method-specific id, in the characters the DID syntax allows
/// (percent escapes with upper-case hex digits).
fn is_method_specific_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' => {}
            b':' if i + 1 < bytes.len() => {}
            b'%' => {
                let upper_hex = |c: &u8| matches!(c, b'0'..=b'9' | b'A'..=b'F');
                match bytes.get(i + 1..i + 3) {
                    Some(hex) if hex.iter().all(upper_hex) => {}
                    _ => return false,
                }
                i += 2;
            }
            _ => return false,
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences() {
        for ok in [
            "*",
            "did:web:api.bsky.app#bsky_appview",
            "did:plc:ewvi7nxzyoun6zhxrhs64oiz#atproto_labeler",
            "did:web:localhost%3A2583#svc",
        ] {
            assert!(is_audience(ok), "{ok}");
        }
        for bad in [
            "did:web:api.bsky.app",
            "did:web:api.bsky.app#",
            "did:web:api.bsky.app#a#b",
            "did:web:example.com%3A8080#svc",
            "did:web:example.com:path#svc",
            "did:plc:short#svc",
            "did:key:zQ3sh#svc",
            "did:web:exa mple.com#svc",
        ] {
            assert!(!is_audience(bad), "{bad}");
        }
    }

    #[test]
    fn accept_patterns() {
        assert!(is_accept("*/*") && is_accept("image/*") && is_accept("image/png"));
        assert!(!is_accept("*/png") && !is_accept("image") && !is_accept("a/b/c"));
        assert!(accept_matches("image/*", "image/png"));
        assert!(!accept_matches("image/*", "video/mp4"));
        assert!(accept_matches("*/*", "video/mp4"));
    }
}
