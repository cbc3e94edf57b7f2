//! Unit tests of `job.rs`.

use super::*;

fn rules() -> JobRules {
    JobRules::new(IpSet::parse_entries(&["64.39.106.0/24"]).expect("valid scope"))
}

fn toml_job(body: &str) -> Result<Job, JobError> {
    parse_job("job.toml", body.as_bytes(), &rules())
}

fn err(body: &str) -> String {
    let e = toml_job(body).expect_err(body).to_string();
    assert!(!e.contains('\n'), "one line: {e}");
    e
}

const MINIMAL: &str = "organization = \"Acme\"\nips = [\"64.39.106.0-64.39.106.3\"]\n";

#[test]
fn minimal_job_takes_defaults() {
    let job = toml_job(MINIMAL).expect("valid");
    assert_eq!(job.organization, "Acme");
    assert_eq!(job.ips.to_qualys(), "64.39.106.0-64.39.106.3");
    assert_eq!(job.option_title, "New IPs option profile");
    assert_eq!(job.scan_title, "Acquisition scan of Acme");
    assert_eq!(job.comments, "Created via automation for Acme.");
    assert_eq!(job.report_template_id, None);
    assert_eq!(job.report_format, ReportFormat::Pdf);
    assert_eq!(
        job.results,
        Results {
            report: true,
            raw: true
        }
    );
    assert_eq!(job.scanner_appliance, None);
    assert_eq!(job.tracking_method, TrackingMethod::Ip);
    assert!(!job.plan_report());
}

#[test]
fn full_json_job() {
    let body = r#"{"organization": " Acme Corp ", "ips": ["64.39.106.9", "64.39.106.8/31"],
        "option_title": "Deep", "scan_title": "T", "comments": "", "report_template_id": 91,
        "report_format": "CSV", "results": ["report"], "tracking_method": "netbios"}"#;
    let job = parse_job("x.JSON", body.as_bytes(), &rules()).expect("valid");
    assert_eq!(job.organization, "Acme Corp");
    assert_eq!(job.ips.to_qualys(), "64.39.106.8-64.39.106.9");
    assert_eq!(job.option_title, "Deep");
    assert_eq!(job.scan_title, "T");
    assert_eq!(job.comments, "");
    assert_eq!(job.report_template_id, Some(91));
    assert_eq!(job.report_format, ReportFormat::Csv);
    assert_eq!(
        job.results,
        Results {
            report: true,
            raw: false
        }
    );
    assert_eq!(job.tracking_method, TrackingMethod::Netbios);
    assert!(job.plan_report());
}

#[test]
fn config_defaults_apply() {
    let mut r = rules();
    r.defaults = JobDefaults {
        option_title: "Light".into(),
        report_template_id: 7,
        report_format: ReportFormat::Html,
        results: Results {
            report: true,
            raw: false,
        },
    };
    let job = parse_job("a.toml", MINIMAL.as_bytes(), &r).expect("valid");
    assert_eq!(job.option_title, "Light");
    assert_eq!(job.report_template_id, Some(7));
    assert_eq!(job.report_format, ReportFormat::Html);
    assert!(job.plan_report());
    let job = toml_job(&format!("{MINIMAL}report_template_id = 0\n")).expect("valid");
    assert_eq!(job.report_template_id, None);
}

#[test]
fn file_level_errors() {
    let e = parse_job("job.yaml", b"", &rules()).expect_err("yaml");
    assert_eq!(
        e.to_string(),
        "job file \"job.yaml\": name must end in .toml or .json"
    );
    let e = parse_job("job.toml", b"organization = \"\xff\"", &rules()).expect_err("latin-1");
    assert_eq!(
        e.to_string(),
        "job file \"job.toml\": not UTF-8 (invalid byte at offset 16)"
    );
    let e = parse_job("j.toml", b"organization = \n", &rules()).expect_err("syntax");
    assert!(
        e.to_string()
            .starts_with("job file \"j.toml\": invalid TOML: line 1, column"),
        "{e}"
    );
    assert!(!e.to_string().contains('\n'));
    let e = parse_job("j.json", b"{\"organization\": }", &rules()).expect_err("syntax");
    assert!(e.to_string().contains("invalid JSON"), "{e}");
    let e = parse_job("j.json", b"[1]", &rules()).expect_err("array");
    assert_eq!(e.to_string(), "a job must be a table of fields, found [1]");
    let bom = format!("\u{feff}{MINIMAL}");
    assert!(parse_job("bom.toml", bom.as_bytes(), &rules()).is_ok());
}

