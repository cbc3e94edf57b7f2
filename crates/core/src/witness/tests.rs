//! Witness tests: the store against published status files, and the rebuilt records.

use super::*;
use crate::ip::IpSet;
use crate::job::{ReportFormat, Results, TrackingMethod};
use crate::state::{ReportState, ScanState, ScanStatus};

const T0: Timestamp = Timestamp(1_764_292_500_000); // 2025-11-28T01:15:00Z
const T_ADD: Timestamp = Timestamp(1_764_292_501_000);
const T_GROUP: Timestamp = Timestamp(1_764_292_502_000);
const T_LAUNCH: Timestamp = Timestamp(1_764_292_503_000);
const T_SCAN: Timestamp = Timestamp(1_764_292_504_000);
const T_REPORT: Timestamp = Timestamp(1_764_292_505_000);
const NOW: Timestamp = Timestamp(1_764_300_000_000);
const SCAN: &str = "scan/1764292503.12345";

fn job(org: &str) -> Job {
    Job {
        organization: org.to_string(),
        ips: IpSet::parse_entries(&["10.0.0.1", "10.0.0.5-10.0.0.9"]).expect("ips"),
        option_title: "Initial Options".to_string(),
        scan_title: format!("Acquisition scan of {org}"),
        comments: "rebuilt".to_string(),
        report_template_id: Some(91),
        report_format: ReportFormat::Pdf,
        results: Results {
            report: true,
            raw: true,
        },
        scanner_appliance: None,
        tracking_method: TrackingMethod::Ip,
    }
}

fn id() -> JobId {
    JobId::new(T0, 7)
}

fn scan(scan_ref: &str) -> ScanInfo {
    ScanInfo {
        scan_ref: scan_ref.to_string(),
        launched_at: T_LAUNCH,
        target: None,
    }
}

fn history(steps: &[(StepName, Timestamp)]) -> Vec<HistoryEntry> {
    steps
        .iter()
        .map(|&(step, at)| HistoryEntry { step, at })
        .collect()
}

/// The history of a job that reached the report: one distinct time per step.
fn full_history() -> Vec<HistoryEntry> {
    history(&[
        (StepName::Accepted, T0),
        (StepName::AddingIps, T_ADD),
        (StepName::CreatingGroup, T_GROUP),
        (StepName::LaunchingScan, T_LAUNCH),
        (StepName::ScanRunning, T_SCAN),
        (StepName::LaunchingReport, T_REPORT),
    ])
}

fn record(state: JobState, generation: u64) -> JobRecord {
    JobRecord {
        id: id(),
        intake_key: "spool:acme.toml:1".to_string(),
        source_name: "acme.toml".to_string(),
        accepted_at: T0,
        job: job("Acme"),
        checkpoint: Checkpoint {
            state,
            due: T_SCAN,
            attempts: 2,
            failing_since: Some(T_LAUNCH),
            last_error: Some("timeout".to_string()),
            cancel_requested: false,
            history: full_history(),
        },
        generation,
        held: false,
        retried_as: None,
    }
}

fn published(step: StepName, generation: u64) -> Published {
    Published {
        id: id(),
        generation,
        record: None,
        step,
        canceling: false,
        scan_ref: None,
        report_id: None,
        error: None,
        accepted_at: T0,
        source: "acme.toml".to_string(),
        history: full_history(),
    }
}

fn with_scan(mut p: Published, scan_ref: &str) -> Published {
    p.scan_ref = Some(scan_ref.to_string());
    p
}

fn scan_running(scan_ref: &str) -> JobState {
    JobState::ScanRunning {
        scan: scan(scan_ref),
        last: None,
        missing_polls: 0,
    }
}

fn behind(alarm: &str) -> Verdict {
    Verdict::Behind {
        alarm: alarm.to_string(),
    }
}

fn state_of(p: &Published) -> JobState {
    checkpoint_from_status(p, NOW).state
}

// ---- compare(), with generations ----

