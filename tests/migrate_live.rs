//! Migration files against a real PostgreSQL 15, in every format: the up migrations
//! run with each tool's own conventions and do what the advice says, and the down
//! migrations give back exactly the catalog there was before. The schema's names are
//! the kind PostgreSQL only takes quoted (fixtures/sql/migrate/schema.sql).
//!
//! The tools: psql for plain; the real sqlx-cli and dbmate (tests/run installs them);
//! golang-migrate and Flyway cannot be installed from this machine's registries, so
//! their documented runners stand in, built from psql: golang-migrate's postgres
//! driver sends each file as one query string, as `psql -c` does; Flyway sends a
//! file statement by statement, in one transaction unless the file's `.conf` says
//! `executeInTransaction=false`, as `psql [--single-transaction] -f` does.

mod common;

use common::{pgadvise, serial, server, stderr, stdout, TestServer};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const DATABASE: &str = "migrations";
const FORMATS: [&str; 5] = ["plain", "sqlx", "golang-migrate", "flyway", "dbmate"];

/// The timeouts the generated files ask for on the connection, as its URL's options.
const URL_OPTIONS: &str = "sslmode=disable&options=-c%20lock_timeout%3D1min%20-c%20statement_timeout%3D0";

fn fixture(name: &str) -> String {
    format!("{}/fixtures/sql/migrate/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A migration tool: the variable tests/run sets, else the command on PATH.
fn tool(variable: &str, command: &str) -> PathBuf {
    if let Ok(path) = std::env::var(variable) {
        return PathBuf::from(path);
    }
    let found = Command::new("sh").args(["-c", &format!("command -v {command}")]).output().expect("sh runs");
    assert!(found.status.success(), "{command} is not installed: run tests/run, which installs it (or set {variable})");
    PathBuf::from(String::from_utf8(found.stdout).unwrap().trim())
}

fn url() -> String {
    database().url_to("postgres", DATABASE)
}

fn psql(args: &[&str]) -> std::process::Output {
    database().psql_command(&url()).args(args).output().expect("psql runs")
}

fn psql_ok(args: &[&str]) -> String {
    let output = psql(args);
    assert!(output.status.success(), "psql {args:?} failed: {}", stderr(&output));
    stdout(&output)
}

/// The server with the schema loaded and a workload run through pg_stat_statements.
fn database() -> &'static TestServer {
    static READY: OnceLock<()> = OnceLock::new();
    let server = server();
    READY.get_or_init(|| {
        server.psql(&format!("CREATE DATABASE {DATABASE}"));
        let url = server.url_to("postgres", DATABASE);
        let run = |args: &[&str]| {
            let output = server.psql_command(&url).args(args).output().expect("psql runs");
            assert!(output.status.success(), "{args:?} failed: {}", stderr(&output));
        };
        run(&["-f", &fixture("schema.sql")]);
        run(&["-c", "CREATE EXTENSION pg_stat_statements"]);
        // Enough calls that the lookups' savings outweigh the load's 120,000 inserts,
        // which count as write traffic against new indexes. Savings are measured
        // times, so a fast machine needs more calls: 8 runs fell below the writes'
        // cost here (112 ms saved against 120 ms of writes); 30 leave a 3x margin.
        for _ in 0..30 {
            run(&["-f", &fixture("workload.sql")]);
        }
    });
    server
}

/// What the migrations may change, in a form two states compare by: every relation
/// of the schema with its kind, index definition, validity and whether it holds data.
fn catalog_state() -> String {
    psql_ok(&[
        "-c",
        "SELECT c.relname, c.relkind, coalesce(pg_get_indexdef(c.oid), ''), coalesce(i.indisvalid::text, ''), c.relispopulated
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_index i ON i.indexrelid = c.oid
         WHERE n.nspname = 'Sales Data' ORDER BY c.relname",
    ])
}

/// The advice's migrations in `format`, in a fresh directory.
fn emit(command: &[&str], format: &str, name: &str) -> PathBuf {
    let dir = database().dir.join(format!("migrations-{name}-{format}"));
    let _ = std::fs::remove_dir_all(&dir);
    let mut args = command.to_vec();
    args.extend(["--emit-migration", dir.to_str().unwrap(), "--migration-format", format]);
    let output = pgadvise(&args);
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    assert!(stderr(&output).contains("migration files written in"), "{}", stderr(&output));
    dir
}

fn files(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| keep(p.file_name().unwrap().to_str().unwrap())).collect();
    files.sort();
    files
}

