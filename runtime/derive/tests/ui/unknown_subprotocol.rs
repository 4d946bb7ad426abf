#[derive(atlex::rt::Subscription)]
#[lex(subscription = "com.example.subscribe", subprotocol = "xrpc.v1.yaml")]
pub struct Subscribe;

pub type Error = atlex::rt::UndeclaredError;

fn main() {}
