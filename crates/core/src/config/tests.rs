//! Unit tests of `config.rs`.

use super::*;

const MINIMAL: &str = "[qualys]\nurl = \"https://qualysapi.qualys.com/\"\nusername = \"u\"\n[scope]\nauthorized = [\"64.39.106.0/24\"]\n";

fn err(text: &str) -> String {
    let e = Config::parse(text).expect_err(text).to_string();
    assert!(!e.contains('\n'), "one line: {e}");
    e
}

/// MINIMAL with `line` added to `[section]`.
fn with(section: &str, line: &str) -> String {
    let header = format!("[{section}]\n");
    if MINIMAL.contains(&header) {
        MINIMAL.replace(&header, &format!("{header}{line}\n"))
    } else {
        format!("{MINIMAL}{header}{line}\n")
    }
}

#[test]
fn minimal_config_takes_defaults() {
    let c = Config::parse(MINIMAL).expect("valid");
    assert_eq!(c.qualys.url, "https://qualysapi.qualys.com");
    assert_eq!(c.qualys.username, "u");
    assert_eq!(c.qualys.password_file, None);
    assert_eq!(c.qualys.asset_api, AssetApi::V2);
    assert_eq!(c.qualys.scan_list_api, ScanListApi::V3);
    assert_eq!(c.qualys.request_timeout, Duration::from_secs(120));
    assert_eq!(c.qualys.connect_timeout, Duration::from_secs(30));
    assert_eq!(
        (c.qualys.proxy.as_deref(), c.qualys.ca_file.as_deref()),
        (None, None)
    );
    assert_eq!(c.paths.spool, PathBuf::from("/var/spool/baseliner"));
    assert_eq!(c.paths.state, PathBuf::from("/var/lib/baseliner"));
    assert_eq!(c.polling.scan_first_check, Duration::from_secs(420));
    assert_eq!(c.polling.scan_every, Duration::from_secs(300));
    assert_eq!(c.polling.report_every, Duration::from_secs(60));
    assert_eq!(c.polling.give_up_after, Duration::from_secs(72 * 3600));
    assert_eq!(c.limits.max_active_jobs, 20);
    assert_eq!(c.limits.max_addresses, 65_536);
    assert_eq!(c.limits.max_download, 20 << 30);
    assert_eq!(c.scope.authorized.to_qualys(), "64.39.106.0-64.39.106.255");
    assert!(!c.scope.allow_private);
    assert_eq!(c.defaults, JobDefaults::default());
    assert_eq!(c.defaults.option_title, "New IPs option profile");
    assert_eq!(c.alerts.min_severity, 4);
    assert_eq!(c.alerts.command, None);
    assert_eq!(c.alerts.webhook, None);
    assert_eq!(c.alerts.command_timeout, Duration::from_secs(60));
    assert_eq!(c.policy(), Policy::default());
    let rules = c.job_rules();
    assert_eq!(rules.authorized, c.scope.authorized);
    assert_eq!(rules.max_addresses, 65_536);
}

#[test]
fn example_config_parses_with_every_key() {
    let text = include_str!("../../../../config/baseliner.toml");
    let c = Config::parse(text).expect("config/baseliner.toml");
    // Left unset: the shipped unit passes the password as a systemd credential.
    assert_eq!(c.qualys.password_file, None);
    // Uncommented, the documented value parses.
    let uncommented = text.replace(
        "# password_file = \"/etc/baseliner/qualys-password\"",
        "password_file = \"/etc/baseliner/qualys-password\"",
    );
    assert_eq!(
        Config::parse(&uncommented)
            .expect("with password_file")
            .qualys
            .password_file,
        Some(PathBuf::from("/etc/baseliner/qualys-password"))
    );
    // Left unset: a command that does not exist on the host would fail every alert.
    assert_eq!(c.alerts.command, None);
    let uncommented = text.replace(
        "# command = [\"/usr/local/bin/notify-team\"]",
        "command = [\"/usr/local/bin/notify-team\"]",
    );
    assert_eq!(
        Config::parse(&uncommented)
            .expect("with command")
            .alerts
            .command,
        Some(vec!["/usr/local/bin/notify-team".to_owned()])
    );
    // Every key the parser knows appears in the example, set or commented out.
    let root: Table = toml::from_str(text).expect("TOML");
    for section in SECTIONS {
        assert!(
            root.contains_key(*section),
            "[{section}] missing from the example"
        );
    }
    for key in ["proxy", "ca_file", "webhook", "command", "metrics"] {
        assert!(
            text.contains(&format!("# {key} = ")),
            "{key} not documented"
        );
    }
}

