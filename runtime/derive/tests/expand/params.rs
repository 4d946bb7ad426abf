/// Query parameters with a required list and a default.
#[lex(params)]
pub struct Params {
    pub actors: Vec<::atlex::rt::AtIdentifier>,
    #[lex(default = 50, check(minimum = 1, maximum = 100))]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}
