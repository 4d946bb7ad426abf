#[derive(atlex::rt::Params)]
pub struct Params {
    pub limit: Option<i64>,
    #[lex(unknown)]
    pub extra: atlex::rt::ExtraFields,
}

fn main() {}
