//! The simulator's configuration: credentials, job timings, limits, templates, option
//! profiles, appliances, excluded hosts.

use std::net::Ipv4Addr;
use std::time::Duration;

/// A report template as `report_template_list.php` lists it (qualys-api.md §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// ID.
    pub id: u64,
    /// `Manual` (scan-based findings: needs `report_refs`) or `Auto` (host-based findings:
    /// takes `ips` / `asset_group_ids`).
    pub kind: String,
    /// `Scan`, `Patch`, `Compliance`, `Remediation`, `Map`, … (only `Scan` can be launched).
    pub template_type: String,
    /// Title.
    pub title: String,
}

impl Template {
    /// A template from its parts.
    pub fn new(id: u64, kind: &str, template_type: &str, title: &str) -> Template {
        Template {
            id,
            kind: kind.to_owned(),
            template_type: template_type.to_owned(),
            title: title.to_owned(),
        }
    }

    /// True for a `Manual` (scan-based) template.
    pub fn is_manual(&self) -> bool {
        self.kind == "Manual"
    }
}

/// How the simulated Qualys subscription behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Login accepted by Basic auth and by the session API ("demo" by default).
    pub username: String,
    /// Password accepted by Basic auth and by the session API ("demo" by default).
    pub password: String,
    /// Time a launched scan stays `Queued`.
    pub scan_queued: Duration,
    /// Time a scan then stays `Running`.
    pub scan_running: Duration,
    /// Time a scan then stays `Finished` with `PROCESSED` 0 before it becomes 1.
    pub scan_processing: Duration,
    /// Time a launched report stays `Running` before it is `Finished`.
    pub report_running: Duration,
    /// Calls allowed per API (path + action) in the sliding window.
    pub rate_limit: u32,
    /// Length of the sliding rate-limit window.
    pub rate_window: Duration,
    /// Calls of one API allowed in flight at once.
    pub concurrency_limit: u32,
    /// Report templates, listed by `/msp/report_template_list.php`. By default 1–3 are the
    /// stock `Auto`/`Scan` "Technical Report", "Executive Report", "High Severity Report",
    /// 4 is `Manual`/`Scan` "Scan Results" and 5 `Auto`/`Patch` "Qualys Patch Report".
    pub templates: Vec<Template>,
    /// Option profiles as (id, title): a scan launch must name one by `option_title` or
    /// `option_id` (unknown → 1905).
    pub option_profiles: Vec<(u64, String)>,
    /// Addresses every scan excludes (a subscription's excluded hosts): they stay in the
    /// scan's TARGET but are not scanned, and the extended raw results list them.
    pub excluded_ips: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Scanner appliances as (id, name).
    pub appliances: Vec<(u64, String)>,
    /// Delay added to every response.
    pub latency: Duration,
    /// APIs (`"<path>?action=<action>"`) that answer 404 as a retired or not yet released
    /// API version does, e.g. `"/api/3.0/fo/scan/?action=list"`. Empty by default.
    pub retired_apis: Vec<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            username: "demo".to_owned(),
            password: "demo".to_owned(),
            scan_queued: Duration::from_secs(1),
            scan_running: Duration::from_secs(8),
            scan_processing: Duration::from_secs(1),
            report_running: Duration::from_secs(2),
            rate_limit: 300,
            rate_window: Duration::from_secs(3600),
            concurrency_limit: 2,
            templates: vec![
                Template::new(1, "Auto", "Scan", "Technical Report"),
                Template::new(2, "Auto", "Scan", "Executive Report"),
                Template::new(3, "Auto", "Scan", "High Severity Report"),
                Template::new(4, "Manual", "Scan", "Scan Results"),
                Template::new(5, "Auto", "Patch", "Qualys Patch Report"),
            ],
            option_profiles: vec![
                (10_001, "New IPs option profile".to_owned()),
                (10_002, "Initial Options".to_owned()),
                (10_003, "Qualys Top 20 Options".to_owned()),
            ],
            excluded_ips: Vec::new(),
            appliances: vec![
                (1001, "scanner-dc1".to_owned()),
                (1002, "scanner-dc2".to_owned()),
            ],
            latency: Duration::ZERO,
            retired_apis: Vec::new(),
        }
    }
}

impl SimConfig {
    /// A configuration for tests: scans finish in about a second, reports in about 0.3 s,
    /// and the limits are generous enough never to get in the way.
    pub fn fast() -> SimConfig {
        SimConfig {
            scan_queued: Duration::from_millis(100),
            scan_running: Duration::from_millis(700),
            scan_processing: Duration::from_millis(200),
            report_running: Duration::from_millis(300),
            rate_limit: 10_000,
            rate_window: Duration::from_secs(3600),
            concurrency_limit: 64,
            ..SimConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every option profile title the project's config, example jobs, demo and test
    /// harness use.
    fn titles_in(text: &str) -> Vec<String> {
        text.lines()
            .filter_map(|l| {
                let rest = l.split_once("option_title")?.1;
                let rest = rest.strip_prefix('"').unwrap_or(rest);
                let (_, quoted) = rest.split_once('"')?;
                Some(quoted.split_once('"')?.0.to_owned())
            })
            .collect()
    }

    #[test]
    fn default_option_profiles_cover_every_title_the_project_uses() {
        let sources = [
            include_str!("../../../config/baseliner.toml"),
            include_str!("../../../config/jobs/acme.toml"),
            include_str!("../../../config/jobs/acme.json"),
            include_str!("../../daemon/src/cmd/demo.rs"),
            include_str!("../../../tests/integration/support.rs"),
        ];
        let known: Vec<String> = SimConfig::default()
            .option_profiles
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        let used: Vec<String> = sources.iter().flat_map(|s| titles_in(s)).collect();
        assert!(used.len() >= 5, "{used:?}");
        for t in used {
            assert!(known.contains(&t), "{t:?} is not a default option profile");
        }
    }
}
