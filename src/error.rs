//! What the process exit code means, and the one error type that changes it.
//!
//! Everything else is an `anyhow::Error` with context; `main` looks for
//! [`DatabaseError`] in the chain to tell "bad input" (2) from "the database
//! could not be reached or used" (3).

use std::fmt;

/// Exit codes, as documented in the README and ARCHITECTURE.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// The tool ran and found problems at or above `--fail-on`.
    Findings = 1,
    /// Usage error or bad input.
    BadInput = 2,
    /// The database could not be reached or used (connection, privileges, extension).
    Database = 3,
}

/// Marks an error as the database's fault (unreachable, refused, missing privilege).
#[derive(Debug)]
pub struct DatabaseError(pub String);

impl fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DatabaseError {}

/// Builds an `anyhow::Error` that maps to exit code 3.
pub fn database_error(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(DatabaseError(message.into()))
}

/// The exit code an error maps to.
pub fn exit_for(error: &anyhow::Error) -> Exit {
    if error.chain().any(|cause| cause.is::<DatabaseError>()) {
        Exit::Database
    } else {
        Exit::BadInput
    }
}

/// Renders an error chain as one line: `context: cause: cause`, newlines folded.
pub fn one_line(error: &anyhow::Error) -> String {
    let text = format!("{error:#}");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
