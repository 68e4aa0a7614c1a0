//! One function per subcommand: gather sources, call the advisor, render.

pub mod advise;
pub mod explain;
pub mod migration;
pub mod snapshot;
pub mod tune;

use crate::cli::{Cli, Command, DbArgs};
use crate::config::Config;
use crate::error::Exit;
use anyhow::{Context, Result};
use std::io::Write;

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

/// Table width: the terminal's when there is one, else a fixed width so output diffs cleanly.
pub fn table_width() -> u16 {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        if let Some(columns) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
            return columns;
        }
        return 140;
    }
    140
}
