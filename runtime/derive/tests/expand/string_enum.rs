/// An open string enum.
pub enum Sort {
    #[lex("recent")]
    Recent,
    #[lex("top")]
    Top,
    #[lex(other)]
    Other(String),
}
