//! Statements from the PostgreSQL server log, the way Dexter reads it: the
//! `duration: ... statement:` / `execute` lines `log_min_duration_statement`
//! writes, auto_explain's `duration: ... plan:` entries, and the statements
//! cancelled by statement_timeout (an ERROR with the statement after it), which
//! never reach pg_stat_statements. stderr, csvlog and jsonlog (15+) formats.

use super::WorkloadStatement;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::Path;

/// A cancelled statement ran at least until the timeout, which the log does not
/// say: it is weighed as this long, enough to rank it among the slowest.
pub const CANCELLED_STATEMENT_MS: f64 = 30_000.0;

const CANCELLED: &str = "canceling statement due to statement timeout";

/// One log entry, whatever the format.
struct Entry {
    severity: String,
    message: String,
    /// The statement an ERROR is about (csvlog/jsonlog `query`/`statement`).
    statement: Option<String>,
}

pub fn read(paths: &[impl AsRef<Path>]) -> Result<Vec<WorkloadStatement>> {
    let mut statements = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the log {}", path.display()))?;
        let source = path.display().to_string();
        let found = from_entries(&entries(&text), &source);
        if found.is_empty() {
            bail!(
                "{source} holds no logged statements: log them with log_min_duration_statement (or auto_explain), and pass the server log in stderr, csvlog or jsonlog format"
            );
        }
        statements.extend(found);
    }
    Ok(statements)
}

fn entries(text: &str) -> Vec<Entry> {
    let first = text.trim_start();
    if first.starts_with('{') {
        return jsonlog(text);
    }
    let csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes()).records().next();
    if matches!(csv, Some(Ok(record)) if record.len() >= 22) {
        return csvlog(text);
    }
    stderr(text)
}

fn from_entries(entries: &[Entry], source: &str) -> Vec<WorkloadStatement> {
    let mut statements = Vec::new();
    let mut pending_cancel = false;
    for entry in entries {
        if entry.severity == "ERROR" && entry.message.contains(CANCELLED) {
            match &entry.statement {
                Some(sql) => statements.push(statement(sql, CANCELLED_STATEMENT_MS, source)),
                None => pending_cancel = true,
            }
            continue;
        }
        if entry.severity == "STATEMENT" {
            if pending_cancel {
                statements.push(statement(&entry.message, CANCELLED_STATEMENT_MS, source));
            }
            pending_cancel = false;
            continue;
        }
        pending_cancel = false;
        if entry.severity != "LOG" {
            continue;
        }
        if let Some((ms, sql)) = duration_statement(&entry.message) {
            statements.push(statement(&sql, ms, source));
        }
    }
    statements
}

/// A logged statement, with its values replaced by `$n` so that calls with other
/// values merge into one statement (as pg_stat_statements does).
fn statement(sql: &str, ms: f64, source: &str) -> WorkloadStatement {
    let text = sql.trim().trim_end_matches(';');
    let query = crate::sql::statements::normalize(text).unwrap_or_else(|| text.to_string());
    WorkloadStatement { query, calls: 1.0, total_ms: ms, rows: 0.0, shared_hit: 0.0, shared_read: 0.0, source: source.to_string() }
}

/// `duration: 21.701 ms  statement: SELECT ...`, `... execute <unnamed>: SELECT ...`,
/// or auto_explain's `duration: 21.7 ms  plan:` followed by the query text.
fn duration_statement(message: &str) -> Option<(f64, String)> {
    let rest = message.strip_prefix("duration: ")?;
    let (number, rest) = rest.split_once(" ms")?;
    let ms: f64 = number.trim().parse().ok().filter(|ms: &f64| ms.is_finite() && *ms >= 0.0)?;
    let rest = rest.trim_start();
    if let Some(sql) = rest.strip_prefix("statement: ") {
        return Some((ms, sql.to_string()));
    }
    if rest.starts_with("execute ") {
        let (_, sql) = rest.split_once(": ")?;
        return Some((ms, sql.to_string()));
    }
    if let Some(plan) = rest.strip_prefix("plan:") {
        let plan = plan.trim();
        if plan.starts_with('{') {
            let value: Value = serde_json::from_str(plan).ok()?;
            return value.get("Query Text").and_then(Value::as_str).map(|q| (ms, q.to_string()));
        }
        let query = plan.lines().map(str::trim).find_map(|l| l.strip_prefix("Query Text: "))?;
        return Some((ms, query.to_string()));
    }
    None
}

