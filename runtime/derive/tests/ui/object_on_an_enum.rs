#[derive(atlex::rt::Object)]
pub enum Post {
    Text(String),
}

fn main() {}
