//! The scope and absence rules of the group and scan steps: a group's whole IP set and a
//! scan's TARGET must lie within `[scope].authorized` (qualys-api.md §6.1), and a lookup
//! after a send proves absence only late (§2.4).

use super::{Ctx, Next, Policy};
use crate::ip::IpSet;
use crate::state::JobState;
use crate::time::Timestamp;

/// The lookup found the group of the organization's title. A scan of a group scans every
/// address in it, so the group's whole IP set (and, after an extend, the job's addresses
/// with it) must lie within the scope; otherwise the job fails naming the outside ones.
pub(super) fn group_found(
    state: &JobState,
    group_id: u64,
    ips: &IpSet,
    unreadable: &[String],
    now: Timestamp,
    ctx: &Ctx<'_>,
) -> Next {
    let with_job = IpSet::from_ranges(
        ips.ranges()
            .iter()
            .chain(ctx.ips.ranges())
            .copied()
            .collect(),
    );
    if let Some(outside) = outside_scope(&with_job, unreadable, ctx.scope) {
        return Next::Fail(group_outside_reason(group_id, &outside));
    }
    if ips.contains_set(ctx.ips) {
        return Next::Advance(JobState::LaunchingScan { group_id }, now);
    }
    match state {
        // Our edit may still be on its way inside Qualys: not proof that it failed.
        JobState::GroupExtendSent { sent_at, .. } => not_yet_absent(
            state,
            *sent_at,
            "the group's new addresses",
            now,
            ctx.policy,
        )
        .unwrap_or(Next::Unresolved {
            state: JobState::ExtendingGroup { group_id },
            due: now,
            note: None,
        }),
        _ => Next::Advance(JobState::ExtendingGroup { group_id }, now),
    }
}

/// The addresses of `ips` outside `scope`, with the entries that are not IPv4 addresses,
/// as one comma-separated text; `None` when everything lies within.
pub(super) fn outside_scope(ips: &IpSet, unreadable: &[String], scope: &IpSet) -> Option<String> {
    let outside = ips.difference(scope);
    let mut parts: Vec<String> = Vec::new();
    if !outside.is_empty() {
        parts.push(outside.to_string());
    }
    parts.extend(unreadable.iter().cloned());
    (!parts.is_empty()).then(|| parts.join(","))
}

pub(super) fn group_outside_reason(group_id: u64, outside: &str) -> String {
    format!(
        "asset group {group_id} holds addresses outside [scope].authorized: {outside}; not scanned"
    )
}

/// A lookup after a request sent at `sent_at` found nothing. Before
/// [`Policy::absent_after`] that proves nothing: stay in `state` (the `…Sent` state) and
/// look again at that time. `None` once absence is proven.
pub(super) fn not_yet_absent(
    state: &JobState,
    sent_at: Timestamp,
    what: &str,
    now: Timestamp,
    p: &Policy,
) -> Option<Next> {
    let proven = p.absent_after(sent_at);
    (now < proven).then(|| Next::Unresolved {
        state: state.clone(),
        due: proven,
        note: Some(format!(
            "{what} is not visible yet; the request may still be running in Qualys, looking again at {proven}"
        )),
    })
}

/// A scan's TARGET (`a, b-c, d`) as addresses, with the entries that do not parse.
pub fn parse_target(text: &str) -> (IpSet, Vec<String>) {
    let mut ranges = Vec::new();
    let mut unreadable = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match IpSet::parse_entries(&[entry]) {
            Ok(set) => ranges.extend_from_slice(set.ranges()),
            Err(_) => unreadable.push(entry.to_string()),
        }
    }
    (IpSet::from_ranges(ranges), unreadable)
}