#[test]
fn values_are_read() {
    let text = r#"
[qualys]
url = "http://127.0.0.1:8443"
username = "demo"
password_file = "/run/pw"
asset_api = "V1"
scan_list_api = "v2"
request_timeout = "5s"
connect_timeout = "500ms"
proxy = "socks5h://proxy.example:1080"
ca_file = "/etc/ca.pem"
[paths]
spool = "/tmp/s"
state = "/tmp/t"
[polling]
scan_first_check = "1s"
scan_every = "2s"
report_every = "3s"
give_up_after = "1d"
[limits]
max_active_jobs = 1
max_addresses = 16
max_download = "512MiB"
[scope]
authorized = []
allow_private = true
[defaults]
option_title = "Opt"
report_template_id = 42
report_format = "HTML"
results = ["raw"]
[alerts]
min_severity = 5
command = ["/bin/notify", "--urgent"]
webhook = "https://hooks.example/x"
command_timeout = "2m"
"#;
    let c = Config::parse(text).expect("valid");
    assert_eq!(c.qualys.asset_api, AssetApi::V1);
    assert_eq!(c.qualys.scan_list_api, ScanListApi::V2);
    assert_eq!(c.qualys.connect_timeout, Duration::from_millis(500));
    assert_eq!(
        c.qualys.proxy.as_deref(),
        Some("socks5h://proxy.example:1080")
    );
    assert_eq!(c.paths.state, PathBuf::from("/tmp/t"));
    assert!(c.scope.authorized.is_empty());
    assert_eq!(c.limits.max_active_jobs, 1);
    assert_eq!(c.limits.max_download, 512 << 20);
    assert_eq!(c.defaults.report_template_id, 42);
    assert_eq!(c.defaults.report_format, ReportFormat::Html);
    assert_eq!(
        c.defaults.results,
        Results {
            report: false,
            raw: true
        }
    );
    assert_eq!(c.alerts.min_severity, 5);
    assert_eq!(c.alerts.command_timeout, Duration::from_secs(120));
    let p = c.policy();
    assert_eq!(p.scan_first_check, Duration::from_secs(1));
    assert_eq!(p.scan_every, Duration::from_secs(2));
    assert_eq!(p.report_every, Duration::from_secs(3));
    assert_eq!(p.give_up_after, Duration::from_secs(86_400));
    assert_eq!(p.retry_base, Policy::default().retry_base);
    let r = c.job_rules();
    assert!(r.allow_private);
    assert_eq!(r.max_addresses, 16);
    assert_eq!(r.defaults.option_title, "Opt");
}

#[test]
fn unknown_keys_and_sections_are_named() {
    assert_eq!(
        err(&with("polling", "scan_evry = \"5m\"")),
        "unknown key [polling].scan_evry"
    );
    for (section, key) in [
        ("qualys", "password"),
        ("paths", "spoool"),
        ("limits", "max_jobs"),
        ("scope", "allow_privat"),
        ("defaults", "template"),
        ("alerts", "severity"),
    ] {
        let e = err(&with(section, &format!("{key} = 1")));
        assert_eq!(e, format!("unknown key [{section}].{key}"));
    }
    let e = err(&format!("{MINIMAL}[polling.extra]\nx = 1\n"));
    assert_eq!(e, "unknown key [polling].extra");
    let e = err(&format!("verbose = true\n{MINIMAL}"));
    assert_eq!(e, "unknown key verbose");
    let e = err(&format!("{MINIMAL}[logging]\nlevel = \"debug\"\n"));
    assert!(e.starts_with("unknown section [logging]"), "{e}");
}

#[test]
fn required_keys() {
    assert_eq!(
        err("[qualys]\nusername = \"u\"\n[scope]\nauthorized = []\n"),
        "[qualys].url: required"
    );
    assert_eq!(
        err("[qualys]\nurl = \"https://q\"\n[scope]\nauthorized = []\n"),
        "[qualys].username: required"
    );
    assert_eq!(
        err("[qualys]\nurl = \"https://q\"\nusername = \"u\"\n"),
        "[scope].authorized: required"
    );
}