/// A store record at the generation the file shows is current.
#[test]
fn record_at_the_published_generation_is_current() {
    let rec = record(scan_running(SCAN), 5);
    let p = with_scan(published(StepName::ScanRunning, 5), SCAN);
    assert_eq!(compare(Some(&rec), &p), Verdict::Current);
}

/// A record committed after the publish (crash before the next publish) is current.
#[test]
fn record_newer_than_the_published_file_is_current() {
    let rec = record(scan_running(SCAN), 6);
    let p = published(StepName::LaunchingScan, 5);
    assert_eq!(compare(Some(&rec), &p), Verdict::Current);
}

/// With generations, the generation decides even when the record's step is later.
#[test]
fn published_generation_beyond_the_record_is_behind_whatever_the_steps() {
    let rec = record(scan_running(SCAN), 4);
    let p = published(StepName::LaunchingScan, 5);
    assert_eq!(
        compare(Some(&rec), &p),
        behind(
            "the store holds `scan_running` (generation 4, scan scan/1764292503.12345), \
             but its status.json shows `launching_scan` (generation 5)"
        )
    );
}

/// A published generation greater than the record's: Behind, naming both sides.
#[test]
fn published_generation_greater_than_the_record_is_behind_with_both_sides_named() {
    let rec = record(
        JobState::ScanLaunchSent {
            group_id: Some(12),
            sent_at: T_LAUNCH,
        },
        5,
    );
    let p = with_scan(published(StepName::ScanRunning, 6), SCAN);
    assert_eq!(
        compare(Some(&rec), &p),
        behind(
            "the store holds `launching_scan` (generation 5), \
             but its status.json shows `scan_running` (generation 6, scan scan/1764292503.12345)"
        )
    );
}

/// The store without the job: Behind, "no record", with what the file shows.
#[test]
fn missing_record_is_behind_with_no_record() {
    let p = with_scan(published(StepName::ScanRunning, 3), SCAN);
    assert_eq!(
        compare(None, &p),
        behind(
            "the store has no record of the job, but its status.json shows \
             `scan_running` (generation 3, scan scan/1764292503.12345)"
        )
    );
    let legacy = published(StepName::Accepted, 0);
    assert_eq!(
        compare(None, &legacy),
        behind(
            "the store has no record of the job, but its status.json shows \
             `accepted` (generation 0)"
        )
    );
}

// ---- compare(), files without generations ----

/// A legacy file at a later step than the record: Behind.
#[test]
fn legacy_file_at_a_later_step_is_behind() {
    let rec = record(JobState::GroupCreateSent { sent_at: T_GROUP }, 4);
    let p = published(StepName::LaunchingScan, 0);
    assert_eq!(
        compare(Some(&rec), &p),
        behind(
            "the store holds `creating_group` (generation 4), \
             but its status.json shows `launching_scan` (generation 0)"
        )
    );
}

/// A legacy file at the record's step, same scan: Current.
#[test]
fn legacy_file_at_the_same_step_is_current() {
    let rec = record(scan_running(SCAN), 4);
    assert_eq!(
        compare(
            Some(&rec),
            &with_scan(published(StepName::ScanRunning, 0), SCAN)
        ),
        Verdict::Current
    );
    // A file that shows no scan is not held against the record's scan.
    assert_eq!(
        compare(Some(&rec), &published(StepName::ScanRunning, 0)),
        Verdict::Current
    );
}

/// A legacy file showing a scan the record lacks: Behind.
#[test]
fn legacy_file_with_a_scan_the_record_lacks_is_behind() {
    let rec = record(
        JobState::Failed {
            at: StepName::LaunchingScan,
            reason: "boom".to_string(),
            scan_ref: None,
            last_scan: None,
        },
        4,
    );
    let p = with_scan(published(StepName::Failed, 0), SCAN);
    assert_eq!(
        compare(Some(&rec), &p),
        behind(
            "the store holds `failed` (generation 4), \
             but its status.json shows `failed` (generation 0, scan scan/1764292503.12345)"
        )
    );
}

