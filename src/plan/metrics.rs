//! Derived figures: where the time and the buffers went, node by node.
//!
//! PostgreSQL reports a node's time per loop and inclusive of its children. We
//! want wall time spent in the node alone, so:
//! - inclusive = per-loop time × loops, divided by the processes sharing the work
//!   under a Gather (workers report one loop each and PostgreSQL averages them);
//! - exclusive = inclusive − the children's inclusive, except that a CTE's
//!   InitPlan is not subtracted from its owner: its time is already inside the
//!   CTE Scan that read it, which subtracts it instead. Nothing is counted twice,
//!   so the exclusive times add up to the statement's time.

use super::{Buffers, Plan, PlanNode};
use std::collections::BTreeMap;

pub fn derive(plan: &mut Plan) {
    if !plan.analyzed {
        derive_buffers(&mut plan.root, &BTreeMap::new());
        return;
    }
    inclusive(&mut plan.root, 1.0);
    let ctes = cte_figures(&plan.root);
    exclusive(&mut plan.root, &ctes);
    derive_buffers(&mut plan.root, &ctes);
}

/// Inclusive time of every node; `processes` is how many processes share the work here.
fn inclusive(node: &mut PlanNode, processes: f64) {
    let processes = match node.node_type.as_str() {
        // Gather runs once in the leader; below it, the leader (usually) and the launched workers.
        "Gather" | "Gather Merge" => {
            if let Some(actual) = node.actual {
                node.inclusive_ms = Some(actual.total_ms * actual.loops / processes);
            }
            let workers = node.workers_launched.or(node.workers_planned).unwrap_or(0.0);
            for child in &mut node.children {
                inclusive(child, workers + 1.0);
            }
            return;
        }
        _ => processes,
    };
    if let Some(actual) = node.actual {
        node.inclusive_ms = Some(actual.total_ms * actual.loops / processes.max(1.0));
    }
    for child in &mut node.children {
        inclusive(child, processes);
    }
}

/// Figures of each CTE's InitPlan (by CTE name), for the CTE Scans that read it.
#[derive(Clone, Copy, Default)]
struct CteFigures {
    ms: f64,
    buffers: Buffers,
}

fn cte_figures(root: &PlanNode) -> BTreeMap<String, CteFigures> {
    root.walk()
        .into_iter()
        .filter_map(|node| {
            let name = cte_of_initplan(node)?;
            Some((name.to_string(), CteFigures { ms: node.inclusive_ms.unwrap_or(0.0), buffers: node.buffers }))
        })
        .collect()
}

/// `CTE recent` for an InitPlan that computes a CTE.
fn cte_of_initplan(node: &PlanNode) -> Option<&str> {
    if node.parent_relationship.as_deref() != Some("InitPlan") {
        return None;
    }
    node.subplan_name.as_deref()?.strip_prefix("CTE ")
}

fn counted_in_parent(child: &PlanNode) -> bool {
    cte_of_initplan(child).is_none()
}

fn exclusive(node: &mut PlanNode, ctes: &BTreeMap<String, CteFigures>) {
    if let Some(total) = node.inclusive_ms {
        let children: f64 = node.children.iter().filter(|c| counted_in_parent(c)).filter_map(|c| c.inclusive_ms).sum();
        let cte = match (&node.cte_name, node.node_type.as_str()) {
            (Some(name), "CTE Scan") => ctes.get(name).map_or(0.0, |c| c.ms),
            _ => 0.0,
        };
        node.exclusive_ms = Some((total - children - cte).max(0.0));
    }
    for child in &mut node.children {
        exclusive(child, ctes);
    }
}

fn derive_buffers(node: &mut PlanNode, ctes: &BTreeMap<String, CteFigures>) {
    let mut own = node.buffers;
    for child in node.children.iter().filter(|c| counted_in_parent(c)) {
        own = own.minus(&child.buffers);
    }
    if let (Some(name), "CTE Scan") = (&node.cte_name, node.node_type.as_str()) {
        if let Some(cte) = ctes.get(name) {
            own = own.minus(&cte.buffers);
        }
    }
    node.exclusive_buffers = own;
    for child in &mut node.children {
        derive_buffers(child, ctes);
    }
}

/// Estimated rows vs actual rows, as a factor ≥ 1 and a direction. Rows below one
/// count as one, so that 0 vs 1 is not an infinite misestimate.
pub fn misestimate(node: &PlanNode) -> Option<Misestimate> {
    let actual = node.actual?;
    if actual.loops == 0.0 {
        return None;
    }
    let estimated = node.plan_rows?.max(1.0);
    let real = actual.rows.max(1.0);
    let factor = if real >= estimated { real / estimated } else { estimated / real };
    Some(Misestimate { factor, under: real > estimated })
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Misestimate {
    pub factor: f64,
    /// The planner expected fewer rows than came.
    pub under: bool,
}

#[cfg(test)]
mod tests {
    use crate::plan::parse::read_plan;
    use crate::plan::Plan;

    fn fixture(name: &str) -> Plan {
        let text = std::fs::read_to_string(format!("{}/fixtures/plans/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        read_plan(&text).unwrap()
    }

    fn sum_exclusive(plan: &Plan) -> f64 {
        plan.nodes().iter().filter_map(|n| n.exclusive_ms).sum()
    }

    #[test]
    fn ctes_are_counted_once() {
        // joe__45: two CTEs, the second reading the first, under a 3.7 s statement.
        let plan = fixture("joe__45.json");
        let root = plan.root.inclusive_ms.unwrap();
        let sum = sum_exclusive(&plan);
        assert!((sum - root).abs() < 1.0, "exclusive times add up to {sum}, root is {root}");
        // The time goes to the join inside the first CTE, not to the scans that read it.
        let slowest = plan.nodes().into_iter().max_by(|a, b| a.exclusive_ms.partial_cmp(&b.exclusive_ms).unwrap()).unwrap();
        assert_eq!(slowest.node_type, "Hash Join");
        assert!(slowest.exclusive_ms.unwrap() > 2000.0);
    }

    #[test]
    fn parallel_nodes_are_not_multiplied_by_their_workers() {
        // joe__2: Gather Merge with 2 workers; the Sort below reports 3 loops of 2.2 ms each.
        let plan = fixture("joe__2.json");
        let sort = plan.nodes().into_iter().find(|n| n.node_type == "Sort").unwrap();
        assert!((sort.inclusive_ms.unwrap() - 2.167).abs() < 0.01);
        assert!(sum_exclusive(&plan) <= plan.root.inclusive_ms.unwrap() + 0.01);
    }

    #[test]
    fn loops_multiply_per_loop_times() {
        // joe__45: an Index Scan run 204 times at 0.038 ms a loop.
        let plan = fixture("joe__45.json");
        let scan = plan
            .nodes()
            .into_iter()
            .find(|n| n.node_type == "Index Scan" && n.actual.unwrap().loops == 204.0 && n.actual.unwrap().total_ms == 0.038)
            .unwrap();
        assert!((scan.inclusive_ms.unwrap() - 7.752).abs() < 0.001);
    }
}
