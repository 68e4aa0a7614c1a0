//! pg_stat_statements exported to a file: CSV (`\copy (select * from
//! pg_stat_statements) to 'stats.csv' csv header`) or JSON (`select
//! json_agg(s) from pg_stat_statements s`), with the column names of 13+
//! (`total_exec_time`) or 12 and before (`total_time`).

use super::WorkloadStatement;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// Reads an export, CSV or JSON by its content. A CSV is read row by row from the
/// file, never held whole: an export of a million rows is a hundred megabytes.
pub fn read(path: &Path) -> Result<Vec<WorkloadStatement>> {
    use std::io::BufRead;
    let name = path.display().to_string();
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {name}"))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    // Skip a byte order mark and leading blank space, and see what comes first.
    let first = loop {
        let buffer = reader.fill_buf().with_context(|| format!("cannot read {name}"))?;
        let Some(&byte) = buffer.first() else { break None };
        if buffer.starts_with(b"\xef\xbb\xbf") {
            reader.consume(3);
        } else if byte.is_ascii_whitespace() {
            reader.consume(1);
        } else {
            break Some(byte);
        }
    };
    let statements = match first {
        None => bail!("{name} is empty: export pg_stat_statements with \\copy (select * from pg_stat_statements) to '{name}' csv header"),
        Some(b'[' | b'{') => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut reader, &mut text).with_context(|| format!("cannot read {name}: is it text?"))?;
            from_json(&text)
        }
        Some(_) => from_csv(reader),
    };
    statements.with_context(|| name.clone())
}

/// One row's fields by column name, whichever the source.
fn statement(get: &dyn Fn(&str) -> Option<String>, source: &str, row: usize) -> Result<WorkloadStatement> {
    let number = |names: &[&str]| -> Result<Option<f64>> {
        for name in names {
            if let Some(text) = get(name) {
                let text = text.trim();
                if text.is_empty() {
                    return Ok(None);
                }
                // Counts and times: NaN, infinities and negatives would print as "NaN%" or negative savings.
                return match text.parse::<f64>() {
                    Ok(value) if value.is_finite() && value >= 0.0 => Ok(Some(value)),
                    _ => Err(anyhow!("row {row}: {name} is '{text}', not a count or time (a number, 0 or more)")),
                };
            }
        }
        Ok(None)
    };
    let query = get("query").ok_or_else(|| anyhow!("row {row} has no query column: is this a pg_stat_statements export?"))?;
    let calls = number(&["calls"])?.ok_or_else(|| anyhow!("row {row} has no calls column: is this a pg_stat_statements export?"))?;
    let total_ms = number(&["total_exec_time", "total_time"])?
        .ok_or_else(|| anyhow!("row {row} has neither total_exec_time (13+) nor total_time (12): is this a pg_stat_statements export?"))?;
    Ok(WorkloadStatement {
        query,
        calls,
        total_ms,
        rows: number(&["rows"])?.unwrap_or(0.0),
        shared_hit: number(&["shared_blks_hit"])?.unwrap_or(0.0),
        shared_read: number(&["shared_blks_read"])?.unwrap_or(0.0),
        source: source.to_string(),
    })
}

fn from_csv(input: impl std::io::Read) -> Result<Vec<WorkloadStatement>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(input);
    let headers: Vec<String> =
        reader.headers().map_err(|e| anyhow!("not a CSV export: {e}"))?.iter().map(|h| h.trim().to_lowercase()).collect();
    if !headers.iter().any(|h| h == "query") {
        bail!("the CSV has no query column: export with \\copy (select * from pg_stat_statements) to 'file' csv header");
    }
    let index: HashMap<&str, usize> = headers.iter().enumerate().map(|(i, h)| (h.as_str(), i)).collect();
    let mut statements = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| anyhow!("the CSV is malformed at row {}: {e}", i + 1))?;
        let get = |name: &str| index.get(name).and_then(|&at| record.get(at)).map(str::to_string);
        statements.push(statement(&get, "pg_stat_statements (csv)", i + 1)?);
    }
    Ok(statements)
}

