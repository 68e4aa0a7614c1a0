//! A SQL file as statements: split on semicolons the way psql does (quotes,
//! dollar quotes and comments respected), each statement checked with sqlparser
//! and kept as the text the user wrote, so that the server runs exactly that.

use super::lexical::{self, Kind};
use anyhow::{anyhow, bail, Result};
use sqlparser::ast::{Expr, SelectItem, SetExpr, Statement, TableFactor, Value};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// One statement of a file.
#[derive(Debug, Clone)]
pub struct SqlStatement {
    /// The text as written, without the trailing semicolon.
    pub text: String,
    /// 1-based line where it starts, for messages.
    pub line: usize,
    pub parsed: Statement,
    /// The highest `$n` placeholder, 0 if none.
    pub parameters: usize,
}

impl SqlStatement {
    /// Whether EXPLAIN accepts it (a query or DML).
    pub fn is_explainable(&self) -> bool {
        matches!(
            self.parsed,
            Statement::Query(_) | Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) | Statement::Merge(_)
        )
    }

    /// Whether it changes data, so that running it for real would matter: anything
    /// but a query, and a query whose WITH holds an INSERT, UPDATE, DELETE or MERGE.
    pub fn modifies_data(&self) -> bool {
        let Statement::Query(query) = &self.parsed else { return true };
        query.with.as_ref().is_some_and(|with| {
            with.cte_tables.iter().any(|cte| {
                matches!(cte.query.body.as_ref(), SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_))
            })
        })
    }

    /// The constant OFFSET of a query, when it has one.
    pub fn offset(&self) -> Option<u64> {
        let Statement::Query(query) = &self.parsed else { return None };
        let offset = match query.limit_clause.as_ref()? {
            sqlparser::ast::LimitClause::LimitOffset { offset, .. } => offset.as_ref()?,
            sqlparser::ast::LimitClause::OffsetCommaLimit { offset, .. } => return number(offset),
        };
        number(&offset.value)
    }
}

