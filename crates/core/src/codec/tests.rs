//! Codec tests: round trips, version and corruption errors, and golden bytes that pin the
//! stored format.

use super::*;
use crate::ip::IpSet;
use crate::job::{Job, ReportFormat, Results, TrackingMethod};
use crate::state::{Checkpoint, HistoryEntry, JobState, ScanInfo, ScanState, ScanStatus, StepName};
use crate::store::{JobId, JobRecord};
use crate::time::Timestamp;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn fixed_checkpoint() -> Checkpoint {
    let t = Timestamp(1_764_292_500_000);
    Checkpoint {
        state: JobState::ScanRunning {
            scan: ScanInfo {
                scan_ref: "scan/1764292500.12345".to_string(),
                launched_at: t,
            },
            last: Some(ScanStatus {
                state: ScanState::Running,
                sub_state: Some("No_Vuln".to_string()),
                processed: false,
            }),
            missing_polls: 1,
        },
        due: t.plus(std::time::Duration::from_secs(300)),
        attempts: 2,
        failing_since: Some(t),
        last_error: Some("HTTP 503".to_string()),
        cancel_requested: false,
        history: vec![
            HistoryEntry {
                step: StepName::Accepted,
                at: t,
            },
            HistoryEntry {
                step: StepName::ScanRunning,
                at: t,
            },
        ],
    }
}

fn fixed_record() -> JobRecord {
    let t = Timestamp(1_764_292_500_000);
    JobRecord {
        id: JobId::new(t, 42),
        intake_key: "acme.toml:1234:5678".to_string(),
        source_name: "acme.toml".to_string(),
        accepted_at: t,
        job: Job {
            organization: "Acme".to_string(),
            ips: IpSet::default(),
            option_title: "Initial Options".to_string(),
            scan_title: "Acquisition scan of Acme".to_string(),
            comments: "c".to_string(),
            report_template_id: Some(91),
            report_format: ReportFormat::Pdf,
            results: Results {
                report: true,
                raw: false,
            },
            scanner_appliance: None,
            tracking_method: TrackingMethod::Ip,
        },
        checkpoint: Checkpoint::accepted(t),
    }
}

/// The bytes of [`fixed_checkpoint`], format version 1. If this test fails, the stored
/// format changed: stored jobs would no longer decode. Bump [`FORMAT_VERSION`] and migrate,
/// or undo the change.
const CHECKPOINT_V1: &str = concat!(
    "0109157363616e2f313736343239323530302e3132333435fd40340e9035030000010301074e6f5f",
    "56756c6e0001fd005c1790350300000201fd40340e903503000001084854545020353033000200fd",
    "40340e903503000004fd40340e9035030000",
);

/// The bytes of [`fixed_record`], format version 1 (see [`CHECKPOINT_V1`]).
const RECORD_V1: &str = concat!(
    "011632303235313132382d3031313530302d3030303034321361636d652e746f6d6c3a313233343a",
    "353637380961636d652e746f6d6cfd40340e90350300000441636d65000f496e697469616c204f70",
    "74696f6e73184163717569736974696f6e207363616e206f662041636d650163015b000100000000",
    "fd40340e9035030000000000000100fd40340e9035030000",
);

#[test]
fn checkpoint_golden_bytes() {
    let bytes = encode(&fixed_checkpoint()).expect("encodes");
    assert_eq!(
        hex(&bytes),
        CHECKPOINT_V1,
        "the stored Checkpoint format changed"
    );
    let back: Checkpoint = decode(&bytes).expect("decodes");
    assert_eq!(back, fixed_checkpoint());
}

#[test]
fn job_record_golden_bytes() {
    let bytes = encode(&fixed_record()).expect("encodes");
    assert_eq!(
        hex(&bytes),
        RECORD_V1,
        "the stored JobRecord format changed"
    );
    let back: JobRecord = decode(&bytes).expect("decodes");
    assert_eq!(back, fixed_record());
}

#[test]
fn every_record_starts_with_the_version() {
    let bytes = encode(&"x").expect("encodes");
    assert_eq!(bytes.first(), Some(&FORMAT_VERSION));
    assert_eq!(decode::<String>(&bytes).expect("decodes"), "x");
}

#[test]
fn unknown_versions_and_damage_are_typed_errors() {
    let mut bytes = encode(&fixed_checkpoint()).expect("encodes");
    bytes[0] = 2;
    let err = decode::<Checkpoint>(&bytes).expect_err("version 2 is unknown");
    assert!(
        matches!(err, CodecError::UnknownVersion { found: 2 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("version 2"), "{err}");

    assert!(matches!(decode::<Checkpoint>(&[]), Err(CodecError::Empty)));

    let good = encode(&fixed_checkpoint()).expect("encodes");
    let truncated = &good[..good.len() - 3];
    assert!(matches!(
        decode::<Checkpoint>(truncated),
        Err(CodecError::Decode { .. })
    ));

    let mut longer = good.clone();
    longer.push(0);
    assert!(matches!(
        decode::<Checkpoint>(&longer),
        Err(CodecError::Trailing { extra: 1 })
    ));
}
