//! Fast acceptance of the string formats that fill decoded data: DIDs,
//! handles, NSIDs, record keys, AT URIs and URIs.
//!
//! Every string of those formats in a decoded page is checked, and the
//! checks that name what is wrong walk a string several times (split on
//! `.`, `/` or `:`, then each part character by character). Here each
//! format has a function that says only whether a string is valid, in one
//! pass over its bytes with a table of byte classes and no searching. It may
//! say no to a valid string (a DID with `%`-escapes, say): the format's own
//! check then decides, and names the reason for an invalid one. It never
//! says yes to an invalid string; the tests hold it to the full checks on
//! the interop vectors and on strings made around them.

/// Letters and digits.
const ALNUM: u8 = 1;
/// `-`.
const DASH: u8 = 2;
/// `.`.
const DOT: u8 = 4;
/// `_`.
const UNDERSCORE: u8 = 8;
/// `:`.
const COLON: u8 = 16;
/// `~`.
const TILDE: u8 = 32;
/// Lowercase letters.
const LOWER: u8 = 64;
/// Letters.
const ALPHA: u8 = 128;

/// The classes of each byte.
static CLASS: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut class = 0;
        if c.is_ascii_alphanumeric() {
            class |= ALNUM;
        }
        if c.is_ascii_lowercase() {
            class |= LOWER;
        }
        if c.is_ascii_alphabetic() {
            class |= ALPHA;
        }
        class |= match c {
            b'-' => DASH,
            b'.' => DOT,
            b'_' => UNDERSCORE,
            b':' => COLON,
            b'~' => TILDE,
            _ => 0,
        };
        table[b] = class;
        b += 1;
    }
    table
}

/// Whether every byte of `bytes` is in one of the classes of `mask`. No
/// early exit: the loop is a load, an `and` and an `or` per byte.
#[inline]
fn all_in(bytes: &[u8], mask: u8) -> bool {
    let mut out = false;
    for &b in bytes {
        out |= CLASS[usize::from(b)] & mask == 0;
    }
    !out
}

/// Whether `b` is in one of the classes of `mask`.
#[inline]
fn is(b: u8, mask: u8) -> bool {
    CLASS[usize::from(b)] & mask != 0
}

/// A DID without `%`-escapes: `did:`, a lowercase method, `:`, an
/// identifier of letters, digits, `.`, `_`, `:` and `-` that does not end
/// with `:`.
pub(super) fn did(s: &str, max_len: usize) -> bool {
    did_bytes(s.as_bytes(), max_len)
}

fn did_bytes(bytes: &[u8], max_len: usize) -> bool {
    if bytes.len() > max_len || !bytes.starts_with(b"did:") {
        return false;
    }
    let rest = &bytes[4..];
    let Some(colon) = rest.iter().position(|&b| b == b':') else {
        return false;
    };
    let (method, id) = (&rest[..colon], &rest[colon + 1..]);
    !method.is_empty()
        && all_in(method, LOWER)
        && !id.is_empty()
        && all_in(id, ALNUM | DOT | UNDERSCORE | COLON | DASH)
        && id.last() != Some(&b':')
}

/// One label of a domain name: 1 to 63 letters, digits and `-`, with no
/// `-` at either end.
#[inline]
fn label(label: &[u8]) -> bool {
    matches!(label.len(), 1..=63)
        && all_in(label, ALNUM | DASH)
        && label.first() != Some(&b'-')
        && label.last() != Some(&b'-')
}

/// A handle: two or more labels, the last starting with a letter.
pub(super) fn handle(s: &str, max_len: usize) -> bool {
    handle_bytes(s.as_bytes(), max_len)
}

fn handle_bytes(bytes: &[u8], max_len: usize) -> bool {
    if bytes.is_empty() || bytes.len() > max_len {
        return false;
    }
    let mut labels = 0;
    let mut start = 0;
    for (at, &b) in bytes.iter().enumerate() {
        if b == b'.' {
            if !label(&bytes[start..at]) {
                return false;
            }
            labels += 1;
            start = at + 1;
        }
    }
    let last = &bytes[start..];
    labels >= 1 && label(last) && is(last[0], ALPHA)
}

/// An NSID: two or more domain labels (the first starting with a letter),
/// then a name of letters and digits starting with a letter, at most 63.
pub(super) fn nsid(s: &str, max_len: usize) -> bool {
    nsid_bytes(s.as_bytes(), max_len)
}

fn nsid_bytes(bytes: &[u8], max_len: usize) -> bool {
    if bytes.len() > max_len {
        return false;
    }
    let mut segments = 0;
    let mut start = 0;
    for (at, &b) in bytes.iter().enumerate() {
        if b == b'.' {
            let segment = &bytes[start..at];
            if !label(segment) || (segments == 0 && !is(segment[0], ALPHA)) {
                return false;
            }
            segments += 1;
            start = at + 1;
        }
    }
    let name = &bytes[start..];
    segments >= 2 && matches!(name.len(), 1..=63) && all_in(name, ALNUM) && is(name[0], ALPHA)
}

/// A record key: 1 to `max_len` letters, digits, `.`, `_`, `:`, `~` and
/// `-`, not `.` or `..`.
pub(super) fn record_key(s: &str, max_len: usize) -> bool {
    record_key_bytes(s.as_bytes(), max_len)
}

