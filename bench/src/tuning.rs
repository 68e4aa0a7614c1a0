//! Tuning: pgbench's TPS with PostgreSQL's defaults, with `pgadvise tune --apply`
//! and with PGTune's settings for the same inputs, on a data set larger than the
//! default shared_buffers. The configurations take turns run by run (each after a
//! restart and a warm-up), so that the tables' growth and bloat from earlier runs
//! fall on all three alike.

use crate::server::TestServer;
use crate::Settings;
use anyhow::{bail, Context, Result};
use std::process::Command;

/// pgbench's scale: 20 × 100,000 accounts, about 300 MB, over twice the default
/// shared_buffers (128 MB) and well inside this machine's RAM.
pub const PGBENCH_SCALE: u32 = 20;
/// Clients and threads: twice the CPUs, as a small application pool would.
pub const CLIENTS: u32 = 4;
pub const THREADS: u32 = 2;
pub const WARM_UP_SECONDS: u32 = 5;

/// The inputs pgadvise detects on this machine, given to PGTune as they would
/// be typed into its form: PostgreSQL 15, Linux, "Online transaction processing
/// system", 24103 MB of memory, 2 CPUs, 300 connections (OLTP's default in both
/// tools), HDD (the virtual disk reports itself rotational).
pub const PGTUNE_INPUTS: &str = "PostgreSQL 15, Linux, OLTP, 24103 MB, 2 CPUs, 300 connections, HDD";

/// PGTune's output for PGTUNE_INPUTS, worked out from its source
/// (github.com/le0pard/pgtune, src/features/configuration/configurationSlice.js,
/// commit 01bb6447, read 2026-11-22): memory in kB is 24103 × 1024 = 24681472;
/// shared_buffers = ¼ of it, effective_cache_size ¾, maintenance_work_mem 1/16,
/// work_mem = (memory − shared_buffers) / ((300 connections + 8 default worker
/// processes) × 3); fewer than 4 CPUs sets no parallel settings, and
/// maintenance_work_mem under 2GB sets no autovacuum_work_mem.
pub const PGTUNE_SETTINGS: &[(&str, &str)] = &[
    ("max_connections", "300"),
    ("shared_buffers", "6170368kB"),
    ("effective_cache_size", "18511104kB"),
    ("maintenance_work_mem", "1542592kB"),
    ("checkpoint_completion_target", "0.9"),
    ("wal_buffers", "16MB"),
    ("default_statistics_target", "100"),
    ("random_page_cost", "4"),
    ("effective_io_concurrency", "2"),
    ("work_mem", "20033kB"),
    ("huge_pages", "try"),
    ("min_wal_size", "2GB"),
    ("max_wal_size", "8GB"),
    ("jit", "off"),
    ("wal_compression", "lz4"),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Config {
    Defaults,
    Pgadvise,
    Pgtune,
}

impl Config {
    pub const ALL: [Config; 3] = [Config::Defaults, Config::Pgadvise, Config::Pgtune];

    pub fn name(self) -> &'static str {
        match self {
            Config::Defaults => "PostgreSQL defaults",
            Config::Pgadvise => "pgadvise tune --apply",
            Config::Pgtune => "PGTune",
        }
    }
}

/// pgbench's two standard scripts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Script {
    /// `-S`: one primary-key SELECT per transaction.
    SelectOnly,
    /// The default TPC-B-like mix: three UPDATEs, a SELECT and an INSERT.
    TpcB,
}

impl Script {
    pub const ALL: [Script; 2] = [Script::SelectOnly, Script::TpcB];

    pub fn name(self) -> &'static str {
        match self {
            Script::SelectOnly => "select-only (-S)",
            Script::TpcB => "TPC-B-like (default)",
        }
    }
}

pub struct Tuning {
    pub init_s: f64,
    pub database_bytes: u64,
    /// (config, script, every run's TPS), in `Config::ALL` × `Script::ALL` order.
    pub tps: Vec<(Config, Script, Vec<f64>)>,
    /// What `pgadvise tune --apply` changed, as `name = value`.
    pub pgadvise_settings: Vec<String>,
}

impl Tuning {
    /// Every run's TPS for one configuration and script.
    pub fn runs_of(&self, config: Config, script: Script) -> &[f64] {
        self.tps.iter().find(|r| r.0 == config && r.1 == script).map_or(&[], |r| &r.2)
    }
}

