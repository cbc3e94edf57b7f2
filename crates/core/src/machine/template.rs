//! What a report template needs as its target (qualys-api.md §7.1), decided from the
//! template list (`report_template_list.php`): its TYPE and TEMPLATE_TYPE.

/// How a report of a template is targeted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportBasis {
    /// `TYPE=Manual`, scan-based findings: the scan, as `report_refs`.
    Scan,
    /// `TYPE=Auto`, host-based findings: the job's addresses, as `ips` (the hosts' data is
    /// current once the scan is processed).
    Hosts,
}

/// A template as the template list shows it.
#[derive(Debug, Clone, Copy)]
pub struct TemplateSeen<'a> {
    /// ID.
    pub id: u64,
    /// TITLE.
    pub title: &'a str,
    /// TYPE (`Auto` / `Manual`).
    pub kind: Option<&'a str>,
    /// TEMPLATE_TYPE (`Scan`, `Patch`, `Map`, …).
    pub template_type: Option<&'a str>,
}

/// The basis of template `id` among `templates`, or why the job cannot use it (the message
/// names the template): an id the list lacks, a template that is not a `Scan` template,
/// or a TYPE that is neither `Auto` nor `Manual`.
pub fn report_basis(id: u64, templates: &[TemplateSeen<'_>]) -> Result<ReportBasis, String> {
    let Some(t) = templates.iter().find(|t| t.id == id) else {
        return Err(format!(
            "report template {id} is not in the subscription's template list"
        ));
    };
    let name = format!("report template {id} ({:?})", t.title);
    let template_type = t.template_type.map(str::trim).unwrap_or("");
    if !template_type.eq_ignore_ascii_case("scan") {
        let shown = if template_type.is_empty() {
            "no TEMPLATE_TYPE"
        } else {
            template_type
        };
        return Err(format!(
            "{name} is a {shown} template; a job needs a Scan template"
        ));
    }
    match t.kind.map(str::trim) {
        Some(k) if k.eq_ignore_ascii_case("manual") => Ok(ReportBasis::Scan),
        Some(k) if k.eq_ignore_ascii_case("auto") => Ok(ReportBasis::Hosts),
        other => Err(format!(
            "{name} has TYPE {:?}; expected Auto or Manual",
            other.unwrap_or("")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t<'a>(id: u64, kind: &'a str, template_type: &'a str) -> TemplateSeen<'a> {
        TemplateSeen {
            id,
            title: "Technical Report",
            kind: Some(kind),
            template_type: Some(template_type),
        }
    }

    #[test]
    fn manual_is_scan_based_auto_is_host_based_anything_else_names_the_template() {
        let list = [
            t(1, "Auto", "Scan"),
            t(4, "Manual", "Scan"),
            t(5, "Auto", "Patch"),
            t(6, "Odd", "Scan"),
        ];
        assert_eq!(report_basis(1, &list), Ok(ReportBasis::Hosts));
        assert_eq!(report_basis(4, &list), Ok(ReportBasis::Scan));
        let patch = report_basis(5, &list).expect_err("a Patch template");
        assert!(
            patch.contains("report template 5") && patch.contains("Patch"),
            "{patch}"
        );
        let odd = report_basis(6, &list).expect_err("an unknown TYPE");
        assert!(
            odd.contains("report template 6") && odd.contains("Odd"),
            "{odd}"
        );
        let missing = report_basis(99, &list).expect_err("unknown id");
        assert!(missing.contains("report template 99"), "{missing}");
    }
}
