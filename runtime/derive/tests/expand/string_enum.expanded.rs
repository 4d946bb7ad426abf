impl Sort {
    /// The values the lexicon lists; others are allowed.
    pub const VALUES: &'static [&'static str] = &["recent", "top"];
    /// The value as it goes over the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Recent => "recent",
            Self::Top => "top",
            Self::Other(value) => value,
        }
    }
}
impl ::core::fmt::Display for Sort {
    #[inline]
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.write_str(self.as_str())
    }
}
impl ::atlex::rt::serde::Serialize for Sort {
    fn serialize<S: ::atlex::rt::serde::Serializer>(
        &self,
        serializer: S,
    ) -> ::core::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
impl ::atlex::rt::Validate for Sort {
    fn check_rules(&self, v: &mut ::atlex::rt::Validator, rules: &::atlex::rt::Rules) {
        ::atlex::rt::Validate::check_rules(self.as_str(), v, rules);
    }
}
impl ::core::convert::From<&str> for Sort {
    fn from(value: &str) -> Self {
        match value {
            "recent" => Self::Recent,
            "top" => Self::Top,
            _ => Self::Other(::std::borrow::ToOwned::to_owned(value)),
        }
    }
}
impl ::core::str::FromStr for Sort {
    type Err = ::core::convert::Infallible;
    fn from_str(value: &str) -> ::core::result::Result<Self, Self::Err> {
        ::core::result::Result::Ok(Self::from(value))
    }
}
impl<'de> ::atlex::rt::serde::Deserialize<'de> for Sort {
    fn deserialize<D: ::atlex::rt::serde::Deserializer<'de>>(
        deserializer: D,
    ) -> ::core::result::Result<Self, D::Error> {
        ::atlex::rt::deserialize_str(
            deserializer,
            |value| ::core::result::Result::Ok(Self::from(value)),
        )
    }
}
