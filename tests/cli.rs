//! `pgadvise tune` end to end, without a server: output pinned by snapshots,
//! bad input answered with one line and exit code 2.

mod common;

use common::{pgadvise, stderr, stdout};

const BIG_OLTP: &[&str] = &["tune", "--memory", "64GiB", "--cpus", "16", "--storage", "ssd", "--pg-version", "16", "--profile", "oltp"];

fn run_ok(args: &[&str]) -> String {
    let output = pgadvise(args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
    stdout(&output)
}

fn with(base: &[&str], extra: &[&str]) -> Vec<&'static str> {
    base.iter().chain(extra).map(|s| &*s.to_string().leak()).collect()
}

#[test]
fn table_for_a_64gib_16_cpu_oltp_server() {
    insta::assert_snapshot!(run_ok(&with(BIG_OLTP, &["--format", "table"])));
}

#[test]
fn sql_for_a_64gib_16_cpu_oltp_server() {
    insta::assert_snapshot!(run_ok(&with(BIG_OLTP, &["--format", "sql"])));
}

#[test]
fn conf_for_a_64gib_16_cpu_oltp_server() {
    insta::assert_snapshot!(run_ok(&with(BIG_OLTP, &["--format", "conf"])));
}

#[test]
fn json_for_a_64gib_16_cpu_oltp_server() {
    let text = run_ok(&with(BIG_OLTP, &["--format", "json"]));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let shared_buffers = json["recommendation"]["settings"].as_array().unwrap().iter().find(|s| s["name"] == "shared_buffers").unwrap();
    assert_eq!(shared_buffers["setting"], "16GB");
    assert_eq!(shared_buffers["value"], 16u64 << 30);
    assert_eq!(shared_buffers["unit"], "bytes");
    assert_eq!(shared_buffers["restart"], true);
    insta::assert_snapshot!(text);
}

#[test]
fn table_for_a_1gib_desktop_on_hdd_running_postgresql_12() {
    insta::assert_snapshot!(run_ok(&[
        "tune",
        "--memory",
        "1GiB",
        "--cpus",
        "1",
        "--storage",
        "hdd",
        "--pg-version",
        "12",
        "--profile",
        "desktop",
        "--format",
        "table"
    ]));
}

#[test]
fn sql_for_a_small_web_server_with_a_known_database_size() {
    insta::assert_snapshot!(run_ok(&[
        "tune",
        "--memory",
        "4GiB",
        "--cpus",
        "2",
        "--storage",
        "nvme",
        "--pg-version",
        "17",
        "--profile",
        "web",
        "--data-size",
        "1GiB",
        "--format",
        "sql",
    ]));
}

#[test]
fn a_users_own_profile_file() {
    let profile = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/profiles/custom.toml");
    let text = run_ok(&[
        "tune",
        "--memory",
        "16GiB",
        "--cpus",
        "8",
        "--storage",
        "ssd",
        "--pg-version",
        "16",
        "--profile",
        profile,
        "--format",
        "conf",
    ]);
    assert!(text.contains("profile api-behind-pgbouncer"), "{text}");
    assert!(text.contains("default_statistics_target = '200'"), "{text}");
    assert!(text.contains("max_connections = '50'"), "{text}");
}

#[test]
fn defaults_work_on_this_host_with_no_database() {
    // Piped, the default format is SQL a user can feed to psql.
    let text = run_ok(&["tune"]);
    assert!(text.starts_with("-- pgadvise tune · profile mixed"), "{text}");
    assert!(text.contains("ALTER SYSTEM SET shared_buffers = '"), "{text}");
    assert!(text.contains("--   memory: "), "{text}");
    assert!(text.trim_end().ends_with("to take effect."), "{text}");
}

fn bad(args: &[&str], code: i32, expected: &str) {
    let output = pgadvise(args);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(code), "{args:?}: {err}");
    assert!(stdout(&output).is_empty(), "{args:?} printed output: {}", stdout(&output));
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(err.starts_with("pgadvise: "), "{err}");
    assert!(err.contains(expected), "{args:?}: {err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
}

#[test]
fn bad_input_gets_one_line_and_exit_code_2() {
    bad(&["tune", "--profile", "webscale"], 2, "unknown profile 'webscale': use one of web, oltp, dw, mixed, desktop");
    let malformed = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/profiles/malformed.toml");
    bad(&["tune", "--profile", malformed], 2, "malformed.toml, line 3");
    bad(&["tune", "--profile", "/nonexistent/mine.toml"], 2, "unknown profile '/nonexistent/mine.toml'");
    bad(&["tune", "--memory", "banana"], 2, "'banana' is not a size");
    bad(&["tune", "--memory", "1MiB"], 2, "too little memory");
    bad(&["tune", "--cpus", "0"], 2, "--cpus");
    bad(&["tune", "--pg-version", "11"], 2, "--pg-version");
    bad(&["tune", "--storage", "floppy"], 2, "floppy");
    bad(&["tune", "--format", "xml"], 2, "xml");
    bad(&["tune", "--apply"], 2, "--db");
    bad(&["tune", "--db", "postgresql://host:notaport/db"], 2, "--db: invalid port number: \"notaport\"");
    bad(&["tune", "--memory", "2GiB", "--connections", "100000"], 2, "cannot fit");
    bad(&["frobnicate"], 2, "frobnicate");
}

/// A closed stderr or a full disk ends in a documented exit code, never 101.
#[test]
fn unwritable_stderr_and_stdout_are_not_panics() {
    let binary = env!("CARGO_BIN_EXE_pgadvise");
    // stderr closed: the one-line error cannot be written, the exit code still says bad input.
    let closed = std::process::Command::new("sh").args(["-c", &format!("{binary} tune --memory lots 2>&-")]).status().unwrap();
    assert_eq!(closed.code(), Some(2));
    // stdout on a full disk: pgadvise's own failure, 4, with one line naming it.
    let full = std::process::Command::new(binary)
        .args(["tune", "--memory", "8GiB", "--cpus", "2", "--format", "sql"])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(full.status.code(), Some(4), "{}", stderr(&full));
    assert_eq!(stderr(&full).lines().count(), 1, "{}", stderr(&full));
    assert!(stderr(&full).contains("No space left on device"), "{}", stderr(&full));
}
