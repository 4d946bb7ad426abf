//! MST keys: repository paths, their depth in the tree, and the shared
//! prefixes that nodes leave out.

use sha2::{Digest as _, Sha256};

/// The longest key accepted, in bytes (as the reference implementation).
pub const MAX_KEY_LEN: usize = 1024;

/// The depth of `key` in every MST: the number of leading zero bits of the
/// SHA-256 of its bytes, counted in 2-bit steps (a fanout of 4). A key
/// sits in the node whose keys all have its depth; the root holds the
/// deepest.
///
/// ```
/// use atlex_repo::mst::key_depth;
///
/// assert_eq!(key_depth(b"blue"), 1);
/// assert_eq!(key_depth(b"app.bsky.feed.post/9adeb165882c"), 8);
/// ```
pub fn key_depth(key: &[u8]) -> u8 {
    let hash = Sha256::digest(key);
    let mut zeros = 0u32;
    for byte in hash {
        zeros += byte.leading_zeros();
        if byte != 0 {
            break;
        }
    }
    // At most 256 zero bits: 128 fits.
    (zeros / 2) as u8
}

/// How many bytes `a` and `b` share at their start: what a node entry
/// leaves out of its key (`p`).
///
/// ```
/// assert_eq!(atlex_repo::mst::common_prefix_len(b"abcde", b"abc1"), 3);
/// ```
pub fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Why a key is not a repository path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// More than [`MAX_KEY_LEN`] bytes.
    #[error("{0} bytes, more than the {MAX_KEY_LEN} allowed")]
    TooLong(usize),
    /// Not `<collection>/<record key>`, both non-empty.
    #[error("not two non-empty segments `<collection>/<record key>`")]
    Segments,
    /// A byte outside `A-Za-z0-9`, `.`, `-`, `_`, `~`, `:` (and the one `/`).
    #[error("byte 0x{byte:02x} at {at} is not allowed in a repository path")]
    Character {
        /// The byte.
        byte: u8,
        /// Its offset.
        at: usize,
    },
}

/// Checks that `key` is a repository path as MST keys must be:
/// `<collection>/<record key>`, both segments non-empty, of the characters
/// `A-Za-z0-9.-_~:`, at most [`MAX_KEY_LEN`] bytes.
///
/// This is the rule the reference implementation applies to every key it
/// reads or writes; it does not check that the collection is an NSID or the
/// record key a valid record key, which existing repositories do not always
/// follow.
pub fn check_key(key: &[u8]) -> Result<(), KeyError> {
    if key.len() > MAX_KEY_LEN {
        return Err(KeyError::TooLong(key.len()));
    }
    let mut slash = None;
    for (at, &byte) in key.iter().enumerate() {
        match byte {
            b'/' if slash.is_none() => slash = Some(at),
            b'/' => return Err(KeyError::Segments),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' | b':' => {}
            _ => return Err(KeyError::Character { byte, at }),
        }
    }
    match slash {
        Some(at) if at > 0 && at + 1 < key.len() => Ok(()),
        _ => Err(KeyError::Segments),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_two_segments_of_allowed_characters() {
        for good in [
            "a/b",
            "app.bsky.feed.post/3jzfcijpj2z2a",
            "A0/374913",
            "c/self:x~y_z-",
        ] {
            assert_eq!(check_key(good.as_bytes()), Ok(()), "{good}");
        }
        assert_eq!(check_key(b""), Err(KeyError::Segments));
        assert_eq!(check_key(b"a"), Err(KeyError::Segments));
        assert_eq!(check_key(b"/b"), Err(KeyError::Segments));
        assert_eq!(check_key(b"a/"), Err(KeyError::Segments));
        assert_eq!(check_key(b"a/b/c"), Err(KeyError::Segments));
        assert_eq!(
            check_key(b"a/b c"),
            Err(KeyError::Character { byte: b' ', at: 3 })
        );
        assert_eq!(
            check_key("a/é".as_bytes()),
            Err(KeyError::Character { byte: 0xc3, at: 2 })
        );
        let long = format!("a/{}", "b".repeat(MAX_KEY_LEN - 1));
        assert_eq!(check_key(long.as_bytes()), Err(KeyError::TooLong(1025)));
        assert_eq!(check_key(&long.as_bytes()[..MAX_KEY_LEN]), Ok(()));
    }
}