/// stderr: an entry starts with a line holding `SEVERITY:  `; tab-indented lines continue it.
fn stderr(text: &str) -> Vec<Entry> {
    const SEVERITIES: &[&str] =
        &["LOG", "ERROR", "STATEMENT", "DETAIL", "HINT", "CONTEXT", "WARNING", "FATAL", "PANIC", "NOTICE", "INFO", "DEBUG"];
    let mut entries: Vec<Entry> = Vec::new();
    for line in text.lines() {
        if let Some(continued) = line.strip_prefix('\t') {
            if let Some(last) = entries.last_mut() {
                last.message.push('\n');
                last.message.push_str(continued);
            }
            continue;
        }
        let found = SEVERITIES.iter().filter_map(|s| line.find(&format!("{s}:  ")).map(|at| (at, *s))).min_by_key(|(at, _)| *at);
        if let Some((at, severity)) = found {
            entries.push(Entry { severity: severity.to_string(), message: line[at + severity.len() + 3..].to_string(), statement: None });
        }
    }
    entries
}

/// csvlog: error_severity is column 12, message 14, the statement of an error (`query`) 20.
fn csvlog(text: &str) -> Vec<Entry> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .filter_map(Result::ok)
        .filter(|r| r.len() >= 20)
        .map(|r| Entry {
            severity: r.get(11).unwrap_or_default().to_string(),
            message: r.get(13).unwrap_or_default().to_string(),
            statement: r.get(19).filter(|q| !q.is_empty()).map(str::to_string),
        })
        .collect()
}

fn jsonlog(text: &str) -> Vec<Entry> {
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|v| Entry {
            severity: v.get("error_severity").and_then(Value::as_str).unwrap_or_default().to_string(),
            message: v.get("message").and_then(Value::as_str).unwrap_or_default().to_string(),
            statement: v.get("statement").and_then(Value::as_str).map(str::to_string),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queries(text: &str) -> Vec<(String, f64)> {
        from_entries(&entries(text), "log").into_iter().map(|s| (s.query, s.total_ms)).collect()
    }

    #[test]
    fn reads_the_three_formats_dexter_reads() {
        let stderr = "2017-12-19 02:50:28 UTC [417-3935] dexter@dexter_test LOG:  duration: 21.701 ms  execute <unnamed>: SELECT * FROM posts WHERE id = $1\n\
                      2017-12-19 02:50:28 UTC [417-3935] dexter@dexter_test DETAIL:  parameters: $1 = '1'\n";
        assert_eq!(queries(stderr), vec![("SELECT * FROM posts WHERE id = $1".to_string(), 21.701)]);
        let csvlog = "2017-12-22 02:51:27.549 UTC,\"dexter\",\"dexter_test\",21239,\"127.0.0.1:52302\",5a3c732f.52f7,1,\"SELECT\",2017-12-22 02:51:27 UTC,15/6,0,LOG,00000,\"duration: 18.249 ms  execute <unnamed>: SELECT * FROM posts\nWHERE id = $1\",\"parameters: $1 = '1'\",,,,,,,\"app\"\n";
        assert_eq!(queries(csvlog), vec![("SELECT * FROM posts WHERE id = $1".to_string(), 18.249)]);
        let jsonlog = r#"{"timestamp":"2022-10-14 23:20:37.479 UTC","error_severity":"LOG","message":"duration: 12.197 ms  execute <unnamed>: SELECT * FROM posts WHERE id = $1","detail":"parameters: $1 = '1'"}"#;
        assert_eq!(queries(jsonlog), vec![("SELECT * FROM posts WHERE id = $1".to_string(), 12.197)]);
    }

    #[test]
    fn reads_multi_line_statements_auto_explain_and_cancelled_statements() {
        let text = "2026-01-01 10:00:00 UTC [1] LOG:  duration: 1500.5 ms  statement: SELECT *\n\
                    \tFROM big\n\
                    \tWHERE a = 1;\n\
                    2026-01-01 10:00:01 UTC [1] LOG:  duration: 2000.0 ms  plan:\n\
                    \tQuery Text: SELECT count(*) FROM big WHERE b = 2\n\
                    \tAggregate  (cost=1.00..2.00 rows=1 width=8)\n\
                    2026-01-01 10:00:02 UTC [2] ERROR:  canceling statement due to statement timeout\n\
                    2026-01-01 10:00:02 UTC [2] STATEMENT:  SELECT * FROM big WHERE c = 3\n\
                    2026-01-01 10:00:03 UTC [2] LOG:  duration: 0.1 ms  parse <unnamed>: SELECT 1\n";
        assert_eq!(
            queries(text),
            vec![
                ("SELECT * FROM big WHERE a = $1".to_string(), 1500.5),
                ("SELECT count(*) FROM big WHERE b = $1".to_string(), 2000.0),
                ("SELECT * FROM big WHERE c = $1".to_string(), CANCELLED_STATEMENT_MS),
            ]
        );
        let json_cancel = r#"{"error_severity":"ERROR","message":"canceling statement due to statement timeout","statement":"SELECT * FROM big WHERE d = 4"}"#;
        assert_eq!(queries(json_cancel)[0].0, "SELECT * FROM big WHERE d = $1");
    }
}
