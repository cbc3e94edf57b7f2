//! Parsers for the XML documents Qualys returns. Each takes the whole body as text and
//! never panics on any input (property-tested). Every body passes the prolog guard
//! ([`prolog`]) first: an external DOCTYPE is allowed (never fetched), an internal subset is
//! refused before the parser sees it.

pub(crate) mod assets;
pub(crate) mod prolog;
pub(crate) mod reports;
pub(crate) mod scans;
pub(crate) mod simple;
pub(crate) mod xml;

/// Why a body could not be read as the expected document.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is not well-formed XML.
    #[error("body is not XML: {0}")]
    NotXml(String),
    /// The body was refused before parsing: an internal DTD subset, an entity declaration or
    /// another declaration Qualys never sends (see [`prolog`]).
    #[error(transparent)]
    Refused(#[from] prolog::XmlRefused),
    /// The root element is not the expected one.
    #[error("root element is {found}, expected {expected}")]
    UnexpectedRoot {
        /// What the body had.
        found: String,
        /// What the call expects.
        expected: &'static str,
    },
    /// A required element is missing or empty.
    #[error("{parent} has no {field}")]
    Missing {
        /// The element that should contain it.
        parent: &'static str,
        /// The missing element.
        field: &'static str,
    },
    /// An element's value cannot be read as the expected type.
    #[error("{field} has invalid value {value:?}")]
    Invalid {
        /// The element.
        field: &'static str,
        /// Its text.
        value: String,
    },
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
pub(crate) mod samples;
