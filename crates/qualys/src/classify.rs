//! Turning one HTTP response (status, limit headers, body) into a parsed value or a
//! classified [`ApiError`]: the body's CODE first, the HTTP status second.

use std::time::Duration;

use roxmltree::Document;

use crate::body_kind::looks_html;
use crate::error::{excerpt, ApiError, ErrorKind};
use crate::limits::Limits;
use crate::parse::prolog::XmlRefused;
use crate::parse::simple::{parse_return, Outcome};
use crate::parse::xml::{parse_doc, trim_start, without_empty_subset};
use crate::parse::ParseError;

/// What the classifier needs to know about the call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx<'a> {
    /// The API key.
    pub api: &'a str,
    /// Whether the call may be repeated after an unclear failure.
    pub safe: bool,
}

impl Ctx<'_> {
    /// An error of this call.
    pub(crate) fn error(
        &self,
        kind: ErrorKind,
        http_status: Option<u16>,
        code: Option<u32>,
        text: impl Into<String>,
        limits: Limits,
    ) -> ApiError {
        ApiError {
            kind,
            api: self.api.to_string(),
            http_status,
            code,
            text: text.into(),
            limits,
        }
    }

    /// `Transient` for a safe call, `Ambiguous` otherwise.
    pub(crate) fn unclear(&self) -> ErrorKind {
        if self.safe {
            ErrorKind::Transient
        } else {
            ErrorKind::Ambiguous
        }
    }
}

