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
                target: None,
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
        generation: 0,
        held: false,
        retried_as: None,
    }
}

/// The bytes of [`fixed_checkpoint`], format version 3. If this test fails, the stored
/// format changed: stored jobs would no longer decode. Bump [`FORMAT_VERSION`] and migrate,
/// or undo the change.
const CHECKPOINT_V3: &str = concat!(
    "0309157363616e2f313736343239323530302e3132333435fd40340e903503000000010301074e6f",
    "5f56756c6e0001fd005c1790350300000201fd40340e903503000001084854545020353033000200",
    "fd40340e903503000004fd40340e9035030000",
);

/// The bytes of [`fixed_record`], format version 3 (see [`CHECKPOINT_V3`]).
const RECORD_V3: &str = concat!(
    "031632303235313132382d3031313530302d3030303034321361636d652e746f6d6c3a313233343a",
    "353637380961636d652e746f6d6cfd40340e90350300000441636d65000f496e697469616c204f70",
    "74696f6e73184163717569736974696f6e207363616e206f662041636d650163015b000100000000",
    "fd40340e9035030000000000000100fd40340e9035030000",
);

/// Format 2 (before the baseline was kept in `Downloading`): the bytes of
/// [`fixed_checkpoint`] as that build wrote them.
const CHECKPOINT_V2: &str = concat!(
    "0209157363616e2f313736343239323530302e3132333435fd40340e903503000000010301074e6f",
    "5f56756c6e0001fd005c1790350300000201fd40340e903503000001084854545020353033000200",
    "fd40340e903503000004fd40340e9035030000",
);

/// Format 2: the bytes of [`fixed_record`] as that build wrote them.
const RECORD_V2: &str = concat!(
    "021632303235313132382d3031313530302d3030303034321361636d652e746f6d6c3a313233343a",
    "353637380961636d652e746f6d6cfd40340e90350300000441636d65000f496e697469616c204f70",
    "74696f6e73184163717569736974696f6e207363616e206f662041636d650163015b000100000000",
    "fd40340e9035030000000000000100fd40340e9035030000",
);

/// Format 2: [`fixed_record`] in `Downloading` (report 77, TARGET known) as the format 2
/// build (main 6a973fb) wrote it, printed by that build's encoder.
const DOWNLOADING_RECORD_V2: &str = concat!(
    "021632303235313132382d3031313530302d3030303034321361636d652e746f6d6c3a313233343a",
    "353637380961636d652e746f6d6cfd40340e90350300000441636d65000f496e697469616c204f70",
    "74696f6e73184163717569736974696f6e207363616e206f662041636d650163015b00010000000d",
    "157363616e2f313736343239323530302e3132333435fd40340e9035030000010831302e302e302e",
    "31014dfd005c1790350300000201fd40340e903503000001084854545020353033000200fd40340e",
    "903503000004fd40340e9035030000",
);

/// [`fixed_record`] in that `Downloading` state (with the baseline format 3 adds).
fn downloading_record(baseline: Option<&str>) -> JobRecord {
    let mut rec = fixed_record();
    rec.checkpoint = fixed_checkpoint();
    rec.checkpoint.state = JobState::Downloading {
        scan: ScanInfo {
            target: Some("10.0.0.1".to_string()),
            scan_ref: "scan/1764292500.12345".to_string(),
            launched_at: Timestamp(1_764_292_500_000),
        },
        report_id: Some(77),
        baseline: baseline.map(str::to_string),
    };
    rec
}

/// Format 1 (before the group id, TARGET and last scan state were kept): the bytes of
/// [`fixed_checkpoint`] as that build wrote them. Kept to test the migration.
const CHECKPOINT_V1: &str = concat!(
    "0109157363616e2f313736343239323530302e3132333435fd40340e9035030000010301074e6f5f",
    "56756c6e0001fd005c1790350300000201fd40340e903503000001084854545020353033000200fd",
    "40340e903503000004fd40340e9035030000",
);

/// Format 1: the bytes of [`fixed_record`] as that build wrote them.
const RECORD_V1: &str = concat!(
    "011632303235313132382d3031313530302d3030303034321361636d652e746f6d6c3a313233343a",
    "353637380961636d652e746f6d6cfd40340e90350300000441636d65000f496e697469616c204f70",
    "74696f6e73184163717569736974696f6e207363616e206f662041636d650163015b000100000000",
    "fd40340e9035030000000000000100fd40340e9035030000",
);

