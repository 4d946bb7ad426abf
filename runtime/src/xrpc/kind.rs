//! Query or procedure. (A leaf module: what travels over HTTP depends on it,
//! and it on nothing.)

/// Whether an endpoint is read-only (HTTP GET) or has effects (HTTP POST).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndpointKind {
    /// A `query`: `GET /xrpc/<nsid>`, parameters in the query string.
    Query,
    /// A `procedure`: `POST /xrpc/<nsid>`, optionally with a body.
    Procedure,
}
