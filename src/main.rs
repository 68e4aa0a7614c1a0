//! The `pgadvise` binary: parse arguments, run, map errors to exit codes.

use clap::error::ErrorKind;
use clap::Parser;
use pgadvise::cli::Cli;
use pgadvise::error::{exit_for, one_line, Exit};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    ExitCode::SUCCESS
                }
                _ => {
                    // clap's message is several paragraphs; the first says what is wrong.
                    let text = e.to_string();
                    let first: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
                    let first = first.join(" ");
                    eprintln!("pgadvise: {} (see pgadvise --help)", first.trim_start_matches("error: "));
                    ExitCode::from(Exit::BadInput as u8)
                }
            };
        }
    };
    let mut stdout = std::io::stdout().lock();
    match pgadvise::cmd::run(cli, &mut stdout) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pgadvise: {}", one_line(&error));
            ExitCode::from(exit_for(&error) as u8)
        }
    }
}

/// `pgadvise tune | head` closing the pipe early is not an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}
