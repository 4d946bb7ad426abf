//! Derive macros for the code `atlex-codegen` generates. Generated code
//! reaches them through `atlex::rt` (`#[derive(::atlex::rt::Object)]`); they
//! are not meant to be used by hand, and their attributes are documented
//! here for readers of generated code.
//!
//! Each derive writes what is the same for every type of its kind, so a
//! generated file holds little more than the type definitions:
//!
//! - [`Object`] (objects, records, endpoint bodies): `serde` impls through the
//!   runtime's field table (`atlex::rt::Object`), `Validate`, `LexType` and
//!   `Record`, the required fields set by name (`builder()` with a typestate
//!   builder for two or more, `new(value)` for one), a `with_*` setter per
//!   optional field and `*_or_default` accessors;
//! - [`Params`]: the query-string encoding (`atlex::rt::Params`),
//!   `Validate`, `new`, setters and accessors;
//! - [`Union`]: `$type`-tagged `serde` impls, `Validate`, and `From` each
//!   member;
//! - [`StringEnum`]: `as_str`, `VALUES`, `Display`, `FromStr`, `serde`;
//! - [`EndpointError`]: the error enum of an endpoint;
//! - [`Endpoint`] and [`Subscription`]: an endpoint descriptor.
//!
//! Attributes (`#[lex(...)]`):
//!
//! | on | attribute | meaning |
//! |---|---|---|
//! | any item | `crate = "::path"` | the runtime crate, when not `::atlex` |
//! | object | `type = "nsid#def"` | its `$type` (`LexType`) |
//! | object | `record = "nsid", key = "tid"` | a record: `$type`, `Record`, record key kind (`tid`, `nsid`, `any`, `literal:…`) |
//! | object, params | `builder = "Name"` | the builder's name, when not `<Type>Builder` (`atlex_names::builder_name`) |
//! | field | `rename = "json"` | the JSON name, when it is not the field name in lowerCamelCase (`atlex_names::wire_name`) |
//! | field | `required` | an `Option` field that must be present (it may be `null`) |
//! | field | `default = value` | the lexicon's default: adds `<field>_or_default()` |
//! | field | `check` | check the value's own constraints |
//! | field | `check(max_length = 3, items(max_graphemes = 64), …)` | constraints where the value is used (`min_length`, `max_length`, `min_graphemes`, `max_graphemes`, `minimum`, `maximum`, `enum_values = [..]`, `const_value = ..`, `accept = [..]`, `max_size`, `object`, `nested`, `items(..)`) |
//! | field | `unknown` | the `ExtraFields` that keeps what the lexicon does not declare (properties, a `$type`, a `null` a field may not hold) |
//! | union variant | `"nsid#def"` | the member's `$type` |
//! | union variant | `unknown` | the variant that keeps unknown members (an open union) |
//! | union variant | `#[cfg(...)]` (not `lex`) | repeated on what is derived for the member, so members can be compiled out |
//! | string enum variant | `"value"` | the value |
//! | string enum variant | `other` | the variant that keeps other values (an open enum) |
//! | error variant | `rename = "Name"` | the error name, when it is not the variant name |
//! | error variant | `unknown` | the variant for undeclared names |
//! | endpoint | `query = "nsid"` / `procedure = "nsid"`, `params`, `input = "mime"`, `output = "mime"`, `binding = PATH` | the descriptor |
//! | subscription | `subscription = "nsid"`, `params`, `message` | the descriptor |
//! | subscription | `subprotocol = "xrpc.v1.json"` | its default subprotocol, when not `xrpc.v0.cbor` (`atlex_names::SUBPROTOCOLS`) |
//!
//! Tested by expansion snapshots (`tests/expand/`: each input and its
//! expansion, `ATLEX_BLESS=1` to accept a change) and compile-fail cases
//! (`tests/ui/`, run by trybuild).

use proc_macro::TokenStream;

mod attrs;
mod endpoint;
mod enums;
mod object;

/// Objects and records. See the [crate] docs.
#[proc_macro_derive(Object, attributes(lex))]
pub fn derive_object(input: TokenStream) -> TokenStream {
    expand(input, object::object)
}

