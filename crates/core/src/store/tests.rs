//! Store tests: ids, round trips, idempotent acceptance, compare-and-swap, ordering,
//! reopening and the directory lock.

use super::*;
use crate::ip::IpSet;
use crate::job::{ReportFormat, Results, TrackingMethod};
use crate::state::JobState;

const T0: Timestamp = Timestamp(1_764_292_500_000); // 2025-11-28T01:15:00Z

pub(super) fn job(org: &str) -> Job {
    Job {
        organization: org.to_string(),
        ips: IpSet::default(),
        option_title: "Initial Options".to_string(),
        scan_title: format!("Acquisition scan of {org}"),
        comments: String::new(),
        report_template_id: None,
        report_format: ReportFormat::Pdf,
        results: Results {
            report: false,
            raw: true,
        },
        scanner_appliance: None,
        tracking_method: TrackingMethod::Ip,
    }
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

#[test]
fn job_ids_are_dated_sequenced_and_validated() {
    let id = JobId::new(T0, 42);
    assert_eq!(id.as_str(), "20251128-011500-000042");
    assert_eq!(id.to_string(), id.as_str());
    assert_eq!(id.seq(), Some(42));
    assert_eq!(JobId::parse(id.as_str()), Some(id.clone()));
    assert_eq!(
        JobId::new(T0, 1_234_567).as_str(),
        "20251128-011500-1234567"
    );
    for bad in [
        "",
        "../etc",
        ".hidden",
        "-x",
        "a b",
        "a/b",
        "é",
        &"9".repeat(33),
    ] {
        assert_eq!(JobId::parse(bad), None, "{bad:?}");
    }
    assert!(JobId::parse(&"9".repeat(32)).is_some());
    assert!(JobId::new(T0, 9) < JobId::new(T0.plus(std::time::Duration::from_secs(1)), 1));
}

#[test]
fn accept_is_idempotent_per_intake_key_and_round_trips() {
    let dir = temp();
    let store = Store::open(dir.path()).expect("open");
    let (first, new) = store
        .accept("k1", "acme.toml", &job("Acme"), T0)
        .expect("accept");
    assert!(new);
    assert_eq!(first.checkpoint, Checkpoint::accepted(T0));
    assert_eq!(first.job, job("Acme"));
    assert_eq!(
        (first.intake_key.as_str(), first.source_name.as_str()),
        ("k1", "acme.toml")
    );
    let later = T0.plus(std::time::Duration::from_secs(5));
    let (again, new) = store
        .accept("k1", "acme.toml", &job("Other"), later)
        .expect("accept");
    assert!(!new, "same intake key: same job");
    assert_eq!(again, first);
    assert_eq!(store.get(&first.id).expect("get"), Some(first.clone()));
    assert_eq!(
        store.intake_job("k1").expect("lookup"),
        Some(first.id.clone())
    );

    let (second, new) = store.accept("k2", "b.toml", &job("B"), T0).expect("accept");
    assert!(new);
    assert_ne!(second.id, first.id, "ids are unique even within one second");
    assert_eq!(store.all().expect("all").len(), 2);

    store.release_intake("k1").expect("release");
    assert_eq!(store.intake_job("k1").expect("lookup"), None);
    assert!(
        store.get(&first.id).expect("get").is_some(),
        "the job stays"
    );
    let (third, new) = store
        .accept("k1", "acme.toml", &job("Acme"), later)
        .expect("accept");
    assert!(new, "a released key can name a new job");
    assert_ne!(third.id, first.id);
    assert_eq!(store.get(&JobId::new(T0, 999)).expect("get"), None);
}

#[test]
fn commit_is_a_compare_and_swap() {
    let dir = temp();
    let store = Store::open(dir.path()).expect("open");
    let (rec, _) = store.accept("k", "a.toml", &job("A"), T0).expect("accept");
    let mut next = rec.checkpoint.clone();
    next.state = JobState::AddingIps;
    store
        .commit(&rec.id, &rec.checkpoint, &next)
        .expect("commit");
    assert_eq!(
        store.get(&rec.id).expect("get").map(|r| r.checkpoint),
        Some(next.clone())
    );

    // A stale expectation is refused and writes nothing.
    let mut other = next.clone();
    other.state = JobState::FindingGroup;
    let err = store
        .commit(&rec.id, &rec.checkpoint, &other)
        .expect_err("stale");
    assert!(
        matches!(&err, StoreError::Conflict { id } if *id == rec.id),
        "{err:?}"
    );
    assert!(err.to_string().contains(rec.id.as_str()), "{err}");
    assert_eq!(
        store.get(&rec.id).expect("get").map(|r| r.checkpoint),
        Some(next.clone())
    );

    let missing = JobId::new(T0, 77);
    let err = store.commit(&missing, &next, &other).expect_err("missing");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

#[test]
fn unfinished_lists_in_acceptance_order_without_terminal_jobs() {
    let dir = temp();
    let store = Store::open(dir.path()).expect("open");
    let mut ids = Vec::new();
    // Later jobs get earlier clocks: the order follows acceptance, not the clock.
    for n in 0..12i64 {
        let at = Timestamp(T0.0 - n * 1000);
        let (rec, _) = store
            .accept(&format!("k{n}"), "f", &job("A"), at)
            .expect("accept");
        ids.push(rec.id);
    }
    let done = &ids[3];
    let rec = store.get(done).expect("get").expect("stored");
    let mut finished = rec.checkpoint.clone();
    finished.state = JobState::Canceled {
        last_scan: None,
        scan_ref: None,
    };
    store
        .commit(done, &rec.checkpoint, &finished)
        .expect("commit");

    let all: Vec<JobId> = store
        .all()
        .expect("all")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(all, ids);
    let open: Vec<JobId> = store
        .unfinished()
        .expect("unfinished")
        .into_iter()
        .map(|r| r.id)
        .collect();
    let want: Vec<JobId> = ids.iter().filter(|id| *id != done).cloned().collect();
    assert_eq!(open, want);
}

#[test]
fn reopening_keeps_everything_and_ids_keep_growing() {
    let dir = temp();
    let (rec, next) = {
        let store = Store::open(dir.path()).expect("open");
        let (rec, _) = store.accept("k", "a.toml", &job("A"), T0).expect("accept");
        let mut next = rec.checkpoint.clone();
        next.attempts = 3;
        store
            .commit(&rec.id, &rec.checkpoint, &next)
            .expect("commit");
        store.meta_put("rate.wait_until", b"12345").expect("meta");
        (rec, next)
    };
    let store = Store::open(dir.path()).expect("reopen");
    let back = store.get(&rec.id).expect("get").expect("kept");
    assert_eq!(back.checkpoint, next);
    assert_eq!(
        store.meta_get("rate.wait_until").expect("meta"),
        Some(b"12345".to_vec())
    );
    assert_eq!(store.meta_get("absent").expect("meta"), None);
    assert_eq!(store.intake_job("k").expect("lookup"), Some(rec.id.clone()));
    let (second, _) = store.accept("k2", "b.toml", &job("B"), T0).expect("accept");
    assert!(
        second.id.seq() > rec.id.seq(),
        "{} after {}",
        second.id,
        rec.id
    );
}

#[test]
fn a_second_open_is_refused_as_locked() {
    let dir = temp();
    let _first = Store::open(dir.path()).expect("open");
    let err = Store::open(dir.path()).expect_err("locked");
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(err.to_string().contains("daemon probably runs"), "{err}");
}

#[test]
fn corrupt_records_are_reported_with_their_key() {
    let dir = temp();
    let store = Store::open(dir.path()).expect("open");
    raw_insert(&store, b"20251128-011500-000001", &[9u8, 1, 2]);
    let err = store.all().expect_err("corrupt");
    assert!(err.to_string().contains("20251128-011500-000001"), "{err}");
    assert!(
        matches!(
            err,
            StoreError::Codec {
                source: CodecError::UnknownVersion { found: 9 },
                ..
            }
        ),
        "{err:?}"
    );
}

fn raw_insert(store: &Store, key: &[u8], value: &[u8]) {
    store
        .with(|t| t.jobs.insert(key, value).map_err(sled_err("raw insert")))
        .expect("raw insert");
}

#[test]
fn every_commit_takes_the_next_generation_and_records_carry_theirs() {
    let dir = temp();
    let store = Store::open(dir.path()).expect("open");
    assert_eq!(store.generation().expect("generation"), 0);
    let (a, _) = store.accept("ka", "a.toml", &job("A"), T0).expect("accept");
    let (b, _) = store.accept("kb", "b.toml", &job("B"), T0).expect("accept");
    assert_eq!((a.generation, b.generation), (1, 2));
    let mut next = a.checkpoint.clone();
    next.state = JobState::AddingIps;
    let g = store.commit(&a.id, &a.checkpoint, &next).expect("commit");
    assert_eq!(g, 3);
    assert_eq!(
        store.get(&a.id).expect("get").map(|r| r.generation),
        Some(3)
    );
    assert_eq!(
        store.get(&b.id).expect("get").map(|r| r.generation),
        Some(2)
    );
    drop(store);
    let store = Store::open(dir.path()).expect("reopen");
    assert_eq!(store.generation().expect("generation"), 3);
    let gens: Vec<u64> = store
        .all()
        .expect("all")
        .iter()
        .map(|r| r.generation)
        .collect();
    assert_eq!(gens, [3, 2]);
}

#[test]
fn a_failed_flush_breaks_the_store_until_it_reopens_and_leaves_no_trace_in_memory() {
    let dir = temp();
    let store = Store::open(dir.path()).expect("open");
    let (a, _) = store.accept("ka", "a.toml", &job("A"), T0).expect("accept");
    let full = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = full.clone();
    store.set_write_fault(Box::new(move || {
        flag.load(std::sync::atomic::Ordering::SeqCst)
            .then(|| std::io::Error::from_raw_os_error(28))
    }));
    let mut next = a.checkpoint.clone();
    next.state = JobState::AddingIps;
    let err = store
        .commit(&a.id, &a.checkpoint, &next)
        .expect_err("disk full");
    assert!(
        matches!(err, StoreError::Sled { op: "flush", .. }),
        "{err:?}"
    );
    assert!(
        store.broken().is_some_and(|r| r.contains("flush")),
        "{:?}",
        store.broken()
    );
    // Nothing is read or written from the in-memory view any more.
    for e in [
        store.get(&a.id).map(|_| ()).expect_err("get refused"),
        store
            .commit(&a.id, &a.checkpoint, &next)
            .map(|_| ())
            .expect_err("refused"),
        store
            .accept("kb", "b.toml", &job("B"), T0)
            .map(|_| ())
            .expect_err("refused"),
    ] {
        assert!(matches!(e, StoreError::Broken { .. }), "{e:?}");
    }
    // Still full: reopening does not prove the store writes.
    assert!(store.recover().is_err());
    assert!(store.broken().is_some());
    full.store(false, std::sync::atomic::Ordering::SeqCst);
    store
        .recover()
        .expect("recovers once the disk takes writes");
    assert_eq!(store.broken(), None);
    // What the store holds now is what is on disk (here sled's background flush may have
    // written the failed commit after all: either checkpoint, never a third).
    let back = store.get(&a.id).expect("get").expect("the job is there");
    assert!(back.checkpoint == a.checkpoint || back.checkpoint == next);
    let g = store
        .commit(&a.id, &back.checkpoint, &next.clone())
        .map(|_| ());
    assert!(g.is_ok() || back.checkpoint == next);
}

#[test]
fn restore_and_advance_past_rebuild_what_an_emptied_store_lost() {
    let dir = temp();
    let store = Store::open(dir.path()).expect("open");
    let id = JobId::new(T0, 41);
    let rec = JobRecord {
        id: id.clone(),
        intake_key: "rebuilt".to_string(),
        source_name: "a.toml".to_string(),
        accepted_at: T0,
        job: job("A"),
        checkpoint: Checkpoint::accepted(T0),
        generation: 0,
        held: false,
        retried_as: None,
    };
    store.advance_past(57, 41).expect("advance");
    store.advance_past(3, 2).expect("never backwards");
    let g = store.restore(&rec).expect("restore");
    assert_eq!(g, 58);
    assert_eq!(store.get(&id).expect("get").map(|r| r.generation), Some(58));
    let (next, _) = store.accept("kb", "b.toml", &job("B"), T0).expect("accept");
    assert_eq!(
        next.id.seq(),
        Some(42),
        "no id of a job directory that exists"
    );
    assert_eq!(next.generation, 59);
}

#[test]
fn scan_lists_undecodable_records_beside_the_good_ones() {
    let dir = temp();
    let store = Store::open(dir.path()).expect("open");
    let (a, _) = store.accept("ka", "a.toml", &job("A"), T0).expect("accept");
    raw_insert(&store, b"20251128-011500-000009", &[3u8, 0xff, 0xff]);
    let scan = store.scan().expect("scan");
    assert_eq!(
        scan.records
            .iter()
            .map(|r| r.id.clone())
            .collect::<Vec<_>>(),
        [a.id]
    );
    assert_eq!(scan.undecodable.len(), 1);
    assert_eq!(scan.undecodable[0].0, "20251128-011500-000009");
}

#[test]
fn holds_and_retry_links_are_kept_beside_the_record_and_survive_a_reopen() {
    let dir = temp();
    let (old, new) = {
        let store = Store::open(dir.path()).expect("open");
        let (old, _) = store
            .accept("a.toml:1", "a.toml", &job("A"), T0)
            .expect("a");
        assert!(!old.held && old.retried_as.is_none() && old.retry_of().is_none());
        store.set_held(&old.id, true).expect("hold");
        let missing = JobId::parse("20990101-000000-999999").expect("id");
        assert!(matches!(
            store.set_held(&missing, true),
            Err(StoreError::NotFound { .. })
        ));
        let key = retry_key(&old.id);
        let (new, inserted) = store.accept(&key, "retry", &job("A"), T0).expect("retry");
        assert!(inserted);
        let (again, inserted) = store
            .accept(&key, "retry", &job("A"), T0)
            .expect("retry again");
        assert!(!inserted, "one retry per request key");
        assert_eq!(again.id, new.id);
        (old.id, new.id)
    };
    let store = Store::open(dir.path()).expect("reopen");
    let o = store.get(&old).expect("get").expect("old");
    assert!(o.held);
    assert_eq!(o.retried_as.as_ref(), Some(&new));
    let n = store.get(&new).expect("get").expect("new");
    assert_eq!(n.retry_of().as_ref(), Some(&old));
    assert!(!n.held);
    store.set_held(&old, false).expect("release");
    assert!(!store.all().expect("all")[0].held);
}

#[test]
fn remove_deletes_record_generation_hold_and_links_in_one_go() {
    let dir = temp();
    let store = Store::open(dir.path()).expect("open");
    let (old, _) = store
        .accept("a.toml:1", "a.toml", &job("A"), T0)
        .expect("a");
    let (new, _) = store
        .accept(&retry_key(&old.id), "retry", &job("A"), T0)
        .expect("retry");
    store.set_held(&new.id, true).expect("hold");
    // Removing the retry keeps the old job's link: it stays retried.
    assert!(store.remove(&new.id).expect("remove"));
    assert!(!store.remove(&new.id).expect("again"), "already gone");
    assert_eq!(store.get(&new.id).expect("get"), None);
    let o = store.get(&old.id).expect("get").expect("old");
    assert_eq!(o.retried_as.as_ref(), Some(&new.id));
    // Its intake key still names it (an intake not released): removed with it, so the same
    // file dropped again is a new job, never a dangling key.
    assert!(store.remove(&old.id).expect("remove old"));
    assert_eq!(store.intake_job("a.toml:1").expect("intake"), None);
    assert_eq!(store.intake_job(&retry_key(&old.id)).expect("link"), None);
    let (again, inserted) = store
        .accept("a.toml:1", "a.toml", &job("A"), T0)
        .expect("a");
    assert!(inserted);
    assert!(again.id.seq() > new.id.seq(), "ids are never given again");
    assert_eq!(store.all().expect("all").len(), 1);
}

#[test]
fn a_restored_record_brings_back_its_hold_and_retry_links() {
    let dir = temp();
    let store = Store::open(dir.path()).expect("open");
    let old = JobId::new(T0, 1);
    let new = JobId::new(T0, 2);
    let mut rec = JobRecord {
        id: old.clone(),
        intake_key: "a.toml:1".into(),
        source_name: "a.toml".into(),
        accepted_at: T0,
        job: job("A"),
        checkpoint: Checkpoint::accepted(T0),
        generation: 0,
        held: true,
        retried_as: Some(new.clone()),
    };
    store.restore(&rec).expect("restore");
    let retry = JobRecord {
        id: new.clone(),
        intake_key: retry_key(&old),
        held: false,
        retried_as: None,
        ..rec.clone()
    };
    store.restore(&retry).expect("restore the retry");
    let back = store.get(&old).expect("get").expect("stored");
    assert!(back.held);
    assert_eq!(back.retried_as, Some(new.clone()));
    assert_eq!(
        store.intake_job(&retry_key(&old)).expect("intake"),
        Some(new)
    );
    rec.held = false;
    store.restore(&rec).expect("restore released");
    assert!(!store.get(&old).expect("get").expect("stored").held);
}
