//! Strings, bytes, blobs and numbers: formats, bounds, `enum`, `const`
//! and `default`, and what each tightening or loosening does to readers and
//! writers.

use serde_json::{Value, json};

use super::{Ctx, Engine, draft, s};
use crate::diagnostics::pointer_push;
use crate::diff::model::{ChangeKind, Compat, Constraint, Impact};
use crate::lexicon::{BlobSchema, StringFormat, StringSchema};

impl Engine<'_> {
    pub(super) fn string(&mut self, ctx: &Ctx, p: &str, o: &StringSchema, n: &StringSchema) {
        self.format(ctx, p, o.format, n.format);
        self.lower(
            ctx,
            p,
            Constraint::MinLength,
            nonzero(o.min_length),
            nonzero(n.min_length),
        );
        self.upper(ctx, p, Constraint::MaxLength, o.max_length, n.max_length);
        self.lower(
            ctx,
            p,
            Constraint::MinGraphemes,
            nonzero(o.min_graphemes),
            nonzero(n.min_graphemes),
        );
        self.upper(
            ctx,
            p,
            Constraint::MaxGraphemes,
            o.max_graphemes,
            n.max_graphemes,
        );
        // A string `enum` becomes a closed Rust enum: a value it does not list
        // fails to decode.
        self.enum_values(
            ctx,
            p,
            o.enum_values
                .as_ref()
                .map(|v| v.iter().map(|x| Value::from(x.as_str())).collect()),
            n.enum_values
                .as_ref()
                .map(|v| v.iter().map(|x| Value::from(x.as_str())).collect()),
            Impact::Breaking,
        );
        let pointer = pointer_push(p, "knownValues");
        for value in &n.known_values {
            if !o.known_values.contains(value) {
                self.push(
                    ctx,
                    &pointer,
                    draft(
                        ChangeKind::KnownValueAdded,
                        Compat::new(Impact::Tolerated, Impact::None),
                        "`knownValues` is an open set: old readers must accept values they do not \
                         know (generated code keeps them as `Other(String)`)",
                    )
                    .values(None, s(value)),
                );
            }
        }
        for value in &o.known_values {
            if !n.known_values.contains(value) {
                self.push(
                    ctx,
                    &pointer,
                    draft(
                        ChangeKind::KnownValueRemoved,
                        Compat::new(Impact::None, Impact::Tolerated),
                        "`knownValues` is an open set: data old writers still write with this \
                         value stays valid, and updated readers keep it as `Other(String)`",
                    )
                    .values(s(value), None),
                );
            }
        }
        self.const_value(
            ctx,
            p,
            o.const_value.as_deref().map(Value::from),
            n.const_value.as_deref().map(Value::from),
        );
        self.default_value(
            ctx,
            p,
            o.default.as_deref().map(Value::from),
            n.default.as_deref().map(Value::from),
        );
    }

    pub(super) fn format(
        &mut self,
        ctx: &Ctx,
        p: &str,
        old: Option<StringFormat>,
        new: Option<StringFormat>,
    ) {
        if old == new {
            return;
        }
        let pointer = pointer_push(p, "format");
        let values = (
            old.map(|f| Value::from(f.name())),
            new.map(|f| Value::from(f.name())),
        );
        // Generated code decodes formatted strings into checked types
        // (`Did`, `AtUri`, …), so a value outside the format fails to decode.
        let d = match (old, new) {
            (None, Some(_)) => draft(
                ChangeKind::ConstraintTightened(Constraint::Format),
                Compat::new(Impact::None, Impact::Breaking),
                "a format on a string that had none: old writers may write strings outside it, \
                 which updated readers fail to decode",
            ),
            (Some(_), None) => draft(
                ChangeKind::ConstraintLoosened(Constraint::Format),
                Compat::new(Impact::Breaking, Impact::None),
                "the format was dropped: new writers may write strings old readers fail to \
                 decode as the format",
            ),
            (Some(a), Some(b)) if format_within(a, b) => draft(
                ChangeKind::ConstraintLoosened(Constraint::Format),
                Compat::new(Impact::Breaking, Impact::None),
                "the format widened: new writers may write values (of the wider format) old \
                 readers fail to decode",
            ),
            (Some(a), Some(b)) if format_within(b, a) => draft(
                ChangeKind::ConstraintTightened(Constraint::Format),
                Compat::new(Impact::None, Impact::Breaking),
                "the format narrowed: old writers may write values updated readers fail to decode",
            ),
            _ => draft(
                ChangeKind::ConstraintChanged(Constraint::Format),
                Compat::both(Impact::Breaking),
                "the format changed to an unrelated one: values of either fail to decode as the \
                 other",
            ),
        };
        self.push(ctx, &pointer, d.values(values.0, values.1));
    }

    pub(super) fn blob(&mut self, ctx: &Ctx, p: &str, o: &BlobSchema, n: &BlobSchema) {
        self.upper(ctx, p, Constraint::MaxSize, o.max_size, n.max_size);
        let pointer = pointer_push(p, "accept");
        let reason_tight = "fewer MIME types are accepted: blobs old writers upload may be \
                            rejected by updated readers that validate";
        let reason_loose = "more MIME types are accepted: blobs new writers upload may be \
                            rejected by old readers that validate";
        match (&o.accept, &n.accept) {
            (None, None) => {}
            (None, Some(list)) => self.push(
                ctx,
                &pointer,
                draft(
                    ChangeKind::ConstraintTightened(Constraint::Accept),
                    Compat::new(Impact::None, Impact::Validation),
                    reason_tight,
                )
                .values(None, Some(json!(list))),
            ),
            (Some(list), None) => self.push(
                ctx,
                &pointer,
                draft(
                    ChangeKind::ConstraintLoosened(Constraint::Accept),
                    Compat::new(Impact::Validation, Impact::None),
                    reason_loose,
                )
                .values(Some(json!(list)), None),
            ),
            (Some(old), Some(new)) => {
                for mime in new.iter().filter(|m| !old.contains(m)) {
                    let covered = old.iter().any(|o| mime_covers(o, mime));
                    let d = if covered {
                        draft(
                            ChangeKind::ConstraintChanged(Constraint::Accept),
                            Compat::NONE,
                            "an accepted MIME type added that an existing entry already covers",
                        )
                    } else {
                        draft(
                            ChangeKind::ConstraintLoosened(Constraint::Accept),
                            Compat::new(Impact::Validation, Impact::None),
                            reason_loose,
                        )
                    };
                    self.push(ctx, &pointer, d.values(None, s(mime)));
                }
                for mime in old.iter().filter(|m| !new.contains(m)) {
                    let covered = new.iter().any(|n| mime_covers(n, mime));
                    let d = if covered {
                        draft(
                            ChangeKind::ConstraintChanged(Constraint::Accept),
                            Compat::NONE,
                            "an accepted MIME type removed that a remaining entry still covers",
                        )
                    } else {
                        draft(
                            ChangeKind::ConstraintTightened(Constraint::Accept),
                            Compat::new(Impact::None, Impact::Validation),
                            reason_tight,
                        )
                    };
                    self.push(ctx, &pointer, d.values(s(mime), None));
                }
            }
        }
    }

    /// An upper bound (`maxLength`, `maximum`, …): lower is tighter, absent
    /// is loosest. Constraint violations are caught by validation only, so
    /// the side that may meet them gets [`Impact::Validation`].
    pub(super) fn upper<T>(
        &mut self,
        ctx: &Ctx,
        p: &str,
        c: Constraint,
        old: Option<T>,
        new: Option<T>,
    ) where
        T: Ord + Copy + Into<Value>,
    {
        let tighter = match (old, new) {
            (a, b) if a == b => return,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => b < a,
            (None, None) => return,
        };
        self.bound(ctx, p, c, tighter, old.map(Into::into), new.map(Into::into));
    }

    /// A lower bound (`minLength`, `minimum`, …): higher is tighter, absent
    /// is loosest.
    pub(super) fn lower<T>(
        &mut self,
        ctx: &Ctx,
        p: &str,
        c: Constraint,
        old: Option<T>,
        new: Option<T>,
    ) where
        T: Ord + Copy + Into<Value>,
    {
        let tighter = match (old, new) {
            (a, b) if a == b => return,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => b > a,
            (None, None) => return,
        };
        self.bound(ctx, p, c, tighter, old.map(Into::into), new.map(Into::into));
    }

    pub(super) fn bound(
        &mut self,
        ctx: &Ctx,
        p: &str,
        c: Constraint,
        tighter: bool,
        old: Option<Value>,
        new: Option<Value>,
    ) {
        let pointer = pointer_push(p, c.name());
        let d = if tighter {
            draft(
                ChangeKind::ConstraintTightened(c),
                Compat::new(Impact::None, Impact::Validation),
                format!(
                    "`{}` tightened: data old writers may write is no longer valid, and updated \
                     readers that validate reject it (the spec does not allow tightening a \
                     constraint)",
                    c.name()
                ),
            )
        } else {
            draft(
                ChangeKind::ConstraintLoosened(c),
                Compat::new(Impact::Validation, Impact::None),
                format!(
                    "`{}` loosened: old writers are unaffected, but new writers may write data \
                     old readers that validate reject",
                    c.name()
                ),
            )
        };
        self.push(ctx, &pointer, d.values(old, new));
    }

    /// A closed value list (`enum`); `impact` is what a value outside it does
    /// to a reader (string enums are closed Rust enums that fail to decode;
    /// integer enums are checked by validation only).
    pub(super) fn enum_values(
        &mut self,
        ctx: &Ctx,
        p: &str,
        old: Option<Vec<Value>>,
        new: Option<Vec<Value>>,
        impact: Impact,
    ) {
        let pointer = pointer_push(p, "enum");
        match (old, new) {
            (None, None) => {}
            (None, Some(list)) => self.push(
                ctx,
                &pointer,
                draft(
                    ChangeKind::ConstraintTightened(Constraint::Enum),
                    Compat::new(Impact::None, impact),
                    "a closed `enum` on a value that had none: old writers may write values \
                     outside it",
                )
                .values(None, Some(Value::Array(list))),
            ),
            (Some(list), None) => self.push(
                ctx,
                &pointer,
                draft(
                    ChangeKind::ConstraintLoosened(Constraint::Enum),
                    Compat::new(impact, Impact::None),
                    "the closed `enum` was dropped: new writers may write values old readers do \
                     not accept",
                )
                .values(Some(Value::Array(list)), None),
            ),
            (Some(old), Some(new)) => {
                for v in new.iter().filter(|v| !old.contains(v)) {
                    self.push(
                        ctx,
                        &pointer,
                        draft(
                            ChangeKind::ConstraintLoosened(Constraint::Enum),
                            Compat::new(impact, Impact::None),
                            "a closed `enum` grew: old readers do not accept the new value (a \
                             closed set cannot grow without breaking readers; `knownValues` can)",
                        )
                        .values(None, Some(v.clone())),
                    );
                }
                for v in old.iter().filter(|v| !new.contains(v)) {
                    self.push(
                        ctx,
                        &pointer,
                        draft(
                            ChangeKind::ConstraintTightened(Constraint::Enum),
                            Compat::new(Impact::None, impact),
                            "a value was removed from a closed `enum`: data old writers write with \
                             it is rejected by updated readers",
                        )
                        .values(Some(v.clone()), None),
                    );
                }
            }
        }
    }

    pub(super) fn const_value(
        &mut self,
        ctx: &Ctx,
        p: &str,
        old: Option<Value>,
        new: Option<Value>,
    ) {
        if old == new {
            return;
        }
        let pointer = pointer_push(p, "const");
        let d = match (&old, &new) {
            (None, _) => draft(
                ChangeKind::ConstraintTightened(Constraint::Const),
                Compat::new(Impact::None, Impact::Validation),
                "a `const` on a value that had none: old writers may write other values",
            ),
            (_, None) => draft(
                ChangeKind::ConstraintLoosened(Constraint::Const),
                Compat::new(Impact::Validation, Impact::None),
                "the `const` was dropped: new writers may write values old readers that validate \
                 reject",
            ),
            _ => draft(
                ChangeKind::ConstraintChanged(Constraint::Const),
                Compat::both(Impact::Validation),
                "the `const` changed: each side's value is invalid under the other's lexicon",
            ),
        };
        self.push(ctx, &pointer, d.values(old, new));
    }

    pub(super) fn default_value(
        &mut self,
        ctx: &Ctx,
        p: &str,
        old: Option<Value>,
        new: Option<Value>,
    ) {
        if old == new {
            return;
        }
        self.push(
            ctx,
            &pointer_push(p, "default"),
            draft(
                ChangeKind::ConstraintChanged(Constraint::Default),
                Compat::both(Impact::Tolerated),
                "a `default` only says how an absent value is read: no data becomes invalid, but \
                 an absent value now means something else to one side",
            )
            .values(old, new),
        );
    }
}

