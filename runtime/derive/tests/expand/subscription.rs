/// A subscription with parameters and messages, on the default subprotocol.
#[lex(subscription = "com.example.subscribe", params, message)]
pub struct Subscribe;
