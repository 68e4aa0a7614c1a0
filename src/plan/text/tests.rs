//! The text reader on the pieces PostgreSQL prints, and on the carriers around them.

use super::*;

#[test]
fn node_names_give_type_join_strategy_and_targets() {
    let n = describe("Parallel Index Only Scan Backward using \"Orders Pkey\" on public.\"Order Items\" oi");
    assert_eq!(n.node_type, "Index Only Scan");
    assert!(n.parallel_aware);
    assert_eq!(n.index_name.as_deref(), Some("Orders Pkey"));
    assert_eq!((n.schema.as_deref(), n.relation.as_deref(), n.alias.as_deref()), (Some("public"), Some("Order Items"), Some("oi")));
    let n = describe("Seq Scan on orders");
    assert_eq!((n.relation.as_deref(), n.alias.as_deref()), (Some("orders"), Some("orders")));
    for (text, node_type, join) in [
        ("Nested Loop", "Nested Loop", "Inner"),
        ("Nested Loop Left Join", "Nested Loop", "Left"),
        ("Hash Join", "Hash Join", "Inner"),
        ("Hash Right Semi Join", "Hash Join", "Right Semi"),
        ("Merge Anti Join", "Merge Join", "Anti"),
    ] {
        let n = describe(text);
        assert_eq!((n.node_type.as_str(), n.join_type.as_deref()), (node_type, Some(join)), "{text}");
    }
    for (text, strategy) in
        [("HashAggregate", "Hashed"), ("Finalize GroupAggregate", "Sorted"), ("Partial HashAggregate", "Hashed"), ("Aggregate", "Plain")]
    {
        let n = describe(text);
        assert_eq!((n.node_type.as_str(), n.strategy.as_deref()), ("Aggregate", Some(strategy)), "{text}");
    }
    let n = describe("Bitmap Index Scan on orders_created_at_idx");
    assert_eq!(
        (n.node_type.as_str(), n.index_name.as_deref(), n.relation.as_deref()),
        ("Bitmap Index Scan", Some("orders_created_at_idx"), None)
    );
    let n = describe("Insert on public.orders o");
    assert_eq!((n.node_type.as_str(), n.operation.as_deref(), n.relation.as_deref()), ("ModifyTable", Some("Insert"), Some("orders")));
    let n = describe("CTE Scan on recent r");
    assert_eq!((n.cte_name.as_deref(), n.alias.as_deref()), (Some("recent"), Some("r")));
    let n = describe("Function Scan on pg_catalog.generate_series g");
    assert_eq!(
        (n.function_name.as_deref(), n.schema.as_deref(), n.alias.as_deref()),
        (Some("generate_series"), Some("pg_catalog"), Some("g"))
    );
    assert_eq!(describe("Hash").node_type, "Hash");
    assert_eq!(describe("Merge Append").node_type, "Merge Append");
    assert_eq!(describe("HashSetOp Except").strategy.as_deref(), Some("Hashed"));
}

#[test]
fn figures_of_every_version() {
    let n = header("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4) (actual time=0.010..0.350 rows=2550.00 loops=2)");
    assert_eq!((n.startup_cost, n.total_cost, n.plan_rows, n.plan_width), (Some(0.0), Some(35.5), Some(2550.0), Some(4.0)));
    let a = n.actual.unwrap();
    assert_eq!((a.startup_ms, a.total_ms, a.rows, a.loops), (0.01, 0.35, 2550.0, 2.0));
    let timing_off = header("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4) (actual rows=7 loops=1)").actual.unwrap();
    assert_eq!((timing_off.total_ms, timing_off.rows), (0.0, 7.0));
    let never = header("Index Scan using t_pkey on t  (cost=0.15..8.17 rows=1 width=4) (never executed)");
    assert!(never.never_executed());
    let costs_off = header("Seq Scan on t (actual rows=3 loops=1)");
    assert_eq!((costs_off.total_cost, costs_off.actual.map(|a| a.rows)), (None, Some(3.0)));
}

#[test]
fn lists_split_only_between_items() {
    assert_eq!(split_list("a, COALESCE(b, c), 'x, y'::text, d"), ["a", "COALESCE(b, c)", "'x, y'::text", "d"]);
    assert_eq!(split_list(""), Vec::<String>::new());
    let b = buffers("shared hit=58 read=3 dirtied=1 written=2, local hit=4, temp read=5 written=6");
    assert_eq!(
        (b.shared_hit, b.shared_read, b.shared_dirtied, b.shared_written, b.local_hit, b.temp_read, b.temp_written),
        (58.0, 3.0, 1.0, 2.0, 4.0, 5.0, 6.0)
    );
}

