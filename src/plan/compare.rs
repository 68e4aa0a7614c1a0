//! Two plans of one statement, before and after a change (an index, a setting,
//! a rewrite): nodes matched between the trees, what each did in both, which
//! plan shapes changed, and the one line a reviewer reads first.
//!
//! Nodes are matched by what they work on, not by position: a scan by the
//! relation (its alias) it reads, any other node by its kind (a join, an
//! aggregate, a sort...) and the set of relations beneath it. So a Seq Scan on
//! orders matches the Index Scan on orders that replaced it, and a Hash Join of
//! orders and customers the Nested Loop that replaced it.

use super::{Plan, PlanNode};
use crate::units::format_ms;
use serde::Serialize;
use std::collections::BTreeSet;

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub before: Totals,
    pub after: Totals,
    /// Matched nodes in the after plan's order, then the before plan's nodes that
    /// have no counterpart.
    pub nodes: Vec<NodeChange>,
    /// How the plan's shape changed, most significant first.
    pub shape_changes: Vec<ShapeChange>,
    /// "4.1 s → 12 ms (340× faster): Seq Scan on orders became Index Scan using ...".
    pub summary: String,
}

/// A plan's statement-wide figures.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub analyzed: bool,
    /// Execution time (ANALYZE), else `None`.
    pub time_ms: Option<f64>,
    pub planning_ms: Option<f64>,
    pub cost: Option<f64>,
    /// Shared blocks hit and read over the whole plan.
    pub shared_blocks: f64,
    pub nodes: usize,
}

/// One node's figures in one plan.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub id: usize,
    pub label: String,
    /// Time in the node alone (ANALYZE), else `None`.
    pub exclusive_ms: Option<f64>,
    pub inclusive_ms: Option<f64>,
    pub total_cost: Option<f64>,
    /// Rows over all loops: actual with ANALYZE, else estimated.
    pub rows: Option<f64>,
    /// Shared blocks hit and read by the node alone.
    pub shared_blocks: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeChange {
    pub before: Option<Side>,
    pub after: Option<Side>,
}

