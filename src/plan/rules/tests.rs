//! Each rule against a small plan that shows its problem and one that does not,
//! and every real plan in fixtures/plans through all of them.

use super::*;
use crate::plan::parse::read_plan;
use serde_json::{json, Value};

fn plan_of(value: Value) -> Plan {
    read_plan(&value.to_string()).unwrap()
}

/// A one-statement plan around `root`, with an execution time.
fn statement(root: Value, execution_ms: f64) -> Plan {
    plan_of(json!([{ "Plan": root, "Planning Time": 0.1, "Execution Time": execution_ms }]))
}

fn node(node_type: &str, total_ms: f64, rows: f64, plan_rows: f64, loops: f64, extra: Value) -> Value {
    let mut node = json!({
        "Node Type": node_type, "Startup Cost": 0.0, "Total Cost": 100.0, "Plan Rows": plan_rows, "Plan Width": 8,
        "Actual Startup Time": 0.0, "Actual Total Time": total_ms, "Actual Rows": rows, "Actual Loops": loops,
    });
    for (k, v) in extra.as_object().unwrap() {
        node[k] = v.clone();
    }
    node
}

/// The findings for a plan, its scans read as `explain` reads them.
fn diagnosed(plan: &Plan) -> Vec<Finding> {
    diagnose_with(plan, Facts::default())
}

fn diagnose_with(plan: &Plan, facts: Facts) -> Vec<Finding> {
    diagnose(plan, facts, &crate::plan::conditions::scans(plan))
}

fn rules_found(plan: &Plan) -> Vec<&'static str> {
    diagnosed(plan).iter().map(|f| f.rule).collect()
}

fn fires(rule: &str, plan: &Plan) -> bool {
    rules_found(plan).contains(&rule)
}

#[test]
fn seq_scan_discarding_most_of_a_big_table() {
    let scan = |removed: f64| {
        statement(
            node(
                "Seq Scan",
                200.0,
                10.0,
                10.0,
                1.0,
                json!({"Relation Name": "t", "Alias": "t", "Filter": "(a = 1)", "Rows Removed by Filter": removed}),
            ),
            200.0,
        )
    };
    let big = scan(99_990.0);
    assert!(fires(seq_scan_filter::ID, &big));
    assert_eq!(diagnosed(&big)[0].severity, Severity::Critical, "the whole 200 ms statement");
    assert!(!fires(seq_scan_filter::ID, &scan(5_000.0)), "a small table");
}

#[test]
fn index_scan_whose_filter_discards_most_rows() {
    let extra = json!({"Relation Name": "t", "Index Name": "t_a_idx", "Index Cond": "(a = 1)", "Filter": "(b = 2)", "Rows Removed by Filter": 5_000});
    assert!(fires(index_filter::ID, &statement(node("Index Scan", 5.0, 10.0, 10.0, 1.0, extra), 5.0)));
    let fine = json!({"Relation Name": "t", "Index Name": "t_a_idx", "Filter": "(b = 2)", "Rows Removed by Filter": 50});
    assert!(!fires(index_filter::ID, &statement(node("Index Scan", 5.0, 10.0, 10.0, 1.0, fine), 5.0)));
}

#[test]
fn function_on_a_column_in_a_filter() {
    let extra = json!({"Relation Name": "users", "Alias": "users", "Filter": "(lower((email)::text) = 'a@b.c'::text)", "Rows Removed by Filter": 9_999});
    let plan = statement(node("Seq Scan", 10.0, 1.0, 1.0, 1.0, extra), 10.0);
    let findings = diagnosed(&plan);
    let finding = findings.iter().find(|f| f.rule == function_filter::ID).expect("fires");
    assert!(finding.advice.contains("CREATE INDEX ON users ((lower((email)::TEXT)))"), "{}", finding.advice);
    let plain = json!({"Relation Name": "users", "Filter": "(email = 'a@b.c'::text)", "Rows Removed by Filter": 9_999});
    assert!(!fires(function_filter::ID, &statement(node("Seq Scan", 10.0, 1.0, 1.0, 1.0, plain), 10.0)));
}