const PLAN: &str = "Hash Join  (cost=1.00..2.00 rows=10 width=8) (actual time=0.100..0.200 rows=10 loops=1)
  Hash Cond: (o.account_id = a.id)
  Buffers: shared hit=12
  InitPlan 1 (returns $0)
    ->  Result  (cost=0.00..0.01 rows=1 width=4) (actual time=0.001..0.001 rows=1 loops=1)
  ->  Seq Scan on orders o  (cost=0.00..1.00 rows=10 width=8) (actual time=0.010..0.050 rows=10 loops=1)
        Filter: (total > $0)
        Rows Removed by Filter: 90
  ->  Hash  (cost=0.50..0.50 rows=5 width=4) (actual time=0.020..0.020 rows=5 loops=1)
        Buckets: 1024 (originally 512)  Batches: 2 (originally 1)  Memory Usage: 9kB
        ->  Seq Scan on accounts a  (cost=0.00..0.50 rows=5 width=4) (actual time=0.005..0.010 rows=5 loops=1)
              Worker 0:  actual time=0.001..0.002 rows=2 loops=1
                Buffers: shared hit=1
Planning:
  Buffers: shared hit=3
Planning Time: 0.123 ms
Trigger for constraint orders_account_id_fkey: time=1.500 calls=10
JIT:
  Functions: 4
  Timing: Generation 0.5 ms (Deform 0.1 ms), Inlining 0.0 ms, Optimization 0.3 ms, Emission 2.0 ms, Total 2.8 ms
Settings: work_mem = '64MB', search_path = '\"$user\", public'
Execution Time: 0.456 ms";

#[test]
fn a_tree_with_subplans_properties_and_statement_lines() {
    let plan = read(PLAN).unwrap();
    let shape: Vec<(usize, &str, Option<&str>, Option<&str>)> =
        plan.nodes().iter().map(|n| (n.id, n.node_type.as_str(), n.parent_relationship.as_deref(), n.subplan_name.as_deref())).collect();
    assert_eq!(
        shape,
        [
            (1, "Hash Join", None, None),
            (2, "Result", Some("InitPlan"), Some("InitPlan 1 (returns $0)")),
            (3, "Seq Scan", Some("Outer"), None),
            (4, "Hash", Some("Inner"), None),
            (5, "Seq Scan", Some("Outer"), None),
        ]
    );
    let scan = plan.node(3).unwrap();
    assert_eq!((scan.filter.as_deref(), scan.rows_removed_by_filter), (Some("(total > $0)"), Some(90.0)));
    let hash = plan.node(4).unwrap();
    assert_eq!((hash.hash_batches, hash.original_hash_batches, hash.peak_memory_kb), (Some(2.0), Some(1.0), Some(9.0)));
    assert_eq!(plan.root.buffers.shared_hit, 12.0);
    assert_eq!(plan.node(5).unwrap().buffers.shared_hit, 0.0, "a worker's buffers are not the node's");
    assert_eq!((plan.planning_ms, plan.execution_ms), (Some(0.123), Some(0.456)));
    assert_eq!(plan.planning_buffers.map(|b| b.shared_hit), Some(3.0));
    assert_eq!(plan.jit.as_ref().map(|j| (j.functions, j.total_ms)), Some((4, 2.8)));
    assert_eq!(plan.triggers[0].name, "orders_account_id_fkey");
    assert_eq!(plan.triggers[0].calls, 10.0);
    assert_eq!(plan.settings.get("work_mem").map(String::as_str), Some("64MB"));
    assert_eq!(plan.settings.get("search_path").map(String::as_str), Some("\"$user\", public"));
    assert_eq!(plan.not_read, ["per-worker lines (Worker N)"]);
}

