//! Read-only views of the model for tests: what groups, scans and reports exist and what
//! each one targets, without going through HTTP.

use std::net::Ipv4Addr;
use std::time::SystemTime;

use crate::ips::IpSet;
use crate::model::{Group, Report, Scan};

/// An asset group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// ID.
    pub id: u64,
    /// Title.
    pub title: String,
    /// Member addresses as inclusive ranges.
    pub ips: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Comments.
    pub comments: String,
}

/// A scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanInfo {
    /// `scan/<epoch>.<n>`.
    pub reference: String,
    /// Title.
    pub title: String,
    /// Launch time.
    pub launched: SystemTime,
    /// Option profile title.
    pub option_title: String,
    /// Titles of the asset groups it targeted.
    pub group_titles: Vec<String>,
    /// TARGET (requested ∩ subscription) as inclusive ranges.
    pub target: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// TARGET as Qualys prints it (`a-b,c`).
    pub target_list: String,
}

/// A report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportInfo {
    /// ID.
    pub id: u64,
    /// Title.
    pub title: String,
    /// Template ID.
    pub template_id: u64,
    /// Scan references (`Manual` templates; empty for `Auto`).
    pub scan_refs: Vec<String>,
    /// The hosts the report covers, as inclusive ranges.
    pub hosts: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// The hosts as Qualys prints them (`a-b,c`).
    pub hosts_list: String,
}

fn ranges(s: &IpSet) -> Vec<(Ipv4Addr, Ipv4Addr)> {
    s.ranges().collect()
}

impl From<&Group> for GroupInfo {
    fn from(g: &Group) -> GroupInfo {
        GroupInfo {
            id: g.id,
            title: g.title.clone(),
            ips: ranges(&g.ips),
            comments: g.comments.clone(),
        }
    }
}

impl From<&Scan> for ScanInfo {
    fn from(s: &Scan) -> ScanInfo {
        ScanInfo {
            reference: s.reference.clone(),
            title: s.title.clone(),
            launched: s.launched,
            option_title: s.option_title.clone(),
            group_titles: s.group_titles.clone(),
            target: ranges(&s.target),
            target_list: s.target.to_list(),
        }
    }
}

impl From<&Report> for ReportInfo {
    fn from(r: &Report) -> ReportInfo {
        ReportInfo {
            id: r.id,
            title: r.title.clone(),
            template_id: r.template_id,
            scan_refs: r.scan_refs.clone(),
            hosts: ranges(&r.hosts),
            hosts_list: r.hosts.to_list(),
        }
    }
}
