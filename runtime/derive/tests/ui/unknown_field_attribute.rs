#[derive(atlex::rt::Object)]
pub struct Post {
    #[lex(renamed = "body")]
    pub text: String,
}

fn main() {}
