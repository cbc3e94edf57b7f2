//! What the run loop tells the outside about itself: the metrics file
//! ([`crate::metrics`]), `daemon.json` ([`crate::daemon_status`]: the summary, the pause,
//! a refused reload, the staged files, the open rate-limit waits and the jobs they hold
//! back) and systemd's `STATUS=` (the summary line).

use super::Engine;
use crate::daemon_status::RateLimitDoc;
use baseliner_core::time::Timestamp;

impl Engine {
    pub(super) fn write_metrics(&self) {
        let snap = crate::metrics::Snapshot::of(
            self.jobs.values(),
            &self.finished,
            crate::metrics::Apis {
                known: self.exec.known_apis(),
                stats: self.exec.governors().stats(),
            },
            self.effective_pause().is_some(),
            (self.transitions, self.retries),
        );
        crate::metrics::write_file(&self.config.paths.metrics_file(), &snap);
    }

    fn refusal_doc(&self) -> Option<(Timestamp, &str)> {
        self.reload_refused
            .as_ref()
            .map(|(at, why)| (*at, why.as_str()))
    }

    pub(super) fn summary_line(&self) -> String {
        let pause = self.effective_pause();
        let doc = pause.as_ref().map(|p| (p.until, p.reason.as_str()));
        crate::daemon_status::summary_line(self.jobs.values(), doc, self.refusal_doc())
    }

    /// The open rate-limit waits, each with the jobs waiting for a call of its API.
    fn rate_limits(&self) -> Vec<RateLimitDoc> {
        let held = self.exec.held();
        self.exec
            .governors()
            .open_waits(Timestamp::now())
            .into_iter()
            .map(|(api, until, why)| RateLimitDoc {
                jobs: held
                    .jobs_on(&api)
                    .iter()
                    .map(|j| j.as_str().to_string())
                    .collect(),
                api,
                until: until.to_rfc3339(),
                why,
            })
            .collect()
    }

    /// Rewrites `daemon.json` ([`crate::daemon_status`]); `running` is false at a clean stop.
    pub(super) fn write_daemon_status(&self, line: &str, running: bool) {
        let pause = self.effective_pause();
        let rate_limits = self.rate_limits();
        let facts = crate::daemon_status::Facts {
            line,
            unfinished: self.jobs.len(),
            pause: pause.as_ref().map(|p| (p.until, p.reason.as_str())),
            reload_refused: self.refusal_doc(),
            staged: &self.staged,
            rate_limits: &rate_limits,
        };
        crate::daemon_status::publish(&self.spool, facts, running);
    }

    /// Tells systemd (`STATUS=`) and `daemon.json` when the summary line, the staged
    /// files or the open rate-limit waits (and who waits for them) changed.
    pub(super) fn publish_summary(&mut self) {
        let line = self.summary_line();
        let rate_limits = self.rate_limits();
        if line != self.last_summary
            || self.staged != self.last_staged
            || rate_limits != self.last_rate_limits
        {
            if line != self.last_summary {
                self.notifier.status(&line);
            }
            self.write_daemon_status(&line, true);
            self.last_summary = line;
            self.last_staged = self.staged.clone();
            self.last_rate_limits = rate_limits;
        }
    }
}