fn record_key_bytes(bytes: &[u8], max_len: usize) -> bool {
    matches!(bytes.len(), 1..)
        && bytes.len() <= max_len
        && all_in(bytes, ALNUM | DOT | UNDERSCORE | COLON | TILDE | DASH)
        && bytes != b"."
        && bytes != b".."
}

/// An AT URI: `at://`, a DID or handle, then optionally `/` and an NSID,
/// then optionally `/` and a record key.
pub(super) fn at_uri(s: &str, max_len: usize, limits: AtUriLimits) -> bool {
    if s.len() > max_len {
        return false;
    }
    let Some(rest) = s.as_bytes().strip_prefix(b"at://") else {
        return false;
    };
    // Split on '/' by bytes: a `char` pattern's searcher costs more than
    // these short parts.
    let mut parts = rest.split(|&b| b == b'/');
    let authority = parts.next().unwrap_or_default();
    let authority = if authority.starts_with(b"did:") {
        did_bytes(authority, limits.did)
    } else {
        handle_bytes(authority, limits.handle)
    };
    if !authority {
        return false;
    }
    if let Some(collection) = parts.next()
        && !nsid_bytes(collection, limits.nsid)
    {
        return false;
    }
    if let Some(rkey) = parts.next()
        && !record_key_bytes(rkey, limits.record_key)
    {
        return false;
    }
    parts.next().is_none()
}

/// The longest DID, handle, NSID and record key an AT URI may hold.
#[derive(Clone, Copy)]
pub(super) struct AtUriLimits {
    pub(super) did: usize,
    pub(super) handle: usize,
    pub(super) nsid: usize,
    pub(super) record_key: usize,
}

/// A URI as Lexicon's `uri` format takes it: a scheme (a letter, then
/// letters, digits, `+`, `-` and `.`), `:`, and at least one more byte, all
/// printable ASCII.
pub(super) fn uri(s: &str, max_len: usize) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() > max_len || !bytes.first().is_some_and(|&b| is(b, ALPHA)) {
        return false;
    }
    let Some(colon) = bytes.iter().position(|&b| b == b':') else {
        return false;
    };
    let (scheme, rest) = (&bytes[..colon], &bytes[colon + 1..]);
    let scheme_ok = scheme
        .iter()
        .all(|&b| is(b, ALNUM) || matches!(b, b'+' | b'-' | b'.'));
    // Printable ASCII is 0x21..=0x7e: one subtraction and compare a byte,
    // no early exit, so the loop runs over whole vectors.
    let mut bad = false;
    for &b in rest {
        bad |= b.wrapping_sub(0x21) > 0x7e - 0x21;
    }
    scheme_ok && !rest.is_empty() && !bad
}

#[cfg(test)]
mod tests {
    use super::super::{at_uri, did, handle, nsid, record_key, uri};

    /// Every string of the interop syntax vectors, and variants of each
    /// (cut, extended, with each byte replaced by a few others).
    fn strings() -> Vec<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/syntax");
        let mut base = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            base.extend(
                text.lines()
                    .filter(|l| !l.starts_with('#') && !l.is_empty())
                    .map(str::to_owned),
            );
        }
        base.extend(
            [
                "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
                "alice.bsky.social",
                "app.bsky.feed.post",
                "3l3qo2vuowo2b",
                "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l3qo2vuowo2b",
                "https://cdn.bsky.app/img/avatar/plain/did:plc:abc/bafkrei@jpeg",
            ]
            .map(str::to_owned),
        );
        let mut out = base.clone();
        for s in &base {
            for cut in 0..s.len() {
                if s.is_char_boundary(cut) {
                    out.push(s[..cut].to_owned());
                    out.push(s[cut..].to_owned());
                }
            }
            for (at, _) in s.char_indices() {
                for with in [
                    '.', '-', ':', '/', '%', '#', '?', 'A', '1', ' ', 'é', '_', '~',
                ] {
                    let mut changed = s.clone();
                    let len = changed[at..].chars().next().map_or(0, char::len_utf8);
                    changed.replace_range(at..at + len, &with.to_string());
                    out.push(changed);
                }
            }
            out.push(format!("{s}.x"));
            out.push(format!("{s}/x"));
            out.push(format!("{s}-"));
        }
        out
    }

    #[test]
    fn the_fast_paths_accept_only_what_the_full_checks_accept() {
        let strings = strings();
        assert!(strings.len() > 10_000, "{}", strings.len());
        let (mut fast, mut total) = (0, 0);
        for s in &strings {
            for (name, quick, full) in [
                ("did", did::fast(s), did::diagnose(s).is_ok()),
                ("handle", handle::fast(s), handle::diagnose(s).is_ok()),
                ("nsid", nsid::fast(s), nsid::diagnose(s).is_ok()),
                (
                    "record key",
                    record_key::fast(s),
                    record_key::diagnose(s).is_ok(),
                ),
                ("at-uri", at_uri::fast(s), at_uri::diagnose(s).is_ok()),
                ("uri", uri::fast(s), uri::diagnose(s).is_ok()),
            ] {
                assert!(
                    !quick || full,
                    "{name}: the fast path accepts invalid {s:?}"
                );
                total += usize::from(full);
                fast += usize::from(quick);
            }
        }
        // And it is the path taken: most valid strings never reach the
        // full checks.
        assert!(fast * 10 >= total * 9, "{fast} of {total}");
    }
}
