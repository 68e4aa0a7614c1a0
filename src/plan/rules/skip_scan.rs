//! B-tree scans that descend the index many times per loop (PostgreSQL 18's
//! `Index Searches`): a skip scan over leading columns the condition does not fix.

use super::thresholds::SKIP_SCAN_MIN_SEARCHES;
use super::{scaled, Context};
use crate::finding::{Finding, Severity};
use crate::plan::Plan;
use crate::units::format_count;

pub const ID: &str = "skip-scan";

pub fn check(plan: &Plan, _: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for node in plan.nodes() {
        let Some(per_loop) = node.skip_searches_per_loop().filter(|s| *s >= SKIP_SCAN_MIN_SEARCHES) else { continue };
        let (searches, loops) = (node.index_searches.unwrap_or(0.0), node.actual.map_or(1.0, |a| a.loops).max(1.0));
        let index = node.index_name.as_deref().unwrap_or("the index");
        let condition = node.index_cond.as_deref().unwrap_or("its condition");
        findings.push(Finding {
            rule: ID,
            severity: scaled(Severity::Warning, plan, node),
            node: Some(node.id),
            title: format!("{} searched the index {} times per loop", node.label(), format_count(per_loop.round())),
            evidence: format!(
                "{} index searches in {} loop{} for {condition}: a skip scan through each value of the leading column(s) of {index}, which the condition does not fix",
                format_count(searches),
                format_count(loops),
                if loops == 1.0 { "" } else { "s" }
            ),
            advice: "an index that leads with the condition's columns finds the rows in one search (suggested below when it pays); a skip scan is fine while the leading column has few values".into(),
        });
    }
    findings
}
