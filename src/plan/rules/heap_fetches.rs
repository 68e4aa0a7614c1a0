//! Index-only scans that still visit the heap: the visibility map is out of date.

use super::thresholds::{HEAP_FETCH_MIN, HEAP_FETCH_SHARE};
use super::{percent, scaled, Context};
use crate::finding::{Finding, Severity};
use crate::plan::Plan;
use crate::sql::quote_ident;
use crate::units::format_count;

pub const ID: &str = "heap-fetches";

pub fn check(plan: &Plan, _: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for node in plan.nodes().into_iter().filter(|n| n.node_type == "Index Only Scan") {
        let (Some(fetches), Some(rows)) = (node.heap_fetches, node.total_actual_rows()) else { continue };
        if fetches < HEAP_FETCH_MIN || fetches < rows.max(1.0) * HEAP_FETCH_SHARE {
            continue;
        }
        let table = node.relation.as_deref().map(quote_ident).unwrap_or_else(|| "the table".into());
        findings.push(Finding {
            rule: ID,
            severity: scaled(Severity::Warning, plan, node),
            node: Some(node.id),
            title: format!("{} visited the heap {} times", node.label(), format_count(fetches)),
            evidence: format!("{} heap fetches for {} rows ({}): pages changed since the last VACUUM", format_count(fetches), format_count(rows), percent(fetches / rows.max(1.0))),
            advice: format!("VACUUM {table} to update its visibility map; if it recurs, make autovacuum visit it more often (autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor)"),
        });
    }
    findings
}