#[test]
fn url_rules() {
    let url =
        |u: &str| format!("[qualys]\nurl = \"{u}\"\nusername = \"u\"\n[scope]\nauthorized = []\n");
    for ok in [
        "https://qualysapi.qg2.apps.qualys.eu",
        "http://127.0.0.1:8080",
        "http://127.9.9.9",
        "http://[::1]:80/",
        "http://localhost:1",
    ] {
        assert!(Config::parse(&url(ok)).is_ok(), "{ok}");
    }
    let e = err(&url("http://qualysapi.qualys.com"));
    assert!(e.starts_with("[qualys].url = \"http://qualysapi.qualys.com\": plain http is allowed only to a loopback host"), "{e}");
    let e = err(&url("http://10.0.0.1:8080"));
    assert!(
        e.contains("plain http is allowed only to a loopback host"),
        "{e}"
    );
    let e = err(&url("ftp://q"));
    assert_eq!(
        e,
        "[qualys].url = \"ftp://q\": scheme must be one of https, http"
    );
    let e = err(&url("https://user:pw@q"));
    assert!(e.contains("credentials do not belong in the URL"), "{e}");
    let e = err(&url("qualysapi.qualys.com"));
    assert!(e.contains("not a URL"), "{e}");
    let e = err(&with("qualys", "proxy = \"proxy:3128\""));
    assert!(
        e.starts_with("[qualys].proxy = \"proxy:3128\": not a URL"),
        "{e}"
    );
    let e = err(&with("alerts", "webhook = \"mailto://x\""));
    assert!(
        e.starts_with("[alerts].webhook = \"mailto://x\": scheme must be"),
        "{e}"
    );
}

#[test]
fn bad_values_name_key_and_value() {
    let cases = [
        (
            with("polling", "scan_every = \"5 minutes\""),
            "[polling].scan_every = \"5 minutes\": is not a duration",
        ),
        (
            with("polling", "give_up_after = 72"),
            "[polling].give_up_after: expected a duration string such as \"7m\", found 72",
        ),
        (
            with("polling", "report_every = \"0s\""),
            "[polling].report_every = \"0s\": must be longer than zero",
        ),
        (
            with("limits", "max_active_jobs = 0"),
            "[limits].max_active_jobs = 0: must be 1 to 10000",
        ),
        (
            with("limits", "max_addresses = -1"),
            "[limits].max_addresses = -1: must be 1 to 4294967296",
        ),
        (
            with("limits", "max_download = \"20GB\""),
            "[limits].max_download = \"20GB\": is not a size",
        ),
        (
            with("limits", "max_download = 0"),
            "[limits].max_download = 0: must be more than zero bytes",
        ),
        (
            with("limits", "max_active_jobs = \"20\""),
            "[limits].max_active_jobs: expected an integer, found \"20\"",
        ),
        (
            with("scope", "allow_private = \"yes\""),
            "[scope].allow_private: expected true or false, found \"yes\"",
        ),
        (
            with("defaults", "report_format = \"odt\""),
            "[defaults].report_format = \"odt\": must be one of pdf",
        ),
        (
            with("defaults", "results = [\"all\"]"),
            "[defaults].results = [\"all\"]: must list \"report\", \"raw\" or both",
        ),
        (
            with("defaults", "report_template_id = -1"),
            "[defaults].report_template_id = -1: must be 0 to",
        ),
        (
            with("defaults", "option_title = \"\""),
            "[defaults].option_title = \"\": must not be empty",
        ),
        (
            with("alerts", "min_severity = 6"),
            "[alerts].min_severity = 6: must be 1 to 5",
        ),
        (
            with("alerts", "min_severity = 0"),
            "[alerts].min_severity = 0: must be 1 to 5",
        ),
        (
            with("alerts", "command = []"),
            "[alerts].command = []: the first item must name the program",
        ),
        (
            with("alerts", "command = [\"\", \"x\"]"),
            "[alerts].command = [\"\", \"x\"]: the first item",
        ),
        (
            with("alerts", "command = \"/bin/x\""),
            "[alerts].command: expected a list of strings, found \"/bin/x\"",
        ),
        (
            with("qualys", "asset_api = \"v3\""),
            "[qualys].asset_api = \"v3\": must be \"v2\" or \"v1\"",
        ),
        (
            MINIMAL.replace("64.39.106.0/24", "64.39.106.0/33"),
            "[scope].authorized: invalid CIDR prefix length \"33\"",
        ),
        (
            MINIMAL.replace("\"u\"", "\"a\\tb\""),
            "[qualys].username = \"a\\tb\": control characters",
        ),
        (
            "polling = 3\n".to_owned() + MINIMAL,
            "[polling]: expected a table, found 3",
        ),
        (
            format!("{MINIMAL}[qualys]\n"),
            "invalid TOML: line 6, column 1:",
        ),
    ];
    for (text, want) in cases {
        let e = err(&text);
        assert!(e.starts_with(want), "{text}\n  got: {e}\n want: {want}");
    }
}

