/// A subscription whose lexicon declares `xrpc.v1.json` as its default.
#[lex(subscription = "com.example.subscribeJson", message, subprotocol = "xrpc.v1.json")]
pub struct SubscribeJson;
