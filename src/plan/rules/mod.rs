//! Plan diagnostics: one file per rule, each a plain function from a plan to
//! findings. Every threshold lives in [`thresholds`] (and docs/explain.md).

mod disabled;
mod disk_reads;
mod function_filter;
mod heap_fetches;
mod index_filter;
mod large_offset;
mod lossy_bitmap;
mod misestimate;
mod nested_loop;
mod overhead;
mod seq_scan_filter;
mod skip_scan;
mod spill;
pub mod thresholds;
mod workers;

use super::conditions::ScanConditions;
use super::{Plan, PlanNode};
use crate::finding::{Finding, Severity};
use thresholds::{CRITICAL_MIN_MS, CRITICAL_TIME_SHARE, MINOR_TIME_SHARE};

/// What the rules know besides the plan: facts from the statement's text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    /// The statement's constant OFFSET, when it has one.
    pub offset: Option<u64>,
}

/// What a rule reads besides the plan: the statement's facts, and the plan's
/// scans as [`super::conditions::scans`] read them (the index suggestions read the same,
/// and on a plan of thousands of partitions reading them is most of the work).
pub struct Context<'a> {
    pub facts: Facts,
    pub scans: &'a [ScanConditions<'a>],
}

type Rule = fn(&Plan, &Context) -> Vec<Finding>;

/// Every rule, with its id; the ids are documented in docs/explain.md.
pub const RULES: &[(&str, Rule)] = &[
    (seq_scan_filter::ID, seq_scan_filter::check),
    (index_filter::ID, index_filter::check),
    (function_filter::ID, function_filter::check),
    (misestimate::ID, misestimate::check),
    (spill::ID, spill::check),
    (lossy_bitmap::ID, lossy_bitmap::check),
    (nested_loop::ID, nested_loop::check),
    (heap_fetches::ID, heap_fetches::check),
    (skip_scan::ID, skip_scan::check),
    (disabled::ID, disabled::check),
    (workers::ID, workers::check),
    (large_offset::ID, large_offset::check),
    (overhead::PLANNING_ID, overhead::check_planning),
    (overhead::JIT_ID, overhead::check_jit),
    (overhead::SERIALIZATION_ID, overhead::check_serialization),
    (disk_reads::ID, disk_reads::check),
];

/// All findings for a plan, most severe first, then in plan order, statement-wide
/// ones last; `scans` are the plan's, read by [`super::conditions::scans`].
pub fn diagnose(plan: &Plan, facts: Facts, scans: &[ScanConditions]) -> Vec<Finding> {
    let context = Context { facts, scans };
    let mut findings: Vec<Finding> = RULES.iter().flat_map(|(_, rule)| rule(plan, &context)).collect();
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then(a.node.is_none().cmp(&b.node.is_none())).then(a.node.cmp(&b.node)).then(a.rule.cmp(b.rule))
    });
    findings
}

/// Share of the statement's time spent in `node` alone.
pub fn time_share(plan: &Plan, node: &PlanNode) -> Option<f64> {
    let total = plan.total_ms().filter(|t| *t > 0.0)?;
    Some(node.exclusive_ms? / total)
}

/// A rule's usual severity for a node, raised when the node is where the time
/// goes (a large share, and long enough to matter) and lowered when it hardly
/// matters. Plans without timings keep the usual severity.
fn scaled(base: Severity, plan: &Plan, node: &PlanNode) -> Severity {
    by_time(base, plan, node.exclusive_ms)
}

/// As [`scaled`], for findings about a whole subtree (a misestimate, a loop's inner side).
fn scaled_subtree(base: Severity, plan: &Plan, node: &PlanNode) -> Severity {
    by_time(base, plan, node.inclusive_ms)
}

fn by_time(base: Severity, plan: &Plan, ms: Option<f64>) -> Severity {
    let (Some(ms), Some(total)) = (ms, plan.total_ms().filter(|t| *t > 0.0)) else { return base };
    let share = ms / total;
    if share >= CRITICAL_TIME_SHARE && ms >= CRITICAL_MIN_MS {
        Severity::Critical
    } else if share < MINOR_TIME_SHARE {
        Severity::Info
    } else {
        base
    }
}

fn percent(share: f64) -> String {
    let value = share * 100.0;
    if value >= 99.95 || value == value.round() {
        format!("{value:.0}%")
    } else {
        format!("{value:.1}%")
    }
}

/// Rows a node returned and removed by its filter, over all loops.
fn filtered(node: &PlanNode) -> Option<(f64, f64)> {
    let actual = node.actual?;
    let removed = node.rows_removed_by_filter? * actual.loops;
    Some((actual.rows * actual.loops, removed))
}

#[cfg(test)]
mod tests;