/// The checkpoint of `fixed_record` in format 1: `Checkpoint::accepted(t)`.
const ACCEPTED_CHECKPOINT_V1: &str = "00fd40340e9035030000000000000100fd40340e9035030000";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A format 1 record of `fixed_record` whose checkpoint is `checkpoint_v1_body` (the
/// bytes of a format 1 checkpoint, without the version byte).
fn record_v1_with(checkpoint_v1_body: &str) -> Vec<u8> {
    let head = RECORD_V1
        .strip_suffix(ACCEPTED_CHECKPOINT_V1)
        .expect("the record ends with its checkpoint");
    unhex(&format!("{head}{checkpoint_v1_body}"))
}

#[test]
fn checkpoint_golden_bytes() {
    let bytes = encode(&fixed_checkpoint()).expect("encodes");
    assert_eq!(
        hex(&bytes),
        CHECKPOINT_V3,
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
        RECORD_V3,
        "the stored JobRecord format changed"
    );
    let back: JobRecord = decode(&bytes).expect("decodes");
    assert_eq!(back, fixed_record());
    assert_eq!(decode_job_record(&bytes).expect("decodes"), fixed_record());
}

#[test]
fn downloading_keeps_its_baseline_golden_bytes() {
    // Format 3 appends the baseline to format 2's `Downloading`: `01` + the id, or `00`.
    let with = encode(&downloading_record(Some("J0"))).expect("encodes");
    // The state ends with the report id (`01 4d`, Some(77)); the due time follows.
    let v2 = DOWNLOADING_RECORD_V2;
    let state_end = v2.find("014dfd005c17").expect("report id, then due") + 4;
    let expect = |opt: &str| format!("03{}{opt}{}", &v2[2..state_end], &v2[state_end..]);
    assert_eq!(hex(&with), expect("01024a30"));
    let without = encode(&downloading_record(None)).expect("encodes");
    assert_eq!(hex(&without), expect("00"));
    assert_eq!(
        decode_job_record(&with).expect("decodes"),
        downloading_record(Some("J0"))
    );
}

#[test]
fn format_2_records_decode_and_migrate() {
    // Format 2's encoding of a freshly accepted job and of a ScanRunning checkpoint.
    let old = decode_job_record(&unhex(RECORD_V2)).expect("format 2 decodes");
    assert_eq!(old, fixed_record());
    let cp: Checkpoint = super::decode_body::<Checkpoint>(&unhex(&CHECKPOINT_V2[2..]))
        .expect("a format 2 ScanRunning checkpoint reads as today's");
    assert_eq!(cp, fixed_checkpoint());
    // A format 2 `Downloading` (the baseline was a sidecar file then): no baseline.
    let downloading =
        decode_job_record(&unhex(DOWNLOADING_RECORD_V2)).expect("format 2 Downloading decodes");
    assert_eq!(downloading, downloading_record(None));
    // The generic decoder reads only the current version.
    assert!(matches!(
        decode::<JobRecord>(&unhex(RECORD_V2)),
        Err(CodecError::UnknownVersion { found: 2 })
    ));
}

#[test]
fn format_1_records_decode_and_migrate() {
    // Today's (format 1) encoding of a freshly accepted job.
    let old = decode_job_record(&unhex(RECORD_V1)).expect("format 1 decodes");
    assert_eq!(old, fixed_record());
    // A format 1 job in ScanRunning: the scan is kept, its TARGET not known yet.
    let running = record_v1_with(&CHECKPOINT_V1[2..]);
    let rec = decode_job_record(&running).expect("format 1 decodes");
    assert_eq!(rec.checkpoint, fixed_checkpoint());
    // Format 1 `LaunchingScan` (variant 7, nothing sent) looks the group up again;
    // `ScanLaunchSent` (variant 8) keeps looking for its scan, without a group id.
    let tail = "fd40340e9035030000000000000100fd40340e9035030000";
    let launching = decode_job_record(&record_v1_with(&format!("07{tail}"))).expect("decodes");
    assert_eq!(launching.checkpoint.state, JobState::FindingGroup);
    let sent = decode_job_record(&record_v1_with(&format!("08fd40340e9035030000{tail}")))
        .expect("decodes");
    assert_eq!(
        sent.checkpoint.state,
        JobState::ScanLaunchSent {
            group_id: None,
            sent_at: Timestamp(1_764_292_500_000)
        }
    );
    // Format 1 `Canceled { scan_ref: Some("s") }` (variant 17): no last scan state known.
    let canceled = decode_job_record(&record_v1_with(&format!("11010173{tail}"))).expect("decodes");
    assert_eq!(
        canceled.checkpoint.state,
        JobState::Canceled {
            scan_ref: Some("s".to_string()),
            last_scan: None
        }
    );
    // The generic decoder reads only the current version.
    assert!(matches!(
        decode::<JobRecord>(&unhex(RECORD_V1)),
        Err(CodecError::UnknownVersion { found: 1 })
    ));
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
    bytes[0] = 4;
    let err = decode::<Checkpoint>(&bytes).expect_err("version 4 is unknown");
    assert!(
        matches!(err, CodecError::UnknownVersion { found: 4 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("version 4"), "{err}");
    assert!(matches!(
        decode_job_record(&bytes),
        Err(CodecError::UnknownVersion { found: 4 })
    ));

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

/// `Checking` (the pre-flight) was added last to `JobState`, so every stored variant kept
/// its index: the format stays 3, and the bytes of every other state are unchanged (the
/// golden tests above).
#[test]
fn the_pre_flight_state_takes_the_next_variant_index() {
    let body = bincode::serde::encode_to_vec(&JobState::Checking, bincode::config::standard())
        .expect("encodes");
    assert_eq!(body, [18]);
    let mut cp = fixed_checkpoint();
    cp.state = JobState::Checking;
    let back: Checkpoint = decode(&encode(&cp).expect("encode")).expect("decode");
    assert_eq!(back, cp);
}
