//! Reading a job file's fields out of its parsed document, with errors that name the field.
//!
//! Both formats are first parsed into a generic document (`serde_json::Value`; TOML converts
//! into it losslessly for the types a job uses), then read field by field. Doing the type
//! checks here rather than through a derived `Deserialize` lets every error name the field
//! and show the offending value, in the same words for TOML and JSON.

use super::JobError;
use serde_json::{Map, Value};

/// The fields a job file may have, in the order they are written out.
pub(crate) const FIELDS: &[&str] = &[
    "organization",
    "ips",
    "option_title",
    "scan_title",
    "comments",
    "report_template_id",
    "report_format",
    "results",
    "scanner_appliance",
    "tracking_method",
];

/// At most this many characters of an offending value are quoted in an error.
const QUOTE_MAX: usize = 60;

/// A value, shortened for an error message: one line, at most [`QUOTE_MAX`] characters
/// (plus an ellipsis and the full length when cut).
pub(crate) fn quote(value: &Value) -> String {
    let text = match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    shorten(&text)
}

/// `text` cut to [`QUOTE_MAX`] characters, noting the full length when cut.
pub(crate) fn shorten(text: &str) -> String {
    let n = text.chars().count();
    if n <= QUOTE_MAX {
        text.to_owned()
    } else {
        let head: String = text.chars().take(QUOTE_MAX).collect();
        format!("{head}… ({n} characters)")
    }
}

/// The document's fields, after refusing any field not in [`FIELDS`].
pub(crate) fn fields(doc: &Value) -> Result<&Map<String, Value>, JobError> {
    let map = doc
        .as_object()
        .ok_or_else(|| JobError::NotATable { found: quote(doc) })?;
    if let Some(unknown) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(JobError::UnknownField {
            field: shorten(unknown),
        });
    }
    Ok(map)
}

/// A text field: `None` when absent; refused when it is not a string or is not
/// [`clean`].
pub(crate) fn text(
    map: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, JobError> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => {
            clean(field, s)?;
            Ok(Some(s.clone()))
        }
        Some(other) => Err(wrong_type(field, "a string", other)),
    }
}

/// Refuses control characters, bidirectional controls and other invisible format
/// characters (ZWJ and ZWNJ are kept: see [`crate::text::is_forbidden_format`]).
pub(crate) fn clean(field: &'static str, s: &str) -> Result<(), JobError> {
    if s.chars().any(char::is_control) {
        return Err(JobError::ControlCharacter {
            field,
            value: shorten(&format!("\"{}\"", crate::text::escape_log(s))),
        });
    }
    if let Some(c) = crate::text::forbidden_format_char(s) {
        return Err(JobError::FormatCharacter {
            field,
            code: u32::from(c),
            value: shorten(&format!("\"{}\"", crate::text::escape_log(s))),
        });
    }
    Ok(())
}

/// A list-of-strings field: `None` when absent; each item [`clean`].
pub(crate) fn text_list(
    map: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<Vec<String>>, JobError> {
    let Some(value) = map.get(field) else {
        return Ok(None);
    };
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type(field, "a list of strings", value))?;
    items
        .iter()
        .map(|item| {
            let s = item
                .as_str()
                .ok_or_else(|| wrong_type(field, "a list of strings", value))?;
            clean(field, s)?;
            Ok(s.to_owned())
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A non-negative integer field: `None` when absent.
pub(crate) fn unsigned(
    map: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<u64>, JobError> {
    match map.get(field) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| wrong_type(field, "a non-negative integer", v)),
    }
}

/// The error for a field of the wrong type.
fn wrong_type(field: &'static str, expected: &'static str, found: &Value) -> JobError {
    JobError::WrongType {
        field,
        expected,
        found: quote(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quote_shortens_and_stays_on_one_line() {
        assert_eq!(quote(&json!("a\nb")), "\"a\\nb\"");
        let long = "x".repeat(100);
        let q = quote(&json!(long));
        assert!(q.ends_with("… (102 characters)"), "{q}");
    }

    #[test]
    fn wrong_types_name_field_and_value() {
        let doc = json!({"organization": 5, "ips": ["1.2.3.4", 7], "report_template_id": -1});
        let map = fields(&doc).expect("known fields");
        let e = text(map, "organization").expect_err("number");
        assert_eq!(e.to_string(), "organization: expected a string, found 5");
        let e = text_list(map, "ips").expect_err("mixed list");
        assert_eq!(
            e.to_string(),
            "ips: expected a list of strings, found [\"1.2.3.4\",7]"
        );
        let e = unsigned(map, "report_template_id").expect_err("negative");
        assert_eq!(
            e.to_string(),
            "report_template_id: expected a non-negative integer, found -1"
        );
    }
}