/// A legacy file showing another scan than the record's: Behind.
#[test]
fn legacy_file_with_a_different_scan_is_behind() {
    let rec = record(scan_running("scan/1764292400.1"), 4);
    let p = with_scan(published(StepName::ScanRunning, 0), SCAN);
    assert_eq!(
        compare(Some(&rec), &p),
        behind(
            "the store holds `scan_running` (generation 4, scan scan/1764292400.1), \
             but its status.json shows `scan_running` (generation 0, scan scan/1764292503.12345)"
        )
    );
}

/// A legacy file showing a report the record lacks: Behind.
#[test]
fn legacy_file_with_a_report_the_record_lacks_is_behind() {
    let rec = record(
        JobState::Downloading {
            scan: scan(SCAN),
            report_id: None,
            baseline: None,
        },
        4,
    );
    let mut p = with_scan(published(StepName::Downloading, 0), SCAN);
    p.report_id = Some(42);
    assert_eq!(
        compare(Some(&rec), &p),
        behind(
            "the store holds `downloading` (generation 4, scan scan/1764292503.12345), \
             but its status.json shows `downloading` (generation 0, scan scan/1764292503.12345)"
        )
    );
    // The same report on both sides is current.
    let rec = record(
        JobState::Downloading {
            scan: scan(SCAN),
            report_id: Some(42),
            baseline: None,
        },
        4,
    );
    assert_eq!(compare(Some(&rec), &p), Verdict::Current);
}

/// A legacy file lagging behind the record (an earlier step): Current.
#[test]
fn legacy_file_at_an_earlier_step_is_current() {
    let rec = record(
        JobState::ReportRunning {
            scan: scan(SCAN),
            report_id: 42,
            last: None,
            missing_polls: 0,
        },
        4,
    );
    let p = with_scan(published(StepName::ScanRunning, 0), SCAN);
    assert_eq!(compare(Some(&rec), &p), Verdict::Current);
    assert_eq!(
        compare(Some(&rec), &published(StepName::CreatingGroup, 0)),
        Verdict::Current
    );
}

// ---- rebuild() ----

/// A published record is returned exactly, whatever job.toml says.
#[test]
fn rebuild_returns_the_published_record_exactly() {
    let rec = record(
        JobState::ReportLaunchSent {
            scan: scan(SCAN),
            sent_at: T_REPORT,
        },
        0,
    );
    let mut p = with_scan(published(StepName::LaunchingReport, 9), SCAN);
    p.record = Some(rec.clone());
    assert_eq!(
        rebuild(&p, Err("unreadable".to_string()), NOW),
        Ok(rec.clone())
    );
    assert_eq!(rebuild(&p, Ok(job("Other")), NOW), Ok(rec));
}

/// A published record of another job: WrongJob with the record's id.
#[test]
fn rebuild_refuses_a_record_of_another_job() {
    let mut rec = record(JobState::Accepted, 0);
    rec.id = JobId::new(T0, 8);
    let mut p = published(StepName::Accepted, 2);
    p.record = Some(rec);
    let err = rebuild(&p, Ok(job("Acme")), NOW).expect_err("another job's record");
    assert_eq!(
        err,
        RebuildError::WrongJob {
            found: "20251128-011500-000008".to_string()
        }
    );
    assert_eq!(
        err.to_string(),
        "its status.json carries the record of job 20251128-011500-000008"
    );
}

/// No published record and no readable job.toml: NoSpec with the reader's error.
#[test]
fn rebuild_without_a_record_or_a_spec_is_no_spec() {
    let p = published(StepName::ScanRunning, 0);
    assert_eq!(
        rebuild(&p, Err("job.toml: not found".to_string()), NOW),
        Err(RebuildError::NoSpec("job.toml: not found".to_string()))
    );
}

