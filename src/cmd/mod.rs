//! One function per subcommand: gather sources, call the advisor, render.

pub mod advise;
pub mod explain;
pub mod migration;
pub mod snapshot;
pub mod tune;

use crate::cli::{Cli, Command, DbArgs};
use crate::config::Config;
use crate::error::Exit;
use crate::render::ReportFormat;
use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};

/// Runs one command with pgadvise.toml's values under the flags.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Exit> {
    let config = Config::discover(&std::env::current_dir().context("cannot read the working directory")?)?;
    match cli.command {
        Command::Tune(mut args) => {
            fill_db(&mut args.db, &config)?;
            tune::run(&args, &config, out)
        }
        Command::Explain(mut args) => {
            fill_db(&mut args.db, &config)?;
            args.fail_on = args.fail_on.or(config.fail_on);
            explain::run(&args, &config, out)
        }
        Command::Snapshot(mut args) => {
            fill_db(&mut args.db, &config)?;
            snapshot::run(&args, out)
        }
        Command::Advise(mut args) => {
            fill_db(&mut args.db, &config)?;
            args.max_indexes = args.max_indexes.or(config.advise.max_indexes);
            args.min_saving = args.min_saving.or(config.advise.min_saving);
            if args.budget.is_none() {
                if let Some(budget) = &config.advise.budget {
                    args.budget = Some(crate::units::parse_bytes(budget).context("pgadvise.toml: advise.budget")?);
                }
            }
            advise::run(&args, &config, out)
        }
    }
}

/// `--db` alone takes the URL from the variable pgadvise.toml names, when it names one.
fn fill_db(db: &mut DbArgs, config: &Config) -> Result<()> {
    if db.db.as_deref() == Some("") {
        if let Some(url) = config.database_url()? {
            db.db = Some(url);
        }
    }
    Ok(())
}

/// Table width: the terminal's when there is one (asked of the terminal itself:
/// shells do not export COLUMNS), else a fixed width so output diffs cleanly.
pub fn table_width() -> u16 {
    use std::io::IsTerminal;
    const PIPED: u16 = 140;
    if !std::io::stdout().is_terminal() {
        return PIPED;
    }
    // comfy-table asks the terminal (through crossterm) when stdout is one.
    comfy_table::Table::new().width().or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())).unwrap_or(PIPED)
}

/// The report format asked for, else a table for a person at a terminal and JSON for a pipe.
fn report_format(chosen: Option<ReportFormat>) -> ReportFormat {
    chosen.unwrap_or(if std::io::stdout().is_terminal() { ReportFormat::Table } else { ReportFormat::Json })
}

/// A one-line note on stderr of what a long command is doing, shown only on a
/// terminal and cleared when done, so that piped output and logs stay clean.
struct Progress {
    shown: bool,
}

/// Writes to stderr, ignoring failure: a closed or full stderr must not turn a
/// finished run into a panic (eprintln! panics when it cannot write).
pub fn write_stderr(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Connects to `url` (`--db`), saying on stderr what libpq would warn about.
/// `read_write`: only a primary will do (`--apply`).
pub async fn connect(db: &crate::cli::DbArgs, url: &str, read_write: bool) -> anyhow::Result<crate::pg::Connection> {
    let options =
        crate::pg::ConnectOptions { url: url.to_string(), timeout: db.connect_timeout.map(std::time::Duration::from_secs), read_write };
    let plan = crate::pg::connect::plan_from_environment(&options)?;
    for warning in &plan.warnings {
        note(&format!("warning: {warning}"));
    }
    crate::pg::connect::connect_as_planned(plan, read_write).await
}

/// One `pgadvise: ...` line on stderr.
pub fn note(text: &str) {
    write_stderr(&format!("pgadvise: {text}\n"));
}

impl Progress {
    fn new() -> Progress {
        Progress { shown: std::io::stderr().is_terminal() }
    }

    fn say(&self, text: &str) {
        if self.shown {
            write_stderr(&format!("\rpgadvise: {text}…\x1b[K"));
        }
    }

    fn done(&self) {
        if self.shown {
            write_stderr("\r\x1b[K");
        }
    }
}
