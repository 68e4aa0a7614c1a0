//! Migration files without a server: offline advice (a catalog snapshot and a
//! pg_stat_statements export), tune's recommendation and an explain plan, written
//! in every format. The files are pinned by snapshots, linted by squawk, checked
//! with --check, and configured by a pgadvise.toml found by walking up.
//! Applying them to a real server is tests/migrate_live.rs.

mod common;

use common::{assert_bad_input, pgadvise, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Command;

const FORMATS: [&str; 5] = ["plain", "sqlx", "golang-migrate", "flyway", "dbmate"];

fn fixture(relative: &str) -> String {
    format!("{}/fixtures/{relative}", env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pgadvise-migrate-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Offline workload advice: deterministic, as a CI job would run it.
fn advise_args() -> Vec<String> {
    ["advise", "--catalog", &fixture("advise/app_catalog.json"), "--stats", &fixture("advise/app_statements.csv"), "--format", "json"]
        .map(String::from)
        .to_vec()
}

fn tune_args() -> Vec<String> {
    ["tune", "--memory", "8GiB", "--cpus", "4", "--storage", "ssd", "--pg-version", "15", "--profile", "oltp", "--format", "sql"]
        .map(String::from)
        .to_vec()
}

fn explain_args() -> Vec<String> {
    // Relative, as a CI job gives it: the file's name is in the migration's header.
    ["explain", "fixtures/explain/auto_explain.json", "--format", "json"].map(String::from).to_vec()
}

fn run(args: &[String], extra: &[&str]) -> std::process::Output {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(extra);
    pgadvise(&all)
}

fn emit(args: &[String], format: &str, dir: &Path) {
    let output = run(args, &["--emit-migration", dir.to_str().unwrap(), "--migration-format", format]);
    assert!(output.status.success(), "{}", stderr(&output));
}

/// Every file of `dir`, named and whole, in name order: what a reviewer reads.
fn listing(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names.iter().map(|n| format!("==> {n} <==\n{}", std::fs::read_to_string(dir.join(n)).unwrap())).collect::<Vec<_>>().join("\n")
}

#[test]
fn advice_in_every_format() {
    for format in FORMATS {
        let dir = temp_dir(&format!("advise-{format}"));
        emit(&advise_args(), format, &dir);
        insta::assert_snapshot!(format!("advise_{format}"), listing(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// One action behind both: every statement the JSON report shows (the change and
/// its undo) is in the migration files, word for word, in every format.
#[test]
fn the_report_shows_the_sql_the_migration_runs() {
    let report: serde_json::Value = serde_json::from_slice(&run(&advise_args(), &[]).stdout).unwrap();
    let mut shown = Vec::new();
    for list in ["indexes", "drops", "materialized_views"] {
        for advice in report[list].as_array().unwrap() {
            for key in ["sql", "undo"] {
                shown.extend(advice[key].as_str().unwrap().lines().map(str::to_string));
            }
        }
    }
    assert!(shown.len() >= 6, "the fixture's advice creates, drops and builds a view: {shown:?}");
    for format in FORMATS {
        let dir = temp_dir(&format!("same-sql-{format}"));
        emit(&advise_args(), format, &dir);
        let files = listing(&dir);
        for line in &shown {
            assert!(files.contains(line.as_str()), "{format}: the report shows {line:?}, no migration file has it");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn settings_and_plan_suggestions_as_migrations() {
    let dir = temp_dir("tune");
    emit(&tune_args(), "sqlx", &dir);
    insta::assert_snapshot!("tune_sqlx", listing(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
    let dir = temp_dir("tune-plain");
    emit(&tune_args(), "plain", &dir);
    insta::assert_snapshot!("tune_plain", listing(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
    let dir = temp_dir("explain");
    emit(&explain_args(), "flyway", &dir);
    insta::assert_snapshot!("explain_flyway", listing(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn squawk() -> PathBuf {
    if let Ok(path) = std::env::var("PGADVISE_TEST_SQUAWK") {
        return PathBuf::from(path);
    }
    let found = Command::new("sh").args(["-c", "command -v squawk"]).output().expect("sh runs");
    assert!(found.status.success(), "squawk is not installed: run tests/run, which installs it (or pip install squawk-cli)");
    PathBuf::from(String::from_utf8(found.stdout).unwrap().trim())
}

/// squawk finds nothing in any generated file. Files a tool runs inside its own
/// transaction are linted as such (--assume-in-transaction), the others as they are.
#[test]
fn squawk_finds_nothing_to_complain_about() {
    let squawk = squawk();
    for (name, args) in [("advise", advise_args()), ("tune", tune_args()), ("explain", explain_args())] {
        for format in FORMATS {
            let dir = temp_dir(&format!("squawk-{name}-{format}"));
            emit(&args, format, &dir);
            let mut checked = 0;
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|e| e != "sql") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let in_tool_transaction = match format {
                    "sqlx" => !text.starts_with("-- no-transaction"),
                    "dbmate" => !text.contains("transaction:false"),
                    "flyway" => !Path::new(&format!("{}.conf", path.display())).exists(),
                    _ => false,
                };
                let mut command = Command::new(&squawk);
                command.args(["--reporter", "gcc", "--pg-version", "15"]);
                if in_tool_transaction {
                    command.arg("--assume-in-transaction");
                }
                let output = command.arg(&path).output().expect("squawk runs");
                assert!(output.status.success(), "squawk on {name} {format} {}:\n{}{}", path.display(), stdout(&output), stderr(&output));
                checked += 1;
            }
            assert!(checked > 0, "{name} {format} wrote no SQL file");
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}

/// Append-only: a file pgadvise wrote may have been applied (sqlx and Flyway keep
/// its checksum), so it is never rewritten or removed; advice the directory lacks
/// goes into new files after every version there, and `--check` shows them.
#[test]
fn emit_only_adds_and_check_shows_the_advice_the_directory_lacks() {
    let dir = temp_dir("check");
    // The team's own migration, which pgadvise's versions follow and never touch.
    std::fs::write(dir.join("0041_init.up.sql"), "CREATE TABLE t (id bigint);\n").unwrap();
    emit(&advise_args(), "golang-migrate", &dir);
    assert!(dir.join("0042_add_index_invoices_customer_id_where_paid_at_is_null_idx.up.sql").exists(), "{}", listing(&dir));

    let check = |expect: i32| {
        let output = run(&advise_args(), &["--check", dir.to_str().unwrap(), "--migration-format", "golang-migrate"]);
        assert_eq!(output.status.code(), Some(expect), "{}{}", stdout(&output), stderr(&output));
        output
    };
    let clean = check(0);
    assert!(stdout(&clean).is_empty(), "check prints no report: {}", stdout(&clean));
    assert!(stderr(&clean).contains("hold all the advice (14 files)"), "{}", stderr(&clean));

    let before = listing(&dir);
    let again = run(&advise_args(), &["--emit-migration", dir.to_str().unwrap(), "--migration-format", "golang-migrate"]);
    assert!(stderr(&again).contains("nothing new to migrate") && stderr(&again).contains("(14 earlier files kept)"), "{}", stderr(&again));
    assert_eq!(listing(&dir), before, "the same advice writes nothing");

    // An index an earlier run advised and the advice no longer has, which may have been applied ...
    let gone = dir.join("0040_add_index_gone_idx.up.sql");
    let gone_text = "-- Generated by pgadvise advise\nCREATE INDEX CONCURRENTLY IF NOT EXISTS gone_idx ON public.invoices (note);\n";
    std::fs::write(&gone, gone_text).unwrap();
    // ... and advice the directory lacks (its files were never written, say).
    for direction in ["up", "down"] {
        std::fs::remove_file(dir.join(format!("0043_add_index_invoices_issued_at_incl_idx.{direction}.sql"))).unwrap();
    }
    let drift = check(1);
    let diff = stdout(&drift);
    let added = dir.join("0049_add_index_invoices_issued_at_incl_idx.up.sql");
    assert!(diff.contains(&format!("+++ b/{}", added.display())), "new advice, after every version there: {diff}");
    assert!(diff.contains("+CREATE INDEX CONCURRENTLY IF NOT EXISTS invoices_issued_at_incl_idx"), "{diff}");
    assert!(stderr(&drift).contains("lacks 2 migration files"), "{}", stderr(&drift));
    assert!(
        stderr(&drift).contains(&format!("--emit-migration {} --migration-format golang-migrate", dir.display())),
        "the hint keeps the format: {}",
        stderr(&drift)
    );
    // Checked (or emitted) in another format than it was written in: an error that says so, nothing written.
    let before_wrong = listing(&dir);
    for flag in ["--check", "--emit-migration"] {
        let wrong = run(&advise_args(), &[flag, dir.to_str().unwrap()]);
        assert_eq!(wrong.status.code(), Some(2), "{flag}: {}", stderr(&wrong));
        assert!(stderr(&wrong).contains("in another format than plain: pass the --migration-format"), "{}", stderr(&wrong));
    }
    assert_eq!(listing(&dir), before_wrong, "nothing written");
    assert!(stderr(&drift).contains("no longer advised (0040_add_index_gone_idx.up.sql)"), "{}", stderr(&drift));

    let emitted = run(&advise_args(), &["--emit-migration", dir.to_str().unwrap(), "--migration-format", "golang-migrate"]);
    assert!(
        stderr(&emitted).contains("2 migration files written") && stderr(&emitted).contains("(13 earlier files kept)"),
        "{}",
        stderr(&emitted)
    );
    assert!(added.exists());
    assert_eq!(std::fs::read_to_string(&gone).unwrap(), gone_text, "an earlier file is kept as it was");
    check(0);
    assert_eq!(std::fs::read_to_string(dir.join("0041_init.up.sql")).unwrap(), "CREATE TABLE t (id bigint);\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A pgadvise.toml above the working directory sets the directory, format, version and
/// budget; flags win over it.
#[test]
fn pgadvise_toml_is_found_by_walking_up_and_flags_win() {
    let root = temp_dir("config");
    let nested = root.join("services/api");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::write(
        root.join("pgadvise.toml"),
        "[migrations]\ndir = \"db/migrations\"\nformat = \"dbmate\"\nversion = 20261122000000\nlock_timeout = \"10s\"\n\n[advise]\nmax_indexes = 1\n",
    )
    .unwrap();
    let in_nested = |extra: &[&str]| {
        let mut args: Vec<String> = advise_args();
        args.extend(extra.iter().map(|s| s.to_string()));
        Command::new(env!("CARGO_BIN_EXE_pgadvise")).args(&args).current_dir(&nested).output().unwrap()
    };
    let output = in_nested(&["--emit-migration"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["indexes"].as_array().unwrap().len(), 1, "max_indexes from the file");
    let written = listing(&root.join("db/migrations"));
    assert!(written.contains("==> 20261122000000_add_index_invoices_customer_id_where_paid_at_is_null_idx.sql <=="), "{written}");
    assert!(written.contains("-- migrate:up transaction:false") && written.contains("lock_timeout%3D10s"), "{written}");

    let flags = in_nested(&["--max-indexes", "2", "--check", "--migration-format", "dbmate"]);
    assert_eq!(flags.status.code(), Some(1), "two indexes now: the directory is stale: {}", stderr(&flags));

    std::fs::write(root.join("pgadvise.toml"), "[migrations]\nformat = \"liquibase\"\n").unwrap();
    let bad = in_nested(&[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("pgadvise.toml:2") && stderr(&bad).contains("liquibase"), "{}", stderr(&bad));
    assert_eq!(stderr(&bad).lines().count(), 1, "{}", stderr(&bad));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn bad_migration_requests_are_one_line_errors() {
    let dir = temp_dir("bad");
    std::fs::write(dir.join("0001_add_index_invoices_customer_id_where_paid_at_is_null_idx.up.sql"), "-- the team's own\n").unwrap();
    let dir_text = dir.to_str().unwrap().to_string();
    let advise = advise_args();
    let base: Vec<&str> = advise.iter().map(String::as_str).collect();
    let with = |extra: &[&'static str]| -> Vec<&str> { [base.clone(), extra.to_vec()].concat() };
    let clash: Vec<&str> =
        [base.clone(), vec!["--emit-migration", &dir_text, "--migration-format", "sqlx", "--migration-version", "1"]].concat();
    assert_bad_input(&[
        (&with(&["--emit-migration"]), "--emit-migration needs a directory"),
        (&with(&["--check"]), "--check needs a directory"),
        (&with(&["--emit-migration", "a", "--check", "b"]), "cannot be used with"),
        (&with(&["--emit-migration", "a", "--migration-format", "liquibase"]), "invalid value 'liquibase'"),
        (&with(&["--emit-migration", "a", "--migration-version", "0"]), "--migration-version"),
        (&clash, "already exists, and a migration that may have been applied is never rewritten; nothing was written"),
        (&["tune", "--db", "postgresql://nobody@127.0.0.1:1/x", "--apply", "--emit-migration", "a"], "choose one"),
    ]);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "nothing was written beside the team's file");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// pgadvise.toml's fail_on makes explain exit 1 on findings, as --fail-on would.
#[test]
fn pgadvise_toml_sets_the_failing_severity() {
    let root = temp_dir("fail-on");
    let plan = fixture("explain/auto_explain.json");
    let explain =
        || Command::new(env!("CARGO_BIN_EXE_pgadvise")).args(["explain", &plan, "--format", "json"]).current_dir(&root).output().unwrap();
    assert_eq!(explain().status.code(), Some(0), "no config, no --fail-on");
    std::fs::write(root.join("pgadvise.toml"), "fail_on = \"warning\"\n").unwrap();
    assert_eq!(explain().status.code(), Some(1), "the plan has warnings");
    std::fs::remove_dir_all(&root).unwrap();
}
