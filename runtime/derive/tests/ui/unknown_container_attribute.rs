#[derive(atlex::rt::Object)]
#[lex(recrod = "com.example.post")]
pub struct Post {
    pub text: String,
}

fn main() {}
