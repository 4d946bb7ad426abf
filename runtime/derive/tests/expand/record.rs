/// A record with every kind of field: required, required and nullable,
/// optional, optional and nullable, renamed, with a default and checks, and
/// the field that keeps what the lexicon does not declare.
#[lex(record = "com.example.post", key = "tid")]
pub struct Post {
    #[lex(check(max_length = 3000, max_graphemes = 300))]
    pub text: String,
    #[lex(required)]
    pub reply_to: Option<String>,
    pub tags: Option<Vec<String>>,
    pub note: Option<Option<String>>,
    #[lex(rename = "URI")]
    pub uri: Option<String>,
    #[lex(default = 50)]
    pub limit: Option<i64>,
    pub created_at: ::atlex::rt::Datetime,
    #[lex(unknown)]
    pub extra: ::atlex::rt::ExtraFields,
}
