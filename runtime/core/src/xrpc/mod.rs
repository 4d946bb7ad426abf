//! What an XRPC endpoint is, as generated code describes it: its NSID, kind,
//! parameters, bodies and declared errors.
//!
//! One module per subject, none depending back on another: [`EndpointKind`]
//! (`kind`) and the body types (`body`) stand alone; the form encoding
//! (`form`) uses the body types; the codecs (`codec`) both; parameters
//! (`params`) and the event-stream subprotocols (`subprotocol`) nothing; and what an endpoint is (`endpoint`) all of them and
//! its HTTP [`Binding`](crate::binding::Binding).

pub(crate) mod body;
mod codec;
mod endpoint;
pub(crate) mod form;
pub(crate) mod kind;
mod params;
mod subprotocol;

pub use body::{Binary, DecodeError, EncodeError, Payload};
pub use codec::{Codec, Json, NoBody, Raw};
pub use endpoint::{
    Endpoint, EndpointError, Paginated, PaginatedItems, Subscription, UndeclaredError,
    UnknownError, deserialize_error, fmt_error, serialize_error,
};
pub use kind::EndpointKind;
pub use params::{ParamValue, Params, ParamsError, QueryReader, QueryWriter, UnknownValue};
pub use subprotocol::{Subprotocol, UnknownSubprotocol};
