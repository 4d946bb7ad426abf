#[derive(atlex::rt::Object)]
#[lex(type = "com.example.defs#a")]
pub struct A {
    pub a: i64,
}

#[derive(atlex::rt::Union)]
pub enum Either {
    A(Box<A>),
}

fn main() {}
