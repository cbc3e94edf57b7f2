//! The one place where the core's types and the Qualys client's types meet.
//!
//! The core (`baseliner-core`) and the client (`baseliner-qualys`) do not depend on each
//! other, so a few notions exist on both sides: scan and report states, the tracking
//! method, the asset API and scan-list versions, address ranges, the limit headers. Every
//! conversion between them is written here, once; the executor, the governors and the
//! commands call these functions instead of matching the other crate's enums inline.

use crate::governor::Observed;
use baseliner_core::config::{AssetApi as AssetApiSetting, ScanListApi};
use baseliner_core::ip::{IpSet, Ipv4Range};
use baseliner_core::job::TrackingMethod as JobTracking;
use baseliner_core::state::{ReportState, ScanState};
use baseliner_qualys as q;
use std::net::Ipv4Addr;

/// The core's scan state of a listed scan (`(no state)` when the list showed none).
pub fn scan_state(s: Option<&q::ScanState>) -> ScanState {
    use q::ScanState as Q;
    match s {
        None => ScanState::Other("(no state)".into()),
        Some(Q::Submitted) => ScanState::Submitted,
        Some(Q::Queued) => ScanState::Queued,
        Some(Q::Loading) => ScanState::Loading,
        Some(Q::Running) => ScanState::Running,
        Some(Q::Paused) => ScanState::Paused,
        Some(Q::Finished) => ScanState::Finished,
        Some(Q::Error) => ScanState::Error,
        Some(Q::Canceled) => ScanState::Canceled,
        Some(Q::Other(o)) => ScanState::parse(o),
    }
}

/// The core's report state of a listed report (`(no state)` when the list showed none).
pub fn report_state(s: Option<&q::ReportState>) -> ReportState {
    use q::ReportState as Q;
    match s {
        None => ReportState::Other("(no state)".into()),
        Some(Q::Other(o)) => ReportState::parse(o),
        Some(Q::Submitted) => ReportState::Submitted,
        Some(Q::Running) => ReportState::Running,
        Some(Q::Finished) => ReportState::Finished,
        Some(Q::Canceled) => ReportState::Canceled,
        Some(Q::Errors) => ReportState::Errors,
    }
}

/// The client's tracking method for a job's `tracking_method`.
pub fn tracking(t: JobTracking) -> q::TrackingMethod {
    match t {
        JobTracking::Ip => q::TrackingMethod::Ip,
        JobTracking::Dns => q::TrackingMethod::Dns,
        JobTracking::Netbios => q::TrackingMethod::Netbios,
    }
}

/// The client's asset API for `[qualys].asset_api`.
pub fn asset_api(a: AssetApiSetting) -> q::AssetApi {
    match a {
        AssetApiSetting::V1 => q::AssetApi::V1,
        AssetApiSetting::V2 => q::AssetApi::V2,
    }
}

/// The client's scan-list version for `[qualys].scan_list_api`.
pub fn scan_list_version(v: ScanListApi) -> q::ApiVersion {
    match v {
        ScanListApi::V2 => q::ApiVersion::V2,
        ScanListApi::V3 => q::ApiVersion::V3,
    }
}

/// A set of addresses as the client's `(first, last)` ranges.
pub fn ranges(ips: &IpSet) -> Vec<(Ipv4Addr, Ipv4Addr)> {
    ips.ranges().iter().map(|r| (r.first, r.last)).collect()
}

/// The client's `(first, last)` ranges (an asset group's IP_SET) as a set.
pub fn ip_set(ranges: &[(Ipv4Addr, Ipv4Addr)]) -> IpSet {
    IpSet::from_ranges(
        ranges
            .iter()
            .map(|(first, last)| Ipv4Range {
                first: *first,
                last: *last,
            })
            .collect(),
    )
}

impl From<&q::Limits> for Observed {
    fn from(l: &q::Limits) -> Observed {
        Observed {
            limit: l.limit,
            window_sec: l.window_sec,
            remaining: l.remaining,
            to_wait_sec: l.to_wait_sec,
            to_wait_raw: l.to_wait_raw,
            concurrency_limit: l.concurrency_limit,
        }
    }
}

/// The template list's entries as the core's template rule reads them.
pub fn templates(
    list: &[q::ReportTemplate],
) -> Vec<baseliner_core::machine::template::TemplateSeen<'_>> {
    list.iter()
        .map(|t| baseliner_core::machine::template::TemplateSeen {
            id: t.id,
            title: &t.title,
            kind: t.kind.as_deref(),
            template_type: t.template_type.as_deref(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_missing_states_are_kept_not_guessed() {
        assert_eq!(scan_state(None), ScanState::Other("(no state)".into()));
        assert_eq!(
            scan_state(Some(&q::ScanState::Other("cancelled".into()))),
            ScanState::Canceled
        );
        assert_eq!(
            scan_state(Some(&q::ScanState::Other("Bogus".into()))),
            ScanState::Other("Bogus".into())
        );
        assert_eq!(
            report_state(Some(&q::ReportState::Errors)),
            ReportState::Errors
        );
        assert_eq!(report_state(None), ReportState::Other("(no state)".into()));
    }

    #[test]
    fn ranges_round_trip() {
        let a: Ipv4Addr = "10.0.0.1".parse().expect("ip");
        let b: Ipv4Addr = "10.0.0.9".parse().expect("ip");
        let c: Ipv4Addr = "10.0.1.5".parse().expect("ip");
        let set = ip_set(&[(a, b), (c, c)]);
        assert_eq!(ranges(&set), vec![(a, b), (c, c)]);
    }
}