#[test]
fn misestimates_are_reported_where_they_start() {
    let scan = node("Seq Scan", 10.0, 50_000.0, 100.0, 1.0, json!({"Relation Name": "t", "Filter": "((a = 1) AND (b = 2))"}));
    let plan = statement(node("Hash Aggregate", 12.0, 50_000.0, 100.0, 1.0, json!({"Plans": [scan]})), 12.0);
    let findings: Vec<Finding> = diagnosed(&plan).into_iter().filter(|f| f.rule == misestimate::ID).collect();
    assert_eq!(findings.len(), 1, "only the scan, not the aggregate that inherits it");
    assert_eq!(findings[0].node, Some(2));
    assert!(findings[0].advice.contains("CREATE STATISTICS t_a_b_stats (dependencies, mcv) ON a, b FROM t"), "{}", findings[0].advice);
    // Fewer rows than estimated under a Limit is the Limit's doing.
    let limited = statement(
        node("Limit", 1.0, 10.0, 10.0, 1.0, json!({"Plans": [node("Seq Scan", 1.0, 10.0, 70_000.0, 1.0, json!({"Relation Name": "t"}))]})),
        1.0,
    );
    assert!(!fires(misestimate::ID, &limited));
    // 750 of 150,000 rows: PostgreSQL's 0.5% guess for an expression, which ANALYZE does not change.
    let guessed = json!({"Relation Name": "users", "Filter": "(lower((email)::text) = 'a@b.c'::text)", "Rows Removed by Filter": 140_000});
    let plan = statement(node("Seq Scan", 10.0, 10_000.0, 750.0, 1.0, guessed), 10.0);
    let finding = diagnosed(&plan).into_iter().find(|f| f.rule == misestimate::ID).expect("fires");
    assert!(finding.advice.starts_with("the estimate is PostgreSQL's default guess"), "{}", finding.advice);
    assert!(!finding.advice.starts_with("ANALYZE"), "{}", finding.advice);
}

#[test]
fn spills_say_how_much_work_mem_would_fit() {
    let sort = statement(
        node("Sort", 50.0, 1e5, 1e5, 1.0, json!({"Sort Method": "external merge", "Sort Space Used": 3000, "Sort Space Type": "Disk"})),
        50.0,
    );
    let finding = diagnosed(&sort).into_iter().find(|f| f.rule == spill::ID).expect("fires");
    assert!(finding.advice.contains("SET work_mem = '8MB'"), "{}", finding.advice);
    let hash = statement(
        node("Hash", 50.0, 1e5, 1e5, 1.0, json!({"Hash Batches": 4, "Original Hash Batches": 4, "Peak Memory Usage": 4000})),
        50.0,
    );
    assert!(fires(spill::ID, &hash));
    let agg = statement(
        node(
            "Aggregate",
            50.0,
            1e5,
            1e5,
            1.0,
            json!({"Strategy": "Hashed", "HashAgg Batches": 5, "Disk Usage": 8000, "Peak Memory Usage": 4000}),
        ),
        50.0,
    );
    assert!(fires(spill::ID, &agg));
    let memory = statement(
        node("Sort", 5.0, 100.0, 100.0, 1.0, json!({"Sort Method": "quicksort", "Sort Space Used": 30, "Sort Space Type": "Memory"})),
        5.0,
    );
    assert!(!fires(spill::ID, &memory));
}

#[test]
fn lossy_bitmaps() {
    let lossy = json!({"Relation Name": "t", "Exact Heap Blocks": 100, "Lossy Heap Blocks": 5000, "Rows Removed by Index Recheck": 40000});
    assert!(fires(lossy_bitmap::ID, &statement(node("Bitmap Heap Scan", 5.0, 10.0, 10.0, 1.0, lossy), 5.0)));
    let exact = json!({"Relation Name": "t", "Exact Heap Blocks": 100, "Lossy Heap Blocks": 0});
    assert!(!fires(lossy_bitmap::ID, &statement(node("Bitmap Heap Scan", 5.0, 10.0, 10.0, 1.0, exact), 5.0)));
}

#[test]
fn nested_loops_that_rescan_their_inner_side() {
    let join = |loops: f64| {
        let outer = node("Seq Scan", 1.0, loops, 10.0, 1.0, json!({"Relation Name": "a", "Alias": "a", "Parent Relationship": "Outer"}));
        let inner = node(
            "Seq Scan",
            0.05,
            1.0,
            1.0,
            loops,
            json!({"Relation Name": "b", "Alias": "b", "Parent Relationship": "Inner", "Filter": "(b.a_id = a.id)", "Rows Removed by Filter": 999}),
        );
        statement(node("Nested Loop", 60.0, loops, 10.0, 1.0, json!({"Plans": [outer, inner]})), 60.0)
    };
    let many = join(5_000.0);
    let finding = diagnosed(&many).into_iter().find(|f| f.rule == nested_loop::ID).expect("fires");
    assert_eq!(finding.node, Some(3));
    assert!(finding.evidence.contains("expected 10 outer rows"));
    assert!(!fires(nested_loop::ID, &join(10.0)));
}

