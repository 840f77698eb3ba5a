use super::*;
use serde::de::value::MapAccessDeserializer;
use serde::de::MapAccess;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Deserialises an object, treating null, `""` and `"null"` as none.
pub fn deserialize<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object, null or an empty string")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map)).map(Some)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            super::scalar::empty_text(v, None, &self)
        }
        crate::lenient::nothing_is!(None);
    }
    d.deserialize_any(V(PhantomData))
}

/// Serialises the object, none as null.
pub fn serialize<S: Serializer, T: Serialize>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    v.serialize(s)
}
