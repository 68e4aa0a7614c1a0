//! pgadvise's benchmark harness (`bench/run`): what the advice does to a real
//! workload, what the tuning does to pgbench, and how fast the tool itself is.
//! It starts its own throwaway PostgreSQL 15, prints tables of figures, and is
//! not part of CI (about 10 minutes on a 2-core machine).

#![recursion_limit = "256"]

#[path = "../../tests/common/server.rs"]
mod server;

mod analytic;
mod app;
mod quality;
mod report;
mod speed;
mod stats;
mod tuning;

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Parser)]
#[command(about = "pgadvise's benchmark harness: advice quality, tuning with pgbench, the tool's own speed")]
struct Args {
    /// The pgadvise binary to measure (bench/run builds target/release/pgadvise).
    #[arg(long, env = "PGADVISE_BIN")]
    pgadvise: PathBuf,
    /// Multiplies the application database's size (1: 1.6 GB, slowest query about 0.8 s here).
    #[arg(long, default_value_t = 1)]
    scale: u64,
    /// Runs of each measurement; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Seconds per pgbench run.
    #[arg(long, default_value_t = 10)]
    pgbench_seconds: u32,
    /// Keep the generated inputs (exports, catalog, plan, migrations) for profiling; prints where.
    #[arg(long)]
    keep_inputs: bool,
    /// Which parts to run.
    #[arg(long, value_delimiter = ',', default_values_t = [Part::Quality, Part::Analytic, Part::Tuning, Part::Speed])]
    only: Vec<Part>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum, Debug)]
enum Part {
    Quality,
    Analytic,
    Tuning,
    Speed,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::Quality => "quality",
            Part::Analytic => "analytic",
            Part::Tuning => "tuning",
            Part::Speed => "speed",
        })
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some(stats::MEASURE_CHILD) {
        stats::measure_child(&argv[2..]);
    }
    let args = Args::parse();
    if let Err(error) = run(&args) {
        eprintln!("bench: {error:#}");
        std::process::exit(2);
    }
}

fn run(args: &Args) -> Result<()> {
    if !args.pgadvise.is_file() {
        bail!("no pgadvise binary at {} (bench/run builds it)", args.pgadvise.display());
    }
    let started = Instant::now();
    let terminal = std::io::stderr().is_terminal();
    let progress = |text: &str| {
        let elapsed = started.elapsed().as_secs();
        if terminal {
            eprint!("\r[{:>2}:{:02}] {text}…\x1b[K", elapsed / 60, elapsed % 60);
        } else {
            eprintln!("[{:>2}:{:02}] {text}", elapsed / 60, elapsed % 60);
        }
    };
    let work_dir = std::env::temp_dir().join(format!("pgadvise-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work_dir)?;
    let result = run_parts(args, &work_dir, &progress);
    if terminal {
        eprint!("\r\x1b[K");
    }
    if args.keep_inputs {
        eprintln!("bench: inputs kept in {}", work_dir.display());
    } else {
        std::fs::remove_dir_all(&work_dir).ok();
    }
    result?;
    println!("{} parts in {:.1} min", args.only.len(), started.elapsed().as_secs_f64() / 60.0);
    Ok(())
}

/// What every part needs to know: the binary, where to write, and how much to run.
pub struct Settings<'a> {
    pub pgadvise: &'a Path,
    pub work_dir: &'a Path,
    pub scale: u64,
    pub runs: usize,
    pub pgbench_seconds: u32,
}

/// Prints a part's figures as soon as it is done, so that a later failure loses nothing.
fn emit(text: String) {
    print!("{text}");
}

fn run_parts(args: &Args, work_dir: &Path, progress: &dyn Fn(&str)) -> Result<()> {
    let settings =
        Settings { pgadvise: &args.pgadvise, work_dir, scale: args.scale, runs: args.runs, pgbench_seconds: args.pgbench_seconds };
    let needs_server = args.only.iter().any(|p| *p != Part::Speed);
    let server = needs_server.then(|| {
        progress("starting PostgreSQL 15");
        // Nothing on the command line but what the harness needs: ALTER SYSTEM must win.
        server::TestServer::start("")
    });
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    let result = (|| -> Result<()> {
        if args.only.contains(&Part::Quality) {
            let quality = runtime.block_on(quality::run(server.as_ref().expect("started"), &settings, progress))?;
            emit(report::quality(&quality, args.scale, args.runs));
        }
        if args.only.contains(&Part::Analytic) {
            let analytic = runtime.block_on(analytic::run(server.as_ref().expect("started"), &settings, progress))?;
            emit(report::analytic(&analytic));
        }
        if args.only.contains(&Part::Tuning) {
            let tuning = tuning::run(server.as_ref().expect("started"), &settings, progress)?;
            emit(report::tuning(&tuning, args.runs, args.pgbench_seconds));
        }
        if args.only.contains(&Part::Speed) {
            let speed = speed::run(&settings, progress)?;
            emit(report::speed(&speed, args.runs));
        }
        Ok(())
    })();
    if let Some(server) = server {
        server.stop();
    }
    result
}
