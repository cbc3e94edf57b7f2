//! `findings.csv`: one row per finding (vulnerabilities and potential ones), worst first,
//! with what a ticket needs (solution, threat, impact, the first line of the result, CVSS
//! base scores, PCI flag, `change` against the baseline, `due` from `[remediation]`);
//! `information.csv`: the information-gathered records. RFC 4180 (CRLF line ends, fields
//! quoted when they hold a comma, semicolon, quote, CR or LF, quotes doubled). Also the
//! reader used to load an earlier job's `findings.csv` for the baseline delta.
//!
//! Every field is made safe for the person who opens the file ([`write_record`]): no
//! control, bidirectional or invisible character ([`super::cell::lines`]), no formula a
//! spreadsheet would run — not at the start of the cell, and not after a `,` or `;` where
//! a spreadsheet reading with the other separator would start a cell. The KnowledgeBase
//! texts (threat, impact, solution; titles already when read) are plain text
//! ([`super::kb_text`]), never HTML.
//!
//! The long texts are read back from the results file one row at a time
//! ([`super::findings::detail_of`]), so writing stays within the rows' memory.

use super::cell;
use super::error::ActionError;
use super::findings::{detail_of, DetailReader};
use super::kb_text::plain_text;
use super::model::{Finding, Findings, Key, KeySet};
use crate::fsutil;
use baseliner_core::config::RemediationConfig;
use baseliner_core::time::Timestamp;
use std::fs::File;
use std::io::{self, BufRead, BufWriter, Write};
use std::path::Path;

/// The header row of `findings.csv`.
pub const COLUMNS: [&str; 21] = [
    "ip",
    "dns",
    "netbios",
    "os",
    "qid",
    "title",
    "type",
    "severity",
    "port",
    "protocol",
    "cve_ids",
    "cvss_base",
    "cvss3_base",
    "pci_vuln",
    "first_found",
    "change",
    "due",
    "solution",
    "threat",
    "impact",
    "result",
];

/// The header row of `information.csv`.
pub const INFO_COLUMNS: [&str; 11] = [
    "ip",
    "dns",
    "netbios",
    "os",
    "qid",
    "title",
    "type",
    "port",
    "protocol",
    "first_found",
    "result",
];

/// What a row needs besides the finding itself.
pub struct RowContext<'a> {
    /// The baseline's finding keys (`None`: no baseline, `change` stays empty).
    pub baseline: Option<&'a KeySet>,
    /// Days to fix, by severity.
    pub remediation: &'a RemediationConfig,
    /// When the scan ran (`None`: no `due` date).
    pub scan_date: Option<Timestamp>,
}

/// Writes `findings` (already sorted) to `path` through a temporary file and a durable
/// rename, so the file is either the old one or complete.
pub fn write_findings(
    path: &Path,
    findings: &Findings,
    ctx: &RowContext<'_>,
) -> Result<(), ActionError> {
    let mut reader = None;
    write_file(path, COLUMNS.as_slice(), |w| {
        for f in &findings.rows {
            write_row(w, f, findings, &mut reader, ctx)?;
        }
        Ok(())
    })
}

/// Writes the information-gathered records of `findings` to `path` (`information.csv`).
pub fn write_information(path: &Path, findings: &Findings) -> Result<(), ActionError> {
    let mut reader = None;
    write_file(path, INFO_COLUMNS.as_slice(), |w| {
        for f in &findings.info {
            let d = detail_of(findings, &mut reader, f)?;
            let s = &findings.strings;
            let qid = f.qid.to_string();
            let port = f.port.map(|p| p.to_string()).unwrap_or_default();
            write_record(
                w,
                [
                    s.get(f.ip),
                    s.get(f.dns),
                    s.get(f.netbios),
                    s.get(f.os),
                    qid.as_str(),
                    s.get(f.title),
                    s.get(f.kind),
                    port.as_str(),
                    s.get(f.protocol),
                    s.get(f.first_found),
                    d.result.trim(),
                ],
            )
            .map_err(|e| ActionError::io(path, e))?;
        }
        Ok(())
    })
}

