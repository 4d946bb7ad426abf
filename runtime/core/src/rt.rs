//! The one module generated code reaches the runtime through.
//!
//! Code written by `atlex-codegen` refers to `::atlex::rt::…` only (the
//! `atlex` crate re-exports this module there, hidden from its docs), so a
//! crate with generated bindings depends on `atlex` and nothing else: serde
//! and serde_json are re-exported from here. This module only re-exports:
//! the helpers themselves live in the modules that own their subject, and
//! are public for the generated code's sake; they are stable in behaviour
//! but not meant to be called by hand.
//!
//! The derives name `::atlex::rt` unless told otherwise: code that depends
//! on this crate alone gives them its path with `#[lex(crate =
//! "::atlex_core")]`.

pub use serde;
pub use serde_json;

pub use atlex_derive::{Endpoint, EndpointError, Object, Params, StringEnum, Subscription, Union};

pub use crate::binding::{
    Auth, BearerUse, Binding, BodyFormat, CommonNames, Envelope, HttpMethod, PathTemplate,
};
pub use crate::builder::{IsSet, Set, Unset};
pub use crate::data::{
    Blob, Bytes, CidLink, ExtraFields, LexType, Record, RecordKeyKind, Typed, Unknown,
};
pub use crate::object::{
    DecodeObject, Decoders, Fields, Object, deserialize_object, encode_unknown, serialize_object,
    unknown_len,
};
pub use crate::service::{
    HandlerError, HandlerResult, Messages, Registry, Request, SubscriptionRequest,
    SubscriptionResult, not_implemented,
};
pub use crate::string_enum::deserialize_str;
pub use crate::tagged::{Tagged, TaggedMap, TaggedStruct};
pub use crate::types::{
    AtIdentifier, AtUri, Cid, Datetime, Did, Handle, Language, Nsid, RecordKey, Tid, Uri,
};
pub use crate::union::{
    DecodeUnion, Member, Union, deserialize_union, serialize_member, unexpected_member,
};
pub use crate::validate::{IntegerRules, Rules, StringRules, Validate, Validator};
pub use crate::xrpc::{
    Binary, Codec, DecodeError, EncodeError, Endpoint, EndpointError, EndpointKind, Json, NoBody,
    Paginated, PaginatedItems, Params, ParamsError, Payload, QueryReader, QueryWriter, Raw,
    Subprotocol, Subscription, UndeclaredError, UnknownError, UnknownValue, deserialize_error,
    fmt_error, serialize_error,
};
