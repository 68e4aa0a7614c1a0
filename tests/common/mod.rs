//! A real PostgreSQL 15 for live tests: initdb in a throwaway directory, a free
//! port, pg_stat_statements preloaded, HypoPG installed. Started once per test
//! binary on first use, stopped and removed when the binary exits. Never a mock,
//! and never a silent skip: without PostgreSQL the tests fail and say how to install it.
#![allow(dead_code)]

mod server;
pub use server::TestServer;

use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};

static SERVER: OnceLock<TestServer> = OnceLock::new();
static SERIAL: Mutex<()> = Mutex::new(());

extern "C" {
    fn atexit(callback: extern "C" fn()) -> i32;
}

extern "C" fn stop_at_exit() {
    if let Some(server) = SERVER.get() {
        server.stop();
    }
}

/// The shared server, started on first use.
pub fn server() -> &'static TestServer {
    SERVER.get_or_init(|| {
        // fsync off: the tests measure nothing, and a crash only loses a throwaway directory.
        let server = TestServer::start("-c fsync=off");
        // SAFETY: registering a plain function with the C runtime; it runs at process exit.
        unsafe { atexit(stop_at_exit) };
        server
    })
}

/// Tests that change server-wide settings (ALTER SYSTEM, ALTER DATABASE) take this lock.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs the pgadvise binary.
pub fn pgadvise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pgadvise")).args(args).env_remove("PGHOST").env_remove("PGPORT").output().expect("pgadvise runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// Each case: the arguments, and text the one-line error must contain. Every one
/// must exit 2 with exactly one line on stderr, no panic, and nothing on stdout.
pub fn assert_bad_input(cases: &[(&[&str], &str)]) {
    for (args, expected) in cases {
        let output = pgadvise(args);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert_eq!(message.lines().count(), 1, "{args:?}: {message}");
        assert!(message.contains(expected), "{args:?}: expected {expected:?} in {message}");
        assert!(!message.contains("panicked") && !message.contains("backtrace"), "{message}");
        assert!(stdout(&output).is_empty(), "{args:?} wrote output");
    }
}

