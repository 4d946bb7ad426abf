//! Query or procedure, and the HTTP binding XRPC gives each.

use crate::binding::{Auth, Binding, BodyFormat, Envelope, HttpMethod, PathTemplate};

/// Whether an endpoint is read-only (HTTP GET) or has effects (HTTP POST).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndpointKind {
    /// A `query`: `GET /xrpc/<nsid>`, parameters in the query string.
    Query,
    /// A `procedure`: `POST /xrpc/<nsid>`, optionally with a body.
    Procedure,
}

impl Binding {
    /// XRPC: `GET /xrpc/<NSID>` for a query and `POST` for a procedure,
    /// parameters in the query string, the input as the body in the lexicon's
    /// encoding, an optional bearer token, and the [`Envelope::XRPC`]
    /// envelope. Requests are not checked before sending.
    pub const fn xrpc(kind: EndpointKind) -> Self {
        Binding {
            method: match kind {
                EndpointKind::Query => HttpMethod::Get,
                EndpointKind::Procedure => HttpMethod::Post,
            },
            path: PathTemplate::Xrpc,
            base_url: None,
            body: &[BodyFormat::Encoding],
            auth: Auth::XRPC,
            envelope: Envelope::XRPC,
            check_request: false,
        }
    }
}