/// Writes a CSV file with `header` and the records `body` writes, through a temporary
/// file and a durable rename, so the file is either the old one or complete.
fn write_file(
    path: &Path,
    header: &[&str],
    body: impl FnOnce(&mut BufWriter<File>) -> Result<(), ActionError>,
) -> Result<(), ActionError> {
    let (tmp, file) = fsutil::create_temp(path).map_err(|e| ActionError::io(path, e))?;
    let io_err = |e| ActionError::io(&tmp, e);
    let mut w = BufWriter::with_capacity(256 * 1024, file);
    write_record(&mut w, header.iter().copied()).map_err(io_err)?;
    let done = body(&mut w).and_then(|()| {
        w.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .map_err(io_err)
    });
    if let Err(e) = done {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    fsutil::rename_durable(&tmp, path).map_err(|e| ActionError::io(path, e))
}

/// The first line of `text`, trimmed.
pub fn first_line(text: &str) -> &str {
    text.trim().lines().next().unwrap_or("").trim()
}

/// One finding as a CSV record.
fn write_row<W: Write>(
    w: &mut W,
    f: &Finding,
    all: &Findings,
    reader: &mut Option<DetailReader>,
    ctx: &RowContext<'_>,
) -> Result<(), ActionError> {
    let s = &all.strings;
    let d = detail_of(all, reader, f)?;
    let qid = f.qid.to_string();
    let sev = if f.severity == 0 {
        String::new()
    } else {
        f.severity.to_string()
    };
    let port = f.port.map(|p| p.to_string()).unwrap_or_default();
    let change = match ctx.baseline {
        Some(b) if b.contains(&Key::of(f, s)) => "unchanged",
        Some(_) => "new",
        None => "",
    };
    let due = ctx
        .scan_date
        .and_then(|t| ctx.remediation.due(f.severity, t))
        .unwrap_or_default();
    write_record(
        w,
        [
            s.get(f.ip),
            s.get(f.dns),
            s.get(f.netbios),
            s.get(f.os),
            qid.as_str(),
            s.get(f.title),
            s.get(f.kind),
            sev.as_str(),
            port.as_str(),
            s.get(f.protocol),
            s.get(f.cve_ids),
            s.get(f.cvss_base),
            s.get(f.cvss3_base),
            s.get(f.pci_vuln),
            s.get(f.first_found),
            change,
            due.as_str(),
            plain_text(&d.solution).as_str(),
            plain_text(&d.threat).as_str(),
            plain_text(&d.impact).as_str(),
            first_line(&d.result),
        ],
    )
    .map_err(|e| ActionError::io(Path::new("findings.csv"), e))
}

/// The characters that make a spreadsheet read a cell as a formula (OWASP "CSV
/// injection"): `=`, `+`, `-`, `@`, and tab and CR, which some strip first.
pub const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The separators a spreadsheet may split on: `,`, and `;` where the locale's decimal
/// separator is a comma.
pub const SEPARATORS: [char; 2] = [',', ';'];

/// Writes fields as one CRLF-terminated record. Each field first loses its control,
/// bidirectional and invisible characters ([`cell::lines`]: line breaks stay, as `\n`);
/// then a field a spreadsheet could run as a formula is defused ([`defuse`]); a field is
/// quoted when it holds a separator, a quote or a line break (text from Qualys or the job
/// may be hostile).
pub fn write_record<'a, W: Write>(
    w: &mut W,
    fields: impl IntoIterator<Item = &'a str>,
) -> io::Result<()> {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        let clean = cell::lines(field);
        let field = defuse(&clean);
        if field.contains([',', ';', '"', '\r', '\n']) || field.starts_with('\'') {
            w.write_all(b"\"")?;
            w.write_all(field.replace('"', "\"\"").as_bytes())?;
            w.write_all(b"\"")?;
        } else {
            w.write_all(field.as_bytes())?;
        }
    }
    w.write_all(b"\r\n")
}

/// `field` with every place a spreadsheet could start a formula neutralized by a `'` (the
/// usual OWASP advice): at the start of a field that starts (after blanks) with a
/// [`FORMULA_START`] character, and after a [`SEPARATORS`] character followed (after
/// blanks) by one — a spreadsheet
/// that splits on the other separator, or that ignores the quotes, starts a cell there.
/// A field with such an inner place also gets a `'` at its start, so the whole cell reads
/// as text. Borrowed when there is nothing to defuse.
pub fn defuse(field: &str) -> std::borrow::Cow<'_, str> {
    let inner = |i: usize| field[i + 1..].trim_start().starts_with(FORMULA_START);
    let risky_inner: Vec<usize> = field
        .char_indices()
        .filter(|&(i, c)| SEPARATORS.contains(&c) && inner(i))
        .map(|(i, _)| i)
        .collect();
    if !field.trim_start().starts_with(FORMULA_START) && risky_inner.is_empty() {
        return std::borrow::Cow::Borrowed(field);
    }
    let mut out = String::with_capacity(field.len() + 1 + risky_inner.len());
    out.push('\'');
    let mut last = 0;
    for i in risky_inner {
        out.push_str(&field[last..=i]);
        let blanks = field[i + 1..].len() - field[i + 1..].trim_start().len();
        out.push_str(&field[i + 1..i + 1 + blanks]);
        out.push('\'');
        last = i + 1 + blanks;
    }
    out.push_str(&field[last..]);
    std::borrow::Cow::Owned(out)
}