/// A lower bound of 0 says nothing; it compares as absent.
pub(super) fn nonzero(bound: Option<u64>) -> Option<u64> {
    bound.filter(|b| *b > 0)
}

/// Whether every value of format `inner` is also a value of `outer`.
fn format_within(inner: StringFormat, outer: StringFormat) -> bool {
    use StringFormat::*;
    matches!(
        (inner, outer),
        (Did, AtIdentifier)
            | (Handle, AtIdentifier)
            | (Tid, RecordKey)
            | (Nsid, RecordKey)
            | (AtUri, Uri)
    )
}

/// Whether MIME type or glob `outer` (`*/*`, `image/*`, `image/png`) covers
/// `inner`.
pub(super) fn mime_covers(outer: &str, inner: &str) -> bool {
    let outer = outer.to_ascii_lowercase();
    let inner = inner.to_ascii_lowercase();
    if outer == inner || outer == "*/*" || outer == "*" {
        return true;
    }
    match outer.strip_suffix("/*") {
        Some(kind) => inner
            .split_once('/')
            .is_some_and(|(inner_kind, _)| inner_kind == kind),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_globs() {
        assert!(mime_covers("*/*", "image/png"));
        assert!(mime_covers("image/*", "image/png"));
        assert!(!mime_covers("image/*", "video/mp4"));
        assert!(!mime_covers("image/png", "image/*"));
        assert!(mime_covers("Application/JSON", "application/json"));
    }
}
