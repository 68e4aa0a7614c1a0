//! The paths that differ between PostgreSQL versions, against a real server of a
//! version other than the suite's 15: PostgreSQL 18, from npm's embedded-postgres
//! package that tests/run fetches (PGADVISE_TEST_PG18_BIN). Each command that
//! reads catalogs, settings, statistics or plans runs against it once; a
//! version-specific query that breaks fails here. No HypoPG on it: what is not
//! verified must say so.

mod common;

use common::{pgadvise, stderr, stdout, TestServer};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

static SERVER: OnceLock<TestServer> = OnceLock::new();
/// The tests that change or read the server's settings take turns.
static SETTINGS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn settings_lock() -> std::sync::MutexGuard<'static, ()> {
    SETTINGS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

extern "C" {
    fn atexit(callback: extern "C" fn()) -> i32;
}

extern "C" fn stop_at_exit() {
    if let Some(server) = SERVER.get() {
        server.stop();
    }
}

fn server() -> &'static TestServer {
    SERVER.get_or_init(|| {
        let bin = std::env::var("PGADVISE_TEST_PG18_BIN")
            .map(PathBuf::from)
            .expect("PGADVISE_TEST_PG18_BIN is not set: run tests/run, which fetches PostgreSQL 18");
        let server = TestServer::start_version(bin, "-c fsync=off");
        // SAFETY: registering a plain function with the C runtime; it runs at process exit.
        unsafe { atexit(stop_at_exit) };
        server.psql("CREATE EXTENSION pg_stat_statements");
        server.psql(
            "CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL, created_at timestamptz NOT NULL);
             INSERT INTO events SELECT i, 'k' || (i % 50), timestamptz '2026-01-01' + i * interval '1 minute' FROM generate_series(1, 100000) i;
             ANALYZE events",
        );
        server
    })
}

fn json(args: &[&str]) -> Value {
    let output = pgadvise(args);
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn tune_reads_an_18_server_and_gives_its_settings() {
    let _turn = settings_lock();
    let server = server();
    let report = json(&["tune", "--db", &server.url(), "--memory", "8GiB", "--cpus", "16", "--storage", "ssd", "--format", "json"]);
    assert_eq!(report["pg_version"], 18, "{report}");
    assert!(report["live"]["server_version"].as_str().unwrap().starts_with("18."), "{report}");
    let settings = report["recommendation"]["settings"].as_array().unwrap();
    let io_workers = settings.iter().find(|s| s["name"] == "io_workers").expect("io_workers on 18");
    assert_eq!(io_workers["value"].to_string().trim_matches('"'), "4", "{io_workers}");
    // Every recommended setting is one the server knows (none was left out as unknown).
    let changes = report["live"]["changes"].as_array().unwrap();
    assert!(changes.iter().any(|c| c["name"] == "io_workers"), "{changes:?}");
    // A server built without lz4 already compresses with pglz: not a change.
    assert!(!changes.iter().any(|c| c["name"] == "wal_compression" && c["current"] == "pglz"), "{changes:?}");
}

#[test]
fn snapshot_and_advise_read_an_18_catalog_and_pg_stat_statements() {
    let server = server();
    let snapshot = json(&["snapshot", "--db", &server.url()]);
    assert!(snapshot["server_version"].as_str().unwrap().starts_with("18."), "{}", snapshot["server_version"]);
    for day in 1..6 {
        server.psql(&format!("SELECT count(*) FROM events WHERE kind = 'k{day}' AND created_at >= '2026-02-0{day}'"));
    }
    let report = json(&["advise", "--db", &server.url(), "--format", "json"]);
    assert_eq!(report["hypopg"]["status"], "unavailable", "no HypoPG for 18 here: {}", report["hypopg"]);
    let indexes = report["indexes"].as_array().unwrap();
    assert!(!indexes.is_empty() && indexes.iter().all(|i| i["verified"] == false), "unverified, and said so: {indexes:?}");
}

#[test]
fn explain_reads_18_plans_with_their_new_fields() {
    let server = server();
    let file = std::env::temp_dir().join(format!("pgadvise-versions-{}.sql", std::process::id()));
    std::fs::write(&file, "SELECT kind, count(*) FROM events WHERE created_at >= '2026-02-01' GROUP BY kind;\n").unwrap();
    let report = json(&["explain", file.to_str().unwrap(), "--db", &server.url(), "--format", "json"]);
    let statement = &report["statements"][0];
    assert!(statement["plan"]["root"].is_object(), "{statement}");
    // 18 writes BUFFERS with ANALYZE by default and fractional row counts: the plan still reads.
    assert!(statement["plan"]["execution_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{}", statement["plan"]);
}

/// 18's settings applied with --apply, then undone with the rollback script it wrote first.
#[test]
fn apply_and_rollback_on_18() {
    let _turn = settings_lock();
    let server = server();
    let rollback = server.dir.join("rollback-18.sql");
    let output = pgadvise(&[
        "tune",
        "--db",
        &server.url(),
        "--memory",
        "8GiB",
        "--cpus",
        "16",
        "--storage",
        "ssd",
        "--apply",
        "--rollback-file",
        rollback.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let show = |name: &str| server.psql(&format!("SHOW {name}"));
    assert_eq!(show("io_workers"), "4", "io_workers takes a reload on 18");
    let script = std::fs::read_to_string(&rollback).unwrap();
    assert!(script.contains("ALTER SYSTEM RESET io_workers;"), "{script}");
    server.psql_file(&rollback);
    for _ in 0..50 {
        if show("io_workers") == "3" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(show("io_workers"), "3", "the rollback puts the default back");
    assert_eq!(server.psql("SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf'"), "0");
}
