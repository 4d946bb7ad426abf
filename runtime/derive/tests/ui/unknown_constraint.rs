#[derive(atlex::rt::Object)]
pub struct Post {
    #[lex(check(max_len = 3))]
    pub text: String,
}

fn main() {}
