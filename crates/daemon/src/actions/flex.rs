//! A tolerant JSON scalar: Qualys gives numbers sometimes as strings and sometimes as
//! numbers, and fields may be null or absent. [`Flex`] reads any of them as text, and
//! a list of scalars as comma-separated text; nested objects are skipped.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// A JSON value read as text; `None` for null, objects and absent fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flex(pub Option<String>);

impl Flex {
    /// The text, or `""`.
    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }
}

impl<'de> Deserialize<'de> for Flex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Flex, D::Error> {
        d.deserialize_any(FlexVisitor)
    }
}

struct FlexVisitor;

impl<'de> Visitor<'de> for FlexVisitor {
    type Value = Flex;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean, null or list of them")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Flex, E> {
        Ok(Flex(Some(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Flex, E> {
        Ok(Flex(Some(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flex, E> {
        Ok(Flex(Some(v.to_string())))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Flex, E> {
        Ok(Flex(Some(v.to_string())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Flex, E> {
        Ok(Flex(Some(v.to_string())))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flex, E> {
        Ok(Flex(Some(v.to_string())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Flex, E> {
        Ok(Flex(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Flex, E> {
        Ok(Flex(None))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Flex, D::Error> {
        d.deserialize_any(FlexVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Flex, A::Error> {
        let mut parts: Vec<String> = Vec::new();
        while let Some(Flex(item)) = seq.next_element::<Flex>()? {
            parts.extend(item);
        }
        Ok(Flex(Some(parts.join(","))))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Flex, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Flex(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Flex {
        serde_json::from_str(json).expect("valid JSON")
    }

    #[test]
    fn scalars_read_as_text() {
        assert_eq!(read("\"5\"").as_str(), "5");
        assert_eq!(read("5").as_str(), "5");
        assert_eq!(read("-2").as_str(), "-2");
        assert_eq!(read("7.5").as_str(), "7.5");
        assert_eq!(read("true").as_str(), "true");
        assert_eq!(read("null"), Flex(None));
        assert_eq!(read("{\"a\": [1]}"), Flex(None));
        assert_eq!(read("[\"CVE-1\", \"CVE-2\"]").as_str(), "CVE-1,CVE-2");
    }
}