#[test]
fn demo_config() {
    let c = Config::demo(
        "http://127.0.0.1:9999/",
        "/tmp/s".into(),
        "/tmp/t".into(),
        "64.39.106.0/24, 10.0.0.1",
    );
    assert_eq!(c.qualys.url, "http://127.0.0.1:9999");
    assert_eq!(c.qualys.username, "demo");
    assert_eq!(
        c.scope.authorized.to_qualys(),
        "10.0.0.1,64.39.106.0-64.39.106.255"
    );
    assert_eq!(c.paths.spool, PathBuf::from("/tmp/s"));
    assert_eq!(c.policy(), Policy::default());
    let bad = Config::demo("http://127.0.0.1:1", "/s".into(), "/t".into(), "not-an-ip");
    assert!(
        bad.scope.authorized.is_empty(),
        "an unparsable scope refuses everything"
    );
}

#[test]
fn retry_timings_are_configurable() {
    let text = "[qualys]\nurl = \"https://qualysapi.qualys.com\"\nusername = \"u\"\n\
                [scope]\nauthorized = [\"64.39.106.0/24\"]\n\
                [polling]\nretry_first = \"2s\"\nretry_max = \"1m\"\n";
    let cfg = Config::parse(text).expect("valid");
    let p = cfg.policy();
    assert_eq!(p.retry_base, Duration::from_secs(2));
    assert_eq!(p.retry_cap, Duration::from_secs(60));
    let defaults = Config::parse(&text.replace("retry_first = \"2s\"\nretry_max = \"1m\"\n", ""))
        .expect("valid")
        .policy();
    assert_eq!(defaults.retry_base, Policy::default().retry_base);
    let bad = Config::parse(&text.replace("\"2s\"", "\"soon\"")).expect_err("bad duration");
    assert!(bad.to_string().contains("retry_first"), "{bad}");
}

#[test]
fn the_absence_proof_takes_the_request_timeout_and_the_margin() {
    let text = "[qualys]\nurl = \"https://qualysapi.qualys.com\"\nusername = \"u\"\nrequest_timeout = \"30s\"\n\
                [scope]\nauthorized = [\"64.39.106.0/24\"]\n\
                [polling]\nabsence_margin = \"2m\"\n";
    let p = Config::parse(text).expect("valid").policy();
    assert_eq!(p.request_timeout, Duration::from_secs(30));
    assert_eq!(p.absence_margin, Duration::from_secs(120));
    let t = crate::time::Timestamp(1_000_000);
    assert_eq!(p.absent_after(t), t.plus(Duration::from_secs(150)));
    let d = Config::parse(&text.replace("absence_margin = \"2m\"\n", ""))
        .expect("valid")
        .policy();
    assert!(
        d.absence_margin >= Duration::from_secs(60),
        "default at least a minute"
    );
}

#[test]
fn the_download_timeout_is_configurable_with_a_sane_default() {
    let text = "[qualys]\nurl = \"https://qualysapi.qualys.com\"\nusername = \"u\"\n\
                [scope]\nauthorized = [\"64.39.106.0/24\"]\n\
                [limits]\ndownload_timeout = \"30m\"\n";
    let c = Config::parse(text).expect("valid");
    assert_eq!(c.limits.download_timeout, Duration::from_secs(1800));
    let d = Config::parse(&text.replace("download_timeout = \"30m\"\n", "")).expect("valid");
    assert_eq!(d.limits.download_timeout, super::DEFAULT_DOWNLOAD_TIMEOUT);
    let bad = Config::parse(&text.replace("\"30m\"", "\"later\"")).expect_err("bad");
    assert!(bad.to_string().contains("download_timeout"), "{bad}");
}

