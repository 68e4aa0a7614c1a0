//! `pgadvise tune` against a real PostgreSQL 15 started by the harness.

mod common;

use common::{pgadvise, serial, server, stderr, stdout};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A host big enough that every memory setting differs from PostgreSQL's defaults.
const HOST: &[&str] = &["--memory", "8GiB", "--cpus", "2", "--storage", "ssd", "--profile", "web", "--data-size", "10GiB"];

fn tune(extra: &[&str]) -> std::process::Output {
    let mut args = vec!["tune"];
    args.extend_from_slice(HOST);
    args.extend_from_slice(extra);
    pgadvise(&args)
}

fn changes(json: &Value) -> Vec<Value> {
    json["live"]["changes"].as_array().cloned().unwrap_or_default()
}

fn change<'a>(changes: &'a [Value], name: &str) -> Option<&'a Value> {
    changes.iter().find(|c| c["name"] == name)
}

#[test]
fn the_harness_server_has_hypopg_pg_stat_statements_and_pg_qualstats() {
    let server = server();
    assert_eq!(server.psql("SHOW shared_preload_libraries"), "pg_stat_statements,pg_qualstats");
    server.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; CREATE EXTENSION IF NOT EXISTS hypopg");
    assert!(server.psql("SELECT count(*) FROM pg_stat_statements").parse::<i64>().unwrap() > 0);
    let hypothetical = server.psql("SELECT count(*) FROM hypopg_create_index('CREATE INDEX ON pg_class (relname)')");
    assert_eq!(hypothetical, "1");
    server.psql("SELECT hypopg_reset()");
}