#[test]
fn heap_fetches_in_index_only_scans() {
    let fetching = json!({"Relation Name": "t", "Index Name": "t_idx", "Heap Fetches": 5000});
    let finding = diagnosed(&statement(node("Index Only Scan", 5.0, 10_000.0, 10_000.0, 1.0, fetching), 5.0));
    assert!(finding.iter().any(|f| f.rule == heap_fetches::ID && f.advice.starts_with("VACUUM t")));
    let clean = json!({"Relation Name": "t", "Index Name": "t_idx", "Heap Fetches": 0});
    assert!(!fires(heap_fetches::ID, &statement(node("Index Only Scan", 5.0, 10_000.0, 10_000.0, 1.0, clean), 5.0)));
}

#[test]
fn workers_planned_but_not_launched() {
    let gather =
        |launched: f64| statement(node("Gather", 5.0, 10.0, 10.0, 1.0, json!({"Workers Planned": 2, "Workers Launched": launched})), 5.0);
    assert_eq!(diagnosed(&gather(0.0))[0].severity, Severity::Warning);
    assert!(fires(workers::ID, &gather(1.0)));
    assert!(!fires(workers::ID, &gather(2.0)));
}

#[test]
fn large_offsets_from_the_plan_or_the_statement() {
    let limit = |pulled: f64| {
        statement(
            node(
                "Limit",
                5.0,
                20.0,
                20.0,
                1.0,
                json!({"Plans": [node("Index Scan", 5.0, pulled, pulled, 1.0, json!({"Relation Name": "t"}))]}),
            ),
            5.0,
        )
    };
    assert!(fires(large_offset::ID, &limit(50_020.0)));
    assert!(!fires(large_offset::ID, &limit(20.0)));
    let estimated = plan_of(json!([{"Plan": {"Node Type": "Limit", "Plan Rows": 20}}]));
    assert!(diagnose_with(&estimated, Facts { offset: Some(10_000) }).iter().any(|f| f.rule == large_offset::ID));
}

#[test]
fn planning_and_jit_that_outweigh_execution() {
    let slow_planning =
        plan_of(json!([{"Plan": node("Result", 1.0, 1.0, 1.0, 1.0, json!({})), "Planning Time": 40.0, "Execution Time": 2.0}]));
    assert!(fires(overhead::PLANNING_ID, &slow_planning));
    let jit = plan_of(json!([{"Plan": node("Result", 100.0, 1.0, 1.0, 1.0, json!({})), "Execution Time": 100.0,
        "JIT": {"Functions": 12, "Timing": {"Generation": 5.0, "Total": 80.0}}}]));
    assert!(fires(overhead::JIT_ID, &jit));
    let quick = plan_of(json!([{"Plan": node("Result", 100.0, 1.0, 1.0, 1.0, json!({})), "Planning Time": 1.0, "Execution Time": 100.0}]));
    assert!(!fires(overhead::PLANNING_ID, &quick) && !fires(overhead::JIT_ID, &quick));
}

#[test]
fn reading_most_blocks_from_disk() {
    let cold = statement(
        node("Seq Scan", 500.0, 1e6, 1e6, 1.0, json!({"Relation Name": "t", "Shared Hit Blocks": 100, "Shared Read Blocks": 50_000})),
        500.0,
    );
    assert!(fires(disk_reads::ID, &cold));
    let warm = statement(
        node("Seq Scan", 500.0, 1e6, 1e6, 1.0, json!({"Relation Name": "t", "Shared Hit Blocks": 50_000, "Shared Read Blocks": 100})),
        500.0,
    );
    assert!(!fires(disk_reads::ID, &warm));
}

#[test]
fn every_rule_is_listed_once_with_a_unique_id() {
    let mut ids: Vec<&str> = RULES.iter().map(|(id, _)| *id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
}

/// docs/explain.md publishes every rule id and every threshold with its value.
#[test]
fn the_documentation_lists_every_rule_and_threshold() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/explain.md")).unwrap();
    for (id, _) in RULES {
        assert!(docs.contains(&format!("`{id}`")), "docs/explain.md does not describe rule {id}");
    }
    for (name, value) in thresholds::ALL {
        let row = docs.lines().find(|l| l.starts_with(&format!("| `{name}` |"))).unwrap_or_else(|| panic!("docs/explain.md lacks {name}"));
        assert!(row.contains(&format!("| {value} |")), "docs/explain.md gives {name} another value than {value}: {row}");
    }
}

