impl ::atlex::rt::Object for Post {
    const NAME: &'static str = "Post";
    const FIELDS: &'static [&'static str] = &[
        "text",
        "replyTo",
        "tags",
        "note",
        "URI",
        "limit",
        "createdAt",
    ];
    const RECORD_TYPE: ::core::option::Option<&'static str> = ::core::option::Option::Some(
        "com.example.post",
    );
    const TYPE_NAME: ::core::option::Option<&'static str> = ::core::option::Option::Some(
        "com.example.post",
    );
    const KEEPS_UNKNOWN: bool = true;
    fn field(key: &str) -> ::core::option::Option<usize> {
        match key {
            "text" => ::core::option::Option::Some(0usize),
            "replyTo" => ::core::option::Option::Some(1usize),
            "tags" => ::core::option::Option::Some(2usize),
            "note" => ::core::option::Option::Some(3usize),
            "URI" => ::core::option::Option::Some(4usize),
            "limit" => ::core::option::Option::Some(5usize),
            "createdAt" => ::core::option::Option::Some(6usize),
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
        ::atlex::rt::serde::ser::SerializeMap::serialize_entry(map, "text", &self.text)?;
        ::atlex::rt::serde::ser::SerializeMap::serialize_entry(
            map,
            "replyTo",
            &self.reply_to,
        )?;
        if let ::core::option::Option::Some(value) = &self.tags {
            ::atlex::rt::serde::ser::SerializeMap::serialize_entry(map, "tags", value)?;
        } else if self.extra.kept_null(2usize) {
            ::atlex::rt::serde::ser::SerializeMap::serialize_entry(map, "tags", &())?;
        }
        if let ::core::option::Option::Some(value) = &self.note {
            ::atlex::rt::serde::ser::SerializeMap::serialize_entry(map, "note", value)?;
        }
        if let ::core::option::Option::Some(value) = &self.uri {
            ::atlex::rt::serde::ser::SerializeMap::serialize_entry(map, "URI", value)?;
        } else if self.extra.kept_null(4usize) {
            ::atlex::rt::serde::ser::SerializeMap::serialize_entry(map, "URI", &())?;
        }
        if let ::core::option::Option::Some(value) = &self.limit {
            ::atlex::rt::serde::ser::SerializeMap::serialize_entry(map, "limit", value)?;
        } else if self.extra.kept_null(5usize) {
            ::atlex::rt::serde::ser::SerializeMap::serialize_entry(map, "limit", &())?;
        }
        ::atlex::rt::serde::ser::SerializeMap::serialize_entry(
            map,
            "createdAt",
            &self.created_at,
        )?;
        ::atlex::rt::encode_unknown::<Self, S>(&self.extra, map)?;
        ::core::result::Result::Ok(())
    }
    fn entries(&self) -> usize {
        3usize + usize::from(self.tags.is_some() || self.extra.kept_null(2usize))
            + usize::from(self.note.is_some())
            + usize::from(self.uri.is_some() || self.extra.kept_null(4usize))
            + usize::from(self.limit.is_some() || self.extra.kept_null(5usize))
            + ::atlex::rt::unknown_len(&self.extra, Self::field)
    }
}
impl ::atlex::rt::DecodeObject<Post> for ::atlex::rt::Decoders {
    fn decode<'de, A: ::atlex::rt::serde::de::MapAccess<'de>>(
        mut fields: ::atlex::rt::Fields<'de, A>,
    ) -> ::core::result::Result<Post, A::Error> {
        let mut slots = (
            ::core::option::Option::None,
            ::core::option::Option::None,
            ::core::option::Option::None,
            ::core::option::Option::None,
            ::core::option::Option::None,
            ::core::option::Option::None,
            ::core::option::Option::None,
        );
        while let ::core::option::Option::Some(index) = fields.next_field()? {
            match index {
                0usize => fields.set(&mut slots.0),
                1usize => fields.set(&mut slots.1),
                2usize => fields.set_optional(&mut slots.2),
                3usize => fields.set(&mut slots.3),
                4usize => fields.set_optional(&mut slots.4),
                5usize => fields.set_optional(&mut slots.5),
                6usize => fields.set(&mut slots.6),
                _ => ::core::result::Result::Ok(()),
            }?;
        }
        match slots {
            (
                ::core::option::Option::Some(f0),
                ::core::option::Option::Some(f1),
                f2,
                f3,
                f4,
                f5,
                ::core::option::Option::Some(f6),
            ) => {
                ::core::result::Result::Ok(Post {
                    text: f0,
                    reply_to: f1,
                    tags: f2,
                    note: f3,
                    uri: f4,
                    limit: f5,
                    created_at: f6,
                    extra: fields.unknown(),
                })
            }
            slots => {
                ::core::result::Result::Err(
                    fields
                        .missing(
                            &[
                                (0usize, slots.0.is_none()),
                                (1usize, slots.1.is_none()),
                                (6usize, slots.6.is_none()),
                            ],
                        ),
                )
            }
        }
    }
}
impl<'de> ::atlex::rt::serde::Deserialize<'de> for Post {
    fn deserialize<D: ::atlex::rt::serde::Deserializer<'de>>(
        deserializer: D,
    ) -> ::core::result::Result<Self, D::Error> {
        ::atlex::rt::deserialize_object(deserializer)
    }
}
impl ::atlex::rt::serde::Serialize for Post {
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
impl ::atlex::rt::LexType for Post {
    const TYPE: &'static str = "com.example.post";
}
impl ::atlex::rt::Record for Post {
    const NSID: &'static str = "com.example.post";
    const KEY: ::atlex::rt::RecordKeyKind = ::atlex::rt::RecordKeyKind::Tid;
}
impl ::atlex::rt::Validate for Post {
    fn check(&self, v: &mut ::atlex::rt::Validator) {
        const R0: ::atlex::rt::Rules = ::atlex::rt::Rules {
            max_length: ::core::option::Option::Some(3000),
            max_graphemes: ::core::option::Option::Some(300),
            ..::atlex::rt::Rules::NONE
        };
        v.check_field_rules("text", &self.text, &R0);
    }
}
impl Post {
    /// Sets `tags`.
    #[must_use]
    #[inline]
    pub fn with_tags(mut self, tags: Vec<String>) -> Self {
        self.tags = ::core::option::Option::Some(tags);
        self
    }
    /// Sets `note`.
    #[must_use]
    #[inline]
    pub fn with_note(
        mut self,
        note: impl ::core::convert::Into<Option<String>>,
    ) -> Self {
        self.note = ::core::option::Option::Some(note.into());
        self
    }
    /// Sets `URI`.
    #[must_use]
    #[inline]
    pub fn with_uri(mut self, uri: impl ::core::convert::Into<String>) -> Self {
        self.uri = ::core::option::Option::Some(uri.into());
        self
    }
    /// Sets `limit`.
    #[must_use]
    #[inline]
    pub fn with_limit(mut self, limit: i64) -> Self {
        self.limit = ::core::option::Option::Some(limit);
        self
    }
    /// `limit`, or the lexicon's default (50) when it is absent.
    #[inline]
    pub fn limit_or_default(&self) -> i64 {
        self.limit.unwrap_or(50)
    }
}
impl Post {
    /// A [`PostBuilder`]: set the fields the lexicon requires (`text`, `reply_to`, `created_at`) by name, then `build()`; set the others on the result with the `with_*` methods.
    #[inline]
    pub fn builder() -> PostBuilder {
        PostBuilder(::atlex::rt::Unset, ::atlex::rt::Unset, ::atlex::rt::Unset)
    }
}
/// Builds a [`Post`]: each field the lexicon requires (`text`, `reply_to`, `created_at`) is set once, by its method, and `build` is there when all are.
#[must_use = "a builder does nothing until `build` is called"]
pub struct PostBuilder<
    Text = ::atlex::rt::Unset,
    ReplyTo = ::atlex::rt::Unset,
    CreatedAt = ::atlex::rt::Unset,
>(
    Text,
    ReplyTo,
    CreatedAt,
);
impl<ReplyTo, CreatedAt> PostBuilder<::atlex::rt::Unset, ReplyTo, CreatedAt> {
    /// Sets `text`.
    #[inline]
    pub fn text(
        self,
        text: impl ::core::convert::Into<String>,
    ) -> PostBuilder<::atlex::rt::Set<String>, ReplyTo, CreatedAt> {
        PostBuilder(::atlex::rt::Set(text.into()), self.1, self.2)
    }
}
impl<Text, CreatedAt> PostBuilder<Text, ::atlex::rt::Unset, CreatedAt> {
    /// Sets `replyTo`.
    #[inline]
    pub fn reply_to(
        self,
        reply_to: impl ::core::convert::Into<Option<String>>,
    ) -> PostBuilder<Text, ::atlex::rt::Set<Option<String>>, CreatedAt> {
        PostBuilder(self.0, ::atlex::rt::Set(reply_to.into()), self.2)
    }
}
impl<Text, ReplyTo> PostBuilder<Text, ReplyTo, ::atlex::rt::Unset> {
    /// Sets `createdAt`.
    #[inline]
    pub fn created_at(
        self,
        created_at: ::atlex::rt::Datetime,
    ) -> PostBuilder<Text, ReplyTo, ::atlex::rt::Set<::atlex::rt::Datetime>> {
        PostBuilder(self.0, self.1, ::atlex::rt::Set(created_at))
    }
}
impl<Text, ReplyTo, CreatedAt> PostBuilder<Text, ReplyTo, CreatedAt> {
    /// The `Post`, once every required field is set.
    #[inline]
    pub fn build(self) -> Post
    where
        Text: ::atlex::rt::IsSet<String>,
        ReplyTo: ::atlex::rt::IsSet<Option<String>>,
        CreatedAt: ::atlex::rt::IsSet<::atlex::rt::Datetime>,
    {
        Post {
            text: ::atlex::rt::IsSet::value(self.0),
            reply_to: ::atlex::rt::IsSet::value(self.1),
            created_at: ::atlex::rt::IsSet::value(self.2),
            tags: ::core::option::Option::None,
            note: ::core::option::Option::None,
            uri: ::core::option::Option::None,
            limit: ::core::option::Option::None,
            extra: ::core::default::Default::default(),
        }
    }
}
