//! A workload written as SQL files: each statement weighs one call, unless a
//! `-- calls: N` comment in it says otherwise. For statements that never finish
//! (cancelled by statement_timeout) and so never reach pg_stat_statements.

use super::WorkloadStatement;
use crate::sql::statements::split;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Every statement of every file, in order. Parsing is left to the analysis, which
/// reports statements it cannot read rather than dropping them.
pub fn read(paths: &[impl AsRef<Path>]) -> Result<Vec<WorkloadStatement>> {
    let mut statements = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let pieces = split(&text);
        if pieces.is_empty() {
            bail!("{} holds no SQL statements", path.display());
        }
        for (line, piece) in pieces {
            let calls = calls_hint(&piece).unwrap_or(1.0);
            statements.push(WorkloadStatement {
                query: piece,
                calls,
                // No timing: the analysis ranks file statements by the planner's cost.
                total_ms: 0.0,
                rows: 0.0,
                shared_hit: 0.0,
                shared_read: 0.0,
                source: format!("{}:{line}", path.display()),
            });
        }
    }
    Ok(statements)
}

/// `-- calls: 250` anywhere in the statement's comments.
fn calls_hint(text: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let comment = line.trim().strip_prefix("--")?.trim();
        let value = comment.strip_prefix("calls:")?.trim();
        value.parse::<f64>().ok().filter(|n| *n >= 0.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_calls_hints() {
        assert_eq!(calls_hint("-- calls: 250\nselect 1"), Some(250.0));
        assert_eq!(calls_hint("select 1 -- not a hint"), None);
        assert_eq!(calls_hint("select 1"), None);
    }
}