#[test]
fn every_real_plan_parses_diagnoses_and_renders() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/plans");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let plan = read_plan(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
        assert_eq!(plan.root.id, 1);
        if plan.analyzed {
            let root = plan.root.inclusive_ms.unwrap();
            let sum: f64 = plan.nodes().iter().filter_map(|n| n.exclusive_ms).sum();
            assert!(sum <= root * 1.01 + 0.01, "{}: exclusive times add up to {sum} ms, more than the root's {root} ms", path.display());
        }
        let findings = diagnosed(&plan);
        for finding in &findings {
            assert!(finding.node.is_none_or(|id| plan.node(id).is_some()), "{}: finding on a node that does not exist", path.display());
        }
        count += 1;
    }
    assert_eq!(count, 51, "the 51 anchor plans");
}

fn fixture(name: &str) -> Plan {
    let path = format!("{}/fixtures/explain/{name}", env!("CARGO_MANIFEST_DIR"));
    read_plan(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// fixtures/explain/pg18_skip_scan.json: PostgreSQL 18.4, an index on
/// events (kind, created_at) with 5 kinds, and a filter on created_at alone.
#[test]
fn a_skip_scan_over_the_leading_column() {
    let plan = fixture("pg18_skip_scan.json");
    let findings = diagnosed(&plan);
    let skip = findings.iter().find(|f| f.rule == skip_scan::ID).expect("skip scan found");
    assert_eq!(plan.node(skip.node.unwrap()).unwrap().index_searches, Some(11.0));
    assert!(skip.title.contains("11 times per loop"), "{}", skip.title);
    // Searches are counted over all loops: 100 searches in 100 loops is one each.
    let lookups = statement(
        node(
            "Index Scan",
            0.01,
            1.0,
            1.0,
            100.0,
            json!({"Relation Name": "t", "Index Name": "t_pkey", "Index Cond": "(id = g.g)", "Index Searches": 100}),
        ),
        5.0,
    );
    assert!(!fires(skip_scan::ID, &lookups));
    // A list of values is searched once per value, which is not a skip.
    let list = statement(
        node(
            "Index Scan",
            1.0,
            50.0,
            50.0,
            1.0,
            json!({"Relation Name": "t", "Index Name": "t_pkey", "Index Cond": "(id = ANY ('{1,2,3}'::integer[]))", "Index Searches": 50}),
        ),
        5.0,
    );
    assert!(!fires(skip_scan::ID, &list));
}

/// fixtures/explain/pg18_disabled.json: PostgreSQL 18.4 with enable_seqscan off
/// and no index for the filter.
#[test]
fn a_node_chosen_although_disabled() {
    let plan = fixture("pg18_disabled.json");
    let finding = diagnosed(&plan).into_iter().find(|f| f.rule == disabled::ID).expect("disabled node found");
    assert_eq!(plan.node(finding.node.unwrap()).unwrap().node_type, "Seq Scan");
    assert!(finding.title.contains("enable_seqscan is off"), "{}", finding.title);
    assert!(finding.evidence.contains("enable_seqscan = off"), "{}", finding.evidence);
    assert_eq!(plan.nodes().iter().filter(|n| n.disabled).count(), 1, "only the scan, not the Gather above it");
    // Before 18: the lowest node carrying the disable cost, not its parents.
    let scan = json!({"Node Type": "Seq Scan", "Relation Name": "t", "Startup Cost": 1.0e10, "Total Cost": 1.0e10 + 35.5, "Plan Rows": 10, "Plan Width": 4});
    let old = plan_of(
        json!([{ "Plan": {"Node Type": "Sort", "Startup Cost": 1.0e10 + 40.0, "Total Cost": 1.0e10 + 41.0, "Plan Rows": 10, "Plan Width": 4, "Plans": [scan]} }]),
    );
    let disabled: Vec<&str> = old.nodes().iter().filter(|n| n.disabled).map(|n| n.node_type.as_str()).collect();
    assert_eq!(disabled, ["Seq Scan"]);
    assert!(!fires(disabled::ID, &fixture("pg18_skip_scan.json")));
}

#[test]
fn sending_the_result_outweighs_execution() {
    let with = |time: f64| {
        plan_of(json!([{ "Plan": node("Seq Scan", 100.0, 10.0, 10.0, 1.0, json!({"Relation Name": "t"})),
        "Execution Time": 100.0, "Serialization": {"Time": time, "Output Volume": 204800, "Format": "text"} }]))
    };
    assert!(fires(overhead::SERIALIZATION_ID, &with(80.0)));
    assert!(!fires(overhead::SERIALIZATION_ID, &with(10.0)));
    let plan = fixture("pg18_skip_scan.json");
    assert!(plan.serialization.as_ref().is_some_and(|s| s.time_ms.is_some() && s.format == "text"), "{:?}", plan.serialization);
    assert!(plan.planning_memory_kb.is_some_and(|kb| kb > 0.0));
    assert!(plan.planning_buffers.is_some_and(|b| b.shared_hit > 0.0));
}
