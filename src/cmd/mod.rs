//! One function per subcommand: gather sources, call the advisor, render.

pub mod advise;
pub mod explain;
pub mod snapshot;
pub mod tune;

use crate::cli::{Cli, Command};
use crate::error::Exit;
use anyhow::Result;
use std::io::Write;

pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Exit> {
    match cli.command {
        Command::Tune(args) => tune::run(&args, out),
        Command::Explain(args) => explain::run(&args, out),
        Command::Snapshot(args) => snapshot::run(&args, out),
        Command::Advise(args) => advise::run(&args, out),
    }
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