#[test]
fn carriers_are_removed() {
    let expected = read(PLAN).unwrap();
    let same = |text: &str| {
        let plan = read(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(plan.nodes().len(), expected.nodes().len(), "{text}");
        assert_eq!(plan.execution_ms, expected.execution_ms, "{text}");
        plan
    };
    // psql's aligned output.
    let width = PLAN.lines().map(str::len).max().unwrap();
    let aligned = format!(
        "{:^width$}\n{}\n{}\n({} rows)\n",
        "QUERY PLAN",
        "-".repeat(width + 2),
        PLAN.lines().map(|l| format!(" {l:width$} ")).collect::<Vec<_>>().join("\n"),
        PLAN.lines().count()
    );
    same(&aligned);
    // psql's expanded output (\x).
    let expanded = format!(
        "-[ RECORD 1 ]{}\n{}",
        "-".repeat(20),
        PLAN.lines()
            .enumerate()
            .map(|(i, l)| format!("{} | {l}", if i == 0 { "QUERY PLAN" } else { "          " }))
            .collect::<Vec<_>>()
            .join("\n")
    );
    same(&expanded);
    // auto_explain in a server log, with its query text.
    let logged = format!(
        "2026-12-01 10:00:00.123 UTC [4242] LOG:  duration: 0.456 ms  plan:\n\tQuery Text: SELECT *\n\t  FROM orders o JOIN accounts a ON a.id = o.account_id\n{}\n2026-12-01 10:00:01.000 UTC [4242] LOG:  statement: SELECT 1\n",
        PLAN.lines().map(|l| format!("\t{l}")).collect::<Vec<_>>().join("\n")
    );
    let plan = same(&logged);
    assert_eq!(plan.query_text.as_deref(), Some("SELECT *\nFROM orders o JOIN accounts a ON a.id = o.account_id"));
    // Indented as a whole (pasted into a ticket).
    same(&PLAN.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n"));
}

#[test]
fn text_that_is_not_a_plan_says_so() {
    assert!(read("hello\nworld").is_err());
    assert!(!looks_like_text_plan("SELECT * FROM t WHERE a = 1"));
    assert!(looks_like_text_plan("Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)"));
}

/// psql's `\pset format wrapped` (ascii `.` and unicode `…` marks), as psql 15
/// printed an 18 server's plan at 70 columns: long lines are joined back whole.
#[test]
fn psql_wrapped_lines_are_joined() {
    for name in ["psql_wrapped_format.txt", "psql_wrapped_unicode.txt"] {
        let text = std::fs::read_to_string(format!("{}/fixtures/explain/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let plan = read(&text).unwrap();
        assert_eq!(plan.nodes().len(), 2, "{name}");
        let expected = "((events.created_at >= '2026-04-01 00:00:00+00'::timestamp with time zone) AND (events.created_at < '2026-04-02 00:00:00+00'::timestamp with time zone))";
        assert_eq!(plan.root.recheck_cond.as_deref(), Some(expected), "{name}");
        assert_eq!(plan.node(2).unwrap().index_cond.as_deref(), Some(expected), "{name}");
        assert_eq!(plan.root.actual.map(|a| a.rows), Some(1440.0), "{name}: the figures after the cut");
        assert_eq!(plan.node(2).unwrap().index_searches, Some(11.0), "{name}");
        assert!(plan.execution_ms.is_some(), "{name}");
    }
    // A line that ends with a full stop but is not followed by a continuation keeps it.
    let plan = read(
        "   QUERY PLAN\n-------------\n Result  (cost=0.00..0.01 rows=1 width=4)\n   Output: 1.\n   Buffers: shared hit=1\n(3 rows)\n",
    )
    .unwrap();
    assert_eq!(plan.root.output, ["1."]);
    assert_eq!(plan.root.buffers.shared_hit, 1.0);
}

/// Every real text plan in fixtures/plans-text (see its SOURCES.md) reads whole:
/// as many nodes as it has node lines, and nothing left out but per-worker lines.
#[test]
fn every_real_text_plan_reads_whole() {
    let dir = format!("{}/fixtures/plans-text", env!("CARGO_MANIFEST_DIR"));
    let mut read_any = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let plan = read(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Every node but the root is introduced by an arrow, in every version and option set.
        let node_lines = 1 + unwrap(&text).lines().filter(|l| l.trim_start().starts_with("->")).count();
        assert_eq!(plan.nodes().len(), node_lines, "{}", path.display());
        // Left out: per-worker lines, and WAL usage, which the model does not carry from JSON either.
        let known_gaps = |n: &String| n.starts_with("per-worker") || n == "the property WAL";
        assert!(plan.not_read.iter().all(known_gaps), "{}: {:?}", path.display(), plan.not_read);
        // auto_explain's entry without its log line has no time of its own.
        let timed = ["Execution Time", "Execution time", "Total runtime", "duration: "].iter().any(|t| text.contains(t));
        assert_eq!(plan.execution_ms.is_some(), timed, "{}", path.display());
        // No frame, wrap mark or cut left in what was read.
        for node in plan.nodes() {
            assert!(node.node_type.chars().all(|c| c.is_ascii_alphabetic() || c == ' '), "{}: {:?}", path.display(), node.node_type);
            for text in node.filter.iter().chain(&node.index_cond) {
                // A bare boolean column (`Filter: indisunique`) has no parentheses; a condition that opens one closes it.
                assert!(!text.ends_with(['|', '│', '║', '+']), "{}: {text:?}", path.display());
                assert!(!text.starts_with('(') || text.ends_with(')'), "{}: {text:?}", path.display());
            }
        }
        read_any += 1;
    }
    assert!(read_any >= 44);
    // psql's row count in another language is no statement line; 18's fractional rows are kept.
    let french = read(&std::fs::read_to_string(format!("{dir}/pev2__wal_insert_jit_fr.txt")).unwrap()).unwrap();
    assert!(french.not_read.iter().all(|n| !n.contains("lignes")), "{:?}", french.not_read);
    assert!(french.jit.is_some());
    let fractional = read(&std::fs::read_to_string(format!("{dir}/pev2__fractional_rows_pg18.txt")).unwrap()).unwrap();
    let seq = fractional.nodes().into_iter().find(|n| n.node_type == "Seq Scan").unwrap();
    assert_eq!(seq.actual.as_ref().map(|a| (a.rows, a.loops)), Some((0.25, 4.0)));
    // auto_explain's entry pasted without its log line: the query and settings are still read.
    let entry = read(&std::fs::read_to_string(format!("{dir}/pev2__auto_explain_settings.txt")).unwrap()).unwrap();
    assert_eq!(entry.query_text.as_deref(), Some("SELECT count(*)\nFROM pg_class;"));
    assert_eq!(entry.settings.get("work_mem").map(String::as_str), Some("100kB"));
    // Tabs an editor put for four spaces of indentation: the CTE keeps its subtree.
    let tabs = read(&std::fs::read_to_string(format!("{dir}/pev2__tabs_and_spaces.txt")).unwrap()).unwrap();
    assert_eq!(tabs.root.children.len(), 3);
    assert_eq!(tabs.root.children[0].subplan_name.as_deref(), Some("CTE artist_count"));
    // Every line in double quotes, as a GUI's CSV export writes it.
    let quoted = read(&std::fs::read_to_string(format!("{dir}/pev2__quoted_lines_jit.txt")).unwrap()).unwrap();
    assert_eq!((quoted.planning_ms, quoted.execution_ms, quoted.jit.is_some()), (Some(14.62), Some(127241.78), true));
    // Older servers wrote the statement lines in lowercase.
    let old = read(&std::fs::read_to_string(format!("{dir}/pev2__plan_7.txt")).unwrap()).unwrap();
    assert_eq!((old.planning_ms, old.execution_ms), (Some(2.04), Some(136.448)));
    // One plan as psql prints it with border 0 and border 2 (ASCII and unicode) reads alike.
    let shape = |file: &str| {
        let plan = read(&std::fs::read_to_string(format!("{dir}/{file}")).unwrap()).unwrap();
        plan.nodes()
            .iter()
            .map(|n| {
                (n.node_type.clone(), n.relation.clone(), n.actual.as_ref().map(|a| a.rows), n.filter.clone(), n.rows_removed_by_filter)
            })
            .collect::<Vec<_>>()
    };
    let border0 = shape("pev2__psql_border0_unicode.txt");
    assert_eq!(border0.len(), 3);
    assert_eq!(border0[1].3.as_deref(), Some("(username = 'depesz'::text)"));
    assert_eq!(shape("pev2__psql_border2_ascii.txt"), border0);
    assert_eq!(shape("pev2__psql_border2_unicode.txt"), border0);
    // A terminal's unmarked line cuts are joined back.
    let wrapped = read(&std::fs::read_to_string(format!("{dir}/pev2__line_wrapped_01.txt")).unwrap()).unwrap();
    let scan = wrapped.nodes().into_iter().find(|n| n.relation.as_deref() == Some("pg_class")).unwrap();
    assert_eq!((scan.plan_width, scan.actual.as_ref().map(|a| a.rows)), (Some(73.0), Some(128.0)));
    // Cut mid-word four times, and cut right before a space (the rest starts with one).
    let cut = read(&std::fs::read_to_string(format!("{dir}/pev2__line_wrapped_02.txt")).unwrap()).unwrap();
    assert_eq!((cut.root.total_cost, cut.root.plan_width), (Some(32.96), Some(224.0)));
    let before_space = read(&std::fs::read_to_string(format!("{dir}/pev2__line_wrapped_03.txt")).unwrap()).unwrap();
    assert_eq!(before_space.root.actual.as_ref().map(|a| (a.rows, a.loops)), Some((1.0, 1.0)));
    let trigger = read(&std::fs::read_to_string(format!("{dir}/pev2__plan_trigger.txt")).unwrap()).unwrap();
    assert_eq!(
        (trigger.root.node_type.as_str(), trigger.root.relation.as_deref(), trigger.root.schema.as_deref()),
        ("ModifyTable", Some("emp"), Some("brut"))
    );
    assert_eq!(trigger.triggers[0].name, "emp_stamp");
    let parallel = read(&std::fs::read_to_string(format!("{dir}/pev2__plan_parallel2.txt")).unwrap()).unwrap();
    let hash = parallel.nodes().into_iter().find(|n| n.node_type == "Hash").unwrap();
    assert_eq!((hash.parallel_aware, hash.hash_batches), (true, Some(256.0)));
}
