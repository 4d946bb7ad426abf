#[derive(atlex::rt::Object)]
pub struct Post(String);

fn main() {}