/// No published record: a record from the file's fields, the job and the status.
#[test]
fn rebuild_without_a_record_builds_one_from_the_file_and_the_job() {
    let mut p = with_scan(published(StepName::ScanRunning, 0), SCAN);
    p.source = "acme-2025.toml".to_string();
    p.accepted_at = Timestamp(1_764_292_499_000);
    let rebuilt = rebuild(&p, Ok(job("Acme")), NOW).expect("rebuilt");
    assert_eq!(
        rebuilt,
        JobRecord {
            id: id(),
            intake_key: "rebuilt:20251128-011500-000007".to_string(),
            source_name: "acme-2025.toml".to_string(),
            accepted_at: Timestamp(1_764_292_499_000),
            job: job("Acme"),
            checkpoint: Checkpoint {
                state: scan_running(SCAN),
                due: NOW,
                attempts: 0,
                failing_since: None,
                last_error: None,
                cancel_requested: false,
                history: full_history(),
            },
            generation: 0,
            held: false,
            retried_as: None,
        }
    );
}

// ---- checkpoint_from_status() ----

/// accepted and adding_ips (safe to repeat) become Accepted.
#[test]
fn early_steps_become_accepted() {
    assert_eq!(
        state_of(&published(StepName::Accepted, 0)),
        JobState::Accepted
    );
    assert_eq!(
        state_of(&published(StepName::AddingIps, 0)),
        JobState::Accepted
    );
}

/// creating_group may have sent the create: GroupCreateSent at now.
#[test]
fn creating_group_becomes_group_create_sent_now() {
    assert_eq!(
        state_of(&published(StepName::CreatingGroup, 0)),
        JobState::GroupCreateSent { sent_at: NOW }
    );
}

/// launching_scan may have sent the launch: ScanLaunchSent without a group, at now.
#[test]
fn launching_scan_becomes_scan_launch_sent_now() {
    assert_eq!(
        state_of(&published(StepName::LaunchingScan, 0)),
        JobState::ScanLaunchSent {
            group_id: None,
            sent_at: NOW
        }
    );
}

/// scan_running keeps the scan, launched when launching_scan was last entered.
#[test]
fn scan_running_keeps_the_scan_launched_at_the_launch_step() {
    let mut p = with_scan(published(StepName::ScanRunning, 0), SCAN);
    p.history = history(&[
        (StepName::Accepted, T0),
        (StepName::LaunchingScan, T_GROUP),
        (StepName::LaunchingScan, T_LAUNCH),
        (StepName::ScanRunning, T_SCAN),
    ]);
    assert_eq!(
        state_of(&p),
        JobState::ScanRunning {
            scan: ScanInfo {
                scan_ref: SCAN.to_string(),
                launched_at: T_LAUNCH,
                target: None,
            },
            last: None,
            missing_polls: 0,
        }
    );
}

/// Without launching_scan in the history, the scan counts as launched at acceptance.
#[test]
fn scan_without_a_launch_in_the_history_is_launched_at_acceptance() {
    let mut p = with_scan(published(StepName::ScanRunning, 0), SCAN);
    p.history = history(&[(StepName::Accepted, T0), (StepName::ScanRunning, T_SCAN)]);
    p.accepted_at = Timestamp(1_764_292_400_000);
    assert_eq!(
        state_of(&p),
        JobState::ScanRunning {
            scan: ScanInfo {
                scan_ref: SCAN.to_string(),
                launched_at: Timestamp(1_764_292_400_000),
                target: None,
            },
            last: None,
            missing_polls: 0,
        }
    );
}

/// launching_report with a scan may have sent the launch: ReportLaunchSent at now.
#[test]
fn launching_report_becomes_report_launch_sent_now() {
    let p = with_scan(published(StepName::LaunchingReport, 0), SCAN);
    assert_eq!(
        state_of(&p),
        JobState::ReportLaunchSent {
            scan: scan(SCAN),
            sent_at: NOW
        }
    );
}

/// report_running with a report keeps it; without one the launch may have been sent.
#[test]
fn report_running_keeps_the_report_or_becomes_report_launch_sent() {
    let mut p = with_scan(published(StepName::ReportRunning, 0), SCAN);
    assert_eq!(
        state_of(&p),
        JobState::ReportLaunchSent {
            scan: scan(SCAN),
            sent_at: NOW
        }
    );
    p.report_id = Some(42);
    assert_eq!(
        state_of(&p),
        JobState::ReportRunning {
            scan: scan(SCAN),
            report_id: 42,
            last: None,
            missing_polls: 0,
        }
    );
}

