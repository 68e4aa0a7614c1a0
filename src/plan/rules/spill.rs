//! Sorts, hashes and hash aggregates that did not fit in work_mem and went to disk.

use super::{scaled, Context};
use crate::finding::{Finding, Severity};
use crate::plan::{Plan, PlanNode};
use crate::units::{format_count, round_up_mib};

pub const ID: &str = "spill-to-disk";

/// An in-memory sort needs more than its on-disk runs (tuple headers, pointers): about twice.
const SORT_MEMORY_PER_DISK_KB: f64 = 2.0;

pub fn check(plan: &Plan, _: &Context) -> Vec<Finding> {
    plan.nodes().into_iter().filter_map(|node| spill(node).map(|(evidence, needed_kb)| finding(plan, node, evidence, needed_kb))).collect()
}

/// What spilled and the memory (kB) that would have held it.
fn spill(node: &PlanNode) -> Option<(String, f64)> {
    if node.never_executed() {
        return None;
    }
    let method = node.sort_method.as_deref().unwrap_or_default();
    if node.sort_space_type.as_deref() == Some("Disk") || method.starts_with("external") {
        let disk = node.sort_space_kb.unwrap_or(0.0);
        return Some((format!("Sort Method: {method}, {} kB on disk", format_count(disk)), disk * SORT_MEMORY_PER_DISK_KB));
    }
    let batches = node.hash_batches.unwrap_or(1.0).max(node.original_hash_batches.unwrap_or(1.0));
    if node.node_type == "Hash" && batches > 1.0 {
        let peak = node.peak_memory_kb.unwrap_or(0.0);
        return Some((format!("{} hash batches, {} kB of memory per batch", format_count(batches), format_count(peak)), peak * batches));
    }
    let disk = node.disk_usage_kb.unwrap_or(0.0);
    if node.node_type == "Aggregate" && (disk > 0.0 || node.hashagg_batches.unwrap_or(0.0) > 1.0) {
        let peak = node.peak_memory_kb.unwrap_or(0.0);
        let batches = node.hashagg_batches.unwrap_or(0.0);
        return Some((
            format!(
                "HashAggregate wrote {} kB to disk in {} batches (memory peak {} kB)",
                format_count(disk),
                format_count(batches),
                format_count(peak)
            ),
            peak + disk,
        ));
    }
    None
}

fn finding(plan: &Plan, node: &PlanNode, evidence: String, needed_kb: f64) -> Finding {
    let mib = round_up_mib(needed_kb);
    let hash = if node.node_type == "Sort" || node.node_type == "Incremental Sort" {
        ""
    } else {
        " (hashes may use work_mem × hash_mem_multiplier)"
    };
    let current = plan.settings.get("work_mem").map(|w| format!(" (work_mem is {w} here)")).unwrap_or_default();
    Finding {
        rule: ID,
        severity: scaled(Severity::Warning, plan, node),
        node: Some(node.id),
        title: format!("{} spilled to disk{current}", node.label()),
        evidence,
        advice: format!("about {mib} MB of work_mem would keep it in memory{hash}: SET work_mem = '{mib}MB' for this query, or reduce the rows it processes"),
    }
}
