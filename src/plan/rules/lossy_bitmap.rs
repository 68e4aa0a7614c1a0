//! Bitmap heap scans whose bitmap outgrew work_mem and went lossy: whole pages
//! are rechecked row by row.

use super::{scaled, Context};
use crate::finding::{Finding, Severity};
use crate::plan::Plan;
use crate::units::{format_count, round_up_mib};

pub const ID: &str = "lossy-bitmap";

/// Memory an exact bitmap needs per heap page, roughly (a page table entry).
const BITMAP_BYTES_PER_PAGE: f64 = 64.0;

pub fn check(plan: &Plan, _: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for node in plan.nodes() {
        let lossy = node.lossy_heap_blocks.unwrap_or(0.0);
        if lossy <= 0.0 {
            continue;
        }
        let exact = node.exact_heap_blocks.unwrap_or(0.0);
        let rechecked =
            node.rows_removed_by_index_recheck.map(|r| format!("; the recheck removed {} rows", format_count(r))).unwrap_or_default();
        let mib = round_up_mib((exact + lossy) * BITMAP_BYTES_PER_PAGE / 1024.0 * 2.0);
        findings.push(Finding {
            rule: ID,
            severity: scaled(Severity::Warning, plan, node),
            node: Some(node.id),
            title: format!("{} went lossy on {} heap pages", node.label(), format_count(lossy)),
            evidence: format!("{} exact and {} lossy heap blocks{rechecked}", format_count(exact), format_count(lossy)),
            advice: format!("raise work_mem (about {mib} MB holds an exact bitmap), or use a more selective index"),
        });
    }
    findings
}
