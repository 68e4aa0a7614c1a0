//! Row estimates 10× or more off. Only where a misestimate starts: the nodes
//! above inherit it and would repeat the same finding.

use super::thresholds::{MISESTIMATE_CRITICAL_FACTOR, MISESTIMATE_FACTOR, MISESTIMATE_MIN_ROWS};
use super::{scaled_subtree, Context};
use crate::finding::{Finding, Severity};
use crate::plan::metrics::misestimate;
use crate::plan::{Plan, PlanNode};
use crate::sql::predicate::{predicates, Target};
use crate::sql::quote_ident;
use crate::units::format_count;

pub const ID: &str = "row-misestimate";

pub fn check(plan: &Plan, _: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    visit(plan, &plan.root, false, &mut findings);
    findings
}

/// `stops_early`: an ancestor (Limit, semi/anti join) stops reading before the end,
/// so fewer rows than estimated is expected there.
fn visit(plan: &Plan, node: &PlanNode, stops_early: bool, findings: &mut Vec<Finding>) {
    let child_stops = stops_early
        || matches!(node.node_type.as_str(), "Limit" | "WindowAgg")
        || matches!(node.join_type.as_deref(), Some("Semi" | "Anti"))
        || node.node_type == "Merge Join";
    for child in &node.children {
        visit(plan, child, child_stops, findings);
    }
    let Some(m) = significant(node, stops_early) else { return };
    if node.children.iter().any(|c| significant(c, child_stops).is_some_and(|cm| cm.under == m.under)) {
        return;
    }
    let actual = node.actual.map_or(0.0, |a| a.rows);
    let estimated = node.plan_rows.unwrap_or(0.0);
    let base = if m.factor >= MISESTIMATE_CRITICAL_FACTOR { Severity::Critical } else { Severity::Warning };
    let severity = match scaled_subtree(base, plan, node) {
        Severity::Critical if base == Severity::Warning => Severity::Warning,
        other => other,
    };
    findings.push(Finding {
        rule: ID,
        severity,
        node: Some(node.id),
        title: format!(
            "{} returned {} rows where {} were estimated ({:.0}× {})",
            node.label(),
            format_count(actual),
            format_count(estimated),
            m.factor,
            if m.under { "under" } else { "over" }
        ),
        evidence: format!(
            "estimated {} rows per loop, got {}; the plan above it was chosen for the wrong row count",
            format_count(estimated),
            format_count(actual)
        ),
        advice: advice(node),
    });
}

fn significant(node: &PlanNode, stops_early: bool) -> Option<crate::plan::metrics::Misestimate> {
    let m = misestimate(node)?;
    let rows = node.actual?.rows.max(node.plan_rows?);
    let expected = stops_early && !m.under;
    (m.factor >= MISESTIMATE_FACTOR && rows >= MISESTIMATE_MIN_ROWS && !expected).then_some(m)
}

/// PostgreSQL's selectivities for a condition it has no statistics for: an
/// equality (DEFAULT_EQ_SEL) and a range (DEFAULT_INEQ_SEL).
const DEFAULT_SELECTIVITIES: [f64; 2] = [0.005, 1.0 / 3.0];

/// Whether a scan's estimate is one of [`DEFAULT_SELECTIVITIES`] of the rows it
/// read (its returned rows plus those its filter removed).
fn is_default_selectivity(node: &PlanNode) -> bool {
    let (Some(actual), Some(estimated)) = (node.actual, node.plan_rows) else { return false };
    let scanned = actual.rows + node.rows_removed_by_filter.unwrap_or(0.0) / actual.loops.max(1.0);
    scanned > 0.0 && DEFAULT_SELECTIVITIES.iter().any(|s| (estimated / (scanned * s) - 1.0).abs() <= 0.1)
}

fn advice(node: &PlanNode) -> String {
    let Some(table) = &node.relation else {
        return "check the estimates of the nodes below; for joins on correlated columns, CREATE STATISTICS on the join columns of each table, then ANALYZE".into();
    };
    let table = quote_ident(table);
    let reference = node.reference_name().unwrap_or_default().to_string();
    let own = crate::sql::predicate::of_relation(reference.as_str());
    let conditions: Vec<_> =
        [&node.filter, &node.index_cond, &node.recheck_cond].into_iter().flatten().flat_map(|c| predicates(c, &own)).collect();
    let expressions: Vec<String> = conditions
        .iter()
        .filter_map(|p| match &p.target {
            Target::Expression { sql, .. } => Some(sql.clone()),
            Target::Column(_) => None,
        })
        .collect();
    if !expressions.is_empty() && is_default_selectivity(node) {
        return format!(
            "the estimate is PostgreSQL's default guess for a condition on an expression it keeps no statistics on, not stale statistics (ANALYZE will not change it): give {} statistics with an expression index on it, or on PostgreSQL 14+ CREATE STATISTICS ON ({}) FROM {table}, then ANALYZE {table}",
            expressions[0], expressions[0]
        );
    }
    let mut columns: Vec<String> = conditions
        .into_iter()
        .filter_map(|p| match p.target {
            Target::Column(c) => Some(c.name),
            Target::Expression { .. } => None,
        })
        .collect();
    columns.sort();
    columns.dedup();
    if columns.len() >= 2 {
        let name = quote_ident(&format!("{}_{}_stats", node.relation.as_deref().unwrap_or_default(), columns.join("_"))).into_owned();
        let quoted: Vec<String> = columns.iter().map(|c| quote_ident(c).into_owned()).collect();
        format!(
            "ANALYZE {table} if its statistics are stale; if {} are correlated: CREATE STATISTICS {name} (dependencies, mcv) ON {} FROM {table}; ANALYZE {table}",
            quoted.join(" and "),
            quoted.join(", ")
        )
    } else {
        format!("ANALYZE {table}: its statistics look stale; if it stays off, raise the column's statistics target (ALTER TABLE {table} ALTER COLUMN ... SET STATISTICS 1000)")
    }
}
