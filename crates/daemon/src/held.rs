//! Which jobs are held back by which API's governor right now, so that `daemon.json` (and
//! `baseliner status`) can say "waiting for the rate limit of API until T" instead of
//! "next action now". The engine runs each action and poll round in the scope of the jobs
//! it serves ([`serving`]); the executor wraps each wait for a governor's permit in
//! [`Held::wait`], which lists those jobs under that API while the wait lasts. Nothing is
//! decided here: it only records who waits where.

use baseliner_core::store::JobId;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

tokio::task_local! {
    static SERVING: Vec<JobId>;
}

/// Runs `fut` on behalf of `jobs` (an action's job, or a poll round's).
pub async fn serving<F: Future>(jobs: Vec<JobId>, fut: F) -> F::Output {
    SERVING.scope(jobs, fut).await
}

/// The jobs waiting for a permit, per API (counted: a job may wait twice on one API).
#[derive(Debug, Default, Clone)]
pub struct Held {
    waiting: Arc<Mutex<BTreeMap<String, BTreeMap<JobId, usize>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain counters: usable after a panic elsewhere.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Held {
    /// Awaits `permit` (a governor's `acquire` for `api`) with the current task's jobs
    /// listed as waiting on `api` until it is granted (or dropped: a cancel).
    pub async fn wait<F: Future>(&self, api: &str, permit: F) -> F::Output {
        let jobs = SERVING.try_with(Clone::clone).unwrap_or_default();
        let _listed = Listed::new(self.clone(), api, jobs);
        permit.await
    }

    /// The jobs waiting on `api` now.
    pub fn jobs_on(&self, api: &str) -> Vec<JobId> {
        lock(&self.waiting)
            .get(api)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// The listing of one wait; removed when the wait ends.
struct Listed {
    held: Held,
    api: String,
    jobs: Vec<JobId>,
}

impl Listed {
    fn new(held: Held, api: &str, jobs: Vec<JobId>) -> Listed {
        {
            let mut w = lock(&held.waiting);
            let of_api = w.entry(api.to_string()).or_default();
            for j in &jobs {
                *of_api.entry(j.clone()).or_default() += 1;
            }
        }
        Listed {
            held,
            api: api.to_string(),
            jobs,
        }
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        let mut w = lock(&self.held.waiting);
        if let Some(of_api) = w.get_mut(&self.api) {
            for j in &self.jobs {
                if let Some(n) = of_api.get_mut(j) {
                    *n -= 1;
                    if *n == 0 {
                        of_api.remove(j);
                    }
                }
            }
            if of_api.is_empty() {
                w.remove(&self.api);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wait_lists_its_jobs_until_it_ends() {
        let held = Held::default();
        let a = JobId::parse("20261201-000000-000001").expect("id");
        let b = JobId::parse("20261201-000000-000002").expect("id");
        let (go, gate) = tokio::sync::oneshot::channel::<()>();
        let h = held.clone();
        let task = tokio::spawn(serving(vec![a.clone(), b.clone()], async move {
            h.wait("list", gate).await
        }));
        while held.jobs_on("list").is_empty() {
            tokio::task::yield_now().await;
        }
        assert_eq!(held.jobs_on("list"), [a, b]);
        assert!(held.jobs_on("other").is_empty());
        go.send(()).expect("send");
        task.await.expect("task").expect("granted");
        assert!(held.jobs_on("list").is_empty(), "the wait ended");
        // Outside a job's scope nothing is listed.
        held.wait("list", async {}).await;
        assert!(held.jobs_on("list").is_empty());
    }
}
