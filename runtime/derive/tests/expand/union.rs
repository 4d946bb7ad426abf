/// An open union.
pub enum Embed {
    #[lex("com.example.embed.images")]
    Images(Box<Images>),
    #[lex("com.example.defs#link")]
    Link(Box<Link>),
    #[lex(unknown)]
    Unknown(::atlex::rt::Unknown),
}
