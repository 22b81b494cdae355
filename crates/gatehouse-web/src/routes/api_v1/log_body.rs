//! A stored System Log body written out as `serde_json::Value` would write it, without building
//! a `Value`: objects' keys sorted (`Value`'s map is a `BTreeMap`) with the last of a repeated
//! key kept, strings re-escaped, numbers as [`Number`]. Keys and strings without escapes are
//! borrowed from the body, so a page of events costs one parse and no allocation per string.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Number;

/// A JSON value borrowing its strings from the text it was parsed from.
pub(crate) enum LogBody<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<LogBody<'a>>),
    /// Sorted by key, each key once.
    Object(Vec<(Cow<'a, str>, LogBody<'a>)>),
}

impl<'a> LogBody<'a> {
    /// The body as the listing returns it; `None` for what it leaves out (not JSON, or `null`).
    pub(crate) fn parse(body: &'a str) -> Option<Self> {
        match serde_json::from_str::<LogBody<'a>>(body) {
            Ok(LogBody::Null) | Err(_) => None,
            Ok(v) => Some(v),
        }
    }
}

impl Serialize for LogBody<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            LogBody::Null => serializer.serialize_unit(),
            LogBody::Bool(b) => serializer.serialize_bool(*b),
            LogBody::Number(n) => n.serialize(serializer),
            LogBody::String(s) => serializer.serialize_str(s),
            LogBody::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            LogBody::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
        }
    }
}

/// A key or string: borrowed when the text holds it as is.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

impl<'de> Deserialize<'de> for LogBody<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BodyVisitor)
    }
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = LogBody<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(LogBody::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(LogBody::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(LogBody::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // As `Value`: a float JSON cannot hold is `null`.
        Ok(Number::from_f64(v).map_or(LogBody::Null, LogBody::Number))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(LogBody::String(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(LogBody::String(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(LogBody::String(Cow::Owned(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(LogBody::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(LogBody::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        LogBody::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(LogBody::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries: Vec<(Cow<'de, str>, LogBody<'de>)> = Vec::new();
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        // `Value`'s order: by key (bytes); of a repeated key, the last one. Reversed first, the
        // last of each key comes first in the stable sort and `dedup_by` keeps the first.
        entries.reverse();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|later, kept| later.0 == kept.0);
        Ok(LogBody::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::LogBody;
    use serde_json::Value;

    /// Written out as `Value` writes the same text, or left out where `Value` is `null`.
    #[test]
    fn writes_what_value_writes() {
        let bodies = [
            r#" { "z" : 1, "a" : [ 1.50, -0, 1e2, 18446744073709551615, -9223372036854775808 ] } "#,
            r#"{"k":"\u00e9\/\t\"\\ \ud83d\ude00 é","k":"last","\u0061":"x","a":"y","":{}}"#,
            r#"{"deep":[[[{"y":[],"x":{"d":"\u001f","c":[false,{"b":2,"a":1}]}}]]],"n":-12.25e-3}"#,
            r#"{"b":1,"a":2,"b":3,"a":4,"c":{"b":1,"b":2}}"#,
            r#"[1,"s",null]"#,
            r#""s""#,
            "12",
            "-1.0",
            "true",
            "null",
            "{x",
            "[1,]",
            r#"{"a":1} x"#,
            "",
        ];
        for body in bodies {
            let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            let expected = (!value.is_null()).then(|| value.to_string());
            let got = LogBody::parse(body).map(|b| serde_json::to_string(&b).unwrap_or_default());
            assert_eq!(got, expected, "{body}");
        }
    }
}
