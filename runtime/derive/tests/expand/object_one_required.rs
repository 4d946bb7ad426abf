/// An object with one required field: `new(value)`, no builder.
#[lex(type = "com.example.defs#link")]
pub struct Link {
    pub uri: String,
    pub title: Option<String>,
    #[lex(unknown)]
    pub extra: ::atlex::rt::ExtraFields,
}