pub fn run(server: &TestServer, options: &Settings<'_>, progress: &dyn Fn(&str)) -> Result<Tuning> {
    server.psql("CREATE DATABASE pgbench");
    let url = server.url_to("postgres", "pgbench");
    progress(&format!("pgbench -i -s {PGBENCH_SCALE}"));
    let started = std::time::Instant::now();
    pgbench(server, &url, &["-i".into(), "-q".into(), "-s".into(), PGBENCH_SCALE.to_string()])?;
    let init_s = started.elapsed().as_secs_f64();
    let database_bytes: u64 = server.psql("SELECT pg_database_size('pgbench')").parse().context("pg_database_size")?;

    let mut runs: Vec<(Config, Script, f64)> = Vec::new();
    let mut pgadvise_settings = Vec::new();
    for run in 1..=options.runs {
        for config in Config::ALL {
            progress(&format!("pgbench run {run}/{}: {}", options.runs, config.name()));
            let applied = configure(server, config, options)?;
            if config == Config::Pgadvise {
                pgadvise_settings = applied;
            }
            pgbench(server, &url, &load(Script::SelectOnly, WARM_UP_SECONDS))?;
            for script in Script::ALL {
                server.psql("CHECKPOINT");
                let output = pgbench(server, &url, &load(script, options.pgbench_seconds))?;
                runs.push((config, script, tps(&output).with_context(|| format!("no TPS in pgbench's output: {output}"))?));
            }
        }
    }
    configure(server, Config::Defaults, options)?;
    server.psql("DROP DATABASE pgbench");
    let mut tps = Vec::new();
    for config in Config::ALL {
        for script in Script::ALL {
            tps.push((config, script, runs.iter().filter(|r| r.0 == config && r.1 == script).map(|r| r.2).collect()));
        }
    }
    Ok(Tuning { init_s, database_bytes, tps, pgadvise_settings })
}

/// Resets every ALTER SYSTEM setting, applies the configuration and restarts.
/// Returns the settings pgadvise applied.
fn configure(server: &TestServer, config: Config, options: &Settings<'_>) -> Result<Vec<String>> {
    server.psql("ALTER SYSTEM RESET ALL");
    let mut applied = Vec::new();
    match config {
        Config::Defaults => {}
        Config::Pgtune => {
            for (name, value) in PGTUNE_SETTINGS {
                server.psql(&format!("ALTER SYSTEM SET {name} = '{value}'"));
            }
        }
        Config::Pgadvise => {
            // The inputs are what pgadvise detects here, and what PGTUNE_INPUTS says.
            // pgadvise never overwrites a rollback script; the last run's is stale after RESET ALL.
            let rollback = options.work_dir.join("rollback.sql");
            std::fs::remove_file(&rollback).ok();
            let output = Command::new(options.pgadvise)
                .args(["tune", "--db", &server.url(), "--profile", "oltp", "--apply", "--format", "sql", "--rollback-file"])
                .arg(&rollback)
                .output()
                .context("cannot run pgadvise tune")?;
            if !output.status.success() {
                bail!("pgadvise tune --apply failed: {}", String::from_utf8_lossy(&output.stderr));
            }
            applied = server
                .psql("SELECT name || ' = ' || setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' ORDER BY name")
                .lines()
                .map(str::to_string)
                .collect();
        }
    }
    server.restart();
    Ok(applied)
}

/// pgbench's arguments for `seconds` of the script with the harness's clients.
fn load(script: Script, seconds: u32) -> Vec<String> {
    let mut args = vec!["-c".to_string(), CLIENTS.to_string(), "-j".into(), THREADS.to_string(), "-T".into(), seconds.to_string()];
    if script == Script::SelectOnly {
        args.push("-S".into());
    }
    args
}

fn pgbench(server: &TestServer, url: &str, args: &[String]) -> Result<String> {
    let output = Command::new(server.program("pgbench")).args(args).arg(url).output().context("cannot run pgbench")?;
    if !output.status.success() {
        bail!("pgbench {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8_lossy(&output.stdout).to_string())
}

/// pgbench's "tps = 1234.56 (without initial connection time)".
fn tps(output: &str) -> Option<f64> {
    output.lines().find(|l| l.starts_with("tps = "))?.strip_prefix("tps = ")?.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tps_from_pgbench_output() {
        let output = "number of failed transactions: 0 (0.000%)\nlatency average = 1.870 ms\n\
                      initial connection time = 6.130 ms\ntps = 2139.008551 (without initial connection time)\n";
        assert_eq!(tps(output), Some(2139.008551));
        assert_eq!(tps("pgbench: error"), None);
    }

    #[test]
    fn pgtune_figures_follow_its_formulas_for_these_inputs() {
        let memory_kb: u64 = 24103 * 1024;
        let value = |name: &str| PGTUNE_SETTINGS.iter().find(|(n, _)| *n == name).unwrap().1;
        let shared_buffers = memory_kb / 4;
        assert_eq!(value("shared_buffers"), format!("{shared_buffers}kB"));
        assert_eq!(value("effective_cache_size"), format!("{}kB", memory_kb * 3 / 4));
        assert_eq!(value("maintenance_work_mem"), format!("{}kB", memory_kb / 16));
        assert_eq!(value("work_mem"), format!("{}kB", (memory_kb - shared_buffers) / ((300 + 8) * 3)));
    }
}
