//! A sequential scan whose filter throws away most of a big table.

use super::thresholds::{BIG_SCAN_ROWS, DISCARD_SHARE};
use super::{filtered, percent, scaled, Context};
use crate::finding::{Finding, Severity};
use crate::plan::Plan;
use crate::units::format_count;

pub const ID: &str = "seq-scan-discards-rows";

pub fn check(plan: &Plan, _: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for node in plan.nodes().into_iter().filter(|n| n.node_type == "Seq Scan") {
        let Some((returned, removed)) = filtered(node) else { continue };
        let read = returned + removed;
        if read < BIG_SCAN_ROWS || removed / read < DISCARD_SHARE {
            continue;
        }
        findings.push(Finding {
            rule: ID,
            severity: scaled(Severity::Warning, plan, node),
            node: Some(node.id),
            title: format!("{} reads {} rows to return {}", node.label(), format_count(read), format_count(returned)),
            evidence: format!(
                "Filter {} removed {} rows ({})",
                node.filter.as_deref().unwrap_or("?"),
                format_count(removed),
                percent(removed / read)
            ),
            advice: "an index on the filtered columns reads only the matching rows: see the suggested indexes".into(),
        });
    }
    findings
}
