//! The states of the builders generated for types with two or more required
//! fields.
//!
//! `Type::builder()` returns a builder whose type parameters, one per
//! required field and named after it, start as [`Unset`]; each field's
//! method, callable once, makes its parameter [`Set`]; and `build()` exists
//! only when every parameter is set ([`IsSet`]). A field left out, set twice
//! or passed where another belongs does not compile, and the lexicon's order
//! of its properties (which JSON does not give any meaning) changes nothing
//! in the code that builds values.
//!
//! ```
//! use atlex_core::rt;
//!
//! #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
//! #[lex(crate = "::atlex_core", type = "com.example.note")]
//! pub struct Note {
//!     pub title: String,
//!     pub body: String,
//!     pub tags: Option<Vec<String>>,
//! }
//!
//! let note = Note::builder().body("the body").title("A title").build();
//! assert_eq!((note.title.as_str(), note.body.as_str()), ("A title", "the body"));
//! let tagged = note.with_tags(vec!["rust".to_owned()]);
//! assert!(tagged.tags.is_some());
//! ```
//!
//! Leaving a field out names it:
//!
//! ```compile_fail,E0277
//! # use atlex_core::rt;
//! # #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
//! # #[lex(crate = "::atlex_core")]
//! # pub struct Note { pub title: String, pub body: String }
//! let note = Note::builder().title("A title").build(); // `Body: IsSet<String>` is not satisfied
//! ```
//!
//! Setting one twice does not compile either:
//!
//! ```compile_fail,E0599
//! # use atlex_core::rt;
//! # #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
//! # #[lex(crate = "::atlex_core")]
//! # pub struct Note { pub title: String, pub body: String }
//! let note = Note::builder().title("A").title("B").body("c").build();
//! ```

/// A required field not set yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unset;

/// A required field set to a value of type `T`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Set<T>(pub T);

/// A field state that holds a value: only [`Set`].
#[diagnostic::on_unimplemented(
    message = "a required field is not set: `{Self}` where a `{T}` is needed",
    label = "set by its method before `build()`",
    note = "the builder's parameter of that field, named after it, is still `Unset`"
)]
pub trait IsSet<T> {
    /// The value.
    fn value(self) -> T;
}

impl<T> IsSet<T> for Set<T> {
    #[inline]
    fn value(self) -> T {
        self.0
    }
}