fn from_json(text: &str) -> Result<Vec<WorkloadStatement>> {
    // `\copy (select json_agg(s) ...) to 'file'` writes COPY's text format, which
    // escapes every backslash: undo that when the text is not JSON as it stands.
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => serde_json::from_str(&copy_unescape(text)).map_err(|_| anyhow!("not valid JSON: {e}"))?,
    };
    // json_agg gives an array; psql's \gset or a wrapper may give {"json_agg": [...]}.
    let rows = match &value {
        Value::Array(rows) => rows,
        Value::Object(object) => match object.values().find_map(Value::as_array) {
            Some(rows) => rows,
            None => bail!("the JSON holds no array of pg_stat_statements rows: export with select json_agg(s) from pg_stat_statements s"),
        },
        _ => bail!("the JSON holds no array of pg_stat_statements rows"),
    };
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let object = row.as_object().ok_or_else(|| anyhow!("row {} is not an object", i + 1))?;
            let get = |name: &str| {
                object.get(name).and_then(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
            };
            statement(&get, "pg_stat_statements (json)", i + 1)
        })
        .collect()
}

/// Undoes COPY text-format escaping: `\\` → `\`, `\n`, `\r`, `\t`.
fn copy_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.trim_end().chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_that_are_not_counts_or_times_are_errors() {
        for bad in ["NaN", "inf", "-5", "1e309"] {
            let text = format!("query,calls,total_exec_time\nSELECT 1,{bad},10\n");
            let err = from_csv(text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(&format!("calls is '{bad}', not a count or time")), "{err}");
        }
        let json = r#"[{"query": "SELECT 1", "calls": 3, "total_exec_time": -1.5}]"#;
        assert!(from_json(json).unwrap_err().to_string().contains("total_exec_time is '-1.5'"));
    }

    #[test]
    fn reads_csv_of_13_and_later_with_quoted_multiline_queries() {
        let text = "userid,dbid,queryid,query,calls,total_exec_time,rows,shared_blks_hit,shared_blks_read\n\
                    10,5,1,\"SELECT *\nFROM t WHERE a = $1 AND b = 'x,\"\"y'\",120,60.5,120,10,2\n";
        let statements = from_csv(text.as_bytes()).unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0].query, "SELECT *\nFROM t WHERE a = $1 AND b = 'x,\"y'");
        assert_eq!((statements[0].calls, statements[0].total_ms, statements[0].shared_read), (120.0, 60.5, 2.0));
    }

    #[test]
    fn reads_csv_of_12_and_json() {
        let old = from_csv("query,calls,total_time,rows\nselect 1,3,1.5,3\n".as_bytes()).unwrap();
        assert_eq!(old[0].total_ms, 1.5);
        let json = from_json(r#"[{"query": "select $1", "calls": 2, "total_exec_time": 4.0, "rows": 2}]"#).unwrap();
        assert_eq!((json[0].calls, json[0].total_ms), (2.0, 4.0));
        let wrapped = from_json(r#"{"json_agg": [{"query": "select 1", "calls": 1, "total_time": 1}]}"#).unwrap();
        assert_eq!(wrapped.len(), 1);
        // As \copy writes it: every backslash doubled, newlines as \n.
        let copied = from_json(r#"[{"query": "select \\"a\\"\\nfrom t", "calls": 1, "total_exec_time": 2}]"#).unwrap();
        assert_eq!(copied[0].query, "select \"a\"\nfrom t");
    }

    #[test]
    fn says_what_is_wrong_with_a_file_that_is_not_an_export() {
        assert!(from_csv("a,b\n1,2\n".as_bytes()).unwrap_err().to_string().contains("no query column"));
        assert!(from_csv("query,calls\nselect 1,3\n".as_bytes()).unwrap_err().to_string().contains("neither total_exec_time"));
        assert!(from_csv("query,calls,total_time\nselect 1,many,3\n".as_bytes()).unwrap_err().to_string().contains("not a count or time"));
        assert!(from_json("[{\"query\": \"select 1\"").unwrap_err().to_string().contains("not valid JSON"));
        assert!(from_json("{\"a\": 1}").unwrap_err().to_string().contains("no array"));
    }
}
