//! Reading pg_qualstats, when the database has it: the constants each statement
//! was run with, which pg_stat_statements replaced with `$n`. With them a
//! statement is planned with the values its calls use (`status = 'pending'`, a
//! backlog's 3%) rather than values guessed from pg_stats.

use super::connect::server_message;
use crate::error::database_error;
use crate::pg::session::{Session, TAG};
use crate::workload::{Observed, ObservedValues};
use anyhow::Result;

/// The most constants kept per statement, column and operator: the most frequent.
const CONSTANTS_PER_QUAL: i64 = 5;

/// The observed constants of the current database's statements, or `None` when
/// pg_qualstats is not installed in it.
pub async fn read(client: &Session) -> Result<Option<ObservedValues>> {
    let failed = |e: crate::pg::session::PgError| database_error(format!("cannot read pg_qualstats: {}", server_message(&e)));
    let installed = client.query_opt("SELECT 1 FROM pg_extension WHERE extname = 'pg_qualstats'", &[]).await.map_err(failed)?;
    if installed.is_none() {
        return Ok(None);
    }
    let sql = format!(
        "SELECT query, schema, relation, attribute, operator, constant, seen FROM (
           SELECT s.query, n.nspname::text AS schema, c.relname::text AS relation, a.attname::text AS attribute,
                  o.oprname::text AS operator, q.constvalue::text AS constant, sum(q.occurences)::float8 AS seen,
                  row_number() OVER (PARTITION BY s.query, c.oid, a.attnum, o.oid ORDER BY sum(q.occurences) DESC, q.constvalue::text) AS rank
           FROM pg_qualstats q
           JOIN pg_stat_statements s ON s.queryid = q.queryid AND s.dbid = q.dbid AND s.userid = q.userid
           JOIN pg_class c ON c.oid = q.lrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = q.lrelid AND a.attnum = q.lattnum
           JOIN pg_operator o ON o.oid = q.opno
           WHERE q.constvalue IS NOT NULL AND q.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND left(s.query, {}) <> $1
           GROUP BY s.query, n.nspname, c.oid, c.relname, a.attnum, a.attname, o.oid, o.oprname, q.constvalue
         ) ranked WHERE rank <= {CONSTANTS_PER_QUAL} ORDER BY query, schema, relation, attribute, operator, seen DESC, constant",
        TAG.len()
    );
    let rows = client.query(&sql, &[&TAG]).await.map_err(failed)?;
    Ok(Some(ObservedValues::new(
        rows.into_iter()
            .filter_map(|r| {
                let value = constant_value(r.get::<_, &str>(5))?;
                Some((
                    r.get(0),
                    Observed { schema: r.get(1), table: r.get(2), column: r.get(3), operator: r.get(4), value, count: r.get(6) },
                ))
            })
            .collect(),
    )))
}

/// The value of a constant as pg_qualstats writes it: `'pending'::text` is
/// `pending`, `42::integer` is `42`. `None` for what is not one plain constant.
pub fn constant_value(constant: &str) -> Option<String> {
    let text = constant.trim();
    // The cast after the value: the first `::` outside quotes.
    let (mut in_quotes, mut cast) = (false, None);
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\'' => in_quotes = !in_quotes,
            b':' if !in_quotes && bytes.get(i + 1) == Some(&b':') && cast.is_none() => cast = Some(i),
            _ => {}
        }
    }
    let value = cast.map_or(text, |at| &text[..at]).trim();
    match value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        Some(quoted) => Some(quoted.replace("''", "'")),
        None if !value.is_empty() && !value.contains(['(', ' ', '\'']) => Some(value.to_string()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::constant_value;

    #[test]
    fn constants_as_pg_qualstats_writes_them() {
        assert_eq!(constant_value("'pending'::text").as_deref(), Some("pending"));
        assert_eq!(constant_value("42::integer").as_deref(), Some("42"));
        assert_eq!(constant_value("'it''s'::character varying").as_deref(), Some("it's"));
        assert_eq!(constant_value("'a::b'::text").as_deref(), Some("a::b"));
        assert_eq!(constant_value("'2026-01-01 00:00:00+00'::timestamp with time zone").as_deref(), Some("2026-01-01 00:00:00+00"));
        assert_eq!(constant_value("-3.5").as_deref(), Some("-3.5"));
        assert_eq!(constant_value("now()"), None);
        assert_eq!(constant_value(""), None);
    }
}
