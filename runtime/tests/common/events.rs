//! `test.events.subscribe`, a stream of numbered ticks on the default
//! subprotocol, and `test.events.subscribeJson`, the same stream whose
//! lexicon declares `xrpc.v1.json`: declared with the derives
//! `atlex-codegen` uses (the runtime cannot depend on generated bindings).

#![allow(dead_code)] // Each test uses its part.

#[derive(Clone, Copy, Debug, Default, atlex::rt::Subscription)]
#[lex(subscription = "test.events.subscribe", params, message)]
pub(crate) struct Subscribe;

#[derive(Clone, Copy, Debug, Default, atlex::rt::Subscription)]
#[lex(
    subscription = "test.events.subscribeJson",
    params,
    message,
    subprotocol = "xrpc.v1.json"
)]
pub(crate) struct SubscribeJson;

#[derive(Clone, Debug, Default, PartialEq, Eq, atlex::rt::Params)]
pub(crate) struct Params {
    pub(crate) cursor: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Union)]
pub(crate) enum Message {
    #[lex("test.events.subscribe#tick")]
    Tick(Box<Tick>),
    #[lex(unknown)]
    Unknown(atlex::rt::Unknown),
}

#[derive(Clone, Debug, PartialEq, Eq, atlex::rt::EndpointError)]
pub(crate) enum Error {
    FutureCursor {
        message: Option<String>,
    },
    #[lex(unknown)]
    Unknown(atlex::rt::UnknownError),
}

#[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
#[lex(type = "test.events.subscribe#tick")]
pub(crate) struct Tick {
    pub(crate) seq: i64,
}

/// Tick `seq`.
pub(crate) fn tick(seq: i64) -> Message {
    Message::Tick(Box::new(Tick { seq }))
}