/// Runs each statement with EXPLAIN in text format (as psql prints it, header and
/// footer included) and in JSON, reads both with `pgadvise explain --format json`,
/// and requires the same plan model. What differs between two runs of one
/// statement (times, buffers, memory) is left out of the comparison, and so are
/// zero counts, which the text format does not print. `options` are EXPLAIN's
/// (without FORMAT); `setup` runs first in the same session (SET ...).
pub fn assert_text_and_json_agree(server: &TestServer, url: &str, setup: &str, options: &str, statements: &[&str]) {
    for (i, statement) in statements.iter().enumerate() {
        let run = |format: &str, aligned: bool| {
            let sql = format!("{setup} EXPLAIN ({options}{}{format}) {statement}", if options.is_empty() { "" } else { ", " });
            let mut command = std::process::Command::new(server.program("psql"));
            command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", &sql]);
            if !aligned {
                command.args(["-A", "-t"]);
            }
            let output = command.output().expect("psql runs");
            assert!(output.status.success(), "{sql}: {}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8(output.stdout).unwrap()
        };
        let text = run("FORMAT TEXT", true);
        let json = run("FORMAT JSON", false);
        let read = |name: &str, body: &str| {
            let path = server.dir.join(format!("same-model-{}-{i}-{name}", std::process::id()));
            std::fs::write(&path, body).unwrap();
            let output = pgadvise(&["explain", path.to_str().unwrap(), "--format", "json"]);
            assert!(output.status.success(), "{statement} as {name}: {}\n{body}", stderr(&output));
            let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
            let mut plan = report["statements"][0]["plan"].clone();
            let not_read = plan.as_object_mut().unwrap().remove("not_read");
            comparable(&mut plan);
            (plan, not_read)
        };
        let (from_text, not_read) = read("text", &text);
        let (from_json, _) = read("json", &json);
        assert_eq!(from_text, from_json, "{statement}: text and JSON give different models\n{text}");
        // A plan of these shapes has nothing the text reader left out, bar worker lines.
        let not_read: Vec<String> = not_read.and_then(|n| serde_json::from_value(n).ok()).unwrap_or_default();
        assert!(not_read.iter().all(|n| n.starts_with("per-worker")), "{statement}: not read: {not_read:?}\n{text}");
    }
}

/// Removes what two runs of one statement measure differently, and what is empty or zero.
fn comparable(value: &mut serde_json::Value) {
    use serde_json::Value;
    const VOLATILE: &[&str] = &[
        "startup_ms",
        "total_ms",
        "inclusive_ms",
        "exclusive_ms",
        "buffers",
        "exclusive_buffers",
        "io_read_ms",
        "planning_ms",
        "execution_ms",
        "planning_buffers",
        "planning_memory_kb",
        "time_ms",
        "peak_memory_kb",
        "sort_space_kb",
        "max_storage_kb",
        "disk_usage_kb",
        "exact_heap_blocks",
        "lossy_heap_blocks",
        "heap_fetches",
    ];
    match value {
        Value::Object(map) => {
            for key in VOLATILE {
                map.remove(*key);
            }
            for child in map.values_mut() {
                comparable(child);
            }
            map.retain(|_, v| {
                !matches!(v, Value::Null | Value::Bool(false))
                    && v.as_f64() != Some(0.0)
                    && v != &Value::Array(vec![])
                    && v != &Value::Object(Default::default())
            });
        }
        Value::Array(items) => items.iter_mut().for_each(comparable),
        _ => {}
    }
}

/// Statements on fixtures/sql/shop.sql of the plan shapes people paste: scans of
/// each kind, the three join methods, aggregates, sorts, CTEs, InitPlans and
/// SubPlans, set operations, window functions, function and VALUES scans, quoted
/// names. Deterministic data and no parallel workers, so two runs have one plan.
pub const SHOP_PLAN_SHAPES: &[&str] = &[
    "SELECT * FROM orders WHERE total > 99.5",
    "SELECT * FROM accounts WHERE id = 42",
    "SELECT id FROM accounts WHERE id < 100 ORDER BY id DESC",
    "SELECT * FROM accounts WHERE id < 500 OR id > 19500",
    "SELECT a.email, o.total FROM orders o JOIN accounts a ON a.id = o.account_id WHERE a.status = 'active' AND o.total > 90",
    "SELECT * FROM accounts a LEFT JOIN orders o ON o.id = a.id WHERE a.id < 10",
    "SELECT status, count(*) FROM accounts GROUP BY status",
    "SELECT account_id, sum(total) FROM orders WHERE account_id < 100 GROUP BY account_id ORDER BY 2 DESC LIMIT 5",
    "WITH big AS MATERIALIZED (SELECT * FROM orders WHERE total > 95) SELECT count(*), (SELECT max(id) FROM accounts) FROM big WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.id = big.account_id AND a.status = 'active')",
    "SELECT id, (SELECT count(*) FROM orders o WHERE o.id = a.id) FROM accounts a WHERE a.id < 50",
    "SELECT id FROM accounts WHERE id < 10 UNION ALL SELECT id FROM orders WHERE id < 10",
    "SELECT id FROM accounts WHERE id < 100 EXCEPT SELECT id FROM accounts WHERE id < 50",
    "SELECT id, row_number() OVER (PARTITION BY status ORDER BY id) FROM accounts WHERE id < 1000",
    "SELECT * FROM generate_series(1, 10) g JOIN (VALUES (1), (2)) v(x) ON v.x = g",
    "SELECT DISTINCT status FROM accounts \"Acc Ount\" WHERE \"Acc Ount\".id < 300",
    "SELECT o.id FROM orders o JOIN accounts a ON a.id = o.id WHERE o.id < 2000 ORDER BY o.id",
];
