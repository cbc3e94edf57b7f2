//! The kill -9 test: a child process commits checkpoints in a loop and reports each one
//! after `commit` returned; the parent SIGKILLs it at a random moment, reopens the store
//! and checks that nothing reported was lost and nothing unreported appeared.
//!
//! The child is this same test binary, re-executed with `--exact` on this test and an
//! environment variable naming the store directory. The kill delays come from a seed the
//! test prints; `BASELINER_CRASH_SEED=N` replays a run.

use super::tests::job;
use super::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "BASELINER_CORE_CRASH_CHILD_DIR";
const TEST_PATH: &str = "store::crash_tests::kill_9_loses_no_committed_checkpoint";
const JOBS: usize = 3;
const ROUNDS: usize = 100;
/// Marks the child's report lines: the test harness prints its own text on the same stream
/// (and `test … ... ` without a newline), so the parent looks for the marker anywhere.
const MARK: &str = "@crash@ ";

/// SplitMix64: a small deterministic generator for the kill delays.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Child mode: make sure `JOBS` jobs exist, then bump their `attempts` forever.
fn child(dir: &Path) {
    let store = Store::open(dir).expect("child: open the store");
    let out = std::io::stdout();
    let mut out = out.lock();
    let mut records = store.all().expect("child: list");
    while records.len() < JOBS {
        let key = format!("k{}", records.len());
        let (rec, _) = store
            .accept(&key, "f.toml", &job("Acme"), Timestamp::now())
            .expect("child: accept");
        writeln!(out, "{MARK}ACCEPTED {}", rec.id).expect("child: stdout");
        records.push(rec);
    }
    writeln!(out, "{MARK}READY").expect("child: stdout");
    out.flush().expect("child: stdout");
    loop {
        for rec in &mut records {
            let mut next = rec.checkpoint.clone();
            next.attempts += 1;
            store
                .commit(&rec.id, &rec.checkpoint, &next)
                .expect("child: commit");
            rec.checkpoint = next;
            writeln!(out, "{MARK}COMMIT {} {}", rec.id, rec.checkpoint.attempts)
                .expect("child: stdout");
            out.flush().expect("child: stdout");
        }
    }
}

#[test]
fn kill_9_loses_no_committed_checkpoint() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&dir));
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = std::env::current_exe().expect("own test binary");
    // The kill delays come from one seed, printed so that a failure can be replayed:
    // `BASELINER_CRASH_SEED=N cargo test -p baseliner-core kill_9`.
    let seed = std::env::var("BASELINER_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| u64::from(std::process::id()) ^ 0x5EED);
    eprintln!("kill -9 store test: BASELINER_CRASH_SEED={seed}");
    let mut rng = seed;
    // What the parent knows is on disk: job id → attempts.
    let mut known: HashMap<String, u32> = HashMap::new();
    let mut commits_seen = 0usize;
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args(["--exact", TEST_PATH, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the child");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout);
            let mut line = String::new();
            // Only complete lines count: a line cut by the kill was not fully reported.
            while lines.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if let (true, Some(at)) = (line.ends_with('\n'), line.find(MARK)) {
                    let report = line[at + MARK.len()..].trim_end().to_string();
                    if tx.send(report).is_err() {
                        break;
                    }
                }
                line.clear();
            }
        });
        let mut lines = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = rx.recv_timeout(left) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("round {round}: the child did not report READY within 20 s");
            };
            let ready = line == "READY";
            lines.push(line);
            if ready {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(next_random(&mut rng) % 40));
        child.kill().expect("SIGKILL the child");
        child.wait().expect("reap the child");
        reader.join().expect("reader thread");
        lines.extend(rx.try_iter());

        let mut reported: HashMap<String, u32> = known.clone();
        let mut accepted = Vec::new();
        for line in &lines {
            let mut words = line.split(' ');
            match (words.next(), words.next(), words.next()) {
                (Some("ACCEPTED"), Some(id), None) => accepted.push(id.to_string()),
                (Some("COMMIT"), Some(id), Some(n)) => {
                    let n: u32 = n.parse().expect("attempts number");
                    commits_seen += 1;
                    reported.insert(id.to_string(), n);
                }
                _ => {}
            }
        }

        let store = Store::open(dir.path()).expect("reopen after kill -9");
        let records = store.all().expect("list after kill -9");
        for id in &accepted {
            assert!(
                records.iter().any(|r| r.id.as_str() == id),
                "round {round}: accepted job {id} lost"
            );
        }
        for rec in &records {
            let stored = rec.checkpoint.attempts;
            let last = reported.get(rec.id.as_str()).copied().unwrap_or(0);
            assert!(
                stored == last || stored == last + 1,
                "round {round}: job {} stored attempts {stored}, last reported committed {last}",
                rec.id
            );
            known.insert(rec.id.to_string(), stored);
        }
        drop(store);
    }
    assert_eq!(known.len(), JOBS);
    assert!(
        commits_seen >= ROUNDS,
        "too few commits to mean anything: {commits_seen}"
    );
    eprintln!(
        "crash test: {ROUNDS} kills, {commits_seen} reported commits, {:?}",
        started.elapsed()
    );
}
