//! The generator's golden output, compiled.
//!
//! `awkward.rs` is what `atlex-codegen` writes for the lexicons in
//! `codegen/tests/fixtures/awkward/` (names that are keywords, prelude types,
//! collisions, recursion, every body kind). The `golden` test of
//! `atlex-codegen` keeps it equal to the generator's output; this crate proves
//! it compiles, and its tests check how it behaves. `extra.rs` is the same for
//! `codegen/tests/fixtures/extra/`, generated with `keep_unknown_fields`.

/// The `com.example.awkward.*` fixture lexicons.
#[rustfmt::skip]
pub mod awkward {
    include!("awkward.rs");
}

/// The `com.example.extra.*` fixture lexicons, generated with
/// `keep_unknown_fields`.
#[rustfmt::skip]
pub mod extra {
    include!("extra.rs");
}