fn run_tool(program: &Path, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(output.status.success(), "{} {args:?} failed: {}{}", program.display(), stdout(&output), stderr(&output));
}

/// Runs the up (or down) migrations of `dir` the way `format`'s tool does.
fn migrate(format: &str, dir: &Path, up: bool) {
    let tool_url = format!("{}?{URL_OPTIONS}", url().replacen("postgresql://", "postgres://", 1));
    let source = dir.to_str().unwrap();
    match format {
        "plain" => {
            let file = files(dir, |n| n.ends_with(".sql") && n.ends_with(".down.sql") != up);
            assert_eq!(file.len(), 1, "{file:?}");
            psql_ok(&["-f", file[0].to_str().unwrap()]);
        }
        "sqlx" => {
            let sqlx = tool("PGADVISE_TEST_SQLX", "sqlx");
            let mut args = vec!["migrate", if up { "run" } else { "revert" }, "--no-dotenv", "--source", source, "-D", &tool_url];
            if !up {
                args.extend(["--target-version", "0"]);
            }
            run_tool(&sqlx, &args);
        }
        "dbmate" => {
            let dbmate = tool("PGADVISE_TEST_DBMATE", "dbmate");
            let base = ["--url", &tool_url, "--migrations-dir", source, "--no-dump-schema"];
            if up {
                run_tool(&dbmate, &[&base[..], &["up"]].concat());
            } else {
                for _ in files(dir, |n| n.ends_with(".sql")) {
                    run_tool(&dbmate, &[&base[..], &["rollback"]].concat());
                }
            }
        }
        "golang-migrate" => {
            let suffix = if up { ".up.sql" } else { ".down.sql" };
            let mut files = files(dir, |n| n.ends_with(suffix));
            if !up {
                files.reverse();
            }
            for file in files {
                let text = std::fs::read_to_string(&file).unwrap();
                let output = psql(&["-c", &text]);
                assert!(output.status.success(), "{} as one query: {}", file.display(), stderr(&output));
            }
        }
        "flyway" => {
            let prefix = if up { "V" } else { "U" };
            let mut files = files(dir, |n| n.starts_with(prefix) && n.ends_with(".sql"));
            if !up {
                files.reverse();
            }
            for file in files {
                let conf = std::fs::read_to_string(format!("{}.conf", file.display())).unwrap_or_default();
                let outside = conf.lines().any(|l| l.trim() == "executeInTransaction=false");
                let path = file.to_str().unwrap();
                if outside {
                    psql_ok(&["-f", path]);
                } else {
                    psql_ok(&["--single-transaction", "-f", path]);
                }
            }
        }
        other => panic!("no runner for {other}"),
    }
}

