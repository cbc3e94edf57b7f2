//! The name a downloaded report is kept under, from what its first bytes say it is.

use baseliner_core::job::ReportFormat;
use baseliner_qualys::BodyKind;

/// Every name a report of `format` may be kept under (see [`report_file_name`]).
pub(super) fn report_file_names(format: ReportFormat) -> Vec<String> {
    let f = format.as_str();
    let mut names = vec![format!("report.{f}"), format!("report.{f}.zip")];
    names.extend(["report.pdf", "report.xml", "report.html"].map(String::from));
    names
}

/// The file name of a downloaded report of `format`, from what its first bytes say it is
/// (qualys-api.md §7.4: large and some HTML reports arrive zipped). A body that cannot be
/// the report asked for (an HTML or XML page instead of a PDF, …) is an error, never kept.
pub(super) fn report_file_name(format: ReportFormat, kind: BodyKind) -> Result<String, String> {
    let f = format.as_str();
    match (kind, format) {
        // A DOCX file is a zip archive.
        (BodyKind::Zip, ReportFormat::Docx) => Ok("report.docx".to_string()),
        (BodyKind::Zip, _) => Ok(format!("report.{f}.zip")),
        (BodyKind::Pdf, _) => Ok("report.pdf".to_string()),
        (BodyKind::Html | BodyKind::Xml, ReportFormat::Html) => Ok("report.html".to_string()),
        (BodyKind::Xml, ReportFormat::Xml) => Ok("report.xml".to_string()),
        (BodyKind::Other, ReportFormat::Csv | ReportFormat::Mht) => Ok(format!("report.{f}")),
        (kind, _) => Err(format!(
            "the body is {} where a {f} report was expected (an error page?); not kept",
            kind.name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_named_by_its_body_never_kept_as_an_error_page() {
        use BodyKind as K;
        use ReportFormat as F;
        let ok = |f, k| report_file_name(f, k).expect("kept");
        assert_eq!(ok(F::Html, K::Zip), "report.html.zip");
        assert_eq!(ok(F::Pdf, K::Zip), "report.pdf.zip");
        assert_eq!(ok(F::Docx, K::Zip), "report.docx");
        assert_eq!(ok(F::Pdf, K::Pdf), "report.pdf");
        assert_eq!(ok(F::Html, K::Html), "report.html");
        assert_eq!(ok(F::Xml, K::Xml), "report.xml");
        assert_eq!(ok(F::Csv, K::Other), "report.csv");
        for (f, k) in [
            (F::Pdf, K::Html),
            (F::Pdf, K::Xml),
            (F::Csv, K::Html),
            (F::Xml, K::Html),
            (F::Pdf, K::Other),
        ] {
            let e = report_file_name(f, k).expect_err("not the report");
            assert!(e.contains("not kept"), "{e}");
        }
        for f in [F::Pdf, F::Html, F::Docx] {
            let names = report_file_names(f);
            for k in [K::Zip, K::Pdf, K::Html, K::Xml, K::Other] {
                if let Ok(n) = report_file_name(f, k) {
                    assert!(names.contains(&n), "{n} is looked for before a download");
                }
            }
        }
    }
}
