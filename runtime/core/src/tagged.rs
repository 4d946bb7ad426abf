//! Writing any serializable value with its `$type` first ([`Tagged`]), as
//! [`crate::data::Unknown::encode`] does. (Generated unions read and write
//! their members through [`crate::union`].)

use serde::Serialize;
use serde::ser::{self, Impossible, SerializeMap, SerializeStruct, Serializer};

/// Serializes `value` as an object whose first entry is `"$type": type_name`.
///
/// Used for [`Unknown::encode`](crate::data::Unknown::encode). `value` must serialize
/// as a struct or a map (every generated object does: as a map when it keeps
/// undeclared properties in a flattened field). A `$type` the value writes
/// itself is left out: the tag is written once, first.
pub struct Tagged<'a, T: ?Sized> {
    type_name: &'a str,
    value: &'a T,
}

impl<'a, T: ?Sized> Tagged<'a, T> {
    /// Pairs a value with its `$type`.
    pub fn new(type_name: &'a str, value: &'a T) -> Self {
        Self { type_name, value }
    }
}

impl<T: Serialize + ?Sized> Serialize for Tagged<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(TaggedSerializer {
            type_name: self.type_name,
            inner: serializer,
        })
    }
}

struct TaggedSerializer<'a, S> {
    type_name: &'a str,
    inner: S,
}

/// The struct being written after its `$type` entry.
pub struct TaggedStruct<M> {
    map: M,
}

impl<M: SerializeMap> SerializeStruct for TaggedStruct<M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        if key == "$type" {
            // The tag was already written; a struct that models `$type` itself
            // must not write it twice.
            return Ok(());
        }
        self.map.serialize_entry(key, value)
    }

    fn end(self) -> Result<Self::Ok, Self::Error> {
        self.map.end()
    }
}

/// The map being written after its `$type` entry.
pub struct TaggedMap<M> {
    map: M,
    /// Whether the key just seen was `$type`, whose value is then left out.
    skip_value: bool,
}

/// Whether a map key serializes as the string `$type`.
fn is_type_key<K: Serialize + ?Sized>(key: &K) -> bool {
    matches!(serde_json::to_value(key), Ok(serde_json::Value::String(k)) if k == "$type")
}

impl<M: SerializeMap> SerializeMap for TaggedMap<M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), Self::Error> {
        if is_type_key(key) {
            self.skip_value = true;
            return Ok(());
        }
        self.map.serialize_key(key)
    }

    fn serialize_value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), Self::Error> {
        if std::mem::take(&mut self.skip_value) {
            return Ok(());
        }
        self.map.serialize_value(value)
    }

    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), Self::Error> {
        if is_type_key(key) {
            return Ok(());
        }
        self.map.serialize_entry(key, value)
    }

    fn end(self) -> Result<Self::Ok, Self::Error> {
        self.map.end()
    }
}

fn not_an_object<E: ser::Error>() -> E {
    E::custom("a value with a $type must serialize as an object")
}

macro_rules! reject {
    ($($name:ident($($arg:ty),*);)*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<Self::Ok, Self::Error> {
            Err(not_an_object())
        })*
    };
}

impl<'a, S: Serializer> Serializer for TaggedSerializer<'a, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = TaggedMap<S::SerializeMap>;
    type SerializeStruct = TaggedStruct<S::SerializeMap>;
    type SerializeStructVariant = Impossible<S::Ok, S::Error>;

    reject! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<S::Ok, S::Error> {
        Err(not_an_object())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        Err(not_an_object())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, S::Error> {
        Err(not_an_object())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        Err(not_an_object())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        Err(not_an_object())
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        let mut map = self.inner.serialize_map(len.map(|n| n + 1))?;
        map.serialize_entry("$type", self.type_name)?;
        Ok(TaggedMap {
            map,
            skip_value: false,
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        let mut map = self.inner.serialize_map(Some(len + 1))?;
        map.serialize_entry("$type", self.type_name)?;
        Ok(TaggedStruct { map })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Err(not_an_object())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize, Debug, PartialEq)]
    struct Member {
        a: i64,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        b: Option<String>,
    }

    #[test]
    fn tagged_writes_type_first() {
        let m = Member { a: 1, b: None };
        let s = serde_json::to_string(&Tagged::new("com.example.member", &m)).unwrap();
        assert_eq!(s, r#"{"$type":"com.example.member","a":1}"#);
        assert!(serde_json::to_string(&Tagged::new("x", &5)).is_err());
    }

    #[test]
    fn tagged_maps_write_type_once_and_first() {
        // A struct that keeps undeclared properties serializes as a map.
        #[derive(Serialize)]
        struct Kept {
            a: i64,
            #[serde(flatten)]
            extra: std::collections::BTreeMap<String, serde_json::Value>,
        }
        let mut extra = std::collections::BTreeMap::new();
        extra.insert("$type".to_owned(), json!("com.example.stale"));
        extra.insert("z".to_owned(), json!([1]));
        let kept = Kept { a: 1, extra };
        let s = serde_json::to_string(&Tagged::new("com.example.member", &kept)).unwrap();
        assert_eq!(s, r#"{"$type":"com.example.member","a":1,"z":[1]}"#);

        let mut plain = std::collections::BTreeMap::new();
        plain.insert("$type", "com.example.stale");
        plain.insert("b", "x");
        let s = serde_json::to_string(&Tagged::new("com.example.member", &plain)).unwrap();
        assert_eq!(s, r#"{"$type":"com.example.member","b":"x"}"#);
    }
}
