//! The derives refuse what they cannot expand with an error pointing at the
//! attribute or item, and the builders they make refuse, at compile time, a
//! required field left out or set twice. Each case under `tests/ui/` with
//! the compiler's output it must give (`TRYBUILD=overwrite` rewrites the
//! `.stderr` files, to review).

#[test]
fn bad_input_is_a_compile_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
