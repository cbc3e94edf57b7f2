//! What a request handler gets: the config, the model, the parameters and the clock.

use std::time::{Instant, SystemTime};

use crate::config::SimConfig;
use crate::model::Model;
use crate::params::Params;

/// Everything one handler call may read or change.
pub(crate) struct Ctx<'a> {
    /// Simulator configuration.
    pub cfg: &'a SimConfig,
    /// The subscription (locked for the call).
    pub model: &'a mut Model,
    /// Request parameters.
    pub p: &'a Params,
    /// Monotonic now.
    pub now: Instant,
    /// Wall-clock now.
    pub wall: SystemTime,
    /// Authenticated login.
    pub user: &'a str,
    /// `http://127.0.0.1:PORT`, for URLs handed back to the client.
    pub base_url: &'a str,
    /// Request path.
    pub path: &'a str,
}

/// Parses a comma list of positive integers and `a-b` ranges; `Err(item)` on a bad item.
pub(crate) fn parse_id_list(list: &str) -> Result<Vec<(u64, u64)>, String> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (a, b) = item.split_once('-').unwrap_or((item, item));
        match (a.trim().parse::<u64>(), b.trim().parse::<u64>()) {
            (Ok(a), Ok(b)) if a > 0 && a <= b => out.push((a, b)),
            _ => return Err(item.to_owned()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lists() {
        assert_eq!(parse_id_list("1, 5-7"), Ok(vec![(1, 1), (5, 7)]));
        assert_eq!(parse_id_list("abc123"), Err("abc123".to_owned()));
        assert_eq!(parse_id_list("0"), Err("0".to_owned()));
    }
}