/// downloading and done keep the scan and the report (or its absence).
#[test]
fn downloading_and_done_keep_the_report() {
    let mut p = with_scan(published(StepName::Downloading, 0), SCAN);
    p.report_id = Some(42);
    assert_eq!(
        state_of(&p),
        JobState::Downloading {
            scan: scan(SCAN),
            report_id: Some(42),
            baseline: None,
        }
    );
    p.step = StepName::Done;
    assert_eq!(
        state_of(&p),
        JobState::Done {
            scan: scan(SCAN),
            report_id: Some(42),
            note: None,
        }
    );
    p.report_id = None;
    assert_eq!(
        state_of(&p),
        JobState::Done {
            scan: scan(SCAN),
            report_id: None,
            note: None,
        }
    );
}

/// failed keeps the error and the scan, `at` the last step before failing.
#[test]
fn failed_keeps_the_error_at_the_last_step_before_it() {
    let mut p = with_scan(published(StepName::Failed, 0), SCAN);
    p.error = Some("Qualys: scan Error".to_string());
    p.history = history(&[
        (StepName::Accepted, T0),
        (StepName::LaunchingScan, T_LAUNCH),
        (StepName::ScanRunning, T_SCAN),
        (StepName::Failed, T_REPORT),
    ]);
    assert_eq!(
        state_of(&p),
        JobState::Failed {
            at: StepName::ScanRunning,
            reason: "Qualys: scan Error".to_string(),
            scan_ref: Some(SCAN.to_string()),
            last_scan: None,
        }
    );
}

/// failed without an error or a history: a stated reason, at accepted.
#[test]
fn failed_without_error_or_history_has_a_default_reason() {
    let mut p = published(StepName::Failed, 0);
    p.history = Vec::new();
    assert_eq!(
        state_of(&p),
        JobState::Failed {
            at: StepName::Accepted,
            reason: "failed (rebuilt from its status.json)".to_string(),
            scan_ref: None,
            last_scan: None,
        }
    );
}

/// canceled while the cancel was still being sent: Canceling, with scan and report.
#[test]
fn canceled_while_canceling_becomes_canceling() {
    let mut p = with_scan(published(StepName::Canceled, 0), SCAN);
    p.canceling = true;
    p.report_id = Some(42);
    assert_eq!(
        state_of(&p),
        JobState::Canceling {
            scan_ref: Some(SCAN.to_string()),
            report_id: Some(42),
            fail_reason: None,
            last_scan: None,
        }
    );
}

/// canceled for good: Canceled with the scan.
#[test]
fn canceled_becomes_canceled() {
    let mut p = with_scan(published(StepName::Canceled, 0), SCAN);
    p.report_id = Some(42);
    assert_eq!(
        state_of(&p),
        JobState::Canceled {
            scan_ref: Some(SCAN.to_string()),
            last_scan: None,
        }
    );
    assert_eq!(
        state_of(&published(StepName::Canceled, 0)),
        JobState::Canceled {
            scan_ref: None,
            last_scan: None,
        }
    );
}

/// A step past the launch without a scan: the launch may have been sent.
#[test]
fn steps_past_the_launch_without_a_scan_become_scan_launch_sent_now() {
    for step in [
        StepName::ScanRunning,
        StepName::LaunchingReport,
        StepName::ReportRunning,
        StepName::Downloading,
        StepName::Done,
    ] {
        let mut p = published(step, 0);
        p.report_id = Some(42);
        assert_eq!(
            state_of(&p),
            JobState::ScanLaunchSent {
                group_id: None,
                sent_at: NOW
            },
            "{step}"
        );
    }
}

