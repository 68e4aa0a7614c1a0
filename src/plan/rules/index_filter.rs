//! An index scan that still filters out most of what the index returned: the
//! index does not match the predicate.

use super::thresholds::{DISCARD_SHARE, INDEX_FILTER_MIN_REMOVED};
use super::{filtered, percent, scaled, Context};
use crate::finding::{Finding, Severity};
use crate::plan::Plan;
use crate::units::format_count;

pub const ID: &str = "index-filter-discards-rows";

pub fn check(plan: &Plan, _: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    let index_scans = ["Index Scan", "Index Only Scan", "Bitmap Heap Scan"];
    for node in plan.nodes().into_iter().filter(|n| index_scans.contains(&n.node_type.as_str())) {
        let Some((returned, removed)) = filtered(node) else { continue };
        let fetched = returned + removed;
        if removed < INDEX_FILTER_MIN_REMOVED || removed / fetched < DISCARD_SHARE {
            continue;
        }
        let index = node.index_name.clone().unwrap_or_else(|| "the index".into());
        findings.push(Finding {
            rule: ID,
            severity: scaled(Severity::Warning, plan, node),
            node: Some(node.id),
            title: format!("{} fetches {} rows from {index} and keeps {}", node.label(), format_count(fetched), format_count(returned)),
            evidence: format!("Filter {} removed {} rows ({}) after the index lookup", node.filter.as_deref().unwrap_or("?"), format_count(removed), percent(removed / fetched)),
            advice: format!("{index} does not match the predicate: an index that also has the filtered columns skips those rows (see the suggested indexes)"),
        });
    }
    findings
}