/// The premise of one-statement files: in one query string, PostgreSQL refuses
/// CONCURRENTLY beside anything else, even a SET.
#[test]
fn concurrently_fails_beside_another_statement_in_one_query_string() {
    let output =
        psql(&["-c", "SET lock_timeout = '1s'; CREATE INDEX CONCURRENTLY premise_idx ON \"Sales Data\".\"Order Items\" (created)"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("cannot run inside a transaction block"), "{}", stderr(&output));
}

#[test]
fn advice_migrations_apply_and_undo_with_every_tool() {
    let _serial = serial();
    let advise = ["advise", "--db", &url(), "--format", "json"];
    let before = catalog_state();
    for format in FORMATS {
        let dir = emit(&advise, format, "advise");
        migrate(format, &dir, true);
        let after = catalog_state();
        for expected in [
            "Order Items_CustomerID_idx|i|CREATE INDEX \"Order Items_CustomerID_idx\" ON \"Sales Data\".\"Order Items\" USING btree (\"CustomerID\")|true|t",
            // ("quo""te", "naïve") was the candidate; "quo""te" alone does the work.
            "Order Items_quo\"te_idx|i|CREATE INDEX \"Order Items_quo\"\"te_idx\" ON \"Sales Data\".\"Order Items\" USING btree (\"quo\"\"te\")|true|t",
            "Order Items_by_naïve_mv|m|||t",
            "Order Items_by_naïve_mv_key|i|CREATE UNIQUE INDEX",
        ] {
            assert!(after.contains(expected), "{format}: after up, expected {expected:?} in\n{after}");
        }
        // Of the identical pair, one goes and one stays, although neither has a scan.
        assert!(after.contains("Dup \"A\"") && !after.contains("Dup \"B\""), "{format}: only the duplicate is dropped:\n{after}");
        migrate(format, &dir, false);
        assert_eq!(catalog_state(), before, "{format}: the down migrations give back the catalog");
    }
}

/// Settings whose `pg_file_settings` rows (what postgresql.auto.conf says) the tune migrations change.
fn auto_conf() -> String {
    psql_ok(&["-c", "SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' ORDER BY name"])
}

#[test]
fn tune_migrations_apply_and_undo_with_every_tool() {
    let _serial = serial();
    // An earlier ALTER SYSTEM value, which going down must write back rather than RESET.
    psql_ok(&["-c", "ALTER SYSTEM SET work_mem = '3MB'"]);
    psql_ok(&["-c", "SELECT pg_reload_conf()"]);
    let started = std::time::Instant::now();
    while psql_ok(&["-c", "SHOW work_mem"]).trim() != "3MB" {
        assert!(started.elapsed().as_secs() < 10, "the reload did not reach new sessions");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let before = auto_conf();
    let tune = ["tune", "--db", &url(), "--memory", "2GiB", "--cpus", "2", "--storage", "ssd", "--profile", "web", "--format", "sql"];
    for format in FORMATS {
        let dir = emit(&tune, format, "tune");
        migrate(format, &dir, true);
        let after = auto_conf();
        assert!(after.contains("effective_cache_size|1536MB"), "{format}: {after}");
        assert!(after.contains("\nwork_mem|4MB"), "{format}: {after}");
        migrate(format, &dir, false);
        assert_eq!(auto_conf(), before, "{format}: postgresql.auto.conf is back as it was");
    }
    psql_ok(&["-c", "ALTER SYSTEM RESET work_mem"]);
    psql_ok(&["-c", "SELECT pg_reload_conf()"]);
}

/// pgadvise.toml names the variable that holds the URL; `--db` alone then reads it.
#[test]
fn pgadvise_toml_names_the_database_url_variable() {
    let dir = database().dir.join("config-project");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("pgadvise.toml"), "database_url_env = \"APP_DATABASE_URL\"\n").unwrap();
    let run = |url: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pgadvise"));
        command.args(["tune", "--db", "--format", "json"]).current_dir(dir.join("src")).env_remove("PGHOST").env_remove("PGPORT");
        match url {
            Some(url) => command.env("APP_DATABASE_URL", url),
            None => command.env_remove("APP_DATABASE_URL"),
        };
        command.output().unwrap()
    };
    let output = run(Some(&url()));
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(report["live"]["target"].as_str().unwrap().ends_with(&format!(":{}/{DATABASE}", database().port)), "{report}");

    let unset = run(None);
    assert_eq!(unset.status.code(), Some(2));
    assert!(stderr(&unset).contains("$APP_DATABASE_URL, which is not set"), "{}", stderr(&unset));
}