#[test]
fn field_errors_name_field_and_value() {
    let cases: Vec<(String, &str)> = vec![
        (format!("{MINIMAL}colour = 1\n"), "unknown field \"colour\""),
        ("ips = [\"64.39.106.1\"]\n".into(), "organization: required"),
        ("organization = \"A\"\n".into(), "ips: required"),
        (
            "organization = \"  \"\nips = [\"64.39.106.1\"]\n".into(),
            "organization: must not be empty",
        ),
        (
            "organization = \"A\\tB\"\nips = [\"64.39.106.1\"]\n".into(),
            "organization: control characters are not allowed, found \"A\\tB\"",
        ),
        (
            format!("{MINIMAL}comments = \"a\\nb\"\n"),
            "comments: control characters are not allowed, found \"a\\nb\"",
        ),
        (
            format!("{MINIMAL}scan_title = \"\"\n"),
            "scan_title: must not be empty",
        ),
        (
            format!("{MINIMAL}option_title = 3\n"),
            "option_title: expected a string, found 3",
        ),
        (
            format!("{MINIMAL}scanner_appliance = \"x\\u0007\"\n"),
            "scanner_appliance: control characters",
        ),
        (
            format!("{MINIMAL}report_format = \"odt\"\n"),
            "report_format: \"odt\" is not one of pdf, html, mht, xml, csv, docx",
        ),
        (
            format!("{MINIMAL}tracking_method = \"MAC\"\n"),
            "tracking_method: \"MAC\" is not one of IP, DNS, NETBIOS",
        ),
        (
            format!("{MINIMAL}results = [\"pdf\"]\n"),
            "results: \"pdf\" is not one of report, raw",
        ),
        (
            format!("{MINIMAL}results = []\n"),
            "results: \"\" is not one of report, raw (at least one)",
        ),
        (
            format!("{MINIMAL}results = [\"report\"]\n"),
            "results: [\"report\"] needs a report_template_id",
        ),
        (
            format!("{MINIMAL}report_template_id = -4\n"),
            "report_template_id: expected a non-negative integer, found -4",
        ),
        (
            "organization = \"A\"\nips = []\n".into(),
            "ips: must list at least one address",
        ),
        (
            "organization = \"A\"\nips = \"64.39.106.1\"\n".into(),
            "ips: expected a list of strings, found \"64.39.106.1\"",
        ),
        (
            "organization = \"A\"\nips = [\"64.39.106.9-64.39.106.1\"]\n".into(),
            "ips: reversed range \"64.39.106.9-64.39.106.1\"",
        ),
        (
            "organization = \"A\"\nips = [\"::1\"]\n".into(),
            "ips: IPv6 is not supported: \"::1\"",
        ),
        (
            "organization = \"A\"\nips = [\"64.39.107.1\"]\n".into(),
            "ips: 64.39.107.1 is outside the authorized scope ([scope].authorized)",
        ),
    ];
    for (body, want) in cases {
        let e = err(&body);
        assert!(e.contains(want), "{body:?}\n  got: {e}\n want: {want}");
    }
}

#[test]
fn template_id_beyond_toml_is_refused() {
    let body = format!(
        r#"{{"organization": "A", "ips": ["64.39.106.1"], "report_template_id": {}}}"#,
        u64::MAX
    );
    let e = parse_job("a.json", body.as_bytes(), &rules()).expect_err("too large");
    assert_eq!(
        e.to_string(),
        format!("report_template_id: {} is too large", u64::MAX)
    );
}

