impl ::atlex::rt::Object for Pair {
    const NAME: &'static str = "Pair";
    const FIELDS: &'static [&'static str] = &["left", "right"];
    fn field(key: &str) -> ::core::option::Option<usize> {
        match key {
            "left" => ::core::option::Option::Some(0usize),
            "right" => ::core::option::Option::Some(1usize),
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
        ::atlex::rt::serde::ser::SerializeMap::serialize_entry(map, "left", &self.left)?;
        ::atlex::rt::serde::ser::SerializeMap::serialize_entry(
            map,
            "right",
            &self.right,
        )?;
        ::core::result::Result::Ok(())
    }
    fn entries(&self) -> usize {
        2usize
    }
}
impl ::atlex::rt::DecodeObject<Pair> for ::atlex::rt::Decoders {
    fn decode<'de, A: ::atlex::rt::serde::de::MapAccess<'de>>(
        mut fields: ::atlex::rt::Fields<'de, A>,
    ) -> ::core::result::Result<Pair, A::Error> {
        let mut slots = (::core::option::Option::None, ::core::option::Option::None);
        while let ::core::option::Option::Some(index) = fields.next_field()? {
            match index {
                0usize => fields.set(&mut slots.0),
                1usize => fields.set(&mut slots.1),
                _ => ::core::result::Result::Ok(()),
            }?;
        }
        match slots {
            (::core::option::Option::Some(f0), ::core::option::Option::Some(f1)) => {
                ::core::result::Result::Ok(Pair { left: f0, right: f1 })
            }
            slots => {
                ::core::result::Result::Err(
                    fields
                        .missing(
                            &[(0usize, slots.0.is_none()), (1usize, slots.1.is_none())],
                        ),
                )
            }
        }
    }
}
impl<'de> ::atlex::rt::serde::Deserialize<'de> for Pair {
    fn deserialize<D: ::atlex::rt::serde::Deserializer<'de>>(
        deserializer: D,
    ) -> ::core::result::Result<Self, D::Error> {
        ::atlex::rt::deserialize_object(deserializer)
    }
}
impl ::atlex::rt::serde::Serialize for Pair {
    fn serialize<S: ::atlex::rt::serde::Serializer>(
        &self,
        serializer: S,
    ) -> ::core::result::Result<S::Ok, S::Error> {
        ::atlex::rt::serialize_object(self, ::core::option::Option::None, serializer)
    }
}
impl ::atlex::rt::LexType for Pair {
    const TYPE: &'static str = "com.example.defs#pair";
}
impl ::atlex::rt::Validate for Pair {}
impl Pair {}
impl Pair {
    /// A [`PairBuilder2`]: set the fields the lexicon requires (`left`, `right`) by name, then `build()`; set the others on the result with the `with_*` methods.
    #[inline]
    pub fn builder() -> PairBuilder2 {
        PairBuilder2(::atlex::rt::Unset, ::atlex::rt::Unset)
    }
}
/// Builds a [`Pair`]: each field the lexicon requires (`left`, `right`) is set once, by its method, and `build` is there when all are.
#[must_use = "a builder does nothing until `build` is called"]
pub struct PairBuilder2<Left = ::atlex::rt::Unset, Right = ::atlex::rt::Unset>(
    Left,
    Right,
);
impl<Right> PairBuilder2<::atlex::rt::Unset, Right> {
    /// Sets `left`.
    #[inline]
    pub fn left(
        self,
        left: impl ::core::convert::Into<String>,
    ) -> PairBuilder2<::atlex::rt::Set<String>, Right> {
        PairBuilder2(::atlex::rt::Set(left.into()), self.1)
    }
}
impl<Left> PairBuilder2<Left, ::atlex::rt::Unset> {
    /// Sets `right`.
    #[inline]
    pub fn right(self, right: i64) -> PairBuilder2<Left, ::atlex::rt::Set<i64>> {
        PairBuilder2(self.0, ::atlex::rt::Set(right))
    }
}
impl<Left, Right> PairBuilder2<Left, Right> {
    /// The `Pair`, once every required field is set.
    #[inline]
    pub fn build(self) -> Pair
    where
        Left: ::atlex::rt::IsSet<String>,
        Right: ::atlex::rt::IsSet<i64>,
    {
        Pair {
            left: ::atlex::rt::IsSet::value(self.0),
            right: ::atlex::rt::IsSet::value(self.1),
        }
    }
}
