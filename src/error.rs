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
    /// The database could not be reached or used (connection, privileges, extension,
    /// a session terminated or cancelled by an administrator, a lock held past lock_timeout).
    Database = 3,
    /// pgadvise itself failed: this machine's disk is full or read-only, or a bug
    /// (reported as one line, never a panic's exit code 101).
    Internal = 4,
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
    } else if error.chain().any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(is_local_failure)) {
        Exit::Internal
    } else {
        Exit::BadInput
    }
}

/// An I/O error that is this machine's fault, not the input's: a missing or
/// unreadable file is bad input (2); a full or read-only disk is not.
fn is_local_failure(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    const EIO: i32 = 5;
    matches!(error.kind(), StorageFull | QuotaExceeded | ReadOnlyFilesystem | WriteZero) || error.raw_os_error() == Some(EIO)
}

/// Renders an error chain as one line: `context: cause: cause`, newlines folded.
pub fn one_line(error: &anyhow::Error) -> String {
    let text = format!("{error:#}");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn exit_codes_by_cause() {
        let missing = Err::<(), _>(std::io::Error::from(std::io::ErrorKind::NotFound)).context("cannot read q.sql").unwrap_err();
        assert_eq!(exit_for(&missing), Exit::BadInput);
        let full = Err::<(), _>(std::io::Error::from(std::io::ErrorKind::StorageFull)).context("cannot write out.sql").unwrap_err();
        assert_eq!(exit_for(&full), Exit::Internal);
        let eio = Err::<(), _>(std::io::Error::from_raw_os_error(5)).context("writing").unwrap_err();
        assert_eq!(exit_for(&eio), Exit::Internal);
        assert_eq!(exit_for(&database_error("terminated")), Exit::Database);
    }
}
