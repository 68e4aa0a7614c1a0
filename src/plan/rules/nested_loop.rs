//! A Nested Loop that runs its inner side many times over a scan that reads
//! more than it needs: each outer row pays for the scan again.

use super::thresholds::NESTED_LOOP_MIN_LOOPS;
use super::{scaled_subtree, Context};
use crate::finding::{Finding, Severity};
use crate::plan::{Plan, PlanNode};
use crate::units::format_count;

pub const ID: &str = "nested-loop-inner-scan";

pub fn check(plan: &Plan, _: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for join in plan.nodes().into_iter().filter(|n| n.node_type == "Nested Loop") {
        let Some(inner) = join.children.iter().find(|c| c.parent_relationship.as_deref() == Some("Inner")) else { continue };
        let Some(loops) = inner.actual.map(|a| a.loops) else { continue };
        if loops < NESTED_LOOP_MIN_LOOPS {
            continue;
        }
        let Some(scan) = repeated_scan(inner) else { continue };
        let outer_estimate = join.children.iter().find(|c| c.parent_relationship.as_deref() == Some("Outer")).and_then(|o| o.plan_rows);
        let expected = outer_estimate.map(|e| format!(" (the planner expected {} outer rows)", format_count(e))).unwrap_or_default();
        findings.push(Finding {
            rule: ID,
            severity: scaled_subtree(Severity::Warning, plan, inner),
            node: Some(scan.id),
            title: format!("{} runs {} times inside a Nested Loop", scan.label(), format_count(loops)),
            evidence: format!("the inner side of node {} is a {} executed once per outer row{expected}", join.id, scan.node_type),
            advice: "index the inner relation's join columns so each loop is a lookup (see the suggested indexes), or fix the outer row estimate so the planner picks a hash join".into(),
        });
    }
    findings
}

/// The scan under the inner side that reads without an index on the join key.
fn repeated_scan(inner: &PlanNode) -> Option<&PlanNode> {
    inner.walk().into_iter().find(|n| {
        matches!(n.node_type.as_str(), "Seq Scan" | "Function Scan" | "CTE Scan" | "Subquery Scan" | "Values Scan")
            || (n.node_type == "Materialize" && n.actual.is_some_and(|a| a.rows * a.loops >= NESTED_LOOP_MIN_LOOPS * 10.0))
    })
}
