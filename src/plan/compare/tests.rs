//! Matching and shape changes on small plans.

use super::*;
use crate::plan::parse::read_plan;
use serde_json::json;

fn plan(root: serde_json::Value, execution_ms: f64) -> Plan {
    read_plan(&json!([{ "Plan": root, "Execution Time": execution_ms }]).to_string()).unwrap()
}

fn scan(node_type: &str, relation: &str, index: Option<&str>, ms: f64) -> serde_json::Value {
    let mut node = json!({"Node Type": node_type, "Relation Name": relation, "Alias": relation, "Total Cost": ms * 10.0,
        "Plan Rows": 10, "Actual Total Time": ms, "Actual Rows": 10, "Actual Loops": 1});
    if let Some(index) = index {
        node["Index Name"] = json!(index);
    }
    node
}

fn join(node_type: &str, ms: f64, outer: serde_json::Value, inner: serde_json::Value) -> serde_json::Value {
    json!({"Node Type": node_type, "Join Type": "Inner", "Total Cost": ms * 10.0, "Plan Rows": 10,
        "Actual Total Time": ms, "Actual Rows": 10, "Actual Loops": 1, "Plans": [outer, inner]})
}

#[test]
fn a_seq_scan_that_became_an_index_scan_is_the_summary() {
    let before = plan(scan("Seq Scan", "orders", None, 4100.0), 4100.0);
    let after = plan(scan("Index Scan", "orders", Some("orders_user_id_idx"), 12.0), 12.0);
    let comparison = compare(&before, &after);
    assert_eq!(
        comparison.summary,
        "4,100 ms → 12.0 ms (342× faster): Seq Scan on orders became Index Scan using orders_user_id_idx on orders"
    );
    assert_eq!(comparison.nodes.len(), 1);
    assert_eq!(comparison.shape_changes[0].kind, ShapeKind::ScanMethod);
}

#[test]
fn a_join_method_change_matches_the_joins_by_their_relations() {
    let hash = |ms| json!({"Node Type": "Hash", "Total Cost": 1.0, "Actual Total Time": ms, "Actual Rows": 10, "Actual Loops": 1, "Plans": [scan("Seq Scan", "customers", None, ms)]});
    let before = plan(join("Hash Join", 50.0, scan("Seq Scan", "orders", None, 40.0), hash(5.0)), 50.0);
    let after = plan(
        join(
            "Nested Loop",
            80.0,
            scan("Seq Scan", "customers", None, 5.0),
            scan("Index Scan", "orders", Some("orders_customer_id_idx"), 70.0),
        ),
        80.0,
    );
    let comparison = compare(&before, &after);
    let kinds: Vec<ShapeKind> = comparison.shape_changes.iter().map(|c| c.kind).collect();
    assert!(kinds.contains(&ShapeKind::JoinMethod), "{kinds:?}");
    assert!(kinds.contains(&ShapeKind::ScanMethod), "{kinds:?}");
    assert!(!kinds.contains(&ShapeKind::Removed), "the Hash went with its join, not as a change of its own: {kinds:?}");
    assert!(comparison.summary.starts_with("50.0 ms → 80.0 ms (1.6× slower)"), "{}", comparison.summary);
    // Every node of both plans appears once: matched pairs, the Hash that went alone.
    let before_ids: Vec<usize> = comparison.nodes.iter().filter_map(|n| n.before.as_ref().map(|s| s.id)).collect();
    assert_eq!(before_ids.len(), before.nodes().len());
    assert_eq!(comparison.nodes.iter().filter(|n| n.after.is_some()).count(), after.nodes().len());
}

#[test]
fn a_sort_an_index_made_unnecessary_is_gone() {
    let sort = json!({"Node Type": "Sort", "Total Cost": 300.0, "Plan Rows": 10, "Actual Total Time": 30.0, "Actual Rows": 10, "Actual Loops": 1,
        "Plans": [scan("Seq Scan", "orders", None, 20.0)]});
    let before = plan(sort, 30.0);
    let after = plan(scan("Index Scan", "orders", Some("orders_created_at_idx"), 1.0), 1.0);
    let comparison = compare(&before, &after);
    let gone = comparison.shape_changes.iter().find(|c| c.kind == ShapeKind::Removed).expect("the sort is gone");
    assert_eq!(gone.description, "Sort is gone");
    assert_eq!(gone.weight, 10.0, "its own time, not its child's");
}

#[test]
fn the_same_plan_says_so() {
    let before = plan(scan("Seq Scan", "orders", None, 10.0), 10.0);
    let comparison = compare(&before, &before);
    assert!(comparison.shape_changes.is_empty());
    assert_eq!(comparison.summary, "10.0 ms → 10.0 ms (about the same): the plan has the same shape");
}

#[test]
fn plans_without_analyze_compare_costs() {
    let estimate = |node_type: &str, index: Option<&str>, cost: f64| {
        let mut node = json!({"Node Type": node_type, "Relation Name": "t", "Alias": "t", "Total Cost": cost, "Plan Rows": 10});
        if let Some(index) = index {
            node["Index Name"] = json!(index);
        }
        read_plan(&json!([{ "Plan": node }]).to_string()).unwrap()
    };
    let comparison = compare(&estimate("Seq Scan", None, 1000.0), &estimate("Index Scan", Some("t_a_idx"), 8.0));
    assert_eq!(comparison.summary, "cost 1000 → 8 (125× faster): Seq Scan on t became Index Scan using t_a_idx on t");
}
