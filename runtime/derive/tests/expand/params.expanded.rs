impl ::atlex::rt::Params for Params {
    fn write_query(&self, query: &mut ::atlex::rt::QueryWriter) {
        query.list("actors", &self.actors);
        query.optional("limit", &self.limit);
        query.optional("cursor", &self.cursor);
    }
    fn read_query(
        query: &::atlex::rt::QueryReader<'_>,
    ) -> ::core::result::Result<Self, ::atlex::rt::ParamsError> {
        ::core::result::Result::Ok(Self {
            actors: query.list("actors")?,
            limit: query.optional("limit")?,
            cursor: query.optional("cursor")?,
        })
    }
}
impl ::atlex::rt::Validate for Params {
    fn check(&self, v: &mut ::atlex::rt::Validator) {
        const R1: ::atlex::rt::Rules = ::atlex::rt::Rules {
            minimum: ::core::option::Option::Some(1),
            maximum: ::core::option::Option::Some(100),
            ..::atlex::rt::Rules::NONE
        };
        v.check_field_rules("limit", &self.limit, &R1);
    }
}
impl Params {
    /// A `Params` from `actors`, the field the lexicon requires; set the others with the `with_*` methods.
    #[inline]
    pub fn new(actors: Vec<::atlex::rt::AtIdentifier>) -> Self {
        Self {
            actors: actors,
            limit: ::core::option::Option::None,
            cursor: ::core::option::Option::None,
        }
    }
    /// Sets `limit`.
    #[must_use]
    #[inline]
    pub fn with_limit(mut self, limit: i64) -> Self {
        self.limit = ::core::option::Option::Some(limit);
        self
    }
    /// Sets `cursor`.
    #[must_use]
    #[inline]
    pub fn with_cursor(mut self, cursor: impl ::core::convert::Into<String>) -> Self {
        self.cursor = ::core::option::Option::Some(cursor.into());
        self
    }
    /// `limit`, or the lexicon's default (50) when it is absent.
    #[inline]
    pub fn limit_or_default(&self) -> i64 {
        self.limit.unwrap_or(50)
    }
}
