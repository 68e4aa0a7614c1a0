//! Nodes the planner chose although a setting disabled them: the plan was forced,
//! and the setting names what the statement lacked.

use super::{scaled, Context};
use crate::finding::{Finding, Severity};
use crate::plan::{Plan, PlanNode};

pub const ID: &str = "disabled-node";

pub fn check(plan: &Plan, _: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for node in plan.nodes().into_iter().filter(|n| n.disabled) {
        let setting = setting(node);
        let name = setting.unwrap_or("an enable_* setting");
        let forced = setting.map_or(String::new(), |s| match plan.settings.get(s) {
            Some(value) => format!(" (the plan's settings show {s} = {value})"),
            None => String::new(),
        });
        let advice = if node.node_type == "Seq Scan" {
            format!("no index could serve this scan's condition, so the planner fell back on a Seq Scan with {name} off: add the index suggested below, and reset {name}")
        } else {
            format!("the planner had no enabled way to do this step: reset {name} (SET, ALTER ROLE or ALTER DATABASE) unless it was turned off on purpose")
        };
        findings.push(Finding {
            rule: ID,
            severity: scaled(Severity::Warning, plan, node),
            node: Some(node.id),
            title: format!("{} was chosen although {name} is off", node.label()),
            evidence: format!("PostgreSQL marks the node disabled{forced}: a disabled path is used only when no enabled one exists"),
            advice,
        });
    }
    findings
}

/// The `enable_*` setting that disables a node of this type.
fn setting(node: &PlanNode) -> Option<&'static str> {
    Some(match node.node_type.as_str() {
        "Seq Scan" => "enable_seqscan",
        "Index Scan" => "enable_indexscan",
        "Index Only Scan" => "enable_indexonlyscan",
        "Bitmap Heap Scan" | "Bitmap Index Scan" => "enable_bitmapscan",
        "Tid Scan" | "Tid Range Scan" => "enable_tidscan",
        "Sort" => "enable_sort",
        "Incremental Sort" => "enable_incremental_sort",
        "Nested Loop" => "enable_nestloop",
        "Hash Join" | "Hash" => "enable_hashjoin",
        "Merge Join" => "enable_mergejoin",
        "Materialize" => "enable_material",
        "Memoize" => "enable_memoize",
        "Gather Merge" => "enable_gathermerge",
        "Append" if node.parallel_aware => "enable_parallel_append",
        "Aggregate" if node.strategy.as_deref() == Some("Hashed") => "enable_hashagg",
        _ => return None,
    })
}
