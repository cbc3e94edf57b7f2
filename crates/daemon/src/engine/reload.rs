//! What a SIGHUP may change: the re-read config (refused whole, and the refusal published,
//! when it fails a check of `check-config`), with the settings that only a restart
//! changes kept from the running one (the paths, and the client: `[qualys]`,
//! `[limits].max_download`, `[limits].download_timeout`, all built into the client once).
//! The engine owns the config and hands the executor a snapshot (`Arc<Config>`) of it.
//! The password is read again from where the running daemon reads it (its
//! `[qualys].password_file`, the systemd credential, the environment) and handed to the
//! client, so that the login check that follows — and every later call — uses it: a pause
//! for bad credentials lifts once the fixed ones work.

use super::{Done, Engine};
use baseliner_core::config::Config;
use baseliner_core::time::Timestamp;
use std::sync::Arc;

/// The config to run with after a reload that read `new`, and a warning for each kept
/// setting that `new` would have changed.
pub fn merge(running: &Config, mut new: Config) -> (Config, Vec<&'static str>) {
    let mut warnings = Vec::new();
    if new.paths != running.paths {
        warnings.push("[paths] changes take effect at the next start; keeping the old paths");
    }
    if new.qualys != running.qualys
        || new.limits.max_download != running.limits.max_download
        || new.limits.download_timeout != running.limits.download_timeout
    {
        warnings.push(
            "[qualys] and [limits].max_download changes take effect at the next start; keeping the old ones (so do [limits].download_timeout changes)",
        );
    }
    // Requests already sent were covered by the running margin: a smaller one would let a
    // lookup "prove" absence while such a request may still be applied.
    if new.polling.absence_margin != running.polling.absence_margin {
        warnings.push(
            "[polling].absence_margin changes take effect at the next start; keeping the old one",
        );
    }
    new.polling.absence_margin = running.polling.absence_margin;
    new.paths = running.paths.clone();
    new.qualys = running.qualys.clone();
    new.limits.max_download = running.limits.max_download;
    new.limits.download_timeout = running.limits.download_timeout;
    (new, warnings)
}

impl Engine {
    /// SIGHUP: re-reads the config with the checks of `check-config` (the reload closure,
    /// [`crate::preflight::check`]); a config they refuse keeps the running one, and the
    /// refusal shows in `daemon.json` and `STATUS=` until a reload succeeds. A good one is
    /// handed to the executor as its snapshot, and the login is checked again.
    pub(super) fn reload_config(&mut self) {
        let Some(reload) = &self.reload else { return };
        let cfg = match reload() {
            Ok(cfg) => cfg,
            Err(e) => {
                tracing::error!("reload refused, keeping the running configuration: {e}");
                self.reload_refused = Some((Timestamp::now(), e));
                return;
            }
        };
        let (cfg, warnings) = merge(&self.config, cfg);
        // The password from the running `[qualys]` (a new one is read from the same
        // place): refused like a config the checks refuse.
        let (password, source) = match crate::credentials::find(cfg.qualys.password_file.as_deref())
        {
            Ok(found) => found,
            Err(e) => {
                let e = e.to_string();
                tracing::error!("reload refused, keeping the running configuration: {e}");
                self.reload_refused = Some((Timestamp::now(), e));
                return;
            }
        };
        self.reload_refused = None;
        for w in warnings {
            tracing::warn!("{w}");
        }
        self.exec.client().set_password(password);
        tracing::info!("password read again from {source}");
        self.policy = cfg.policy();
        self.config = Arc::new(cfg);
        self.exec.set_config(self.config.clone());
        tracing::info!("configuration reloaded");
        self.notifier.reloaded("configuration reloaded");
        // The credentials may have been fixed (or broken): check them now.
        let (exec, tx) = (self.exec.clone(), self.tx.clone());
        self.tasks.spawn(async move {
            let _ = tx.send(Done::Probe(crate::probe::check(exec.client()).await));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::Duration;

    const MINIMAL: &str = "[qualys]\nurl = \"https://qualysapi.qualys.com/\"\nusername = \"u\"\n[scope]\nauthorized = [\"64.39.106.0/24\"]\n";

    #[test]
    fn a_reload_keeps_paths_and_client_and_takes_the_rest() {
        let running = Config::parse(MINIMAL).expect("minimal config");
        let mut new = running.clone();
        new.paths.spool = PathBuf::from("/elsewhere");
        new.qualys.username = "someone else".into();
        new.limits.max_download = 1;
        new.limits.max_active_jobs = 3;
        let (merged, warnings) = merge(&running, new);
        assert_eq!(merged.paths, running.paths);
        assert_eq!(merged.qualys, running.qualys);
        assert_eq!(merged.limits.max_download, running.limits.max_download);
        assert_eq!(merged.limits.max_active_jobs, 3, "the rest takes effect");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let (_, warnings) = merge(&running, running.clone());
        assert!(warnings.is_empty());
        let mut slower = running.clone();
        slower.limits.download_timeout = Duration::from_secs(1);
        let (merged, warnings) = merge(&running, slower);
        assert_eq!(
            merged.limits.download_timeout,
            running.limits.download_timeout
        );
        assert_eq!(warnings.len(), 1);
        let mut hasty = running.clone();
        hasty.polling.absence_margin = Duration::from_secs(1);
        let (merged, warnings) = merge(&running, hasty);
        assert_eq!(
            merged.polling.absence_margin, running.polling.absence_margin,
            "a reload never shortens the proof for requests already sent"
        );
        assert_eq!(warnings.len(), 1);
    }
}
