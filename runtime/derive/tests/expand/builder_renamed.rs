/// Two required fields, the builder named by the generator.
#[lex(type = "com.example.defs#pair", builder = "PairBuilder2")]
pub struct Pair {
    pub left: String,
    pub right: i64,
}
