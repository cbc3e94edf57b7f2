//! What the run loop tells the outside about itself: the metrics file
//! ([`crate::metrics`]), `daemon.json` ([`crate::daemon_status`]) and systemd's `STATUS=`.

use super::Engine;

impl Engine {
    pub(super) fn write_metrics(&self) {
        let snap = crate::metrics::Snapshot::of(
            self.jobs.values(),
            &self.finished,
            self.exec.governors().stats(),
            self.effective_pause().is_some(),
            self.transitions,
        );
        crate::metrics::write_file(&self.config.paths.metrics_file(), &snap);
    }

    pub(super) fn summary_line(&self) -> String {
        let pause = self.effective_pause();
        let doc = pause.as_ref().map(|p| (p.until, p.reason.as_str()));
        crate::daemon_status::summary_line(self.jobs.values(), doc)
    }

    /// Rewrites `daemon.json` ([`crate::daemon_status`]); `running` is false at a clean stop.
    pub(super) fn write_daemon_status(&self, line: &str, running: bool) {
        let pause = self.effective_pause();
        let doc = pause.as_ref().map(|p| (p.until, p.reason.as_str()));
        crate::daemon_status::publish(&self.spool, line, self.jobs.len(), doc, running);
    }

    pub(super) fn publish_summary(&mut self) {
        let line = self.summary_line();
        if line != self.last_summary {
            self.notifier.status(&line);
            self.write_daemon_status(&line, true);
            self.last_summary = line;
        }
    }
}
