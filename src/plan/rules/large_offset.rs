//! A large OFFSET: every skipped row is read, sorted and thrown away.

use super::thresholds::LARGE_OFFSET_ROWS;
use super::Context;
use crate::finding::{Finding, Severity};
use crate::plan::Plan;
use crate::units::format_count;

pub const ID: &str = "large-offset";

pub fn check(plan: &Plan, context: &Context) -> Vec<Finding> {
    let Some(limit) = plan.nodes().into_iter().find(|n| n.node_type == "Limit") else { return Vec::new() };
    // Measured: the Limit pulled offset + count rows from below and returned count.
    let measured = match (limit.total_actual_rows(), limit.children.first().and_then(|c| c.total_actual_rows())) {
        (Some(returned), Some(pulled)) if limit.actual.is_some_and(|a| a.loops == 1.0) => Some(pulled - returned),
        _ => None,
    };
    let skipped = context.facts.offset.map(|o| o as f64).or(measured).unwrap_or(0.0);
    if skipped < LARGE_OFFSET_ROWS {
        return Vec::new();
    }
    vec![Finding {
        rule: ID,
        severity: Severity::Warning,
        node: Some(limit.id),
        title: format!("OFFSET skips {} rows", format_count(skipped)),
        evidence: format!("the {} node reads and discards {} rows before returning any; later pages get slower", limit.node_type, format_count(skipped)),
        advice: "use keyset pagination: remember the last row's sort key and ask for WHERE (sort key) > (last value) ORDER BY sort key LIMIT n, with an index on the sort key".into(),
    }]
}