#[test]
fn length_limits() {
    let org = "o".repeat(ORGANIZATION_MAX_CHARS);
    let ok = toml_job(&format!(
        "organization = \"{org}\"\nips = [\"64.39.106.1\"]\ncomments = \"c\"\n"
    ))
    .expect("255 fits");
    assert_eq!(ok.organization.chars().count(), 255);
    let e = err(&format!(
        "organization = \"{org}é\"\nips = [\"64.39.106.1\"]\n"
    ));
    assert!(
        e.starts_with("organization: 256 characters, at most 255 allowed: \"ooo"),
        "{e}"
    );

    let max_title = SCAN_TITLE_MAX_CHARS - JOB_ID_MAX_LEN - 3;
    let title = "t".repeat(max_title);
    let job = toml_job(&format!("{MINIMAL}scan_title = \"{title}\"\n")).expect("fits");
    let id = "i".repeat(JOB_ID_MAX_LEN);
    assert_eq!(
        job.scan_title_with_id(&id).chars().count(),
        SCAN_TITLE_MAX_CHARS
    );
    assert!(job.scan_title_with_id(&id).ends_with(&format!("t [{id}]")));
    let e = err(&format!("{MINIMAL}scan_title = \"{title}x\"\n"));
    assert!(
        e.starts_with(&format!(
            "scan_title: {} characters, at most {max_title} allowed",
            max_title + 1
        )),
        "{e}"
    );
}

#[test]
fn titles_carry_the_id_within_limits() {
    let job = toml_job(MINIMAL).expect("valid");
    assert_eq!(
        job.scan_title_with_id("20250101T000000-7"),
        "Acquisition scan of Acme [20250101T000000-7]"
    );
    assert_eq!(job.report_title_with_id("J1"), "Baseline of Acme [J1]");

    let long = toml_job(&format!(
        "organization = \"{}\"\nips = [\"64.39.106.1\"]\ncomments = \"c\"\n",
        "Ünïcode Org ".repeat(20)
    ))
    .expect("valid");
    let id = "x".repeat(JOB_ID_MAX_LEN);
    let title = long.report_title_with_id(&id);
    assert!(title.chars().count() <= REPORT_TITLE_MAX_CHARS, "{title}");
    assert!(title.starts_with("Baseline of Ünïcode Org"));
    assert!(title.ends_with(&format!("[{id}]")));
    assert!(
        !title.contains("  ["),
        "trailing blanks are dropped: {title}"
    );
    // An id beyond the documented maximum still never breaks the limit.
    let huge = "y".repeat(500);
    assert_eq!(
        long.report_title_with_id(&huge).chars().count(),
        REPORT_TITLE_MAX_CHARS
    );
    assert!(long.scan_title_with_id(&huge).chars().count() <= SCAN_TITLE_MAX_CHARS);
}

#[test]
fn max_addresses() {
    let mut r = rules();
    r.max_addresses = 4;
    let ok = parse_job("a.toml", MINIMAL.as_bytes(), &r).expect("4 addresses");
    assert_eq!(ok.ips.len(), 4);
    let body = "organization = \"A\"\nips = [\"64.39.106.0/29\"]\n";
    let e = parse_job("a.toml", body.as_bytes(), &r).expect_err("8 > 4");
    assert_eq!(
        e.to_string(),
        "ips: 8 addresses, more than the limit of 4 ([limits].max_addresses)"
    );
}

#[test]
fn private_needs_appliance_and_allow_private() {
    let mut r = JobRules::new(IpSet::parse_entries(&["10.0.0.0/8"]).expect("valid"));
    let plain = "organization = \"A\"\nips = [\"10.0.0.1-10.0.0.5\"]\n";
    let internal = format!("{plain}scanner_appliance = \"scanner-1\"\n");
    let e = parse_job("a.toml", plain.as_bytes(), &r).expect_err("private");
    assert!(
        e.to_string().starts_with(
            "ips: 10.0.0.1-10.0.0.5 is private address space (allowed only for internal scans"
        ),
        "{e}"
    );
    let e = parse_job("a.toml", internal.as_bytes(), &r).expect_err("not allowed");
    assert_eq!(
        e.to_string(),
        "ips: 10.0.0.1-10.0.0.5 is private address space ([scope].allow_private is false)"
    );
    r.allow_private = true;
    assert!(
        parse_job("a.toml", plain.as_bytes(), &r).is_err(),
        "still needs an appliance"
    );
    let job = parse_job("a.toml", internal.as_bytes(), &r).expect("internal scan");
    assert_eq!(job.scanner_appliance.as_deref(), Some("scanner-1"));
}

