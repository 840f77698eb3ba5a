//! One reader for every lenient scalar: the null forms are none for all of them, and each type says
//! what it makes of text, numbers and booleans ([`Scalar`]). Errors name the form met and what was
//! expected, never the content beyond the text serde quotes.

use super::*;
use std::marker::PhantomData;

/// What a scalar makes of one JSON form.
pub enum Read<T> {
    /// A value (none: the form says "no value").
    Value(Option<T>),
    /// A form of a kind the scalar takes, with a value it refuses (`"abc"` for a quantity, `-1`).
    BadValue,
    /// A kind the scalar does not take at all (a boolean for a quantity).
    BadType,
}

/// A scalar read leniently by [`deserialize`].
pub trait Scalar: Sized {
    /// What the scalar is, for errors: "a whole number as a number or string".
    const EXPECTING: &'static str;
    /// What a refused text is said to have missed; [`Scalar::EXPECTING`] unless a type says more
    /// precisely.
    const TEXT_EXPECTING: &'static str = Self::EXPECTING;
    /// Text that is not one of the null forms (those are none for every scalar).
    fn text(v: &str) -> Read<Self>;
    /// A whole JSON number, not negative.
    fn unsigned(_: u64) -> Read<Self> {
        Read::BadType
    }
    /// A whole JSON number, negative.
    fn signed(_: i64) -> Read<Self> {
        Read::BadType
    }
    /// A JSON number with a fraction or an exponent.
    fn float(_: f64) -> Read<Self> {
        Read::BadType
    }
    /// A JSON boolean.
    fn boolean(_: bool) -> Read<Self> {
        Read::BadType
    }
}

struct Reader<T>(PhantomData<T>);

impl<T> Reader<T> {
    fn answer<E: de::Error>(&self, read: Read<T>, met: Unexpected<'_>) -> Result<Option<T>, E>
    where
        T: Scalar,
    {
        match read {
            Read::Value(v) => Ok(v),
            Read::BadValue => Err(E::invalid_value(met, self)),
            Read::BadType => Err(E::invalid_type(met, self)),
        }
    }
}

impl<'de, T: Scalar> Visitor<'de> for Reader<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if is_null_text(v) {
            return Ok(None);
        }
        match T::text(v) {
            Read::Value(v) => Ok(v),
            Read::BadValue => Err(E::invalid_value(Unexpected::Str(v), &T::TEXT_EXPECTING)),
            Read::BadType => Err(E::invalid_type(Unexpected::Str(v), &self)),
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.answer(T::unsigned(v), Unexpected::Unsigned(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.answer(T::signed(v), Unexpected::Signed(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.answer(T::float(v), Unexpected::Float(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.answer(T::boolean(v), Unexpected::Bool(v))
    }
    crate::lenient::nothing_is!(None);
}

/// Deserialises a lenient optional scalar.
pub fn deserialize<'de, D: Deserializer<'de>, T: Scalar>(d: D) -> Result<Option<T>, D::Error> {
    d.deserialize_any(Reader(PhantomData))
}

/// `Ok(empty)` for the null forms of text, a type error otherwise: for a list or an object, which a
/// platform writes as `""` or `"null"` when it has none.
pub fn empty_text<T, E: de::Error>(v: &str, empty: T, expected: &dyn de::Expected) -> Result<T, E> {
    if is_null_text(v) {
        Ok(empty)
    } else {
        Err(E::invalid_type(Unexpected::Str("(text)"), expected))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Fields {
        #[serde(default, with = "crate::lenient::quantity")]
        quantity: Option<u32>,
        #[serde(default, with = "crate::lenient::flag")]
        flag: Option<bool>,
        #[serde(default, with = "crate::lenient::decimal")]
        amount: Option<rust_decimal::Decimal>,
        #[serde(default, with = "crate::lenient::timestamp")]
        at: Option<chrono::DateTime<chrono::Utc>>,
    }

    fn refusal(json: &str) -> String {
        serde_json::from_str::<Fields>(json)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_refusal_says_what_it_met_and_what_was_expected() {
        for (json, said) in [
            (r#"{"quantity": "abc"}"#, r#"invalid value: string "abc", expected a whole non-negative quantity"#),
            (r#"{"quantity": -1}"#, "invalid value: integer `-1`, expected a whole non-negative quantity as a number or string"),
            (r#"{"quantity": true}"#, "invalid type: boolean `true`, expected a whole non-negative quantity as a number or string"),
            (r#"{"flag": 2}"#, "invalid value: integer `2`, expected a boolean as a boolean, string or 0/1"),
            (r#"{"flag": "yes"}"#, r#"invalid value: string "yes", expected true or false"#),
            (r#"{"amount": "ten"}"#, r#"invalid value: string "ten", expected a decimal number as a string or number"#),
            (r#"{"at": 5}"#, "invalid type: integer `5`, expected an RFC 3339 timestamp"),
        ] {
            let got = refusal(json);
            assert!(got.starts_with(said), "{json}: {got}");
        }
    }

    #[test]
    fn the_null_forms_are_none_for_every_scalar() {
        for nothing in ["null", r#""""#, r#""null""#, r#"" ""#] {
            let json = format!(
                r#"{{"quantity": {nothing}, "flag": {nothing}, "amount": {nothing}, "at": {nothing}}}"#
            );
            let f: Fields = serde_json::from_str(&json).unwrap();
            assert_eq!(
                (f.quantity, f.flag, f.amount, f.at),
                (None, None, None, None),
                "{json}"
            );
        }
    }
}