impl SqlStatement {
    /// For a SELECT from one table (no joins, no subqueries): that table's name and
    /// every column the statement mentions, which is what an index-only scan needs.
    /// `None` for anything else, or when it reads `*`.
    pub fn single_table_columns(&self) -> Option<(String, Vec<String>)> {
        let Statement::Query(query) = &self.parsed else { return None };
        let SetExpr::Select(select) = query.body.as_ref() else { return None };
        if query.with.is_some() || select.from.len() != 1 || !select.from[0].joins.is_empty() {
            return None;
        }
        let TableFactor::Table { name, .. } = &select.from[0].relation else { return None };
        let table = name.0.last()?.as_ident()?.value.to_lowercase();
        if select.projection.iter().any(|item| matches!(item, SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..))) {
            return None;
        }
        let mut columns = Vec::new();
        let mut nested = false;
        let _ = sqlparser::ast::visit_expressions(&self.parsed, |e| {
            match e {
                Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => nested = true,
                Expr::Identifier(ident) => columns.push(ident.value.to_lowercase()),
                Expr::CompoundIdentifier(parts) => columns.extend(parts.last().map(|p| p.value.to_lowercase())),
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
        if nested {
            return None;
        }
        columns.sort();
        columns.dedup();
        Some((table, columns))
    }
}

/// The statement with its constants replaced by `$1`, `$2`... the way
/// pg_stat_statements normalizes, so that calls differing only in values are one
/// statement. `None` if it does not parse (the caller keeps the text as is).
pub fn normalize(text: &str) -> Option<String> {
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, text).ok()?;
    if statements.len() != 1 {
        return None;
    }
    let mut statement = statements.remove(0);
    let mut next = highest_placeholder(&statement) + 1;
    let _ = sqlparser::ast::visit_expressions_mut(&mut statement, |e| {
        if let Expr::Value(v) = e {
            let constant = matches!(
                v.value,
                Value::Number(..)
                    | Value::SingleQuotedString(_)
                    | Value::EscapedStringLiteral(_)
                    | Value::DollarQuotedString(_)
                    | Value::NationalStringLiteral(_)
                    | Value::HexStringLiteral(_)
            );
            if constant {
                v.value = Value::Placeholder(format!("${next}"));
                next += 1;
            }
        }
        ControlFlow::<()>::Continue(())
    });
    Some(statement.to_string())
}

fn number(expr: &Expr) -> Option<u64> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

/// Splits and parses a SQL file. An unparsable statement is an error that names its line.
pub fn parse_file(text: &str) -> Result<Vec<SqlStatement>> {
    let dialect = PostgreSqlDialect {};
    let mut statements = Vec::new();
    for (line, piece) in split(text) {
        let parsed = Parser::parse_sql(&dialect, &piece)
            .map_err(|e| anyhow!("statement at line {line} does not parse: {}", e.to_string().trim_start_matches("sql parser error: ")))?;
        // The text runs as is, so it must be exactly one statement: a piece the
        // splitter and sqlparser read differently (odd quoting) is refused, not guessed at.
        if parsed.len() > 1 {
            bail!("statement at line {line} holds {} statements where one was expected: check its quoting", parsed.len());
        }
        let Some(parsed) = parsed.into_iter().next() else { continue };
        let parameters = highest_placeholder(&parsed);
        statements.push(SqlStatement { text: piece, line, parsed, parameters });
    }
    Ok(statements)
}

/// The highest `$n` placeholder in a statement, 0 if none.
pub fn highest_placeholder(statement: &Statement) -> usize {
    let mut highest = 0;
    let _ = sqlparser::ast::visit_expressions(statement, |e| {
        if let Expr::Value(v) = e {
            if let Value::Placeholder(p) = &v.value {
                if let Some(n) = p.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
                    highest = highest.max(n);
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
    highest
}

/// Splits on top-level semicolons; returns (start line, text) of each non-empty statement.
pub fn split(text: &str) -> Vec<(usize, String)> {
    let kinds = lexical::kinds(text);
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let (mut start, mut line) = (0, 1);
    // The line of the piece's first byte of code or quoted text: comments before it belong to it, but do not start it.
    let mut start_line = None;
    for (i, &byte) in bytes.iter().enumerate() {
        match (kinds[i], byte) {
            (Kind::Code, b';') => {
                if let Some(first) = start_line {
                    pieces.push((first, text[start..i].trim().to_string()));
                }
                (start, start_line) = (i + 1, None);
            }
            (Kind::Code | Kind::Quoted, byte) if !byte.is_ascii_whitespace() && start_line.is_none() => start_line = Some(line),
            _ => {}
        }
        if byte == b'\n' {
            line += 1;
        }
    }
    if let Some(first) = start_line {
        pieces.push((first, text[start..].trim().to_string()));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_psql() {
        let text = "-- first\nselect 'a;b' from t;\n\n/* c; */ select $$x;y$$, \"c;d\" from u where id = $1;\nselect 3";
        let pieces = split(text);
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces[0], (2, "-- first\nselect 'a;b' from t".to_string()));
        assert_eq!(pieces[1].0, 4);
        assert!(pieces[1].1.ends_with("where id = $1"));
        assert_eq!(pieces[2], (5, "select 3".to_string()));
        assert!(split("-- only a comment\n;  ;").is_empty());
    }

    #[test]
    fn parses_statements_and_their_parameters() {
        let statements =
            parse_file("select * from t where a = $1 and b = $2 offset 5000;\ndelete from t where a = 1;\nset work_mem = '64MB'").unwrap();
        assert_eq!(statements[0].parameters, 2);
        assert_eq!(statements[0].offset(), Some(5000));
        assert!(!statements[0].modifies_data());
        assert!(statements[1].is_explainable() && statements[1].modifies_data());
        assert!(!statements[2].is_explainable());
        // A data-modifying WITH writes although the statement is a query: it must not run READ ONLY-less by mistake.
        let with = parse_file("with gone as (delete from t where a = 1 returning *) select count(*) from gone").unwrap();
        assert!(with[0].modifies_data());
        let with = parse_file("with recent as (select * from t where a > 1) select count(*) from recent").unwrap();
        assert!(!with[0].modifies_data());
    }

    #[test]
    fn normalizes_constants_like_pg_stat_statements() {
        assert_eq!(
            normalize("select * from t where a = 1 and b = 'x' and c = $1").unwrap(),
            "SELECT * FROM t WHERE a = $2 AND b = $3 AND c = $1"
        );
        assert_eq!(
            normalize("select * from t where a = 2 and b = 'y' and c = $1"),
            normalize("select * from t where a = 1 and b = 'x' and c = $1")
        );
        assert_eq!(normalize("select * from t where d is null").unwrap(), "SELECT * FROM t WHERE d IS NULL");
        assert!(normalize("selec 1").is_none());
    }

    #[test]
    fn columns_of_a_single_table_select() {
        let statement = |sql: &str| parse_file(sql).unwrap().remove(0);
        let (table, columns) =
            statement("SELECT account_id, total FROM public.Orders WHERE created_at > $1 ORDER BY id").single_table_columns().unwrap();
        assert_eq!(table, "orders");
        assert_eq!(columns, vec!["account_id", "created_at", "id", "total"]);
        assert!(statement("SELECT * FROM orders").single_table_columns().is_none());
        assert!(statement("SELECT o.id FROM orders o JOIN accounts a ON a.id = o.account_id").single_table_columns().is_none());
        assert!(statement("SELECT id FROM orders WHERE id IN (SELECT 1)").single_table_columns().is_none());
    }

    #[test]
    fn names_the_line_of_a_statement_that_does_not_parse() {
        let error = parse_file("select 1;\n\nselec 1;").unwrap_err().to_string();
        assert!(error.starts_with("statement at line 3 does not parse"), "{error}");
    }
}
