impl ::atlex::rt::Subscription for Subscribe {
    const NSID: &'static str = "com.example.subscribe";
    type Params = Params;
    type Message = Message;
    type Error = Error;
}
