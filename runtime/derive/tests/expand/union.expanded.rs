impl ::atlex::rt::Union for Embed {
    const MEMBERS: &'static [&'static str] = &[
        "com.example.embed.images",
        "com.example.defs#link",
    ];
    #[inline]
    fn decode_member<'de, A: ::atlex::rt::serde::de::MapAccess<'de>>(
        index: usize,
        member: ::atlex::rt::Member<'de, A>,
    ) -> ::core::result::Result<Self, A::Error> {
        <::atlex::rt::Decoders as ::atlex::rt::DecodeUnion<
            Self,
        >>::decode_member(index, member)
    }
    fn unknown(
        data: ::atlex::rt::Unknown,
    ) -> ::core::result::Result<Self, ::atlex::rt::Unknown> {
        ::core::result::Result::Ok(Self::Unknown(data))
    }
}
impl ::atlex::rt::DecodeUnion<Embed> for ::atlex::rt::Decoders {
    fn decode_member<'de, A: ::atlex::rt::serde::de::MapAccess<'de>>(
        index: usize,
        member: ::atlex::rt::Member<'de, A>,
    ) -> ::core::result::Result<Embed, A::Error> {
        match index {
            0usize => member.decode().map(Embed::Images),
            _ => member.decode().map(Embed::Link),
        }
    }
}
impl<'de> ::atlex::rt::serde::Deserialize<'de> for Embed {
    fn deserialize<D: ::atlex::rt::serde::Deserializer<'de>>(
        deserializer: D,
    ) -> ::core::result::Result<Self, D::Error> {
        ::atlex::rt::deserialize_union(deserializer)
    }
}
impl ::atlex::rt::serde::Serialize for Embed {
    fn serialize<S: ::atlex::rt::serde::Serializer>(
        &self,
        serializer: S,
    ) -> ::core::result::Result<S::Ok, S::Error> {
        match self {
            Self::Images(value) => {
                ::atlex::rt::serialize_member(
                    "com.example.embed.images",
                    &**value,
                    serializer,
                )
            }
            Self::Link(value) => {
                ::atlex::rt::serialize_member(
                    "com.example.defs#link",
                    &**value,
                    serializer,
                )
            }
            Self::Unknown(value) => {
                ::atlex::rt::serde::Serialize::serialize(value, serializer)
            }
        }
    }
}
impl ::atlex::rt::Typed for Embed {
    const TYPES: &'static [&'static str] = <Self as ::atlex::rt::Union>::MEMBERS;
    const OPEN: bool = true;
}
impl ::atlex::rt::Validate for Embed {
    fn check(&self, v: &mut ::atlex::rt::Validator) {
        match self {
            Self::Images(value) => ::atlex::rt::Validate::check(&**value, v),
            Self::Link(value) => ::atlex::rt::Validate::check(&**value, v),
            _ => {}
        }
    }
}
impl ::core::convert::From<Images> for Embed {
    #[inline]
    fn from(member: Images) -> Self {
        Self::Images(::std::boxed::Box::new(member))
    }
}
impl ::core::convert::From<Link> for Embed {
    #[inline]
    fn from(member: Link) -> Self {
        Self::Link(::std::boxed::Box::new(member))
    }
}
