//! `[retention]`: how long finished jobs are kept (SPEC.md "Managing jobs"). Off unless
//! `remove_after` is set: the daemon then removes every finished job (`done`, `failed`,
//! `canceled`) whose last step is older than that, its directory first, then its record.

use super::read::Section;
use super::ConfigError;
use std::time::Duration;
use toml::Table;

/// `[retention]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionConfig {
    /// Finished jobs older than this are removed; `None` (the default): kept forever.
    pub remove_after: Option<Duration>,
}

/// Reads `[retention]` (a zero duration is refused, as every duration is: leave the key
/// out to keep every job).
pub(super) fn retention(root: &Table) -> Result<RetentionConfig, ConfigError> {
    let s = Section::new(root, "retention", &["remove_after"])?;
    Ok(RetentionConfig {
        remove_after: s.duration("remove_after")?,
    })
}