#[test]
fn job_to_toml_round_trips() {
    let mut r = JobRules::new(IpSet::parse_entries(&["0.0.0.0/0"]).expect("valid"));
    r.allow_private = true;
    let bodies = [
        MINIMAL.to_owned(),
        r#"organization = "Quote \" and \\ and 'single' and ünï"
ips = ["10.0.0.3", "10.0.0.1-10.0.0.2", "192.168.0.0/30"]
option_title = "Opt"
scan_title = "S"
comments = ""
report_template_id = 12
report_format = "docx"
results = ["raw", "report"]
scanner_appliance = "appl"
tracking_method = "dns"
"#
        .to_owned(),
    ];
    for body in bodies {
        let job = parse_job("in.toml", body.as_bytes(), &r).expect("valid");
        let text = job_to_toml(&job);
        let again = parse_job("job.toml", text.as_bytes(), &r).expect(&text);
        assert_eq!(again, job, "{text}");
        // Canonical: writing the re-read job gives the same text.
        assert_eq!(job_to_toml(&again), text);
    }
}

#[test]
fn draft_writes_only_set_fields() {
    let mut draft = JobDraft {
        organization: "Acme".into(),
        ips: vec!["64.39.106.1".into(), "64.39.106.2".into()],
        ..JobDraft::default()
    };
    let text = draft.to_toml();
    assert_eq!(
        text,
        "organization = \"Acme\"\nips = [\"64.39.106.1\", \"64.39.106.2\"]\n"
    );
    let job = parse_job("d.toml", text.as_bytes(), &rules()).expect("valid draft");
    assert_eq!(job.ips.to_qualys(), "64.39.106.1-64.39.106.2");

    draft.report_template_id = Some(5);
    draft.results = Some(vec!["report".into()]);
    draft.report_format = Some("xml".into());
    draft.tracking_method = Some("DNS".into());
    draft.comments = Some("c".into());
    let job = parse_job("d.toml", draft.to_toml().as_bytes(), &rules()).expect("valid draft");
    assert_eq!(
        (job.report_template_id, job.report_format),
        (Some(5), ReportFormat::Xml)
    );
    assert_eq!(
        (job.tracking_method, job.comments.as_str()),
        (TrackingMethod::Dns, "c")
    );

    draft.report_format = Some("bogus".into());
    let e = parse_job("d.toml", draft.to_toml().as_bytes(), &rules()).expect_err("bad format");
    assert!(e.to_string().contains("\"bogus\""), "{e}");
}

#[test]
fn example_jobs_parse() {
    let toml = include_str!("../../../../config/jobs/acme.toml");
    let json = include_str!("../../../../config/jobs/acme.json");
    // The examples name no template: a subscription's own comes from [defaults].
    let mut rules = rules();
    rules.defaults.report_template_id = 4242;
    let a = parse_job("acme.toml", toml.as_bytes(), &rules).expect("example TOML job");
    let b = parse_job("acme.json", json.as_bytes(), &rules).expect("example JSON job");
    assert_eq!(a, b);
    assert_eq!(a.organization, "Acme Corp");
    assert_eq!(a.ips.to_qualys(), "64.39.106.0-64.39.106.3");
    assert_eq!(a.report_template_id, Some(4242));
    assert!(a.plan_report());
}

#[test]
fn qualys_limits_on_group_title_and_comments() {
    for all in ["All", "all", " ALL "] {
        let e = err(&format!(
            "organization = \"{all}\"\nips = [\"64.39.106.1\"]\n"
        ));
        assert!(
            e.starts_with("organization: \"") && e.contains("reserved"),
            "{e}"
        );
    }
    assert!(toml_job("organization = \"Allied\"\nips = [\"64.39.106.1\"]\n").is_ok());

    let c = "c".repeat(COMMENTS_MAX_CHARS);
    let job = toml_job(&format!("{MINIMAL}comments = \"{c}\"\n")).expect("255 fits");
    assert_eq!(job.comments.chars().count(), COMMENTS_MAX_CHARS);
    let e = err(&format!("{MINIMAL}comments = \"{c}é\"\n"));
    assert!(
        e.starts_with("comments: 256 characters, at most 255 allowed"),
        "{e}"
    );

    // The default comment counts too: "Created via automation for " + ORG + "." is 28
    // characters more than the organization.
    let fits = "o".repeat(COMMENTS_MAX_CHARS - 28);
    let job = toml_job(&format!(
        "organization = \"{fits}\"\nips = [\"64.39.106.1\"]\n"
    ))
    .expect("default comment of 255 fits");
    assert_eq!(job.comments.chars().count(), COMMENTS_MAX_CHARS);
    let e = err(&format!(
        "organization = \"{fits}o\"\nips = [\"64.39.106.1\"]\n"
    ));
    assert!(
        e.starts_with("comments: the default comment")
            && e.contains("256 characters, at most 255")
            && e.contains("set comments"),
        "{e}"
    );
    let long_org = "o".repeat(ORGANIZATION_MAX_CHARS);
    toml_job(&format!(
        "organization = \"{long_org}\"\nips = [\"64.39.106.1\"]\ncomments = \"short\"\n"
    ))
    .expect("a 255-character organization with its own comments");
}