/// A change of plan shape, at a matched pair of nodes or a node that came or went.
#[derive(Debug, Clone, Serialize)]
pub struct ShapeChange {
    pub kind: ShapeKind,
    /// "Seq Scan on orders became Index Scan using orders_user_id_idx on orders".
    pub description: String,
    /// How much time (or cost, without ANALYZE) the change moved at its node, before
    /// minus after: what ranks the changes, after scan and join methods, which come first.
    pub weight: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShapeKind {
    /// A scan read its relation another way (Seq Scan → Index Scan), or through another index.
    ScanMethod,
    /// A join became another join method.
    JoinMethod,
    /// A join's sides were swapped.
    JoinOrder,
    /// Another aggregate or sort strategy (HashAggregate → GroupAggregate, Sort → Incremental Sort).
    Strategy,
    /// A node only one of the plans has (a Sort the index made unnecessary, a Memoize).
    Added,
    Removed,
}

/// Compares two plans of one statement.
pub fn compare(before: &Plan, after: &Plan) -> Comparison {
    let before_nodes = before.nodes();
    let after_nodes = after.nodes();
    let before_keys: Vec<Key> = before_nodes.iter().map(|n| key(n)).collect();
    let after_keys: Vec<Key> = after_nodes.iter().map(|n| key(n)).collect();
    let mut used = vec![false; before_nodes.len()];
    let mut nodes = Vec::new();
    let mut shape_changes = Vec::new();
    let analyzed = before.analyzed && after.analyzed;
    for (a, after_node) in after_nodes.iter().enumerate() {
        let matched = (0..before_nodes.len()).find(|&b| !used[b] && before_keys[b] == after_keys[a]);
        let after_side = side(after_node);
        match matched {
            Some(b) => {
                used[b] = true;
                let before_node = before_nodes[b];
                if let Some(change) = shape_change(before_node, after_node, analyzed) {
                    shape_changes.push(change);
                }
                nodes.push(NodeChange { before: Some(side(before_node)), after: Some(after_side) });
            }
            None => {
                if !is_auxiliary(after_node) {
                    shape_changes.push(ShapeChange {
                        kind: ShapeKind::Added,
                        description: format!("{} was added", after_node.label()),
                        weight: -own_weight(after_node, analyzed),
                    });
                }
                nodes.push(NodeChange { before: None, after: Some(after_side) });
            }
        }
    }
    for (b, before_node) in before_nodes.iter().enumerate().filter(|(b, _)| !used[*b]) {
        if !is_auxiliary(before_node) {
            shape_changes.push(ShapeChange {
                kind: ShapeKind::Removed,
                description: format!("{} is gone", before_node.label()),
                weight: own_weight(before_node, analyzed),
            });
        }
        nodes.push(NodeChange { before: Some(side(before_nodes[b])), after: None });
    }
    // A scan or join method that changed is the cause a reader looks for; the
    // sorts, gathers and materializations that come and go follow from it.
    let tier = |kind: ShapeKind| u8::from(!matches!(kind, ShapeKind::ScanMethod | ShapeKind::JoinMethod));
    shape_changes.sort_by(|x, y| {
        tier(x.kind).cmp(&tier(y.kind)).then(y.weight.abs().total_cmp(&x.weight.abs())).then_with(|| x.description.cmp(&y.description))
    });
    let before_totals = totals(before);
    let after_totals = totals(after);
    let summary = summary(&before_totals, &after_totals, &shape_changes);
    Comparison { before: before_totals, after: after_totals, nodes, shape_changes, summary }
}

/// What a node is matched by: its kind and the relations it works on.
#[derive(Debug, PartialEq, Eq)]
struct Key {
    kind: String,
    relations: BTreeSet<String>,
    subplan: Option<String>,
}

fn key(node: &PlanNode) -> Key {
    let kind = match node.node_type.as_str() {
        "Seq Scan" | "Index Scan" | "Index Only Scan" | "Bitmap Heap Scan" | "Tid Scan" | "Tid Range Scan" | "Sample Scan" => "scan",
        "Nested Loop" | "Hash Join" | "Merge Join" => "join",
        "Aggregate" | "Group" => "aggregate",
        "Sort" | "Incremental Sort" => "sort",
        "Gather" | "Gather Merge" => "gather",
        "Append" | "Merge Append" => "append",
        other => other,
    }
    .to_string();
    let relations = if kind == "scan" {
        node.reference_name().map(str::to_string).into_iter().collect()
    } else {
        node.walk().iter().filter_map(|n| n.reference_name().filter(|_| n.relation.is_some()).map(str::to_string)).collect()
    };
    Key { kind, relations, subplan: node.subplan_name.clone() }
}

/// Nodes that come and go with another (a Hash with its Hash Join, a Bitmap Index
/// Scan with its Bitmap Heap Scan): not a shape change of their own.
fn is_auxiliary(node: &PlanNode) -> bool {
    matches!(node.node_type.as_str(), "Hash" | "Bitmap Index Scan" | "BitmapAnd" | "BitmapOr" | "Result")
}

fn shape_change(before: &PlanNode, after: &PlanNode, analyzed: bool) -> Option<ShapeChange> {
    // A scan with what it reads through (a Bitmap Heap Scan's index scans), any
    // other node alone: a join's subtree would outweigh every change beneath it.
    let moved = if before.relation.is_some() {
        weight(before, analyzed) - weight(after, analyzed)
    } else {
        own_weight(before, analyzed) - own_weight(after, analyzed)
    };
    let became =
        |kind| Some(ShapeChange { kind, description: format!("{} became {}", scan_label(before), scan_label(after)), weight: moved });
    if before.relation.is_some() && (before.node_type != after.node_type || before.index_name != after.index_name) {
        return became(ShapeKind::ScanMethod);
    }
    let is_join = |n: &PlanNode| matches!(n.node_type.as_str(), "Nested Loop" | "Hash Join" | "Merge Join");
    if is_join(before) && (before.node_type != after.node_type || before.join_type != after.join_type) {
        return became(ShapeKind::JoinMethod);
    }
    if is_join(before) {
        let outer = |n: &PlanNode| n.children.first().map(|c| key(c).relations);
        if outer(before) != outer(after) {
            return Some(ShapeChange {
                kind: ShapeKind::JoinOrder,
                description: format!("{} swapped its sides", after.label()),
                weight: moved,
            });
        }
    }
    if before.node_type != after.node_type || before.strategy != after.strategy {
        return became(ShapeKind::Strategy);
    }
    None
}

/// A node's label, with the indexes a Bitmap Heap Scan reads through.
fn scan_label(node: &PlanNode) -> String {
    let indexes: Vec<&str> =
        node.walk().iter().filter(|n| n.node_type == "Bitmap Index Scan").filter_map(|n| n.index_name.as_deref()).collect();
    if node.node_type == "Bitmap Heap Scan" && !indexes.is_empty() {
        format!("{} using {}", node.label(), indexes.join(" and "))
    } else {
        node.label()
    }
}

/// What a node weighs for ranking: its subtree's time with ANALYZE, else its cost.
fn weight(node: &PlanNode, analyzed: bool) -> f64 {
    if analyzed {
        node.inclusive_ms.unwrap_or(0.0)
    } else {
        node.total_cost.unwrap_or(0.0)
    }
}

/// What a node that came or went weighs: its own time (or cost), not its children's.
fn own_weight(node: &PlanNode, analyzed: bool) -> f64 {
    if analyzed {
        node.exclusive_ms.unwrap_or(0.0)
    } else {
        let children: f64 = node.children.iter().filter_map(|c| c.total_cost).sum();
        (node.total_cost.unwrap_or(0.0) - children).max(0.0)
    }
}

fn side(node: &PlanNode) -> Side {
    Side {
        id: node.id,
        label: node.label(),
        exclusive_ms: node.exclusive_ms,
        inclusive_ms: node.inclusive_ms,
        total_cost: node.total_cost,
        rows: node.total_actual_rows().or(node.plan_rows),
        shared_blocks: node.exclusive_buffers.shared_hit + node.exclusive_buffers.shared_read,
    }
}

fn totals(plan: &Plan) -> Totals {
    Totals {
        analyzed: plan.analyzed,
        time_ms: plan.execution_ms.or(plan.root.inclusive_ms).filter(|_| plan.analyzed),
        planning_ms: plan.planning_ms,
        cost: plan.root.total_cost,
        shared_blocks: plan.root.buffers.shared_hit + plan.root.buffers.shared_read,
        nodes: plan.nodes().len(),
    }
}

/// "4.1 s → 12 ms (340× faster): Seq Scan on orders became Index Scan using …".
fn summary(before: &Totals, after: &Totals, changes: &[ShapeChange]) -> String {
    let (from, to, figure) = match (before.time_ms, after.time_ms) {
        (Some(from), Some(to)) => (from, to, format!("{} → {}", format_ms(from), format_ms(to))),
        _ => match (before.cost, after.cost) {
            (Some(from), Some(to)) => (from, to, format!("cost {from:.0} → {to:.0}")),
            _ => (0.0, 0.0, "no figures to compare".to_string()),
        },
    };
    let verdict = if from <= 0.0 || to <= 0.0 {
        String::new()
    } else if to < from / 1.1 {
        format!(" ({} faster)", factor(from / to))
    } else if to > from * 1.1 {
        format!(" ({} slower)", factor(to / from))
    } else {
        " (about the same)".to_string()
    };
    let what = match changes.first() {
        Some(change) => change.description.clone(),
        None => "the plan has the same shape".to_string(),
    };
    format!("{figure}{verdict}: {what}")
}

fn factor(ratio: f64) -> String {
    if ratio >= 10.0 {
        format!("{ratio:.0}×")
    } else {
        format!("{ratio:.1}×")
    }
}

#[cfg(test)]
mod tests;
