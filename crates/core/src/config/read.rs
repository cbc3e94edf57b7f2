//! Reading typed values out of one `[section]` of the parsed config, with errors that name
//! the key as `[section].key`.
//!
//! Unknown keys are refused before any value is read ([`Section::new`]): the known keys are
//! listed next to the code that reads them, so the two cannot drift apart silently (a key
//! read but not listed fails the tests with "unknown key").

use super::ConfigError;
use crate::time::parse_duration;
use std::path::PathBuf;
use std::time::Duration;
use toml::{Table, Value};

/// At most this many characters of an offending value are quoted in an error.
const QUOTE_MAX: usize = 60;

/// `value` rendered as TOML on one line, shortened.
pub(crate) fn quote(value: &Value) -> String {
    let text = value.to_string().replace('\n', " ");
    let n = text.chars().count();
    if n <= QUOTE_MAX {
        text
    } else {
        let head: String = text.chars().take(QUOTE_MAX).collect();
        format!("{head}… ({n} characters)")
    }
}

/// One section of the config; absent sections read as empty.
pub(crate) struct Section<'a> {
    name: &'static str,
    table: Option<&'a Table>,
}

impl<'a> Section<'a> {
    /// The section `name` of `root`, refusing a non-table value and keys not in `known`.
    pub fn new(
        root: &'a Table,
        name: &'static str,
        known: &[&str],
    ) -> Result<Section<'a>, ConfigError> {
        let table = match root.get(name) {
            None => None,
            Some(Value::Table(t)) => Some(t),
            Some(other) => {
                return Err(ConfigError::WrongType {
                    key: format!("[{name}]"),
                    expected: "a table",
                    found: quote(other),
                })
            }
        };
        if let Some(unknown) = table
            .into_iter()
            .flat_map(|t| t.keys())
            .find(|k| !known.contains(&k.as_str()))
        {
            return Err(ConfigError::UnknownKey {
                key: format!("[{name}].{unknown}"),
            });
        }
        Ok(Section { name, table })
    }

    /// `[section].key`, for messages.
    pub fn key(&self, key: &str) -> String {
        format!("[{}].{key}", self.name)
    }

    /// The raw value of `key`, if present.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.table.and_then(|t| t.get(key))
    }

    /// The error for `key` holding a value of the wrong type.
    fn wrong(&self, key: &str, expected: &'static str, found: &Value) -> ConfigError {
        ConfigError::WrongType {
            key: self.key(key),
            expected,
            found: quote(found),
        }
    }

    /// The error for `key` holding `value`, which is wrong because `reason`.
    pub fn invalid(&self, key: &str, value: &Value, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            key: self.key(key),
            value: quote(value),
            reason: reason.into(),
        }
    }

    /// The error for a required key that is absent.
    pub fn missing(&self, key: &str) -> ConfigError {
        ConfigError::Missing { key: self.key(key) }
    }

    /// A string without control characters; blank strings are refused.
    pub fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(v @ Value::String(s)) => {
                if s.trim().is_empty() {
                    Err(self.invalid(key, v, "must not be empty"))
                } else if s.chars().any(char::is_control) {
                    Err(self.invalid(key, v, "control characters are not allowed"))
                } else {
                    Ok(Some(s.trim().to_owned()))
                }
            }
            Some(other) => Err(self.wrong(key, "a string", other)),
        }
    }

    /// A path (a non-empty string).
    pub fn path(&self, key: &str) -> Result<Option<PathBuf>, ConfigError> {
        Ok(self.string(key)?.map(PathBuf::from))
    }

    /// `true` or `false`.
    pub fn boolean(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong(key, "true or false", other)),
        }
    }

    /// An integer within `range`.
    pub fn integer(
        &self,
        key: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<u64>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(v @ Value::Integer(n)) => match u64::try_from(*n) {
                Ok(n) if range.contains(&n) => Ok(Some(n)),
                _ => Err(self.invalid(
                    key,
                    v,
                    format!("must be {} to {}", range.start(), range.end()),
                )),
            },
            Some(other) => Err(self.wrong(key, "an integer", other)),
        }
    }

    /// A positive duration written as `"90s"`, `"7m"`, `"72h"`, `"2d"`, `"500ms"`.
    pub fn duration(&self, key: &str) -> Result<Option<Duration>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(v @ Value::String(s)) => match parse_duration(s) {
                Some(d) if !d.is_zero() => Ok(Some(d)),
                Some(_) => Err(self.invalid(key, v, "must be longer than zero")),
                None => Err(self.invalid(
                    key,
                    v,
                    "is not a duration (write a whole number and a unit: \"90s\", \"7m\", \"72h\", \"2d\")",
                )),
            },
            Some(other) => Err(self.wrong(key, "a duration string such as \"7m\"", other)),
        }
    }

    /// A positive size in bytes: an integer, or a string with a binary unit such as
    /// `"500MiB"`, `"20GiB"` (units `B`, `KiB`, `MiB`, `GiB`, `TiB`).
    pub fn size(&self, key: &str) -> Result<Option<u64>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(v @ Value::Integer(n)) => match u64::try_from(*n) {
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => Err(self.invalid(key, v, "must be more than zero bytes")),
            },
            Some(v @ Value::String(s)) => match parse_size(s) {
                Some(0) => Err(self.invalid(key, v, "must be more than zero bytes")),
                Some(n) => Ok(Some(n)),
                None => Err(self.invalid(
                    key,
                    v,
                    "is not a size (write a whole number and a unit: \"500MiB\", \"20GiB\")",
                )),
            },
            Some(other) => Err(self.wrong(key, "a size such as \"20GiB\"", other)),
        }
    }

    /// A list of strings (each may be blank; the caller decides).
    pub fn strings(&self, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let expected = "a list of strings";
        let items = value
            .as_array()
            .ok_or_else(|| self.wrong(key, expected, value))?;
        items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| self.wrong(key, expected, value))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The raw value of `key`, for errors raised after conversion.
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.get(key)
    }
}

/// Parses `"20GiB"`, `"512 MiB"`, `"100B"`; `None` for anything else or an overflow.
pub(crate) fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let shift = match unit.trim() {
        "B" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        "TiB" => 40,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}
