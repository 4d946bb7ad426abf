impl ::atlex::rt::Subscription for SubscribeJson {
    const NSID: &'static str = "com.example.subscribeJson";
    type Params = ();
    type Message = Message;
    type Error = Error;
    const SUBPROTOCOL: ::atlex::rt::Subprotocol = ::atlex::rt::Subprotocol::V1Json;
}
