//! The examples of `README.md` and `docs/*.md`, compiled as doctests.
//!
//! Each file is the documentation of an item below that exists only when
//! rustdoc collects doctests, so every ```` ```rust ```` block in it is built
//! (and run, unless marked `no_run`) by `cargo test`. `tests/documents.rs`
//! fails when a file is missing here or a block would not be compiled.

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct Readme;

#[cfg(doctest)]
#[doc = include_str!("../../docs/generated-code.md")]
struct GeneratedCode;

#[cfg(doctest)]
#[doc = include_str!("../../docs/client.md")]
struct Client;

#[cfg(doctest)]
#[doc = include_str!("../../docs/server.md")]
struct Server;

#[cfg(doctest)]
#[doc = include_str!("../../docs/event-streams.md")]
struct EventStreams;

#[cfg(doctest)]
#[doc = include_str!("../../docs/dag-cbor.md")]
struct DagCbor;

#[cfg(doctest)]
#[doc = include_str!("../../docs/identity.md")]
struct Identity;

#[cfg(doctest)]
#[doc = include_str!("../../docs/service-auth.md")]
struct ServiceAuth;

#[cfg(doctest)]
#[doc = include_str!("../../docs/labels.md")]
struct Labels;

#[cfg(doctest)]
#[doc = include_str!("../../docs/repositories.md")]
struct Repositories;

#[cfg(doctest)]
#[doc = include_str!("../../docs/sessions.md")]
struct Sessions;

#[cfg(doctest)]
#[doc = include_str!("../../docs/oauth.md")]
struct OAuth;

#[cfg(doctest)]
#[doc = include_str!("../../docs/http-bindings.md")]
struct HttpBindings;

#[cfg(doctest)]
#[doc = include_str!("../../docs/custom-lexicons.md")]
struct CustomLexicons;

#[cfg(doctest)]
#[doc = include_str!("../../docs/lexicon-changes.md")]
struct LexiconChanges;

#[cfg(doctest)]
#[doc = include_str!("../../docs/lexicon-network.md")]
struct LexiconNetwork;

#[cfg(doctest)]
#[doc = include_str!("../../docs/cli.md")]
struct Cli;

#[cfg(doctest)]
#[doc = include_str!("../../docs/benchmarks.md")]
struct Benchmarks;

#[cfg(doctest)]
#[doc = include_str!("../../docs/jetstream.md")]
struct Jetstream;

#[cfg(doctest)]
#[doc = include_str!("../../docs/lint.md")]
struct Lint;