/// Decodes a complete response body, running `parse` on a successful XML document.
pub(crate) fn decode<T>(
    ctx: Ctx<'_>,
    status: u16,
    limits: Limits,
    body: &[u8],
    parse: impl FnOnce(&Document<'_>) -> Result<T, ParseError>,
) -> Result<T, ApiError> {
    let text = String::from_utf8_lossy(body);
    let start = trim_start(&text);
    if !start.starts_with('<') || looks_html(start) {
        return Err(non_xml(ctx, status, limits, &text));
    }
    // The prolog guard runs before the parser: a hostile body costs a few bytes of work.
    let start = match without_empty_subset(start) {
        Ok(clean) => clean,
        Err(refused) => return Err(hostile(ctx, status, limits, refused)),
    };
    let doc = match parse_doc(&start) {
        Ok(doc) => doc,
        Err(ParseError::Refused(refused)) => return Err(hostile(ctx, status, limits, refused)),
        Err(_) => return Err(non_xml(ctx, status, limits, &text)),
    };
    if let Some(ret) = parse_return(&doc) {
        match ret {
            Ok(outcome) if outcome.failed => {
                return Err(by_code(ctx, status, limits, &outcome));
            }
            Ok(_) => {}
            Err(e) if is_success(status) => {
                return Err(ctx.error(
                    ErrorKind::Protocol,
                    Some(status),
                    None,
                    format!("{e}: {}", excerpt(&text)),
                    limits,
                ));
            }
            Err(_) => {}
        }
    }
    if !is_success(status) {
        return Err(by_status(ctx, status, None, limits, excerpt(&text)));
    }
    parse(&doc).map_err(|e| {
        ctx.error(
            ErrorKind::Protocol,
            Some(status),
            None,
            format!("{e}: {}", excerpt(&text)),
            limits,
        )
    })
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// A body refused by the prolog guard (an internal DTD subset, an entity declaration):
/// always [`ErrorKind::Protocol`], whatever the status, retried later with backoff.
pub(crate) fn hostile(ctx: Ctx<'_>, status: u16, limits: Limits, refused: XmlRefused) -> ApiError {
    ctx.error(
        ErrorKind::Protocol,
        Some(status),
        None,
        format!("{refused}; Qualys sends only external DOCTYPEs, so the body was not parsed"),
        limits,
    )
}

/// A body that is not XML: maintenance pages and gateway errors are transient.
fn non_xml(ctx: Ctx<'_>, status: u16, limits: Limits, text: &str) -> ApiError {
    let lower = text.to_ascii_lowercase();
    if lower.contains("maintenance") {
        return ctx.error(
            ErrorKind::Transient,
            Some(status),
            None,
            format!("maintenance page: {}", excerpt(text)),
            limits,
        );
    }
    if is_success(status) {
        return ctx.error(
            ErrorKind::Protocol,
            Some(status),
            None,
            format!("unexpected non-XML body: {}", excerpt(text)),
            limits,
        );
    }
    by_status(ctx, status, None, limits, excerpt(text))
}

/// Classification by the Qualys CODE of a failed return.
fn by_code(ctx: Ctx<'_>, status: u16, limits: Limits, o: &Outcome) -> ApiError {
    let kind = match o.code {
        Some(1965) => ErrorKind::RateLimited {
            wait: rate_wait(&limits, o),
        },
        Some(1960 | 1920) => ErrorKind::ConcurrencyLimited,
        Some(2000 | 2010) => ErrorKind::BadCredentials,
        Some(2001) => ErrorKind::AccountExpired,
        Some(2002) => ErrorKind::AccountInactive,
        Some(2003) => ErrorKind::Registration,
        Some(2007) => ErrorKind::SourceIpRefused,
        Some(2011) => ErrorKind::AccessBlocked,
        Some(2012) => ErrorKind::NotLicensed,
        Some(1901 | 1903 | 1904 | 1905 | 1907 | 1908 | 1922 | 5000) => ErrorKind::InvalidParameter,
        Some(7001) => ErrorKind::NotReady,
        // Scheduled maintenance (§3.2): the request was not served.
        Some(1999) => ErrorKind::Transient,
        // "Request is being processed, try again later" (§3.2): a mutation may still be
        // applied, so it is ambiguous for an unsafe call (the stricter reading).
        Some(999 | 1981) => ctx.unclear(),
        _ => return by_status(ctx, status, o.code, limits, o.text.clone()),
    };
    ctx.error(kind, Some(status), o.code, o.text.clone(), limits)
}

/// The wait of a rate-limit answer: the header (already clamped), else the body's
/// `SECONDS_TO_WAIT`, clamped the same way ([`Limits::clamp_wait`]).
fn rate_wait(limits: &Limits, o: &Outcome) -> Option<Duration> {
    limits
        .to_wait_sec
        .filter(|&s| s > 0)
        .or_else(|| {
            o.item("SECONDS_TO_WAIT")
                .and_then(|v| v.trim().parse().ok())
                .map(|s| limits.clamp_wait(s))
        })
        .map(Duration::from_secs)
}

/// Classification by HTTP status, when the body carried no CODE this client knows: an
/// unknown CODE on a 409 or a 5xx is a limit or a passing failure, never a permanent one
/// (§3.2); on another status it is [`ErrorKind::Rejected`].
fn by_status(
    ctx: Ctx<'_>,
    status: u16,
    code: Option<u32>,
    limits: Limits,
    text: String,
) -> ApiError {
    let kind = match status {
        401 => ErrorKind::BadCredentials,
        409 => {
            let busy = matches!(
                (limits.concurrency_running, limits.concurrency_limit),
                (Some(r), Some(l)) if r >= l
            );
            match limits.to_wait_sec.filter(|&s| s > 0) {
                Some(s) => ErrorKind::RateLimited {
                    wait: Some(Duration::from_secs(s)),
                },
                None if busy => ErrorKind::ConcurrencyLimited,
                None => ErrorKind::RateLimited { wait: None },
            }
        }
        500..=599 => ctx.unclear(),
        _ if code.is_some() => ErrorKind::Rejected,
        _ => ErrorKind::Protocol,
    };
    ctx.error(kind, Some(status), code, text, limits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::samples as s;

    const API: &str = "/api/2.0/fo/test/?action=x";

    fn run(status: u16, limits: Limits, body: &str, safe: bool) -> Result<String, ApiError> {
        decode(
            Ctx { api: API, safe },
            status,
            limits,
            body.as_bytes(),
            |doc| Ok(doc.root_element().tag_name().name().to_string()),
        )
    }

    fn kind(status: u16, body: &str) -> ErrorKind {
        run(status, Limits::default(), body, true)
            .expect_err("should be an error")
            .kind
    }

    #[test]
    fn error_table_from_samples() {
        assert_eq!(kind(401, s::ERROR_2000), ErrorKind::BadCredentials);
        assert_eq!(kind(200, s::ERROR_2001), ErrorKind::AccountExpired);
        assert_eq!(kind(400, s::ERROR_1903), ErrorKind::InvalidParameter);
        assert_eq!(kind(400, s::ERROR_1905), ErrorKind::InvalidParameter);
        assert_eq!(kind(200, s::ASSET_IP_1905), ErrorKind::InvalidParameter);
        assert_eq!(kind(200, s::V1_ERROR_5000), ErrorKind::InvalidParameter);
        assert_eq!(kind(409, s::ERROR_1960), ErrorKind::ConcurrencyLimited);
        assert_eq!(kind(200, s::REPORT_NOT_READY_7001), ErrorKind::NotReady);
        assert_eq!(kind(301, s::REDIRECT_301), ErrorKind::Protocol);
        assert_eq!(
            kind(409, s::ERROR_1965),
            ErrorKind::RateLimited {
                wait: Some(Duration::from_secs(68928))
            }
        );
    }

    #[test]
    fn error_carries_code_text_status_limits() {
        let limits = Limits {
            remaining: Some(0),
            ..Limits::default()
        };
        let e = run(400, limits, s::ERROR_1905, false).expect_err("error");
        assert_eq!(e.code, Some(1905));
        assert_eq!(e.http_status, Some(400));
        assert_eq!(e.api, API);
        assert_eq!(e.limits, limits);
        assert!(
            e.text.contains("parameter ids has invalid value: abc123"),
            "{}",
            e.text
        );
    }

    #[test]
    fn header_wait_wins_over_body() {
        let limits = Limits {
            to_wait_sec: Some(181),
            ..Limits::default()
        };
        let e = run(409, limits, s::ERROR_1965, true).expect_err("error");
        assert_eq!(
            e.kind,
            ErrorKind::RateLimited {
                wait: Some(Duration::from_secs(181))
            }
        );
    }

    #[test]
    fn a_hostile_body_wait_is_clamped_to_the_window() {
        let body = s::ERROR_1965.replace("68928", "999999999");
        let window = Limits {
            window_sec: Some(3600),
            ..Limits::default()
        };
        let e = run(409, window, &body, true).expect_err("error");
        assert_eq!(
            e.kind,
            ErrorKind::RateLimited {
                wait: Some(Duration::from_secs(3600))
            }
        );
        let e = run(409, Limits::default(), &body, true).expect_err("error");
        assert_eq!(
            e.kind,
            ErrorKind::RateLimited {
                wait: Some(Duration::from_secs(crate::limits::MAX_TO_WAIT))
            }
        );
    }

    #[test]
    fn bare_409_uses_headers() {
        let wait = Limits {
            to_wait_sec: Some(7),
            ..Limits::default()
        };
        let e = run(409, wait, "", true).expect_err("error");
        assert_eq!(
            e.kind,
            ErrorKind::RateLimited {
                wait: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(kind(409, ""), ErrorKind::RateLimited { wait: None });
    }

    #[test]
    fn internal_error_999_depends_on_safety() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n\
            <!DOCTYPE GENERIC_RETURN SYSTEM \"https://h/generic_return.dtd\">\n\
            <GENERIC_RETURN><API name=\"index.php\" username=\"u\" at=\"t\"/>\
            <RETURN status=\"FAILED\" number=\"999\">Internal error. Please contact customer \
            support.</RETURN></GENERIC_RETURN>\n<!-- Incident signature: abc //-->";
        let safe = run(200, Limits::default(), body, true).expect_err("error");
        assert_eq!((safe.kind, safe.code), (ErrorKind::Transient, Some(999)));
        let unsafe_ = run(500, Limits::default(), body, false).expect_err("error");
        assert_eq!(unsafe_.kind, ErrorKind::Ambiguous);
    }

    #[test]
    fn five_xx_and_maintenance() {
        let gateway = "<html><body><h1>502 Bad Gateway</h1></body></html>";
        assert_eq!(kind(502, gateway), ErrorKind::Transient);
        let e = run(502, Limits::default(), gateway, false).expect_err("error");
        assert_eq!(e.kind, ErrorKind::Ambiguous);
        let maint = "<!DOCTYPE html><html><title>Service Unavailable</title>\
                     <p>Qualys is down for scheduled maintenance.</p></html>";
        let e = run(503, Limits::default(), maint, false).expect_err("error");
        assert_eq!(e.kind, ErrorKind::Transient);
        assert_eq!(kind(500, "oops"), ErrorKind::Transient);
    }

    #[test]
    fn a_refused_source_ip_is_an_account_problem() {
        let body = "<SIMPLE_RETURN><RESPONSE><CODE>2007</CODE>\
                    <TEXT>Your IP address is not in the list of secure IPs.</TEXT>\
                    </RESPONSE></SIMPLE_RETURN>";
        let k = kind(200, body);
        assert_eq!(k, ErrorKind::SourceIpRefused);
        assert!(k.is_account_problem());
    }

    fn with_code(code: u32) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n\
             <!DOCTYPE SIMPLE_RETURN SYSTEM \"https://h/api/2.0/simple_return.dtd\">\n\
             <SIMPLE_RETURN><RESPONSE><DATETIME>2026-12-01T00:00:00Z</DATETIME>\
             <CODE>{code}</CODE><TEXT>text of {code}</TEXT></RESPONSE></SIMPLE_RETURN>"
        )
    }

    #[test]
    fn account_codes_pause_at_any_status() {
        for (code, want) in [
            (2000, ErrorKind::BadCredentials),
            (2001, ErrorKind::AccountExpired),
            (2002, ErrorKind::AccountInactive),
            (2003, ErrorKind::Registration),
            (2007, ErrorKind::SourceIpRefused),
            (2010, ErrorKind::BadCredentials),
            (2011, ErrorKind::AccessBlocked),
            (2012, ErrorKind::NotLicensed),
        ] {
            for status in [200, 401, 403, 409, 500] {
                let e = run(status, Limits::default(), &with_code(code), false).expect_err("error");
                assert_eq!(e.kind, want, "CODE {code} at {status}");
                assert!(e.kind.is_account_problem(), "CODE {code}");
                assert_eq!(e.code, Some(code));
            }
        }
    }

    #[test]
    fn busy_and_maintenance_codes_are_transient() {
        for status in [200, 409, 503] {
            let e = run(status, Limits::default(), &with_code(1999), false).expect_err("error");
            assert_eq!(e.kind, ErrorKind::Transient, "1999 at {status}");
            let e = run(status, Limits::default(), &with_code(1981), true).expect_err("error");
            assert_eq!(e.kind, ErrorKind::Transient, "1981 at {status}");
            // A mutation answered "being processed" may still be applied.
            let e = run(status, Limits::default(), &with_code(1981), false).expect_err("error");
            assert_eq!(e.kind, ErrorKind::Ambiguous, "1981 at {status}, unsafe");
        }
    }

    #[test]
    fn an_unknown_code_on_409_or_5xx_is_never_permanent() {
        for code in [1982, 4242, 65000] {
            for status in [409, 500, 502, 503, 504] {
                for safe in [true, false] {
                    let e = run(status, Limits::default(), &with_code(code), safe).expect_err("e");
                    assert!(
                        !matches!(e.kind, ErrorKind::Rejected | ErrorKind::InvalidParameter),
                        "CODE {code} at {status}: {e}"
                    );
                    assert!(
                        e.kind.is_retryable() || e.kind == ErrorKind::Ambiguous,
                        "CODE {code} at {status}: {e}"
                    );
                }
            }
            assert_eq!(kind(200, &with_code(code)), ErrorKind::Rejected);
            assert_eq!(kind(403, &with_code(code)), ErrorKind::Rejected);
        }
    }

    #[test]
    fn unknown_code_is_rejected_and_garbage_is_protocol() {
        let body = "<SIMPLE_RETURN><RESPONSE><CODE>2999</CODE><TEXT>Access denied</TEXT>\
                    </RESPONSE></SIMPLE_RETURN>";
        assert_eq!(kind(200, body), ErrorKind::Rejected);
        let e = run(200, Limits::default(), "not xml at all", true).expect_err("error");
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(e.text.contains("not xml at all"));
        assert_eq!(kind(200, "<A><B></A>"), ErrorKind::Protocol);
    }

    /// A flat entity expansion: one 10 KB entity referenced until the body is 500 KB
    /// (about 5 GB once expanded).
    fn entity_bomb(root: &str) -> String {
        let mut body = format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE {root} [\n<!ENTITY e \"{}\">\n]>\n<{root}>",
            "x".repeat(10_000)
        );
        while body.len() < 500_000 {
            body.push_str("&e;");
        }
        body.push_str(&format!("</{root}>"));
        body
    }

    #[test]
    fn an_entity_bomb_is_refused_as_protocol_at_any_status() {
        for root in ["SCAN_LIST_OUTPUT", "SIMPLE_RETURN"] {
            let body = entity_bomb(root);
            for (status, safe) in [
                (200, true),
                (200, false),
                (400, true),
                (409, true),
                (500, false),
            ] {
                let e = run(status, Limits::default(), &body, safe).expect_err("refused");
                assert_eq!(e.kind, ErrorKind::Protocol, "{status}: {e}");
                assert!(e.text.contains("<!ENTITY"), "{e}");
                assert_eq!(e.http_status, Some(status));
            }
        }
    }

    #[test]
    fn hostile_prologs_are_refused_and_clean_ones_parse() {
        for body in [
            "\u{feff}<!DOCTYPE X [<!ENTITY a \"b\">]><X>&a;</X>",
            "<!-- c --> <!-- d -->\n<!DOCTYPE X SYSTEM\n\"x.dtd\" [<!ENTITY a \"b\">]><X/>",
            "<!DOCTYPE X SYSTEM \"<!ENTITY a 'b'>\"><X/>",
            "<!ENTITY a \"b\"><X/>",
        ] {
            let e = run(200, Limits::default(), body, true).expect_err("refused");
            assert_eq!(e.kind, ErrorKind::Protocol, "{body:?}");
            assert!(e.text.contains("refused before parsing"), "{e}");
        }
        for body in [
            "\u{feff}<?xml version=\"1.0\"?><X/>",
            "\u{feff}\n <!DOCTYPE X SYSTEM \"x.dtd\" [\n]>\n<X/>",
            s::V1_ERROR_5000,
        ] {
            let got = run(200, Limits::default(), body, true);
            assert!(
                matches!(&got, Ok(root) if root == "X")
                    || matches!(&got, Err(e) if e.code == Some(5000)),
                "{body:?}: {got:?}"
            );
        }
    }

    #[test]
    fn success_runs_the_parser() {
        assert_eq!(
            run(200, Limits::default(), s::SCAN_LIST_EMPTY, false),
            Ok("SCAN_LIST_OUTPUT".to_string())
        );
        assert_eq!(
            run(200, Limits::default(), s::ASSET_IP_ADD_SUCCESS, false),
            Ok("SIMPLE_RETURN".to_string())
        );
        // The report list sample starts with a newline before its declaration.
        assert_eq!(
            run(200, Limits::default(), s::REPORT_LIST, true),
            Ok("REPORT_LIST_OUTPUT".to_string())
        );
    }

    #[test]
    fn quirk_variants_parse() {
        let two_line = "<!DOCTYPE SCAN_LIST_OUTPUT SYSTEM\n\"https://h/x.dtd\">\n\
            <!-- c --><SCAN_LIST_OUTPUT><RESPONSE><DATETIME> 2017 </DATETIME></RESPONSE>\
            </SCAN_LIST_OUTPUT><!-- trailing //-->\n";
        assert_eq!(
            run(200, Limits::default(), two_line, true),
            Ok("SCAN_LIST_OUTPUT".to_string())
        );
        let internal_subset = "<?xml version=\"1.0\"?><!DOCTYPE X SYSTEM \"a.dtd\"[]><X/>";
        assert_eq!(
            run(200, Limits::default(), internal_subset, true),
            Ok("X".into())
        );
    }
}