/// A record and the 1-based line it starts on.
pub type Record = (u64, Vec<String>);

/// A malformed record: the line it starts on and what is wrong.
pub type RecordError = (u64, String);

/// Reads RFC 4180 records one at a time (quoted fields may span lines).
pub struct Reader<R> {
    input: R,
    line: u64,
}

impl<R: BufRead> Reader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Reader<R> {
        Reader { input, line: 0 }
    }

    /// The next record and the line it starts on; `None` at the end. An unterminated
    /// quoted field is an error naming the line.
    pub fn next_record(&mut self) -> Result<Option<Record>, RecordError> {
        let start = self.line + 1;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut in_quotes = false;
        let mut buf = String::new();
        loop {
            buf.clear();
            let n = self
                .input
                .read_line(&mut buf)
                .map_err(|e| (start, e.to_string()))?;
            if n == 0 {
                if in_quotes {
                    return Err((start, "unterminated quoted field".into()));
                }
                return Ok(None);
            }
            self.line += 1;
            let mut chars = buf.chars().peekable();
            while let Some(c) = chars.next() {
                match (in_quotes, c) {
                    (true, '"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    (true, '"') => in_quotes = false,
                    (true, c) => field.push(c),
                    (false, '"') => in_quotes = true,
                    (false, ',') => fields.push(std::mem::take(&mut field)),
                    (false, '\r') if chars.peek() == Some(&'\n') => {}
                    (false, '\n') => {
                        fields.push(std::mem::take(&mut field));
                        return Ok(Some((start, fields)));
                    }
                    (false, c) => field.push(c),
                }
            }
            if !in_quotes {
                // Last line without a line end.
                fields.push(field);
                return Ok(Some((start, fields)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::findings::read_results_from;

    /// `findings.csv` of `f` written to `p` without baseline or due dates, read back.
    fn written(p: &Path, f: &Findings) -> String {
        let rem = RemediationConfig::default();
        let ctx = RowContext {
            baseline: None,
            remediation: &rem,
            scan_date: None,
        };
        write_findings(p, f, &ctx).expect("writes");
        std::fs::read_to_string(p).expect("read back")
    }

    #[test]
    fn rows_are_sorted_and_quoted() {
        let mut f = read_results_from(
            r#"[{},{},
            {"ip":"10.0.0.10","qid":"5","severity":"3","title":"plain","port":"80"},
            {"ip":"10.0.0.9","qid":"7","severity":"3","title":"has, comma","port":"80"},
            {"ip":"10.0.0.9","qid":"6","severity":"3","title":"say \"hi\"","port":""},
            {"ip":"10.0.0.2","qid":"9","severity":"5","title":"two\nlines","cve_id":"CVE-1,CVE-2"},
            {"target_distribution_across_scanner_appliances":""}]"#
                .as_bytes(),
        )
        .expect("parses");
        f.sort();
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("findings.csv");
        let text = written(&p, &f);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "ip,dns,netbios,os,qid,title,type,severity,port,protocol,cve_ids,cvss_base,cvss3_base,pci_vuln,first_found,change,due,solution,threat,impact,result"
        );
        assert_eq!(
            lines[1],
            "10.0.0.2,,,,9,\"two\nlines\",,5,,,\"CVE-1,CVE-2\",,,,,,,,,,"
        );
        // 10.0.0.9 before 10.0.0.10 (numeric), then by qid.
        assert_eq!(lines[2], "10.0.0.9,,,,6,\"say \"\"hi\"\"\",,3,,,,,,,,,,,,,");
        assert_eq!(lines[3], "10.0.0.9,,,,7,\"has, comma\",,3,80,,,,,,,,,,,,");
        assert_eq!(lines[4], "10.0.0.10,,,,5,plain,,3,80,,,,,,,,,,,,");
        assert_eq!(lines[5], "");
        assert_eq!(lines.len(), 6);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .flatten()
            .filter(|e| fsutil::temp_writer(e.file_name().as_encoded_bytes()).is_some())
            .collect();
        assert!(left.is_empty(), "no temporary file left behind: {left:?}");

        // The reader gives back the same fields.
        let mut r = Reader::new(io::BufReader::new(File::open(&p).expect("open")));
        let (_, header) = r.next_record().expect("ok").expect("header");
        assert_eq!(header, COLUMNS);
        let (line, first) = r.next_record().expect("ok").expect("row");
        assert_eq!(line, 2);
        assert_eq!(first[5], "two\nlines");
        assert_eq!(first[10], "CVE-1,CVE-2");
        let (line, second) = r.next_record().expect("ok").expect("row");
        assert_eq!(line, 4);
        assert_eq!(second[5], "say \"hi\"");
        assert!(r.next_record().expect("ok").is_some());
        assert!(r.next_record().expect("ok").is_some());
        assert!(r.next_record().expect("ok").is_none());
    }

    #[test]
    fn formulas_are_defused() {
        let mut out = Vec::new();
        write_record(
            &mut out,
            ["=HYPERLINK(\"x\")", "+1", "@SUM(A1)", "plain", "a=b"],
        )
        .expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "\"'=HYPERLINK(\"\"x\"\")\",\"'+1\",\"'@SUM(A1)\",plain,a=b\r\n"
        );
    }

    /// Hostile text as Qualys may send it: KnowledgeBase HTML with a `javascript:` link,
    /// ESC/BEL and a bidi override from NetBIOS names and banners, and a formula that a
    /// semicolon-locale spreadsheet would see after the `;`.
    #[test]
    fn hostile_knowledgebase_text_controls_and_formulas() {
        let json = r#"[{},{},
            {"ip":"10.0.0.1","dns":"evil\u202egpj.exe","netbios":"HOST\u001b[31m\u0007","qid":"1","severity":"5",
             "title":"x;=cmd|' /C calc'!A0","port":"80",
             "threat":"<P>Bad &amp; worse.<BR>See <A HREF=\"javascript:alert(1)\">here</A> and <a href='https://kb.example/?a=1&amp;b=2'>the KB</a>.</P>",
             "solution":"<UL><LI>Patch&nbsp;it</LI><LI>Then <B>reboot</B></LI></UL>",
             "impact":"a,+b","results":"banner\u0007 line"}]"#;
        let dir = tempfile::tempdir().expect("tempdir");
        let results = dir.path().join("results.json");
        std::fs::write(&results, json).expect("results");
        let mut f = crate::actions::findings::read_results(&results).expect("parses");
        f.sort();
        let text = written(&dir.path().join("findings.csv"), &f);
        let row = text.split("\r\n").nth(1).expect("a row");
        assert_eq!(
            row,
            "10.0.0.1,evil\u{FFFD}gpj.exe,HOST\u{FFFD}[31m\u{FFFD},,1,\"'x;'=cmd|' /C calc'!A0\",,5,80,,,,,,,,,\
             \"Patch it\nThen reboot\",\
             \"Bad & worse.\nSee here and the KB (https://kb.example/?a=1&b=2).\",\
             \"'a,'+b\",banner\u{FFFD} line"
        );
        assert!(!text.contains("javascript"), "{text}");
        assert!(!text.contains('<'), "{text}");
        assert!(
            !text
                .chars()
                .any(|c| (c.is_control() && c != '\r' && c != '\n')
                    || baseliner_core::text::is_forbidden_format(c)),
            "{text:?}"
        );
    }

    #[test]
    fn formulas_after_a_separator_are_defused() {
        for (field, defused) in [
            ("x;=cmd|' /C calc'!A0", "'x;'=cmd|' /C calc'!A0"),
            ("a, -1", "'a, '-1"),
            ("ok;@x,+y", "'ok;'@x,'+y"),
            ("  =1+1", "'  =1+1"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("a;\n=1", "'a;\n'=1"),
            ("CVE-1,CVE-2", "CVE-1,CVE-2"),
            ("a-b; c=d, e@f", "a-b; c=d, e@f"),
            ("", ""),
        ] {
            assert_eq!(defuse(field), defused, "{field:?}");
        }
        let mut out = Vec::new();
        write_record(&mut out, ["x;=cmd|' /C calc'!A0", "a;b", "\t-2", "'q'"]).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "\"'x;'=cmd|' /C calc'!A0\",\"a;b\",\"' -2\",\"'q'\"\r\n"
        );
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        let mut r = Reader::new("a,b\r\n\"open,c\r\n".as_bytes());
        assert!(r.next_record().expect("first ok").is_some());
        let (line, msg) = r.next_record().expect_err("unterminated");
        assert_eq!(line, 2);
        assert!(msg.contains("unterminated"));
    }
}
