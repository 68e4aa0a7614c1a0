//! Pointed at a production primary, pgadvise must never run SQL it did not mean to,
//! never let a hostile name run as SQL from a generated file, and never hold locks
//! between statements. Each test here is one of issue 12's findings, against a
//! real PostgreSQL 15.

mod common;

use common::{pgadvise, server, stderr, stdout, TestServer};
use std::path::PathBuf;
use std::sync::OnceLock;

/// A database set to `standard_conforming_strings = off`, as some legacy
/// applications still run, with a table to attack.
const LEGACY: &str = "legacy";

fn legacy() -> &'static TestServer {
    static READY: OnceLock<()> = OnceLock::new();
    let server = server();
    READY.get_or_init(|| {
        server.psql(&format!("CREATE DATABASE {LEGACY}"));
        server.psql(&format!("ALTER DATABASE {LEGACY} SET standard_conforming_strings = off"));
        let output = server
            .psql_command(&server.url_to("postgres", LEGACY))
            .args(["-c", "CREATE TABLE victim (id int PRIMARY KEY, v text); INSERT INTO victim SELECT i, 'v' || i FROM generate_series(1, 100) i; ANALYZE victim"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    });
    server
}

fn victims() -> String {
    let server = legacy();
    let output = server.psql_command(&server.url_to("postgres", LEGACY)).args(["-c", "SELECT count(*) FROM victim"]).output().unwrap();
    stdout(&output).trim().to_string()
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pgadvise-safety-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// On a database where a backslash escapes a quote, the splitter sees one
/// statement here and the simple query protocol would run three.
const SMUGGLED: &str = "select * from victim where v = '\\''; COMMIT; DELETE FROM victim; --';\n";

#[test]
fn hidden_statements_never_run_with_standard_conforming_strings_off() {
    let url = legacy().url_to("postgres", LEGACY);
    let file = temp_file("smuggled.sql", SMUGGLED);
    let file = file.to_str().unwrap();
    let export = temp_file(
        "smuggled.csv",
        &format!("query,calls,total_exec_time,rows\n\"{}\",100,5000,100\n", SMUGGLED.trim().trim_end_matches(';').replace('"', "\"\"")),
    );
    let parameterized = temp_file("param.sql", "select * from victim where v = $1;\n");
    let runs: Vec<Vec<&str>> = vec![
        vec!["explain", file, "--db", &url, "--no-analyze"],
        vec!["explain", file, "--db", &url],
        vec!["explain", parameterized.to_str().unwrap(), "--db", &url, "--param", "\\'; DELETE FROM victim; --"],
        vec!["advise", "--db", &url, "--queries", file],
        vec!["advise", "--db", &url, "--stats", export.to_str().unwrap()],
    ];
    for args in runs {
        let output = pgadvise(&args);
        assert!(!stderr(&output).contains("panicked"), "{args:?}: {}", stderr(&output));
        assert_eq!(victims(), "100", "{args:?} deleted rows: {}{}", stdout(&output), stderr(&output));
    }
}

#[test]
fn a_read_only_statement_cannot_write_through_a_function() {
    let server = legacy();
    let url = server.url_to("postgres", LEGACY);
    let output = server
        .psql_command(&url)
        .args([
            "-c",
            "CREATE OR REPLACE FUNCTION sneaky() RETURNS int LANGUAGE sql AS 'INSERT INTO victim VALUES (1000, ''x'') RETURNING 1'",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let file = temp_file("sneaky.sql", "select sneaky();\n");
    let output = pgadvise(&["explain", file.to_str().unwrap(), "--db", &url]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("read-only transaction"), "{}", stderr(&output));
}

/// A table, a column and indexes whose names hold a line break and SQL after it.
const HOSTILE: &str = "hostile";

#[test]
fn names_with_line_breaks_never_run_as_sql_from_a_migration() {
    let server = server();
    server.psql(&format!("CREATE DATABASE {HOSTILE}"));
    let url = server.url_to("postgres", HOSTILE);
    let schema = temp_file(
        "hostile.sql",
        "CREATE EXTENSION pg_stat_statements;\n\
         CREATE TABLE \"ev\nCREATE TABLE pwned1();--\" (id int PRIMARY KEY, \"c\nCREATE TABLE pwned2();--\" int);\n\
         INSERT INTO \"ev\nCREATE TABLE pwned1();--\" SELECT i, i % 100 FROM generate_series(1, 20000) i;\n\
         CREATE INDEX \"a\nCREATE TABLE pwned3();--\" ON \"ev\nCREATE TABLE pwned1();--\" (\"c\nCREATE TABLE pwned2();--\");\n\
         CREATE INDEX \"b\nCREATE TABLE pwned4();--\" ON \"ev\nCREATE TABLE pwned1();--\" (\"c\nCREATE TABLE pwned2();--\");\n\
         ANALYZE;\n",
    );
    let output = server.psql_command(&url).args(["-f", schema.to_str().unwrap()]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = std::env::temp_dir().join(format!("pgadvise-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let output = pgadvise(&["advise", "--db", &url, "--emit-migration", dir.to_str().unwrap(), "--migration-format", "plain"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort_by_key(|p| p.to_str().unwrap().ends_with(".down.sql"));
    assert_eq!(files.len(), 2, "an up and a down file: {files:?}");
    let up = std::fs::read_to_string(&files[0]).unwrap();
    assert!(up.contains("DROP INDEX"), "the duplicate is dropped, naming the hostile index:\n{up}");
    for file in &files {
        let output = server.psql_command(&url).args(["-f", file.to_str().unwrap()]).output().unwrap();
        assert!(output.status.success(), "{}: {}", file.display(), stderr(&output));
    }
    let output = server.psql_command(&url).args(["-c", "SELECT count(*) FROM pg_class WHERE relname LIKE 'pwned%'"]).output().unwrap();
    assert_eq!(stdout(&output).trim(), "0", "a name ran as SQL:\n{up}");
}

/// An administrator's pg_terminate_backend is the database's doing: exit 3, not "bad input".
#[test]
fn a_terminated_session_exits_3() {
    let server = legacy();
    let url = server.url_to("postgres", LEGACY);
    let file = temp_file("sleep.sql", "select pg_sleep(30);\n");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_pgadvise"))
        .args(["explain", file.to_str().unwrap(), "--db", &url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let terminated = server.psql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'pgadvise' AND query LIKE '%pg_sleep%'",
        );
        if terminated == "1" {
            break;
        }
        assert!(started.elapsed().as_secs() < 20, "pgadvise never ran the statement");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
}

/// A session holding a lock on a table (a migration running, say) does not make
/// advise wait in the lock queue, where every later query on that table would
/// queue behind it: advise gives up after its lock_timeout, exit 3, and says why.
#[test]
fn a_locked_table_is_not_waited_for() {
    let server = legacy();
    let url = server.url_to("postgres", LEGACY);
    server.psql_command(&url).args(["-c", "CREATE TABLE IF NOT EXISTS busy (id int PRIMARY KEY, v int)"]).output().unwrap();
    let mut holder = server
        .psql_command(&url)
        .args(["-c", "BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT"])
        .spawn()
        .unwrap();
    let lock_query = "FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'busy' AND l.mode = 'AccessExclusiveLock'";
    let started = std::time::Instant::now();
    while server
        .psql_command(&url)
        .args(["-c", &format!("SELECT count(*) {lock_query} AND l.granted")])
        .output()
        .is_ok_and(|o| stdout(&o).trim() != "1")
    {
        assert!(started.elapsed().as_secs() < 10, "the lock was never taken");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let queries = temp_file("busy.sql", "select v from busy where v = 3;\n");
    let started = std::time::Instant::now();
    let output = pgadvise(&["advise", "--db", &url, "--queries", queries.to_str().unwrap(), "--format", "json"]);
    let waited = started.elapsed();
    server.psql_command(&url).args(["-c", &format!("SELECT pg_terminate_backend(l.pid) {lock_query}")]).output().unwrap();
    let _ = holder.wait();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("lock timeout") && err.contains("try again when it is released"), "{err}");
    assert!(waited.as_secs() < 30, "advise waited {waited:?} for the lock");
}

/// A backend that stops answering on a healthy socket (stuck, or a pooler that
/// queues forever) is given up on by the client, a margin after the statement's
/// own timeout, with a one-line reason that maps to exit 3; the server's timeouts
/// alone would never fire on a stopped backend.
#[test]
fn a_server_that_stops_answering_is_given_up_on() {
    use pgadvise::pg::session::{PgError, DEADLINE_MARGIN};
    use std::time::{Duration, Instant};

    extern "C" {
        fn kill(pid: i32, signal: i32) -> i32;
    }
    const SIGCONT: i32 = 18;
    const SIGSTOP: i32 = 19;

    /// Resumes the stopped backend however the test ends.
    struct Resume(i32);
    impl Drop for Resume {
        fn drop(&mut self) {
            // SAFETY: kill(2) on a pid, with no memory involved.
            unsafe { kill(self.0, SIGCONT) };
        }
    }

    let server = server();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let options = pgadvise::pg::ConnectOptions { url: server.url(), timeout: Some(Duration::from_secs(5)), read_write: false };
        let connection = pgadvise::pg::connect(&options).await.unwrap();
        let session = connection.client.with_statement_timeout(Duration::from_secs(1));
        let pid: i32 = session.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
        // SAFETY: kill(2) on a pid, with no memory involved.
        assert_eq!(unsafe { kill(pid, SIGSTOP) }, 0, "cannot stop the backend");
        let _resume = Resume(pid);
        let started = Instant::now();
        let error = session.query("SELECT 1", &[]).await.unwrap_err();
        let waited = started.elapsed();
        assert!(matches!(error, PgError::NoAnswer(_)), "{error}");
        assert!(waited >= DEADLINE_MARGIN && waited < DEADLINE_MARGIN + Duration::from_secs(10), "waited {waited:?}");
        assert!(pgadvise::pg::connect::is_database_fault(&error), "a deaf server is the database's fault: exit 3");
        assert!(!pgadvise::pg::connect::server_message(&error).contains('\n'));
    });
}