/// The checkpoint is due now, fresh, and carries the file's history.
#[test]
fn checkpoint_is_due_now_with_the_history_copied() {
    let mut p = with_scan(published(StepName::LaunchingReport, 0), SCAN);
    p.history = history(&[
        (StepName::Accepted, T0),
        (StepName::ScanRunning, T_SCAN),
        (StepName::LaunchingReport, T_REPORT),
    ]);
    assert_eq!(
        checkpoint_from_status(&p, NOW),
        Checkpoint {
            state: JobState::ReportLaunchSent {
                scan: ScanInfo {
                    scan_ref: SCAN.to_string(),
                    launched_at: T0,
                    target: None,
                },
                sent_at: NOW,
            },
            due: NOW,
            attempts: 0,
            failing_since: None,
            last_error: None,
            cancel_requested: false,
            history: history(&[
                (StepName::Accepted, T0),
                (StepName::ScanRunning, T_SCAN),
                (StepName::LaunchingReport, T_REPORT),
            ]),
        }
    );
}

// ---- encode_record / decode_record ----

/// A record survives the hex form, all but the generation (kept outside the record).
#[test]
fn record_round_trips_through_lower_case_hex() {
    let rec = record(
        JobState::ReportRunning {
            scan: ScanInfo {
                scan_ref: SCAN.to_string(),
                launched_at: T_LAUNCH,
                target: Some("10.0.0.1, 10.0.0.5-10.0.0.9".to_string()),
            },
            report_id: 42,
            last: Some(ReportState::Running),
            missing_polls: 1,
        },
        7,
    );
    let hex = encode_record(&rec).expect("encodes");
    let bytes = crate::codec::encode(&rec).expect("encodes");
    assert_eq!(hex.len(), bytes.len() * 2);
    assert!(hex.starts_with("03"), "{hex}");
    assert!(hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(
        decode_record(&hex),
        Some(JobRecord {
            generation: 0,
            held: false,
            retried_as: None,
            ..rec
        })
    );
}

/// A failed job with its last scan state round trips too.
#[test]
fn failed_record_round_trips() {
    let rec = record(
        JobState::Failed {
            at: StepName::ScanRunning,
            reason: "Qualys: scan Error".to_string(),
            scan_ref: Some(SCAN.to_string()),
            last_scan: Some(ScanStatus {
                state: ScanState::Other("Odd".to_string()),
                sub_state: Some("No_Host".to_string()),
                processed: false,
            }),
        },
        0,
    );
    assert_eq!(
        decode_record(&encode_record(&rec).expect("encodes")),
        Some(rec)
    );
}

/// Odd length, non-hex digits, upper case and valid hex of garbage do not decode.
#[test]
fn damaged_hex_does_not_decode() {
    let good = encode_record(&record(JobState::Accepted, 0)).expect("encodes");
    assert!(decode_record(&good).is_some());
    // Odd length: the valid encoding with one digit cut or added.
    assert_eq!(decode_record(&good[..good.len() - 1]), None);
    assert_eq!(decode_record(&format!("{good}0")), None);
    // Not hex.
    assert_eq!(decode_record("zz"), None);
    assert_eq!(decode_record(&format!("{good}g0")), None);
    assert_eq!(
        decode_record(&format!("{}  ", &good[..good.len() - 2])),
        None
    );
    // Upper case: garbage, and the valid encoding itself (the form is lower case).
    assert_eq!(decode_record("DEADBEEF"), None);
    assert_eq!(decode_record("0ABC"), None);
    let upper = good.to_ascii_uppercase();
    assert_ne!(upper, good);
    assert_eq!(decode_record(&upper), None);
    // Valid hex of bytes that are no record.
    assert_eq!(decode_record(""), None);
    assert_eq!(decode_record("deadbeef"), None);
    assert_eq!(decode_record("ff00"), None);
    assert_eq!(decode_record("03"), None);
    assert_eq!(decode_record("0300010203"), None);
    assert_eq!(decode_record(&format!("{good}00")), None);
    assert_eq!(decode_record(&good[..good.len() - 2]), None);
}