/// Query-string parameters. See the [crate] docs.
#[proc_macro_derive(Params, attributes(lex))]
pub fn derive_params(input: TokenStream) -> TokenStream {
    expand(input, object::params)
}

/// `$type`-tagged unions. See the [crate] docs.
#[proc_macro_derive(Union, attributes(lex))]
pub fn derive_union(input: TokenStream) -> TokenStream {
    expand(input, enums::union)
}

/// Strings with `knownValues` or `enum`. See the [crate] docs.
#[proc_macro_derive(StringEnum, attributes(lex))]
pub fn derive_string_enum(input: TokenStream) -> TokenStream {
    expand(input, enums::string_enum)
}

/// The errors an endpoint declares. See the [crate] docs.
#[proc_macro_derive(EndpointError, attributes(lex))]
pub fn derive_endpoint_error(input: TokenStream) -> TokenStream {
    expand(input, enums::endpoint_error)
}

/// Query and procedure descriptors. See the [crate] docs.
#[proc_macro_derive(Endpoint, attributes(lex))]
pub fn derive_endpoint(input: TokenStream) -> TokenStream {
    expand(input, endpoint::endpoint)
}

/// Subscription descriptors. See the [crate] docs.
#[proc_macro_derive(Subscription, attributes(lex))]
pub fn derive_subscription(input: TokenStream) -> TokenStream {
    expand(input, endpoint::subscription)
}

fn expand(
    input: TokenStream,
    f: fn(&syn::DeriveInput) -> syn::Result<proc_macro2::TokenStream>,
) -> TokenStream {
    match syn::parse::<syn::DeriveInput>(input) {
        Ok(input) => f(&input).unwrap_or_else(syn::Error::into_compile_error),
        Err(err) => err.into_compile_error(),
    }
    .into()
}

/// Expansion snapshots: each input under `tests/expand/` (a struct or enum
/// with its `#[lex]` attributes) expanded by its derive, pretty-printed,
/// against `tests/expand/<name>.expanded.rs`. A changed expansion fails the
/// test with a diff; `ATLEX_BLESS=1` rewrites the snapshots, to review.
#[cfg(test)]
mod expand_snapshots {
    use std::path::Path;

    type Derive = fn(&syn::DeriveInput) -> syn::Result<proc_macro2::TokenStream>;

    const CASES: &[(&str, Derive)] = &[
        ("record", crate::object::object),
        ("object_one_required", crate::object::object),
        ("builder_renamed", crate::object::object),
        ("params", crate::object::params),
        ("union", crate::enums::union),
        ("string_enum", crate::enums::string_enum),
        ("subscription", crate::endpoint::subscription),
        ("subscription_json", crate::endpoint::subscription),
    ];

    #[test]
    fn expansions_match_their_snapshots() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
        let bless = std::env::var_os("ATLEX_BLESS").is_some();
        let mut changed = Vec::new();
        for (name, derive) in CASES {
            let source = std::fs::read_to_string(dir.join(format!("{name}.rs"))).unwrap();
            let input: syn::DeriveInput = syn::parse_str(&source).unwrap();
            let tokens = derive(&input).unwrap_or_else(|e| panic!("{name}: {e}"));
            let file: syn::File = syn::parse2(tokens)
                .unwrap_or_else(|e| panic!("{name}: the expansion does not parse: {e}"));
            let expanded = prettyplease::unparse(&file);
            let path = dir.join(format!("{name}.expanded.rs"));
            if bless {
                std::fs::write(&path, &expanded).unwrap();
                continue;
            }
            let snapshot = std::fs::read_to_string(&path).unwrap_or_default();
            if snapshot != expanded {
                let first = snapshot
                    .lines()
                    .zip(expanded.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(snapshot.lines().count().min(expanded.lines().count()));
                changed.push(format!(
                    "{name}: differs from line {} (snapshot: {:?}, now: {:?})",
                    first + 1,
                    snapshot.lines().nth(first),
                    expanded.lines().nth(first)
                ));
            }
        }
        assert!(
            changed.is_empty(),
            "expansions changed (review, then ATLEX_BLESS=1 to accept):\n{}",
            changed.join("\n")
        );
    }
}
