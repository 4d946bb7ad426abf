impl ::atlex::rt::Object for Link {
    const NAME: &'static str = "Link";
    const FIELDS: &'static [&'static str] = &["uri", "title"];
    const TYPE_NAME: ::core::option::Option<&'static str> = ::core::option::Option::Some(
        "com.example.defs#link",
    );
    const KEEPS_UNKNOWN: bool = true;
    fn field(key: &str) -> ::core::option::Option<usize> {
        match key {
            "uri" => ::core::option::Option::Some(0usize),
            "title" => ::core::option::Option::Some(1usize),
            _ => ::core::option::Option::None,
        }
    }
    #[inline]
    fn decode<'de, A: ::atlex::rt::serde::de::MapAccess<'de>>(
        fields: ::atlex::rt::Fields<'de, A>,
    ) -> ::core::result::Result<Self, A::Error> {
        <::atlex::rt::Decoders as ::atlex::rt::DecodeObject<Self>>::decode(fields)
    }
    fn encode<S: ::atlex::rt::serde::ser::SerializeMap>(
        &self,
        map: &mut S,
    ) -> ::core::result::Result<(), S::Error> {
        ::atlex::rt::serde::ser::SerializeMap::serialize_entry(map, "uri", &self.uri)?;
        if let ::core::option::Option::Some(value) = &self.title {
            ::atlex::rt::serde::ser::SerializeMap::serialize_entry(map, "title", value)?;
        } else if self.extra.kept_null(1usize) {
            ::atlex::rt::serde::ser::SerializeMap::serialize_entry(map, "title", &())?;
        }
        ::atlex::rt::encode_unknown::<Self, S>(&self.extra, map)?;
        ::core::result::Result::Ok(())
    }
    fn entries(&self) -> usize {
        1usize + usize::from(self.title.is_some() || self.extra.kept_null(1usize))
            + ::atlex::rt::unknown_len(&self.extra, Self::field)
    }
}
impl ::atlex::rt::DecodeObject<Link> for ::atlex::rt::Decoders {
    fn decode<'de, A: ::atlex::rt::serde::de::MapAccess<'de>>(
        mut fields: ::atlex::rt::Fields<'de, A>,
    ) -> ::core::result::Result<Link, A::Error> {
        let mut slots = (::core::option::Option::None, ::core::option::Option::None);
        while let ::core::option::Option::Some(index) = fields.next_field()? {
            match index {
                0usize => fields.set(&mut slots.0),
                1usize => fields.set_optional(&mut slots.1),
                _ => ::core::result::Result::Ok(()),
            }?;
        }
        match slots {
            (::core::option::Option::Some(f0), f1) => {
                ::core::result::Result::Ok(Link {
                    uri: f0,
                    title: f1,
                    extra: fields.unknown(),
                })
            }
            slots => {
                ::core::result::Result::Err(
                    fields.missing(&[(0usize, slots.0.is_none())]),
                )
            }
        }
    }
}
impl<'de> ::atlex::rt::serde::Deserialize<'de> for Link {
    fn deserialize<D: ::atlex::rt::serde::Deserializer<'de>>(
        deserializer: D,
    ) -> ::core::result::Result<Self, D::Error> {
        ::atlex::rt::deserialize_object(deserializer)
    }
}
impl ::atlex::rt::serde::Serialize for Link {
    fn serialize<S: ::atlex::rt::serde::Serializer>(
        &self,
        serializer: S,
    ) -> ::core::result::Result<S::Ok, S::Error> {
        ::atlex::rt::serialize_object(
            self,
            ::core::option::Option::Some(&self.extra),
            serializer,
        )
    }
}
impl ::atlex::rt::LexType for Link {
    const TYPE: &'static str = "com.example.defs#link";
}
impl ::atlex::rt::Validate for Link {}
impl Link {
    /// A `Link` from `uri`, the field the lexicon requires; set the others with the `with_*` methods.
    #[inline]
    pub fn new(uri: impl ::core::convert::Into<String>) -> Self {
        Self {
            uri: uri.into(),
            title: ::core::option::Option::None,
            extra: ::core::default::Default::default(),
        }
    }
    /// Sets `title`.
    #[must_use]
    #[inline]
    pub fn with_title(mut self, title: impl ::core::convert::Into<String>) -> Self {
        self.title = ::core::option::Option::Some(title.into());
        self
    }
}
