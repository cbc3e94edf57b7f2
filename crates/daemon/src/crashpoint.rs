//! Named crash points for the crash suite: when `$BASELINER_CRASH_AT` names a point (and,
//! with `NAME@N`, on its N-th hit), the process aborts there — the same as `kill -9` at
//! that instant, on either side of an external effect or a file move.
//!
//! Unset (always, in production), [`hit`] costs one relaxed atomic load.
//!
//! The store's write seam, for the full-disk tests: with `$BASELINER_TEST_STORE_FULL` set
//! to a path, every flush of the store fails with ENOSPC while a file exists at that path
//! ([`arm_store_fault`]), after sled applied the change in memory, as a full disk does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Every crash point of the workflow, for the crash suite to iterate over.
pub const POINTS: &[&str] = &[
    "intake-after-stage",
    "intake-after-accept",
    "intake-after-move",
    "before-intent",
    "after-intent",
    "after-effect",
    "after-commit",
    "before-status",
    "alert-after-intent",
    "alert-after-command",
    "webhook-after-intent",
];

/// The crash points of job management (`retry`, `hold`, removal), which a plain workflow
/// never reaches: tested by the queue suite (`tests/integration/queue.rs`).
pub const QUEUE_POINTS: &[&str] = &[
    "retry-after-accept",
    "retry-after-publish",
    "hold-after-store",
    "remove-after-rename",
    "remove-after-record",
];

struct Armed {
    name: String,
    nth: u64,
    hits: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let v = std::env::var("BASELINER_CRASH_AT").ok()?;
            let (name, nth) = match v.split_once('@') {
                Some((n, k)) => (n.to_string(), k.parse().ok()?),
                None => (v, 1),
            };
            Some(Armed {
                name,
                nth,
                hits: AtomicU64::new(0),
            })
        })
        .as_ref()
}

/// The crash point armed by `$BASELINER_CRASH_AT`, if any (logged loudly at start).
pub fn armed_point() -> Option<String> {
    armed().map(|a| format!("{}@{}", a.name, a.nth))
}

/// Aborts the process if `$BASELINER_CRASH_AT` names `point` and this is the chosen hit.
pub fn hit(point: &str) {
    let Some(a) = armed() else { return };
    if a.name == point && a.hits.fetch_add(1, Ordering::Relaxed) + 1 == a.nth {
        eprintln!("crash point {point} reached: aborting");
        std::process::abort();
    }
}

/// Arms the store's write seam from `$BASELINER_TEST_STORE_FULL` (see the module doc);
/// unset, it does nothing.
pub fn arm_store_fault(store: &baseliner_core::store::Store) {
    let Some(flag) = std::env::var_os("BASELINER_TEST_STORE_FULL") else {
        return;
    };
    let flag = std::path::PathBuf::from(flag);
    tracing::warn!(
        "BASELINER_TEST_STORE_FULL={}: the store fails every write while that file exists (testing only)",
        flag.display()
    );
    store.set_write_fault(Box::new(move || {
        flag.exists()
            .then(|| std::io::Error::from_raw_os_error(libc::ENOSPC))
    }));
}
