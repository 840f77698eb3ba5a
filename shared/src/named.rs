//! Values with one name each. [`named_enum!`] declares an enum whose values have names on the wire, in
//! keys or in output: the name table once, with the list of values, the name of each and the reading
//! back of a name derived from it, so that no hand-kept `match` or list can drift from the variants.
//! [`checked_text!`] gives a checked text newtype its conversions.

/// Declares an enum whose every variant has one name.
///
/// Two forms:
/// - closed, every value named (`Variant => "name",` …): the enum is `Copy`; it gets `ALL` (every
///   value, in the order declared), `NAMES`, `as_str(self) -> &'static str`, `from_name` (the exact
///   name) and `Display`;
/// - open, the listed values ending in `;` and then `Other(String)`: a value nobody listed is kept verbatim. It gets `KNOWN` (the
///   listed values), `as_str(&self) -> &str` (`Other` as kept), `known` (a listed name, ignoring
///   case and surrounding spaces) and `Display`. Reading unknown text into `Other` is the caller's
///   `parse`, which may add spellings of its own.
///
/// Attributes before `enum` (derives, serde options, docs) are kept as written.
#[macro_export]
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[doc = $doc:literal])* $variant:ident => $text:literal),+;
            $(#[doc = $other_doc:literal])* Other(String)$(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $($(#[doc = $doc])* $variant,)+
            $(#[doc = $other_doc])* Other(String),
        }

        impl $name {
            /// Every listed value, in the order declared.
            pub const KNOWN: [$name; [$($text,)+].len()] = [$($name::$variant,)+];

            /// The name as the platform writes it; `Other` as it was sent.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(s) => s,
                }
            }

            /// The listed value of that name, ignoring case and surrounding spaces.
            pub fn known(raw: &str) -> Option<$name> {
                let t = raw.trim();
                Self::KNOWN.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(t))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[doc = $doc:literal])* $variant:ident => $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $($(#[doc = $doc])* $variant,)+
        }

        impl $name {
            /// Every value, in the order declared.
            pub const ALL: [$name; [$($text,)+].len()] = [$($name::$variant,)+];

            /// Every value's name, in the order declared.
            pub const NAMES: [&'static str; [$($text,)+].len()] = [$($text,)+];

            /// Its name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value of exactly that name.
            pub fn from_name(name: &str) -> Option<$name> {
                match name {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// The text side of a newtype over `String` whose `FromStr` checks the text (a currency code, a shop
/// id): `as_str`, `Display`, and the `String` conversions serde's `try_from = "String"` and
/// `into = "String"` use, so that no unchecked value can be read from JSON.
#[macro_export]
macro_rules! checked_text {
    ($name:ident) => {
        impl $name {
            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = <$name as ::std::str::FromStr>::Err;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> Self {
                v.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::named_enum! {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Closed {
            /// One.
            One => "one",
            Two => "two-2",
        }
    }

    crate::named_enum! {
        #[derive(Debug, Clone, PartialEq, Eq)]
        enum Open {
            Red => "RED_ONE",
            Blue => "blue";
            /// Kept as sent.
            Other(String),
        }
    }

    #[test]
    fn a_closed_enum_lists_names_and_reads_them_back_exactly() {
        assert_eq!(Closed::ALL, [Closed::One, Closed::Two]);
        assert_eq!(Closed::NAMES, ["one", "two-2"]);
        for c in Closed::ALL {
            assert_eq!(Closed::from_name(c.as_str()), Some(c));
            assert_eq!(c.to_string(), c.as_str());
        }
        assert_eq!(Closed::from_name("ONE"), None);
        assert_eq!(Closed::from_name(""), None);
    }

    #[test]
    fn an_open_enum_reads_listed_names_loosely_and_keeps_others() {
        assert_eq!(Open::KNOWN, [Open::Red, Open::Blue]);
        assert_eq!(Open::known(" red_one "), Some(Open::Red));
        assert_eq!(Open::known("BLUE"), Some(Open::Blue));
        assert_eq!(Open::known("green"), None);
        assert_eq!(Open::Other("green".into()).as_str(), "green");
        assert_eq!(Open::Red.to_string(), "RED_ONE");
    }
}
