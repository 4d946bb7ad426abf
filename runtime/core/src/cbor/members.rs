//! The union members an error of the DAG-CBOR decoder passed through.
//!
//! A union member's error names the member and its field (`invalid
//! app.bsky.embed.images at images: …`). The member code is generic over
//! serde's error type, so all it can do with an error is print it into a new
//! message; `serde_ipld_dagcbor`'s errors print as their `Debug` form, and
//! serde's traits give no typed way to reach the decoder's error from
//! there. So while a DAG-CBOR entry point decodes again to report an error
//! (the pass that tracks the path), the member code leaves the decoder's
//! error as it is and notes the member here; the entry point describes the
//! error and then names the members around it, innermost first.

use std::cell::RefCell;

/// A union member an error passed through, and the field it was in (none
/// for an error of the member as a whole, such as a missing field).
pub(super) struct Note {
    member: &'static str,
    field: Option<&'static str>,
}

thread_local! {
    /// The notes of the decode under way, when one takes them.
    static NOTES: RefCell<Option<Vec<Note>>> = const { RefCell::new(None) };
}

/// Runs `decode` taking notes, and returns its result with the notes taken,
/// innermost first.
pub(super) fn noting<R>(decode: impl FnOnce() -> R) -> (R, Vec<Note>) {
    /// Puts back what an enclosing decode was taking, however `decode`
    /// ends.
    struct Restore(Option<Vec<Note>>);

    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            let _ = NOTES.try_with(|notes| *notes.borrow_mut() = outer);
        }
    }

    let restore = Restore(
        NOTES
            .try_with(|notes| notes.replace(Some(Vec::new())))
            .ok()
            .flatten(),
    );
    let result = decode();
    let taken = NOTES
        .try_with(|notes| notes.borrow_mut().take())
        .ok()
        .flatten()
        .unwrap_or_default();
    drop(restore);
    (result, taken)
}

/// Notes that an error passed through `member` (at `field`), if a decode is
/// taking notes: then the caller passes the error on as it is.
pub(crate) fn note(member: &'static str, field: Option<&'static str>) -> bool {
    NOTES
        .try_with(|notes| match &mut *notes.borrow_mut() {
            Some(taken) => {
                taken.push(Note { member, field });
                true
            }
            None => false,
        })
        .unwrap_or(false)
}

/// `reason` inside the members noted, as the member code writes them where
/// it can print the error itself.
pub(super) fn within(notes: &[Note], reason: String) -> String {
    notes.iter().fold(reason, |reason, note| match note.field {
        Some(field) => format!("invalid {} at {field}: {reason}", note.member),
        None => format!("invalid {}: {reason}", note.member),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_taken_only_while_noting_and_nest() {
        assert!(!note("a.b", None));
        let ((), notes) = noting(|| {
            assert!(note("a.b", Some("c")));
            let ((), inner) = noting(|| assert!(note("x.y", None)));
            assert_eq!(within(&inner, "r".to_owned()), "invalid x.y: r");
            assert!(note("d.e", Some("f")));
        });
        assert!(!note("a.b", None));
        assert_eq!(
            within(&notes, "why".to_owned()),
            "invalid d.e at f: invalid a.b at c: why"
        );
    }

    #[test]
    fn a_panic_inside_stops_the_noting() {
        let caught = std::panic::catch_unwind(|| noting(|| panic!("inside")));
        assert!(caught.is_err());
        assert!(!note("a.b", None));
    }
}
