//! `pgadvise explain` end to end on plan files, without a server: the rendered
//! tree, findings and suggestions pinned by snapshots for a representative set
//! of real plans; bad input answered with one line and exit code 2.

mod common;

use common::{assert_bad_input, pgadvise, stderr, stdout};
use std::io::Write;
use std::process::{Command, Stdio};

fn path(relative: &str) -> String {
    format!("{}/fixtures/{relative}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs explain on a fixture; the file name, not the absolute path, is what the snapshot shows.
fn explain(relative: &str, format: &str) -> String {
    let output = pgadvise(&["explain", &path(relative), "--format", format]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
    stdout(&output).replace(&path(""), "")
}

macro_rules! table_snapshots {
    ($($name:ident: $file:literal,)*) => {$(
        #[test]
        fn $name() {
            insta::assert_snapshot!(explain($file, "table"));
        }
    )*};
}

table_snapshots! {
    // 9.6: a seq scan under a Limit discarding 99% of the rows, with slow planning.
    seq_scan_under_limit_pg96: "plans/joe__44.json",
    // 9.6: two CTEs, the second reading the first; times must not be counted twice.
    ctes_pg96: "plans/joe__45.json",
    // 9.6: a parallel seq scan.
    parallel_seq_scan_pg96: "plans/joe__47.json",
    // 9.6: a large OFFSET.
    large_offset_pg96: "plans/joe__48.json",
    // COSTS OFF, no ANALYZE: only the tree.
    costs_off: "plans/joe__49.json",
    // 14+: index-only scan with heap fetches.
    heap_fetches: "plans/joe__1.json",
    // 14+: Gather Merge with partial aggregates.
    parallel_partial_aggregate: "plans/joe__2.json",
    // 14+: a sort spilling to disk.
    disk_sort: "plans/joe__8.json",
    // 17: a lossy bitmap heap scan.
    lossy_bitmap_pg17: "plans/joe__20.json",
    // 17: a hash aggregate spilling.
    hashagg_spill_pg17: "plans/joe__24.json",
    // 17: Memoize in a nested loop.
    memoize_pg17: "plans/joe__29.json",
    // 17: a window run condition stopping its scan early.
    window_run_condition_pg17: "plans/joe__34.json",
    // 18: fractional row counts in a parallel plan.
    parallel_gather_pg18: "plans/joe__41.json",
    // 18: a skip scan (Index Searches), SERIALIZE and MEMORY.
    skip_scan_pg18: "explain/pg18_skip_scan.json",
    // 18: a Seq Scan chosen with enable_seqscan off (Disabled).
    disabled_seq_scan_pg18: "explain/pg18_disabled.json",
    // A text-format plan as psql prints it.
    text_plan: "explain/text_plan.txt",
    // 18's text format with VERBOSE, SERIALIZE, MEMORY: a CTE, nested InitPlans, Index Searches, Storage.
    text_verbose_pg18: "explain/pg18_text_verbose.txt",
    // auto_explain's text entry in an 18 server log: a parallel plan with per-worker lines.
    auto_explain_text_log_pg18: "explain/auto_explain_text.log",
    // psql's aligned output, pasted from a terminal.
    psql_wrapped: "explain/psql_wrapped.txt",
    // A partitioned table scanned whole: five partitions, one suggestion shown for them.
    partitions: "explain/partitions.json",
    // auto_explain's bare object with Query Text and a duplicated "Workers" key.
    auto_explain: "explain/auto_explain.json",
}

#[test]
fn markdown_for_a_pull_request() {
    insta::assert_snapshot!(explain("explain/auto_explain.json", "markdown"));
}

#[test]
fn json_for_tools() {
    let text = explain("plans/joe__44.json", "json");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let statement = &json["statements"][0];
    assert_eq!(statement["plan"]["root"]["children"][0]["exclusive_ms"], 6.704);
    assert_eq!(statement["findings"][0]["rule"], "seq-scan-discards-rows");
    assert_eq!(statement["suggestions"][0]["name"], "persons_tech_idx");
    assert!(json["hypopg"].is_null());
    insta::assert_snapshot!(text);
}

#[test]
fn reads_a_plan_from_stdin() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pgadvise"))
        .args(["explain", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let plan = std::fs::read(path("plans/joe__8.json")).unwrap();
    child.stdin.take().unwrap().write_all(&plan).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["statements"][0]["label"], "stdin");
    assert_eq!(json["statements"][0]["findings"][0]["rule"], "spill-to-disk");
}

#[test]
fn fail_on_exits_1_at_or_above_the_severity() {
    let critical = pgadvise(&["explain", &path("explain/auto_explain.json"), "--format", "json", "--fail-on", "critical"]);
    assert_eq!(critical.status.code(), Some(1));
    let clean = pgadvise(&["explain", &path("plans/joe__10.json"), "--format", "json", "--fail-on", "info"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
}

#[test]
fn bad_input_gets_one_line_and_exit_code_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["explain", &path("explain/empty.json")], "is empty"),
        (&["explain", &path("explain/truncated.json")], "cut off"),
        (&["explain", &path("explain/no_plan.json")], "no EXPLAIN plan"),
        (&["explain", &path("sql/broken.sql"), "--db", "postgresql://x@127.0.0.1:1/x"], "line 1 does not parse"),
        (&["explain", &path("sql/partial.sql")], "needs a server: add --db"),
        (&["explain", &path("does-not-exist.json")], "cannot read"),
        (&["explain", &path("plans/SOURCES.md")], "does not parse"),
        (&["explain", &path("plans/joe__8.json"), "--timeout", "0"], "--timeout"),
    ];
    assert_bad_input(cases);
}

#[test]
fn the_query_text_names_the_columns_a_non_verbose_plan_leaves_out() {
    // auto_explain without log_verbose: no "Output", but the Query Text says which columns are read.
    let text = explain("explain/auto_explain_no_verbose.json", "json");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        json["statements"][0]["suggestions"][0]["sql"],
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_incl_idx ON orders (created_at) INCLUDE (account_id, total);"
    );
}

/// A plan as deep as PostgreSQL makes them (a 70-table join nests 140 levels of
/// JSON, past serde_json's default limit; here 500 joins), read from stdin and
/// rendered in every format.
#[test]
fn deep_plans_are_read_and_rendered() {
    let mut node =
        r#"{"Node Type": "Seq Scan", "Relation Name": "t0", "Total Cost": 1, "Actual Total Time": 1, "Actual Rows": 1, "Actual Loops": 1}"#
            .to_string();
    for i in 1..=500 {
        node = format!(
            r#"{{"Node Type": "Nested Loop", "Total Cost": {i}, "Actual Total Time": {i}, "Actual Rows": 1, "Actual Loops": 1, "Plans": [{node}]}}"#
        );
    }
    let plan = format!(r#"[{{"Plan": {node}, "Execution Time": 500}}]"#);
    for format in ["table", "json", "markdown"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pgadvise"))
            .args(["explain", "-", "--format", format])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(plan.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{format}: {}", stderr(&output));
        assert!(stdout(&output).contains("Nested Loop"), "{format}");
    }
}

/// `--compare` on pairs produced on a PostgreSQL 18 server (fixtures/explain/compare):
/// an index added (the before plan in JSON, the after in text), and a join method
/// forced (enable_hashjoin off) that made the statement slower.
#[test]
fn compare_an_index_added_as_markdown() {
    let output = pgadvise(&[
        "explain",
        "--compare",
        &path("explain/compare/no_index.json"),
        &path("explain/compare/with_index.txt"),
        "--format",
        "markdown",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    insta::assert_snapshot!(stdout(&output).replace(&path(""), ""));
}

#[test]
fn compare_a_slower_join_method_as_markdown_and_table() {
    let (before, after) = (path("explain/compare/hash_join.json"), path("explain/compare/no_hash_join.json"));
    let run = |format: &str| {
        let output = pgadvise(&["explain", "--compare", &before, &after, "--format", format]);
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output).replace(&path(""), "")
    };
    insta::assert_snapshot!("compare_slower_markdown", run("markdown"));
    insta::assert_snapshot!("compare_slower_table", run("table"));
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json["shape_changes"][0]["kind"], "join-method");
    assert!(json["summary"].as_str().unwrap().contains("slower"));
}

#[test]
fn compare_needs_two_plans() {
    assert_bad_input(&[
        (&["explain", "--compare", &path("explain/compare/hash_join.json")], "BEFORE"),
        (&["explain", "--compare", &path("explain/compare/hash_join.json"), &path("sql/partial.sql")], "holds no EXPLAIN plan"),
        (&["explain", "--compare", &path("explain/compare/hash_join.json"), &path("explain/truncated.json")], "cut off"),
        (
            &[
                "explain",
                &path("explain/compare/hash_join.json"),
                "--db",
                "postgresql://x@127.0.0.1:1/x",
                "--with-index",
                "CREATE INDEX ON t (a)",
            ],
            "give it the SQL file",
        ),
        (&["explain", &path("explain/compare/hash_join.json"), "--with-index", "CREATE INDEX ON t (a)"], "--db"),
        (
            &[
                "explain",
                "--compare",
                &path("explain/compare/hash_join.json"),
                &path("explain/compare/no_hash_join.json"),
                "--format",
                "html",
            ],
            "table, json or markdown",
        ),
    ]);
}

/// The icicle of a two-node plan, and the page around it: read and pinned.
#[test]
fn svg_and_html_of_a_small_plan() {
    insta::assert_snapshot!("svg_skip_scan_pg18", explain("explain/pg18_skip_scan.json", "svg"));
    insta::assert_snapshot!("html_skip_scan_pg18", explain("explain/pg18_skip_scan.json", "html"));
}

/// A plan of many partitions has as many findings of one kind: a person's report
/// shows the first 20 of each rule and says how many more JSON has.
#[test]
fn many_findings_of_one_rule_are_summed_up_for_people() {
    let scans: Vec<serde_json::Value> = (0..30)
        .map(|i| {
            serde_json::json!({"Node Type": "Seq Scan", "Relation Name": format!("events_p{i}"), "Alias": format!("events_p{i}"),
                "Total Cost": 2041.0, "Plan Rows": 10, "Actual Total Time": 5.0, "Actual Rows": 12, "Actual Loops": 1,
                "Filter": "(kind = 'signup'::text)", "Rows Removed by Filter": 99_988})
        })
        .collect();
    let plan = serde_json::json!([{"Plan": {"Node Type": "Append", "Total Cost": 1.0, "Plan Rows": 1, "Actual Total Time": 150.0, "Actual Rows": 360, "Actual Loops": 1, "Plans": scans}, "Execution Time": 150.0}]);
    let file = std::env::temp_dir().join(format!("pgadvise-partitions-{}.json", std::process::id()));
    std::fs::write(&file, plan.to_string()).unwrap();
    for format in ["table", "markdown", "html"] {
        let output = pgadvise(&["explain", file.to_str().unwrap(), "--format", format]);
        let text = stdout(&output);
        assert!(text.contains("and 10 more seq-scan-discards-rows findings like these"), "{format}: {text}");
        let (last_shown, first_left_out) = if format == "html" { (">#21</a>", ">#22</a>") } else { ("#21", "#22 ") };
        assert!(text.contains(last_shown) && !text.contains(first_left_out), "{format}: the first 20 scans are shown");
    }
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&pgadvise(&["explain", file.to_str().unwrap(), "--format", "json"]))).unwrap();
    let findings = json["statements"][0]["findings"].as_array().unwrap();
    assert_eq!(findings.iter().filter(|f| f["rule"] == "seq-scan-discards-rows").count(), 30, "JSON lists every one");
    std::fs::remove_file(file).unwrap();
}