#[test]
fn sizes_parse_with_binary_units() {
    use super::read::parse_size;
    assert_eq!(parse_size("100B"), Some(100));
    assert_eq!(parse_size("4KiB"), Some(4096));
    assert_eq!(parse_size(" 512 MiB "), Some(512 << 20));
    assert_eq!(parse_size("20GiB"), Some(20 << 30));
    assert_eq!(parse_size("2TiB"), Some(2 << 40));
    for bad in [
        "",
        "GiB",
        "20",
        "20GB",
        "20gib",
        "-1GiB",
        "1.5GiB",
        "99999999999TiB",
    ] {
        assert_eq!(parse_size(bad), None, "{bad:?}");
    }
}

// ---- [alerts].webhook_format and [remediation] (action items) ----

#[test]
fn webhook_format_and_remediation_read_and_refuse() {
    let c = Config::parse(MINIMAL).expect("valid");
    assert_eq!(c.alerts.webhook_format, WebhookFormat::Json);
    assert_eq!(c.remediation.days_for(5), Some(7));
    assert_eq!(c.remediation.days_for(4), Some(30));
    assert_eq!(c.remediation.days_for(3), Some(90));
    assert_eq!(c.remediation.days_for(2), None);
    assert_eq!(c.remediation.days_for(0), None);
    let c = Config::parse(&with("alerts", "webhook_format = \"teams\"")).expect("valid");
    assert_eq!(c.alerts.webhook_format, WebhookFormat::Teams);
    let c = Config::parse(&with("remediation", "5 = 3\n3 = 0\n1 = 365")).expect("valid");
    assert_eq!(
        c.remediation.days[1..],
        [Some(365), None, None, Some(30), Some(3)]
    );
    let e = err(&with("alerts", "webhook_format = \"xml\""));
    assert!(
        e.starts_with("[alerts].webhook_format = \"xml\": must be"),
        "{e}"
    );
    let e = err(&with("remediation", "6 = 1"));
    assert!(e.contains("[remediation].6"), "{e}");
    let e = err(&with("remediation", "5 = 4000"));
    assert!(e.contains("must be 0 to 3650"), "{e}");
    // 2024-03-01 + 7 days, across the month end.
    let t = crate::time::Timestamp::parse_rfc3339("2024-02-27T23:00:00Z").expect("time");
    assert_eq!(c.remediation.due(5, t).as_deref(), Some("2024-03-01"));
    assert_eq!(c.remediation.due(3, t), None);
}

#[test]
fn the_metrics_file_defaults_to_the_state_directory() {
    let base = "[qualys]\nurl = \"https://qualysapi.qualys.com\"\nusername = \"u\"\n[scope]\nauthorized = []\n[paths]\nstate = \"/s\"\n";
    let c = Config::parse(base).expect("config");
    assert_eq!(c.paths.metrics_file(), PathBuf::from("/s/baseliner.prom"));
    let c = Config::parse(&format!("{base}metrics = \"/m/baseliner.prom\"\n")).expect("config");
    assert_eq!(c.paths.metrics_file(), PathBuf::from("/m/baseliner.prom"));
}

#[test]
fn retention_is_off_by_default_and_takes_any_duration_but_zero() {
    let c = Config::parse(MINIMAL).expect("minimal");
    assert_eq!(c.retention.remove_after, None);
    let c = Config::parse(&with("retention", "remove_after = \"90d\"")).expect("valid");
    assert_eq!(
        c.retention.remove_after,
        Some(std::time::Duration::from_secs(90 * 86_400))
    );
    let c = Config::parse(&with("retention", "remove_after = \"1s\"")).expect("valid");
    assert_eq!(
        c.retention.remove_after,
        Some(std::time::Duration::from_secs(1))
    );
    let e = err(&with("retention", "remove_after = \"0d\""));
    assert!(
        e.starts_with("[retention].remove_after = \"0d\": must be longer than zero"),
        "{e}"
    );
    let e = err(&with("retention", "keep = 3"));
    assert!(e.contains("[retention].keep"), "{e}");
}