#[test]
fn hostile_text_is_refused_in_every_text_field() {
    let hostile = [
        ('\u{202E}', "U+202E"),
        ('\u{2066}', "U+2066"),
        ('\u{200B}', "U+200B"),
        ('\u{2060}', "U+2060"),
        ('\u{FEFF}', "U+FEFF"),
        ('\u{061C}', "U+061C"),
        ('\u{200F}', "U+200F"),
    ];
    let fields = [
        "organization",
        "option_title",
        "scan_title",
        "comments",
        "scanner_appliance",
        "report_format",
        "tracking_method",
    ];
    for (c, code) in hostile {
        for field in fields {
            let body = if field == "organization" {
                format!("organization = \"Evil{c}gpj.exe\"\nips = [\"64.39.106.1\"]\n")
            } else {
                format!("{MINIMAL}{field} = \"x{c}y\"\n")
            };
            let e = err(&body);
            assert!(
                e.starts_with(&format!("{field}: invisible format character {code}")),
                "{field} with {code}: {e}"
            );
            assert!(!e.contains(c), "the error shows the character escaped: {e}");
        }
        // List items too.
        let e = err(&format!(
            "organization = \"A\"\nips = [\"64.39.106.1{c}\"]\n"
        ));
        assert!(
            e.starts_with(&format!("ips: invisible format character {code}")),
            "{e}"
        );
        let e = err(&format!("{MINIMAL}results = [\"raw{c}\"]\n"));
        assert!(e.starts_with("results: invisible format character"), "{e}");
    }
    let e = err("organization = \"A\"\nips = [\"64.39.106.1\\n\"]\n");
    assert!(e.starts_with("ips: control characters"), "{e}");

    // ZWNJ and ZWJ are parts of real names: kept.
    let persian = "\u{0645}\u{06CC}\u{200C}\u{0631}";
    let joined = "\u{0915}\u{094D}\u{200D}\u{0937} Ltd";
    for org in [persian, joined] {
        let job = toml_job(&format!(
            "organization = \"{org}\"\nips = [\"64.39.106.1\"]\n"
        ))
        .expect("ZWJ/ZWNJ are allowed");
        assert_eq!(job.organization, org);
    }
}

#[test]
fn brackets_are_refused_in_user_titles() {
    for (field, body) in [
        (
            "organization",
            "organization = \"Acme [20260101T000000-1]\"\nips = [\"64.39.106.1\"]\n".to_owned(),
        ),
        (
            "scan_title",
            format!("{MINIMAL}scan_title = \"Scan [20260101T000000-1]\"\n"),
        ),
        ("scan_title", format!("{MINIMAL}scan_title = \"a]b\"\n")),
    ] {
        let e = err(&body);
        assert!(
            e.starts_with(&format!("{field}: '[' and ']' are reserved")),
            "{e}"
        );
    }
    // Brackets elsewhere are Qualys's business, not a title's.
    toml_job(&format!("{MINIMAL}comments = \"see [1]\"\n")).expect("comments may hold brackets");
}

#[test]
fn a_comma_in_the_scanner_appliance_is_refused() {
    // Qualys splits iscanner_name at commas (qualys-api.md §6.1): "a,b" would scan with two.
    let text = format!("{MINIMAL}scanner_appliance = \"scanner-dc1,scanner-dc2\"\n");
    let e = parse_job("a.toml", text.as_bytes(), &rules()).expect_err("refused");
    assert!(
        e.to_string().starts_with("scanner_appliance: a comma"),
        "{e}"
    );
}
