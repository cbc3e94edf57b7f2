//! The one place where stored records are encoded: bincode 2 (standard config) behind a
//! format version byte.
//!
//! Every record is `[FORMAT_VERSION] ++ bincode(value)`. A record written by a build with
//! another format version is refused with [`CodecError::UnknownVersion`] rather than
//! misread. Golden-bytes tests pin the encoding of the stored types, so a change to them
//! cannot silently orphan stored jobs: such a change needs a new version and a migration.

mod old;
mod v1;
mod v2;

use crate::store::JobRecord;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The format version written in front of every record.
pub const FORMAT_VERSION: u8 = 3;

/// The oldest format version a job record is still read (and migrated) from.
pub const OLDEST_RECORD_VERSION: u8 = 1;

/// Why a record could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The record has no bytes at all, not even the version byte.
    #[error("empty record: no format version byte")]
    Empty,
    /// The version byte is not one this build reads.
    #[error(
        "record format version {found} is unknown (this build reads version {FORMAT_VERSION})"
    )]
    UnknownVersion {
        /// The version byte found.
        found: u8,
    },
    /// The body does not decode as the expected type.
    #[error(
        "record body (format version {FORMAT_VERSION}, {len} bytes) does not decode: {source}"
    )]
    Decode {
        /// The body's length.
        len: usize,
        /// bincode's error.
        source: bincode::error::DecodeError,
    },
    /// The body decoded but bytes were left over: the record is not of the expected type.
    #[error("record body has {extra} trailing bytes after the value")]
    Trailing {
        /// How many bytes were left.
        extra: usize,
    },
    /// The value could not be encoded (its `Serialize` impl failed).
    #[error("value does not encode: {0}")]
    Encode(#[from] bincode::error::EncodeError),
}

/// Encodes `value` as a versioned record.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, CodecError> {
    let body = bincode::serde::encode_to_vec(value, bincode::config::standard())?;
    let mut out = Vec::with_capacity(body.len() + 1);
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes a versioned record written by [`encode`] of this format version.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (&version, body) = bytes.split_first().ok_or(CodecError::Empty)?;
    if version != FORMAT_VERSION {
        return Err(CodecError::UnknownVersion { found: version });
    }
    decode_body(body)
}

/// Decodes a stored job record of this format version or an older one (migrated, see
/// [`v1`] and [`v2`]).
pub fn decode_job_record(bytes: &[u8]) -> Result<JobRecord, CodecError> {
    match bytes.split_first() {
        None => Err(CodecError::Empty),
        Some((1, body)) => decode_body::<v1::JobRecordV1>(body).map(JobRecord::from),
        Some((2, body)) => decode_body::<v2::JobRecordV2>(body).map(JobRecord::from),
        Some(_) => decode(bytes),
    }
}

fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, CodecError> {
    let (value, read) = bincode::serde::decode_from_slice(body, bincode::config::standard())
        .map_err(|source| CodecError::Decode {
            len: body.len(),
            source,
        })?;
    if read != body.len() {
        return Err(CodecError::Trailing {
            extra: body.len() - read,
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests;