#[test]
fn diff_marks_restart_and_reload_from_pg_settings_context() {
    let _lock = serial();
    let server = server();
    let output = tune(&["--db", &server.url(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["pg_version"], 15);
    assert!(json["live"]["server_version"].as_str().unwrap().starts_with("15."));
    let changes = changes(&json);
    let shared_buffers = change(&changes, "shared_buffers").expect("shared_buffers differs from the default 128MB");
    assert_eq!(shared_buffers["current"], "128MB");
    assert_eq!(shared_buffers["proposed"], "2GB");
    assert_eq!(shared_buffers["restart"], true);
    let work_mem = change(&changes, "work_mem").expect("work_mem differs from the default 4MB");
    assert_eq!(work_mem["current"], "4MB");
    assert_eq!(work_mem["restart"], false);
    // Only what differs: the server's default max_parallel_workers_per_gather (2) is not 1... but its
    // checkpoint_completion_target (0.9 since 14) equals ours and must not appear.
    assert!(change(&changes, "checkpoint_completion_target").is_none());
    // The inputs say where the version and database size came from.
    let inputs = json["inputs"].as_array().unwrap();
    let pg_version = inputs.iter().find(|i| i["name"] == "pg_version").unwrap();
    assert_eq!(pg_version["source"]["kind"], "server");

    let output = tune(&["--db", &server.url(), "--format", "table", "--diff"]);
    let text = stdout(&output);
    assert!(text.contains("Changes ("), "{text}");
    assert!(text.contains("--- current\n+++ proposed\n"), "{text}");
    assert!(text.contains("-shared_buffers = '128MB'\n"), "{text}");
    assert!(text.contains("+shared_buffers = '2GB'\n"), "{text}");

    // Piped to a file, SQL output stays SQL: the diff comes as comments, setting by setting.
    let output = tune(&["--db", &server.url(), "--format", "sql", "--diff"]);
    let text = stdout(&output);
    assert!(
        text.lines().all(|l| l.is_empty() || l.starts_with("--") || l.starts_with("ALTER SYSTEM") || l.starts_with("SELECT")),
        "{text}"
    );
    assert!(text.contains("--  # shared_buffers (takes a restart)\n-- -shared_buffers = '128MB'\n-- +shared_buffers = '2GB'\n"), "{text}");
    let refused = tune(&["--db", &server.url(), "--format", "json", "--diff"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
}

#[test]
fn a_setting_overridden_per_database_is_flagged() {
    let _lock = serial();
    let server = server();
    server.psql("ALTER DATABASE postgres SET random_page_cost = 3");
    let output = tune(&["--db", &server.url(), "--format", "json"]);
    server.psql("ALTER DATABASE postgres RESET random_page_cost");
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let changes = changes(&json);
    let random_page_cost = change(&changes, "random_page_cost").unwrap();
    assert!(random_page_cost["overridden_by"].as_str().unwrap().contains("ALTER DATABASE"), "{random_page_cost}");
    assert!(change(&changes, "work_mem").unwrap()["overridden_by"].is_null());
}

/// --apply says why a setting did not take: the same override plain `tune --db` names.
#[test]
fn apply_names_the_override_that_kept_a_setting_from_taking() {
    let _lock = serial();
    let server = server();
    server.psql("ALTER DATABASE postgres SET random_page_cost = 3");
    let rollback = server.dir.join("rollback-override.sql");
    let output = tune(&["--db", &server.url(), "--apply", "--rollback-file", rollback.to_str().unwrap()]);
    server.psql("ALTER DATABASE postgres RESET random_page_cost");
    server.psql_file(&rollback);
    wait_for("work_mem to return to 4MB", || show("work_mem") == "4MB");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let line = text.lines().find(|l| l.contains("random_page_cost")).expect("a random_page_cost row");
    assert!(line.contains("NOT applied: the server still uses 3.0, OVERRIDDEN by ALTER DATABASE"), "{text}");
}

/// shared_buffers is sized to the server's databases, not to the templates too.
#[test]
fn the_data_size_leaves_the_templates_out() {
    let server = server();
    let output = pgadvise(&["tune", "--db", &server.url(), "--memory", "8GiB", "--cpus", "4", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let row = json["inputs"].as_array().unwrap().iter().find(|r| r["name"] == "data_size").expect("a data_size input").clone();
    let databases: u64 =
        server.psql("SELECT sum(pg_database_size(oid))::bigint FROM pg_database WHERE datallowconn AND NOT datistemplate").parse().unwrap();
    let with_templates: u64 = server.psql("SELECT sum(pg_database_size(oid))::bigint FROM pg_database WHERE datallowconn").parse().unwrap();
    assert_eq!(row["value"], pgadvise::units::format_human_bytes(databases), "{row}");
    assert_ne!(row["value"], pgadvise::units::format_human_bytes(with_templates), "{row}");
    assert!(row["source"].to_string().contains("templates aside"), "{row}");
}

#[test]
fn recommendations_are_within_the_live_servers_bounds() {
    use pgadvise::host::{Host, StorageKind};
    use pgadvise::input::{Source, Sourced};
    use pgadvise::profile::{Profile, BUILT_IN};
    use pgadvise::tune::{recommend, TuneInput};
    let server = server();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let settings = runtime.block_on(async {
        let options = pgadvise::pg::ConnectOptions { url: server.url(), timeout: Some(Duration::from_secs(5)), read_write: false };
        let connection = pgadvise::pg::connect(&options).await.unwrap();
        pgadvise::pg::settings::read_settings(&connection.client).await.unwrap()
    });
    for (name, _) in BUILT_IN {
        let profile = Profile::load(name).unwrap();
        for memory in [512u64 << 20, 4 << 30, 64 << 30, 1 << 40] {
            for cpus in [1, 4, 128] {
                let input = TuneInput {
                    host: Host {
                        memory: Sourced::new(memory, Source::Flag("--memory".into())),
                        cpus: Sourced::new(cpus, Source::Flag("--cpus".into())),
                        storage: Sourced::new(StorageKind::Nvme, Source::Flag("--storage".into())),
                    },
                    connections: Sourced::new(profile.max_connections, Source::Profile(profile.name.clone())),
                    profile: profile.clone(),
                    pg_version: Sourced::new(15, Source::Flag("--pg-version".into())),
                    data_size: None,
                    evidence: None,
                };
                for setting in recommend(&input).unwrap().settings {
                    let live = settings.get(setting.name).unwrap_or_else(|| panic!("PostgreSQL 15 has no {}", setting.name));
                    assert_eq!(
                        setting.restart,
                        live.context == "postmaster",
                        "{}: restart flag disagrees with pg_settings.context",
                        setting.name
                    );
                    if !live.enumvals.is_empty() {
                        assert!(
                            live.enumvals.contains(&setting.value.to_pg()),
                            "{} = {} not in {:?}",
                            setting.name,
                            setting.value.to_pg(),
                            live.enumvals
                        );
                    }
                    if let Some(number) = setting.value.in_unit(live.unit.as_deref()) {
                        let min: f64 = live.min_val.as_deref().unwrap().parse().unwrap();
                        let max: f64 = live.max_val.as_deref().unwrap().parse().unwrap();
                        assert!(number >= min && number <= max, "{name} {memory} {cpus}: {} = {number} outside {min}..{max}", setting.name);
                    }
                }
            }
        }
    }
}

fn show(name: &str) -> String {
    server().psql(&format!("SHOW {name}"))
}

fn pending_restart(name: &str) -> String {
    server().psql(&format!("SELECT pending_restart FROM pg_settings WHERE name = '{name}'"))
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(10), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn apply_changes_settings_reports_restarts_and_the_rollback_restores_them() {
    let _lock = serial();
    let server = server();
    assert_eq!(show("work_mem"), "4MB");
    let rollback = server.dir.join("rollback.sql");
    let output = tune(&["--db", &server.url(), "--apply", "--rollback-file", rollback.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains(&format!("Rollback script: {}", rollback.display())), "{text}");
    assert!(text.contains("pending restart"), "{text}");
    let restart_line = text.lines().find(|l| l.starts_with("Restart the server for ")).expect("a restart line");
    assert!(restart_line.contains("shared_buffers"), "{text}");
    assert!(!text.contains("Configuration file error"), "pending restarts are not errors: {text}");

    // Reloadable settings took effect; shared_buffers waits for a restart.
    let applied = show("work_mem");
    assert_ne!(applied, "4MB");
    assert_eq!(show("random_page_cost"), "1.1");
    assert_eq!(show("shared_buffers"), "128MB");
    assert_eq!(pending_restart("shared_buffers"), "t");

    // The rollback script was written before the change and puts everything back.
    let script = std::fs::read_to_string(&rollback).unwrap();
    assert!(script.contains("ALTER SYSTEM RESET work_mem;"), "{script}");
    assert!(script.contains("ALTER SYSTEM RESET shared_buffers;"), "{script}");
    server.psql_file(&rollback);
    wait_for("work_mem to return to 4MB", || show("work_mem") == "4MB");
    assert_eq!(show("random_page_cost"), "4");
    assert_eq!(pending_restart("shared_buffers"), "f");
    assert_eq!(server.psql("SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf'"), "0");
}

#[test]
fn rollback_restores_an_earlier_alter_system_value_exactly() {
    let _lock = serial();
    let server = server();
    server.psql("ALTER SYSTEM SET work_mem = '6MB'");
    server.psql("SELECT pg_reload_conf()");
    wait_for("work_mem 6MB", || show("work_mem") == "6MB");
    let rollback = server.dir.join("rollback-earlier.sql");
    let output = tune(&["--db", &server.url(), "--apply", "--rollback-file", rollback.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_ne!(show("work_mem"), "6MB");
    let script = std::fs::read_to_string(&rollback).unwrap();
    assert!(script.contains("ALTER SYSTEM SET work_mem = '6MB';"), "{script}");
    server.psql_file(&rollback);
    wait_for("work_mem back to 6MB", || show("work_mem") == "6MB");
    server.psql("ALTER SYSTEM RESET work_mem");
    server.psql("SELECT pg_reload_conf()");
    wait_for("work_mem back to 4MB", || show("work_mem") == "4MB");
}

#[test]
fn a_non_superuser_gets_a_clean_error_and_nothing_changes() {
    let _lock = serial();
    let server = server();
    server.psql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tuner') THEN CREATE ROLE tuner LOGIN; END IF; END $$");
    let rollback = server.dir.join("rollback-tuner.sql");
    let output = tune(&["--db", &server.url_as("tuner"), "--apply", "--rollback-file", rollback.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(3), "{}", stdout(&output));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("pgadvise: role tuner may not ALTER SYSTEM "), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(!rollback.exists(), "no rollback script when nothing is applied");
    assert_eq!(show("work_mem"), "4MB");
    assert_eq!(server.psql("SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf'"), "0");
}

#[test]
fn an_unreachable_server_fails_fast_with_exit_code_3() {
    let started = Instant::now();
    // Nothing listens on port 1.
    let output = pgadvise(&["tune", "--db", "postgresql://postgres:secretpw@127.0.0.1:1/postgres", "--connect-timeout", "2"]);
    assert_eq!(output.status.code(), Some(3));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("pgadvise: cannot connect to postgres@127.0.0.1:1/postgres"), "{err}");
    assert!(!err.contains("secretpw"), "the password must never be printed: {err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn pg_environment_variables_are_used_when_db_has_no_value() {
    let server = server();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pgadvise"))
        .args(["tune", "--db", "--format", "json"])
        .args(HOST)
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", server.port.to_string())
        .env("PGUSER", "postgres")
        .env("PGDATABASE", "postgres")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["live"]["target"], format!("postgres@127.0.0.1:{}/postgres", server.port));
}

/// The names `tune --apply` would change on the harness server, for GRANTs.
fn names_to_change() -> Vec<String> {
    let output = tune(&["--db", &server().url(), "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    changes(&json).iter().map(|c| c["name"].as_str().unwrap().to_string()).collect()
}

fn auto_conf_entries() -> String {
    server().psql("SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf'")
}

/// The README's non-superuser path: ALTER SYSTEM granted per parameter. Each missing
/// piece (pg_reload_conf(), a way to read the earlier values) stops the run before
/// the first change; with all of them, apply works and its rollback is exact.
#[test]
fn a_granted_role_is_checked_for_everything_before_the_first_change() {
    let _lock = serial();
    let server = server();
    server
        .psql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'granted') THEN CREATE ROLE granted LOGIN; END IF; END $$");
    let names = names_to_change();
    server.psql(&format!("GRANT ALTER SYSTEM ON PARAMETER {} TO granted", names.join(", ")));
    // An earlier ALTER SYSTEM value the rollback must give back, not RESET.
    server.psql("ALTER SYSTEM SET work_mem = '6MB'");
    server.psql("SELECT pg_reload_conf()");
    wait_for("work_mem 6MB", || show("work_mem") == "6MB");
    let rollback = server.dir.join("rollback-granted.sql");
    let apply = || tune(&["--db", &server.url_as("granted"), "--apply", "--rollback-file", rollback.to_str().unwrap()]);
    let refused = |output: std::process::Output, expected: &str| {
        assert_eq!(output.status.code(), Some(3), "{}{}", stdout(&output), stderr(&output));
        let err = stderr(&output);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(expected) && err.contains("nothing was changed"), "{err}");
        assert!(!rollback.exists(), "no rollback script when nothing is applied");
        assert_eq!(show("work_mem"), "6MB");
        assert_eq!(auto_conf_entries(), "1");
    };

    // pg_reload_conf() is for superusers unless granted: without it, nothing would take effect.
    refused(apply(), "may not run pg_reload_conf()");
    // With it, but unable to see where the current values come from, the rollback could erase 6MB.
    server.psql("GRANT EXECUTE ON FUNCTION pg_catalog.pg_reload_conf() TO granted");
    refused(apply(), "cannot see whether");
    // With pg_read_all_settings, it applies, and the rollback restores 6MB exactly.
    server.psql("GRANT pg_read_all_settings TO granted");
    let output = apply();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_ne!(show("work_mem"), "6MB");
    let script = std::fs::read_to_string(&rollback).unwrap();
    // Read from pg_settings (in kB), not from the file's text, which this role cannot see.
    assert!(script.contains("ALTER SYSTEM SET work_mem = '6144kB';"), "{script}");
    server.psql_file(&rollback);
    wait_for("work_mem back to 6MB", || show("work_mem") == "6MB");

    server.psql("ALTER SYSTEM RESET ALL");
    server.psql("SELECT pg_reload_conf()");
    wait_for("work_mem back to 4MB", || show("work_mem") == "4MB");
    server.psql("REVOKE pg_read_all_settings FROM granted");
    server.psql("REVOKE EXECUTE ON FUNCTION pg_catalog.pg_reload_conf() FROM granted");
    server.psql(&format!("REVOKE ALTER SYSTEM ON PARAMETER {} FROM granted", names.join(", ")));
}

#[test]
fn connections_the_server_could_not_start_with_are_refused() {
    let _lock = serial();
    let server = server();
    let output = tune(&["--db", &server.url(), "--apply", "--connections", "2"]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(stderr(&output).contains("use at least 4"), "{}", stderr(&output));
    assert_eq!(auto_conf_entries(), "0");
}
