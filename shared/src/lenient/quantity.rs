use super::*;

fn from_text<E: de::Error>(v: &str) -> Result<Option<u32>, E> {
    if is_null_text(v) {
        return Ok(None);
    }
    trim_text(v)
        .parse::<u32>()
        .map(Some)
        .map_err(|_| E::invalid_value(Unexpected::Str(v), &"a whole non-negative quantity"))
}

/// Deserialises a lenient optional quantity.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<u32>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a whole non-negative quantity as a number or string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            from_text(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            u32::try_from(v)
                .map(Some)
                .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u32::try_from(v)
                .map(Some)
                .map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
                // The range check above makes the cast exact.
                Ok(Some(v as u32))
            } else {
                Err(E::invalid_value(Unexpected::Float(v), &self))
            }
        }
        crate::lenient::nothing_is!(None);
    }
    d.deserialize_any(V)
}

/// Serialises a quantity as a decimal string.
pub fn serialize<S: Serializer>(v: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}
