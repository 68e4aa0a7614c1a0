//! `pgadvise advise` offline: a catalog snapshot and a pg_stat_statements export
//! (taken from the live test's database, fixtures/sql/advise) give the same
//! candidates as the live path, unverified; bad input gets one line and exit 2.

mod common;

use common::{assert_bad_input, pgadvise, stderr, stdout};

fn path(relative: &str) -> String {
    format!("{}/fixtures/{relative}", env!("CARGO_MANIFEST_DIR"))
}

fn advise(extra: &[&str]) -> String {
    let catalog = path("advise/app_catalog.json");
    let mut args = vec!["advise", "--catalog", catalog.as_str()];
    args.extend_from_slice(extra);
    let output = pgadvise(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output).replace(&path(""), "")
}

fn index_names(json: &str) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_str(json).unwrap();
    report["indexes"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn offline_table_from_a_snapshot_and_a_csv_export() {
    insta::assert_snapshot!(advise(&["--stats", &path("advise/app_statements.csv"), "--format", "table"]));
}

#[test]
fn csv_and_json_exports_give_the_same_candidates() {
    let csv = index_names(&advise(&["--stats", &path("advise/app_statements.csv"), "--format", "json"]));
    let json = index_names(&advise(&["--stats", &path("advise/app_statements.json"), "--format", "json"]));
    assert_eq!(csv, vec!["invoices_customer_id_where_paid_at_is_null_idx", "invoices_issued_at_incl_idx"]);
    assert_eq!(csv, json);
}

#[test]
fn markdown_for_a_pull_request() {
    let text = advise(&["--stats", &path("advise/app_statements.csv"), "--format", "markdown"]);
    assert!(text.starts_with("### pgadvise advise\n"));
    assert!(text.contains("| 1 | `invoices_customer_id_where_paid_at_is_null_idx` | partial | ? | ~476.4 KiB | no |"), "{text}");
    assert!(text.contains("- `invoices_note_b` on `invoices`: duplicate of invoices_note_a"), "{text}");
}

#[test]
fn sql_files_join_the_workload_with_their_call_hints() {
    let dir = std::env::temp_dir().join(format!("pgadvise-queries-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("slow.sql");
    std::fs::write(&file, "-- calls: 500\nSELECT id FROM invoices WHERE note = 'n1';\nSELECT 1 FROM nowhere;\n").unwrap();
    let text = advise(&["--queries", file.to_str().unwrap(), "--format", "json"]);
    std::fs::remove_dir_all(&dir).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let names = index_names(&text);
    assert!(names.is_empty(), "invoices_note_a already serves note = ...: {names:?}");
    assert_eq!(report["already_served"][0][1], "invoices_note_a");
    let skipped = &report["not_analyzed"][0];
    assert_eq!(skipped["reason"], "reads nowhere which the catalog does not have");
    assert!(skipped["source"].as_str().unwrap().ends_with("slow.sql:3"));
}

#[test]
fn bad_input_gets_one_line_and_exit_code_2() {
    let not_snapshot = path("plans/joe__1.json");
    let csv = path("advise/app_statements.csv");
    let cases: &[(&[&str], &str)] = &[
        (&["advise"], "advise needs a workload and a catalog"),
        (&["advise", "--catalog", &path("advise/app_catalog.json")], "advise needs a workload and a catalog"),
        (&["advise", "--catalog", &not_snapshot, "--stats", &csv], "is not a pgadvise catalog snapshot"),
        (&["advise", "--catalog", &path("explain/empty.json"), "--stats", &csv], "is empty"),
        (&["advise", "--catalog", &path("advise/app_catalog.json"), "--stats", &path("explain/empty.json")], "is empty"),
        (&["advise", "--catalog", &path("advise/app_catalog.json"), "--stats", &path("plans/SOURCES.md")], "no query column"),
        (&["advise", "--catalog", &path("advise/app_catalog.json"), "--stats", &csv, "--min-saving", "200"], "--min-saving"),
        (&["snapshot"], "snapshot reads a server: add --db"),
        (&["advise", "--catalog", &path("advise/app_catalog.json"), "--queries", &path("does-not-exist.sql")], "cannot read"),
        (&["advise", "--catalog", &path("advise/app_catalog.json"), "--log", &path("does-not-exist.log")], "cannot read the log"),
        (&["advise", "--catalog", &path("advise/app_catalog.json"), "--queries", &path("explain/empty.json")], "holds no SQL statements"),
        (&["advise", "--catalog", &path("advise/app_catalog.json"), "--log", &path("plans/SOURCES.md")], "holds no logged statements"),
    ];
    assert_bad_input(cases);
}

#[test]
fn the_server_log_is_a_workload_too() {
    let text = advise(&["--log", &path("logs/app-stderr.log"), "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    // A log says nothing of rows returned, so no INCLUDE: covering needs rows per call.
    assert_eq!(
        index_names(&text),
        vec!["invoices_issued_at_idx", "invoices_customer_id_where_paid_at_is_null_idx"],
        "the cancelled statement weighs most"
    );
    assert_eq!(report["statements_from"], "logs/app-stderr.log");
}

/// A flag that cannot apply without the planner is said to be ignored, never silently.
#[test]
fn flags_that_need_the_planner_are_noted_offline() {
    let report: serde_json::Value = serde_json::from_str(&advise(&[
        "--stats",
        &path("advise/app_statements.csv"),
        "--format",
        "json",
        "--budget",
        "1MiB",
        "--min-saving",
        "5",
    ]))
    .unwrap();
    assert_eq!(
        report["notes"][0],
        "--budget and --min-saving are not applied: they need the time each index saves, which only the planner gives (a live server with HypoPG)"
    );
    let plain: serde_json::Value =
        serde_json::from_str(&advise(&["--stats", &path("advise/app_statements.csv"), "--format", "json"])).unwrap();
    assert!(plain["notes"].as_array().unwrap().is_empty());
}

/// `--help` says what the statement sources do: files replace the server's
/// pg_stat_statements, they do not add to it; and the table format is advise's own.
#[test]
fn help_says_files_replace_pg_stat_statements() {
    let output = pgadvise(&["advise", "--help"]);
    let help = stdout(&output).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("SQL files as the workload, instead of the server's pg_stat_statements"), "{help}");
    assert!(help.contains("statement_timeout; instead of the server's pg_stat_statements"), "--log says it too: {help}");
    assert!(!help.contains("to add to the workload"), "{help}");
    assert!(!help.contains("The plan tree"), "explain's words: {help}");
}
