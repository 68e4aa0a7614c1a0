//! `pgadvise explain` against a real PostgreSQL 15 with HypoPG, on a small shop
//! schema with skewed data (fixtures/sql/shop.sql).

mod common;

use common::{pgadvise, server, stderr, stdout, TestServer};
use serde_json::Value;
use std::sync::OnceLock;

const DATABASE: &str = "shop";

/// The server with the shop database loaded, once per test binary.
fn shop() -> &'static TestServer {
    static LOADED: OnceLock<()> = OnceLock::new();
    let server = server();
    LOADED.get_or_init(|| {
        server.psql(&format!("CREATE DATABASE {DATABASE}"));
        let output = server.psql_command(&url(server)).args(["-f", &fixture("shop.sql")]).output().expect("psql runs");
        assert!(output.status.success(), "loading shop.sql failed: {}", String::from_utf8_lossy(&output.stderr));
    });
    server
}

fn url(server: &TestServer) -> String {
    server.url_to("postgres", DATABASE)
}

fn fixture(name: &str) -> String {
    format!("{}/fixtures/sql/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn shop_psql(sql: &str) -> String {
    let server = shop();
    let output = server.psql_command(&url(server)).args(["-c", sql]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// Runs `pgadvise explain fixtures/sql/<file> --db <shop> --format json` and returns the JSON.
fn explain(file: &str, extra: &[&str]) -> Value {
    let server = shop();
    let db = url(server);
    let path = fixture(file);
    let mut args = vec!["explain", path.as_str(), "--db", db.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    let output = pgadvise(&args);
    assert!(output.status.success(), "explain {file} failed: {}", stderr(&output));
    serde_json::from_str(&stdout(&output)).expect("JSON output")
}

fn suggestions(report: &Value) -> Vec<Value> {
    report["statements"][0]["suggestions"].as_array().cloned().unwrap_or_default()
}

fn hypopg_left_behind() -> String {
    shop_psql("SELECT count(*) FROM pg_extension WHERE extname = 'hypopg'")
}

#[test]
fn a_query_that_needs_a_partial_index_gets_one_and_hypopg_proves_it() {
    let report = explain("partial.sql", &[]);
    assert_eq!(report["statements"][0]["kind"], "analyzed");
    let found = suggestions(&report);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0]["sql"],
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_account_id_where_deleted_at_is_null_idx ON public.orders (account_id) WHERE deleted_at IS NULL;"
    );
    let verdict = &found[0]["verification"];
    assert_eq!(verdict["used"], true);
    assert!(verdict["cost_after"].as_f64().unwrap() < verdict["cost_before"].as_f64().unwrap() / 10.0, "{verdict}");
    // The extension was created only inside the rolled-back transaction.
    assert_eq!(report["hypopg"]["status"], "temporary");
    assert_eq!(hypopg_left_behind(), "0");
    let rules: Vec<&str> = report["statements"][0]["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"seq-scan-discards-rows"), "{rules:?}");
}

#[test]
fn a_query_that_reads_few_columns_gets_a_covering_index() {
    let report = explain("covering.sql", &[]);
    let found = suggestions(&report);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0]["sql"],
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_incl_idx ON public.orders (created_at) INCLUDE (account_id, total);"
    );
    assert_eq!(found[0]["kind"], "covering");
    assert_eq!(found[0]["verification"]["used"], true);
}

#[test]
fn a_function_on_a_column_gets_an_expression_index() {
    let report = explain("expression.sql", &[]);
    let found = suggestions(&report);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["kind"], "expression");
    assert_eq!(found[0]["verification"]["used"], true, "{found:#?}");
    let rules: Vec<&str> = report["statements"][0]["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"function-on-column"), "{rules:?}");
    // The suggested statement really runs, and then the planner uses the index.
    let sql = found[0]["sql"].as_str().unwrap();
    shop_psql(sql);
    let name = found[0]["name"].as_str().unwrap();
    let plan = shop_psql("EXPLAIN SELECT id, status FROM accounts WHERE lower(email) = 'user4242@example.com'");
    assert!(plan.contains(name), "{plan}");
    shop_psql(&format!("DROP INDEX {name}"));
}

#[test]
fn a_well_indexed_query_gets_no_suggestion() {
    let report = explain("indexed.sql", &[]);
    assert!(suggestions(&report).is_empty());
    assert!(report["statements"][0]["dropped"].as_array().unwrap().is_empty());
    assert_eq!(report["statements"][0]["plan"]["root"]["index_name"], "accounts_pkey");
}

#[test]
fn explain_analyze_of_a_delete_changes_nothing() {
    let before = shop_psql("SELECT count(*) FROM orders WHERE account_id = 7");
    assert_ne!(before, "0");
    let report = explain("delete.sql", &[]);
    assert_eq!(report["statements"][0]["kind"], "analyzed");
    assert_eq!(report["statements"][0]["plan"]["root"]["operation"], "Delete");
    assert_eq!(shop_psql("SELECT count(*) FROM orders WHERE account_id = 7"), before);
}

#[test]
fn placeholders_get_a_generic_plan_or_the_given_values() {
    let generic = explain("generic.sql", &[]);
    assert_eq!(generic["statements"][0]["kind"], "generic");
    assert!(generic["notes"].to_string().contains("generic plan"), "{}", generic["notes"]);
    assert_eq!(suggestions(&generic).len(), 1, "the generic plan still shows the missing index");

    let valued = explain("generic.sql", &["--param", "42"]);
    assert_eq!(valued["statements"][0]["kind"], "analyzed");
    assert_eq!(valued["statements"][0]["plan"]["analyzed"], true);
    // Nothing prepared is left in the server's statement cache of other sessions; ours is closed.
    let wrong = pgadvise(&["explain", &fixture("generic.sql"), "--db", &url(shop()), "--param", "1", "--param", "2"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(stderr(&wrong).contains("1 parameter(s)"), "{}", stderr(&wrong));
}

#[test]
fn every_statement_of_a_file_is_explained_in_order() {
    let report = explain("several.sql", &[]);
    let labels: Vec<&str> = report["statements"].as_array().unwrap().iter().map(|s| s["label"].as_str().unwrap()).collect();
    assert_eq!(labels.len(), 2);
    assert!(labels[0].ends_with("several.sql:2") && labels[1].ends_with("several.sql:3"), "{labels:?}");
    assert!(report["notes"].to_string().contains("several.sql:1: skipped"));
}

#[test]
fn without_the_right_to_create_hypopg_suggestions_are_unverified() {
    let server = shop();
    shop_psql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reader') THEN CREATE ROLE reader LOGIN; END IF; END $$; GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader");
    let db = server.url_to("reader", DATABASE);
    let output = pgadvise(&["explain", &fixture("partial.sql"), "--db", &db, "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["hypopg"]["status"], "unavailable");
    assert!(report["hypopg"]["detail"].as_str().unwrap().contains("CREATE EXTENSION hypopg"));
    let found = suggestions(&report);
    assert_eq!(found.len(), 1);
    assert!(found[0]["verification"].is_null());
    let table = pgadvise(&["explain", &fixture("partial.sql"), "--db", &db, "--format", "table"]);
    assert!(stdout(&table).contains("-- unverified"), "{}", stdout(&table));
}

#[test]
fn server_side_failures_are_one_line_errors() {
    let db = url(shop());
    let missing = pgadvise(&["explain", &fixture("missing_column.sql"), "--db", &db]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(stderr(&missing).lines().count(), 1);
    assert!(stderr(&missing).contains("no_such_column"), "{}", stderr(&missing));

    let slow = pgadvise(&["explain", &fixture("slow.sql"), "--db", &db, "--timeout", "1"]);
    assert_eq!(slow.status.code(), Some(2));
    assert!(stderr(&slow).contains("cancelled after 1 s"), "{}", stderr(&slow));

    let broken = pgadvise(&["explain", &fixture("broken.sql"), "--db", &db]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(stderr(&broken).contains("line 1 does not parse"), "{}", stderr(&broken));

    let unreachable =
        pgadvise(&["explain", &fixture("indexed.sql"), "--db", "postgresql://nobody@127.0.0.1:1/x", "--connect-timeout", "2"]);
    assert_eq!(unreachable.status.code(), Some(3));
    assert_eq!(stderr(&unreachable).lines().count(), 1);
}

#[test]
fn a_plan_file_with_query_text_is_verified_against_the_server() {
    // auto_explain's form: a bare object with "Query Text".
    let plan = shop_psql(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT id, total, created_at FROM orders WHERE account_id = 42 AND deleted_at IS NULL",
    );
    let value: Value = serde_json::from_str(&plan).unwrap();
    let mut object = value[0].clone();
    object["Query Text"] = Value::String("SELECT id, total, created_at FROM orders WHERE account_id = 42 AND deleted_at IS NULL".into());
    let path = std::env::temp_dir().join(format!("pgadvise-auto-explain-{}.json", std::process::id()));
    std::fs::write(&path, object.to_string()).unwrap();
    let output = pgadvise(&["explain", path.to_str().unwrap(), "--db", &url(shop()), "--format", "json"]);
    std::fs::remove_file(&path).unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let found = suggestions(&report);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["verification"]["used"], true);
}

#[test]
fn a_selective_common_value_from_pg_stats_makes_the_index_partial() {
    let report = explain("partial_status.sql", &[]);
    let found = suggestions(&report);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["sql"], "CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_created_at_where_status_active_idx ON public.accounts (created_at) WHERE status = 'active';");
    assert_eq!(found[0]["verification"]["used"], true);
}

#[test]
fn the_big_probe_side_of_a_small_hash_join_gets_an_index_on_its_join_column() {
    let report = explain("hash_probe.sql", &[]);
    let found = suggestions(&report);
    let names: Vec<&str> = found.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"orders_account_id_idx"), "{names:?}");
    let probe = found.iter().find(|s| s["name"] == "orders_account_id_idx").unwrap();
    let verdict = &probe["verification"];
    assert!(verdict["cost_after"].as_f64().unwrap() < verdict["cost_before"].as_f64().unwrap() / 2.0, "{verdict}");
}

#[test]
fn a_suggestion_an_existing_index_already_serves_is_dropped() {
    // A plan captured before the index existed, read against the server after it was created.
    shop_psql(
        "DROP TABLE IF EXISTS tickets; \
         CREATE TABLE tickets AS SELECT i AS id, i % 500 AS queue, repeat('t', 20) AS body FROM generate_series(1, 50000) AS i; \
         ANALYZE tickets",
    );
    let query = "SELECT id FROM tickets WHERE queue = 7";
    let plan = shop_psql(&format!("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {query}"));
    let mut object: Value = serde_json::from_str::<Value>(&plan).unwrap()[0].clone();
    object["Query Text"] = Value::String(query.into());
    shop_psql("CREATE INDEX tickets_queue_id_idx ON tickets (queue, id)");
    let path = std::env::temp_dir().join(format!("pgadvise-served-{}.json", std::process::id()));
    std::fs::write(&path, object.to_string()).unwrap();
    let output = pgadvise(&["explain", path.to_str().unwrap(), "--db", &url(shop()), "--format", "json"]);
    std::fs::remove_file(&path).unwrap();
    shop_psql("DROP TABLE tickets");
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(suggestions(&report).is_empty(), "{report:#}");
    let dropped = &report["statements"][0]["dropped"][0];
    assert_eq!(dropped["name"], "tickets_queue_incl_idx", "(queue) INCLUDE (id): stored by (queue, id) too");
    assert_eq!(dropped["why"], "already served by the existing index tickets_queue_id_idx");
}

#[test]
fn a_suggestion_the_planner_ignores_is_dropped_and_stale_statistics_are_reported() {
    shop_psql(
        "DROP TABLE IF EXISTS stale; \
         CREATE TABLE stale (id int, v int, pad text) WITH (autovacuum_enabled = off); \
         INSERT INTO stale SELECT i, 3, 'x' FROM generate_series(1, 20000) i; \
         ANALYZE stale; \
         UPDATE stale SET v = 4 WHERE id > 10",
    );
    let report = explain("stale.sql", &[]);
    shop_psql("DROP TABLE stale");
    assert!(suggestions(&report).is_empty(), "{report:#}");
    let dropped = &report["statements"][0]["dropped"][0];
    assert_eq!(dropped["name"], "stale_v_idx");
    assert!(dropped["why"].as_str().unwrap().starts_with("the planner did not use it"));
    let misestimate = report["statements"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "row-misestimate")
        .expect("a misestimate finding");
    assert!(misestimate["advice"].as_str().unwrap().starts_with("ANALYZE stale"), "{misestimate}");
}

#[test]
fn a_suggestion_postgresql_cannot_build_is_dropped_with_the_reason() {
    // date() of a timestamptz depends on the time zone: not IMMUTABLE, so no expression index.
    let dir = std::env::temp_dir().join(format!("pgadvise-immutable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("by_day.sql");
    std::fs::write(&file, "SELECT id FROM orders WHERE date(created_at) = '2026-03-01';\n").unwrap();
    let output = pgadvise(&["explain", file.to_str().unwrap(), "--db", &url(shop()), "--format", "json"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(suggestions(&report).is_empty());
    let why = report["statements"][0]["dropped"][0]["why"].as_str().unwrap();
    assert!(why.starts_with("PostgreSQL cannot build it:") && why.contains("IMMUTABLE"), "{why}");
}

/// One statement, one answer: explain (from its plan and its text) and advise
/// (from its text) suggest the same index, because explain takes advise's
/// candidates for a statement whose text it has.
#[test]
fn explain_and_advise_give_one_statement_the_same_index() {
    let report = explain("same_answer.sql", &[]);
    let from_explain: Vec<String> = suggestions(&report).iter().map(|s| s["sql"].as_str().unwrap().to_string()).collect();
    let server = shop();
    let output = pgadvise(&["advise", "--db", &url(server), "--queries", &fixture("same_answer.sql"), "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let advice: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let from_advise: Vec<String> = advice["indexes"].as_array().unwrap().iter().map(|i| i["sql"].as_str().unwrap().to_string()).collect();
    assert!(!from_explain.is_empty(), "{report}");
    assert_eq!(from_explain, from_advise);
}

/// Text plans read into the same model as JSON plans of the same statements, as
/// PostgreSQL 15 prints them: estimates only, COSTS OFF, ANALYZE with BUFFERS,
/// and VERBOSE with SETTINGS.
#[test]
fn text_and_json_plans_of_one_statement_give_one_model() {
    let server = shop();
    let url = url(server);
    let setup = "SET max_parallel_workers_per_gather = 0;";
    for options in ["", "COSTS OFF", "ANALYZE, BUFFERS", "ANALYZE, VERBOSE, BUFFERS, SETTINGS"] {
        common::assert_text_and_json_agree(server, &url, setup, options, common::SHOP_PLAN_SHAPES);
    }
    // A merge join, a sort that spills, and a change of a table, as planned.
    common::assert_text_and_json_agree(
        server,
        &url,
        "SET enable_hashjoin = off; SET work_mem = '64kB';",
        "ANALYZE, SETTINGS",
        &["SELECT a.id FROM accounts a JOIN orders o ON o.account_id = a.id WHERE a.id < 3000", "SELECT * FROM orders ORDER BY note, id"],
    );
    common::assert_text_and_json_agree(
        server,
        &url,
        "",
        "VERBOSE",
        &["UPDATE accounts SET status = 'x' WHERE id = 1", "DELETE FROM orders WHERE id < 5"],
    );
}

/// `--compare` on pairs produced here: before and after an index (the after plan
/// in text format), a join method the planner was kept from, and a plan that got
/// slower when its index scans were disabled. The figures vary run to run; the
/// summary's verdict and the shape changes do not.
#[test]
fn compare_pairs_produced_live() {
    let server = shop();
    let url = url(server);
    shop_psql(
        "CREATE TABLE compare_visits AS SELECT i AS id, i % 5000 AS account_id, 'page' || (i % 300) AS page FROM generate_series(1, 200000) i;
         ANALYZE compare_visits",
    );
    let explain = |name: &str, setup: &str, format: &str, sql: &str| {
        let path = server.dir.join(format!("compare-{name}"));
        let output = std::process::Command::new(server.program("psql"))
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                &url,
                "-c",
                &format!("{setup} EXPLAIN (ANALYZE, BUFFERS, FORMAT {format}) {sql}"),
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        std::fs::write(&path, &output.stdout).unwrap();
        path.to_str().unwrap().to_string()
    };
    let compare = |before: &str, after: &str| -> Value {
        let output = pgadvise(&["explain", "--compare", before, after, "--format", "json"]);
        assert!(output.status.success(), "{}", stderr(&output));
        serde_json::from_str(&stdout(&output)).unwrap()
    };
    let lookup = "SELECT page, count(*) FROM compare_visits WHERE account_id = 42 GROUP BY page";
    let before = explain("no-index.json", "", "JSON", lookup);
    shop_psql("CREATE INDEX compare_visits_account_id_idx ON compare_visits (account_id)");
    let after = explain("with-index.txt", "", "TEXT", lookup);
    let indexed = compare(&before, &after);
    let summary = indexed["summary"].as_str().unwrap();
    assert!(
        summary.contains("faster")
            && summary.contains("Seq Scan on compare_visits became")
            && summary.contains("compare_visits_account_id_idx"),
        "{summary}"
    );

    let slower_after = explain("no-index-scans.json", "SET enable_indexscan = off; SET enable_bitmapscan = off;", "JSON", lookup);
    let slower = compare(&after, &slower_after);
    let summary = slower["summary"].as_str().unwrap();
    assert!(summary.contains("slower") && summary.contains("became Seq Scan on compare_visits"), "{summary}");

    let join = "SELECT a.status, count(*) FROM compare_visits v JOIN accounts a ON a.id = v.account_id GROUP BY a.status";
    let hash = explain("hash.json", "", "JSON", join);
    // Nested loops off too: with hash joins alone off, the planner may take a
    // memoized nested loop or a merge join, whichever costs less on this sample.
    let merge = explain("merge.txt", "SET enable_hashjoin = off; SET enable_nestloop = off;", "TEXT", join);
    let changed = compare(&hash, &merge);
    // Which change leads the summary depends on where the time went (the inner
    // side may also become an index scan, for its order): each is listed.
    let changes = changed["shape_changes"].as_array().unwrap();
    assert!(changes.iter().any(|c| c["kind"] == "join-method" && c["description"] == "Hash Join became Merge Join"), "{changed}");
    assert!(changed["summary"].as_str().unwrap().contains(" became "), "{changed}");
    shop_psql("DROP TABLE compare_visits");
}

/// `--with-index`: one statement planned as it is and with a hypothetical index
/// (HypoPG, in a rolled-back transaction), compared; nothing is created.
#[test]
fn with_index_compares_the_plans_and_creates_nothing() {
    let server = shop();
    let db = url(server);
    let file = server.dir.join("with-index.sql");
    std::fs::write(&file, "SELECT total FROM orders WHERE account_id = 42 AND deleted_at IS NULL;\n").unwrap();
    let indexes_before = shop_psql("SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'");
    let output = pgadvise(&[
        "explain",
        file.to_str().unwrap(),
        "--db",
        &db,
        "--with-index",
        "CREATE INDEX ON orders (account_id)",
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let comparison: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let summary = comparison["summary"].as_str().unwrap();
    assert!(summary.starts_with("cost ") && summary.contains("faster") && summary.contains("Seq Scan on orders became"), "{summary}");
    assert_eq!(shop_psql("SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'"), indexes_before, "nothing was created");
    // What HypoPG refuses is a one-line error, exit 2.
    let bad = pgadvise(&["explain", file.to_str().unwrap(), "--db", &db, "--with-index", "CREATE INDEX ON orders (no_such_column)"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("no_such_column") && stderr(&bad).lines().count() == 1, "{}", stderr(&bad));
}
