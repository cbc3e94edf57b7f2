//! Property tests: random bytes and random mutations of every sample, through every
//! parser and the classifier. The only property: nothing panics.

use proptest::prelude::*;

use super::prolog::root_name;
use super::samples::ALL;
use super::{assets, reports, scans, simple};
use crate::classify::{decode, Ctx};
use crate::limits::Limits;

/// Runs every parser on `body` under a few statuses; results are ignored, panics are not.
fn everything(body: &[u8]) {
    let ctx = Ctx {
        api: "/api/2.0/fo/x/?action=y",
        safe: false,
    };
    for status in [200u16, 400, 409, 500] {
        let l = Limits::default();
        let _ = decode(ctx, status, l, body, scans::parse_scan_list);
        let _ = decode(ctx, status, l, body, reports::parse_report_list);
        let _ = decode(ctx, status, l, body, reports::parse_template_list);
        let _ = decode(ctx, status, l, body, assets::parse_asset_group_list);
        let _ = decode(ctx, status, l, body, assets::parse_appliance_list);
        let _ = decode(ctx, status, l, body, |doc| {
            let outcome = crate::calls::success(doc)?;
            let _ = scans::launched_scan(&outcome);
            reports::launched_report(&outcome)
        });
        let _ = decode(ctx, status, l, body, |doc| {
            Ok(simple::parse_return(doc).map(|r| r.map(|o| o.text)))
        });
    }
    let _ = root_name(&String::from_utf8_lossy(body));
    let _ = crate::BodyKind::sniff(body);
    let _ = super::prolog::check_xml_prolog(&String::from_utf8_lossy(body));
}

#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Replace { at: usize, byte: u8 },
    Truncate { at: usize },
}

fn apply(sample: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = sample.to_vec();
    for m in mutations {
        let n = out.len().max(1);
        match m {
            Mutation::Delete { at, len } => {
                let at = at % n;
                let end = (at + len).min(out.len());
                if at < end {
                    out.drain(at..end);
                }
            }
            Mutation::Insert { at, bytes } => {
                let at = (at % n).min(out.len());
                out.splice(at..at, bytes.iter().copied());
            }
            Mutation::Replace { at, byte } => {
                if !out.is_empty() {
                    let at = at % out.len();
                    out[at] = *byte;
                }
            }
            Mutation::Truncate { at } => out.truncate(at % n),
        }
    }
    out
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tokens = prop::sample::select(vec![
        b"<".to_vec(),
        b">".to_vec(),
        b"</CODE>".to_vec(),
        b"<CODE>1965</CODE>".to_vec(),
        b"<![CDATA[".to_vec(),
        b"]]>".to_vec(),
        b"<!DOCTYPE X [<!ENTITY a \"&a;\">]>".to_vec(),
        b"&amp;".to_vec(),
        b"&#0;".to_vec(),
        vec![0xff, 0xfe],
    ]);
    prop_oneof![
        (any::<usize>(), 0usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), tokens).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Replace { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        everything(&body);
    }

    #[test]
    fn mutated_samples_never_panic(
        index in 0..ALL.len(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let body = apply(ALL[index].as_bytes(), &mutations);
        everything(&body);
    }
}

#[test]
fn unmutated_samples_never_panic() {
    for sample in ALL {
        everything(sample.as_bytes());
    }
}
