//! The `pgadvise` binary: parse arguments, run, map errors to exit codes.

use clap::error::ErrorKind;
use clap::Parser;
use pgadvise::cli::Cli;
use pgadvise::cmd::write_stderr;
use pgadvise::error::{exit_for, one_line, Exit};
use std::process::ExitCode;

/// See Cargo.toml: large plans are allocation-bound under glibc's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A bug must still end in one line and a documented code, never a panic's 101
    // with a backtrace: the hook reports it and exits before unwinding.
    std::panic::set_hook(Box::new(|info| {
        let what =
            info.payload().downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| info.payload().downcast_ref::<String>().cloned());
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let text = format!("internal error{place}: {}; please report it", what.unwrap_or_else(|| "unknown".into()));
        write_stderr(&format!("pgadvise: {}\n", text.split_whitespace().collect::<Vec<_>>().join(" ")));
        std::process::exit(Exit::Internal as i32);
    }));
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
                    write_stderr(&format!("pgadvise: {} (see pgadvise --help)\n", first.trim_start_matches("error: ")));
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
            write_stderr(&format!("pgadvise: {}\n", one_line(&error)));
            ExitCode::from(exit_for(&error) as u8)
        }
    }
}

/// `pgadvise tune | head` closing the pipe early is not an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}
