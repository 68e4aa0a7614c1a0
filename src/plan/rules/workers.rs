//! Parallel workers the plan counted on but did not get.

use super::Context;
use crate::finding::{Finding, Severity};
use crate::plan::Plan;
use crate::units::format_count;

pub const ID: &str = "workers-not-launched";

pub fn check(plan: &Plan, _: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for node in plan.nodes() {
        let (Some(planned), Some(launched)) = (node.workers_planned, node.workers_launched) else { continue };
        if launched >= planned || node.never_executed() {
            continue;
        }
        findings.push(Finding {
            rule: ID,
            severity: if launched == 0.0 { Severity::Warning } else { Severity::Info },
            node: Some(node.id),
            title: format!("{} launched {} of {} planned workers", node.label(), format_count(launched), format_count(planned)),
            evidence: "the plan's cost assumed the work would be shared; the leader did the rest alone".into(),
            advice: "all parallel workers were busy: raise max_parallel_workers and max_worker_processes (restart) if the CPUs allow, or run fewer parallel queries at once".into(),
        });
    }
    findings
}
