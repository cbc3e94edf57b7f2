//! The API calls, one file per area, as `impl Client` blocks, plus the helpers they share.

mod assets;
mod reports;
mod scans;
mod session;

pub use assets::TrackingMethod;
pub use reports::ReportTarget;

use roxmltree::Document;

use crate::parse::simple::{parse_return, Outcome};
use crate::parse::ParseError;

/// Reads a successful `SIMPLE_RETURN`/`GENERIC_RETURN` (failures were classified before).
pub(crate) fn success(doc: &Document<'_>) -> Result<Outcome, ParseError> {
    match parse_return(doc) {
        Some(result) => result,
        None => Err(ParseError::UnexpectedRoot {
            found: doc.root_element().tag_name().name().to_string(),
            expected: "SIMPLE_RETURN",
        }),
    }
}
