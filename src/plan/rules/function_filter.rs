//! A filter that applies a function to a column (`lower(email) = ...`): no plain
//! index on the column can serve it, an expression index can.

use super::{scaled, Context};
use crate::finding::{Finding, Severity};
use crate::plan::Plan;
use crate::sql::quote_ident;

pub const ID: &str = "function-on-column";

pub fn check(plan: &Plan, context: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for scan in context.scans {
        let (node, table) = (scan.node, scan.table);
        let Some(filter) = &node.filter else { continue };
        // Only where the filter does the work: an index scan already narrowed by the expression has it indexed.
        if node.rows_removed_by_filter == Some(0.0) {
            continue;
        }
        for sql in &scan.filter_expressions {
            findings.push(Finding {
                rule: ID,
                severity: scaled(Severity::Warning, plan, node),
                node: Some(node.id),
                title: format!("{} computes {sql} for every row it filters", node.label()),
                evidence: format!("Filter {filter}: an index on the bare column cannot serve {sql}"),
                advice: format!("an expression index: CREATE INDEX ON {} (({sql}))", quote_ident(table)),
            });
        }
    }
    findings
}
