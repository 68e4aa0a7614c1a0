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
