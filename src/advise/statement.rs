//! What one workload statement does to each table it reads, from its text:
//! tables and aliases resolved against the catalog, predicates from WHERE and
//! JOIN ... ON, ORDER BY with LIMIT, GROUP BY, and the columns it reads. This
//! is the text-side twin of `plan::conditions`, and feeds the same index builder.

use super::index::Access;
use crate::catalog::{Catalog, Table};
use crate::sql::predicate::{
    columns_in, conjunct_exprs, folded, placeholder_comparisons, placeholder_number, predicates_in, ColumnRef, Comparison, Operand, SortKey,
};
use crate::sql::statements::highest_placeholder;
use serde::Serialize;
use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, JoinConstraint, JoinOperator, OrderByKind, OrderBySort, Query,
    Select, SelectItem, SetExpr, Statement, TableFactor, TableWithJoins,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// Why a statement was not analyzed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "kebab-case")]
pub enum Skipped {
    /// BEGIN, SET, VACUUM...: nothing an index helps; left out by rule.
    Utility,
    /// Reads only PostgreSQL's own catalogs (pg_settings, information_schema...): left out by rule.
    SystemCatalog,
    /// Listed in the report with the reason, never silently dropped.
    Unreadable(String),
}

/// A statement's reads, one per table occurrence.
#[derive(Debug, Clone, Default)]
pub struct StatementShape {
    pub reads: Vec<Access>,
    /// The highest `$n` placeholder: how many values a generic plan leaves open.
    pub parameters: usize,
    /// GROUP BY with aggregates over one big table: a materialized view candidate.
    pub aggregation: Option<Aggregation>,
    /// A lookup by key returning about one row (for N+1 detection with the call counts).
    pub key_lookup: bool,
    /// For an INSERT, UPDATE or DELETE: what it does to which (schema, table).
    pub written: Option<(Write, (String, String))>,
    /// What each `$n` the text shows the role of stands for, by number.
    pub parameter_roles: Vec<(usize, ParameterRole)>,
}

/// What a `$n` stands for, as far as the statement's text tells: enough to pick a
/// value a real call would send, from the column's statistics.
#[derive(Debug, Clone, PartialEq)]
pub enum ParameterRole {
    /// Compared with a column of a table.
    Column {
        schema: String,
        table: String,
        column: String,
        comparison: Comparison,
    },
    Limit,
    Offset,
}

/// What a writing statement does to its table's rows, to count index maintenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Insert,
    /// With the columns it sets: an index on one of them ends HOT updates there.
    Update(Vec<String>),
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Aggregation {
    pub schema: String,
    pub table: String,
    /// The GROUP BY keys as column names when every key is a column (so that they are
    /// unique in the result, and a materialized view can have them as its unique key).
    pub key_columns: Option<Vec<String>>,
}

/// Reads `query` against `catalog`.
pub fn analyze(query: &str, catalog: &Catalog) -> Result<StatementShape, Skipped> {
    // Procedural wrappers: the statements they run are recorded on their own (track = all).
    let first_word = query.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
    if matches!(first_word.as_str(), "DO" | "CALL") {
        return Err(Skipped::Utility);
    }
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, query)
        .map_err(|e| Skipped::Unreadable(format!("does not parse: {}", e.to_string().trim_start_matches("sql parser error: "))))?;
    let [statement] = statements.as_slice() else {
        return Err(Skipped::Unreadable(format!("holds {} statements where one was expected", statements.len())));
    };
    let mut shape = StatementShape { parameters: highest_placeholder(statement), ..StatementShape::default() };
    match statement {
        Statement::Query(query) => read_query(query, catalog, &[], &mut shape)?,
        Statement::Update(update) => {
            let scope = Scope::new(std::slice::from_ref(&update.table), catalog, &[])?;
            scope.add_reads(update.selection.as_ref(), &[], None, &mut shape);
            if let Some(relation) = scope.relations.first() {
                let columns = update
                    .assignments
                    .iter()
                    .flat_map(|a| match &a.target {
                        sqlparser::ast::AssignmentTarget::ColumnName(name) => vec![name],
                        sqlparser::ast::AssignmentTarget::Tuple(names) => names.iter().collect(),
                    })
                    .filter_map(|name| table_name(name).map(|(_, column)| column))
                    .collect();
                shape.written = Some((Write::Update(columns), (relation.table.schema.clone(), relation.table.name.clone())));
            }
        }
        Statement::Delete(delete) => {
            let (sqlparser::ast::FromTable::WithFromKeyword(from) | sqlparser::ast::FromTable::WithoutKeyword(from)) = &delete.from;
            let scope = Scope::new(from, catalog, &[])?;
            scope.add_reads(delete.selection.as_ref(), &[], None, &mut shape);
            shape.written = scope.relations.first().map(|r| (Write::Delete, (r.table.schema.clone(), r.table.name.clone())));
        }
        Statement::Insert(insert) => {
            if let sqlparser::ast::TableObject::TableName(name) = &insert.table {
                let target = table_name(name).and_then(|(schema, table)| catalog.table(schema.as_deref(), &table));
                shape.written = target.map(|t| (Write::Insert, (t.schema.clone(), t.name.clone())));
            }
            if let Some(source) = &insert.source {
                read_query(source, catalog, &[], &mut shape)?;
            }
        }
        _ => return Err(Skipped::Utility),
    }
    Ok(shape)
}

fn read_query(query: &Query, catalog: &Catalog, outer_ctes: &[CteRef], shape: &mut StatementShape) -> Result<(), Skipped> {
    let mut ctes: Vec<CteRef> = outer_ctes.to_vec();
    if let Some(with) = &query.with {
        for cte in &with.cte_tables {
            read_query(&cte.query, catalog, &ctes, shape)?;
            let inlined =
                if cte.materialized == Some(sqlparser::ast::CteAsMaterialized::Materialized) { None } else { plain_table_of(&cte.query) };
            ctes.push(CteRef { name: cte.alias.name.value.to_lowercase(), inlined });
        }
    }
    let order_by: Vec<&sqlparser::ast::OrderByExpr> = match query.order_by.as_ref().map(|o| &o.kind) {
        Some(OrderByKind::Expressions(list)) => list.iter().collect(),
        _ => Vec::new(),
    };
    let has_limit = query.limit_clause.is_some() || query.fetch.is_some();
    if let Some(sqlparser::ast::LimitClause::LimitOffset { limit, offset, .. }) = &query.limit_clause {
        shape.parameter_roles.extend(limit.as_ref().and_then(placeholder_number).map(|n| (n, ParameterRole::Limit)));
        shape.parameter_roles.extend(offset.as_ref().and_then(|o| placeholder_number(&o.value)).map(|n| (n, ParameterRole::Offset)));
    }
    read_set_expr(&query.body, catalog, &ctes, if has_limit { &order_by } else { &[] }, shape)
}

fn read_set_expr(
    body: &SetExpr,
    catalog: &Catalog,
    ctes: &[CteRef],
    order_by: &[&sqlparser::ast::OrderByExpr],
    shape: &mut StatementShape,
) -> Result<(), Skipped> {
    match body {
        SetExpr::Select(select) => read_select(select, catalog, ctes, order_by, shape),
        SetExpr::Query(query) => read_query(query, catalog, ctes, shape),
        SetExpr::SetOperation { left, right, .. } => {
            read_set_expr(left, catalog, ctes, &[], shape)?;
            read_set_expr(right, catalog, ctes, &[], shape)
        }
        _ => Ok(()),
    }
}

fn read_select(
    select: &Select,
    catalog: &Catalog,
    ctes: &[CteRef],
    order_by: &[&sqlparser::ast::OrderByExpr],
    shape: &mut StatementShape,
) -> Result<(), Skipped> {
    // Subqueries in FROM are read as statements of their own.
    for from in &select.from {
        for factor in std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation)) {
            if let TableFactor::Derived { subquery, .. } = factor {
                read_query(subquery, catalog, ctes, shape)?;
            }
        }
    }
    // So are subqueries in the select list, WHERE and HAVING (scalar, EXISTS, IN):
    // a correlated one runs once per outer row, and its lookup is often the index
    // the whole statement needs. Its references to outer tables read as joins.
    let mut nested = OutermostQueries::default();
    let expressions = select.projection.iter().filter_map(|item| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
        _ => None,
    });
    for expr in expressions.chain(select.selection.as_ref()).chain(select.having.as_ref()) {
        let _ = sqlparser::ast::Visit::visit(expr, &mut nested);
    }
    for query in &nested.found {
        read_query(query, catalog, ctes, shape)?;
    }
    let scope = Scope::new(&select.from, catalog, ctes)?;
    let group_by: Vec<&Expr> = match &select.group_by {
        GroupByExpr::Expressions(list, _) => list.iter().collect(),
        GroupByExpr::All(_) => Vec::new(),
    };
    scope.add_reads(select.selection.as_ref(), order_by, Some(select), shape);
    if !group_by.is_empty() && has_aggregate(select) && scope.relations.len() == 1 {
        let relation = &scope.relations[0];
        shape.aggregation = Some(Aggregation {
            schema: relation.table.schema.clone(),
            table: relation.table.name.clone(),
            key_columns: group_by
                .iter()
                .map(|e| match e {
                    Expr::Identifier(ident) => Some(folded(ident)),
                    Expr::CompoundIdentifier(parts) => parts.last().map(folded),
                    _ => None,
                })
                .collect(),
        });
    }
    Ok(())
}

/// The subqueries of an expression, not those nested inside them (each is read
/// with its own, when it is read). Cloned: the visitor sees each query only for
/// the length of a call.
#[derive(Default)]
struct OutermostQueries {
    depth: usize,
    found: Vec<Query>,
}

impl sqlparser::ast::Visitor for OutermostQueries {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.depth == 0 {
            self.found.push(query.clone());
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
}

fn has_aggregate(select: &Select) -> bool {
    const AGGREGATES: &[&str] = &["count", "sum", "avg", "min", "max", "array_agg", "string_agg", "bool_and", "bool_or"];
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(&select.projection, |e| {
        if let Expr::Function(f) = e {
            if AGGREGATES.contains(&f.name.to_string().to_lowercase().as_str()) {
                found = true;
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    found
}

/// A CTE the statement defines. PostgreSQL 12+ inlines a CTE that is a plain
/// `SELECT columns FROM table` (unless MATERIALIZED), so conditions on it are
/// conditions on the table.
#[derive(Debug, Clone)]
struct CteRef {
    name: String,
    /// (schema, table) when it is such a plain pass-through.
    inlined: Option<(Option<String>, String)>,
}

/// Whether the SELECT has a GROUP BY (a list or `ALL`).
fn is_grouped(select: &Select) -> bool {
    !matches!(&select.group_by, GroupByExpr::Expressions(list, _) if list.is_empty())
}

/// The table of `SELECT * | columns FROM table` with nothing else (no WHERE, GROUP BY, LIMIT, joins).
fn plain_table_of(query: &Query) -> Option<(Option<String>, String)> {
    let SetExpr::Select(select) = query.body.as_ref() else { return None };
    let plain_projection = select.projection.iter().all(|item| match item {
        SelectItem::Wildcard(_) => true,
        SelectItem::UnnamedExpr(e) => matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_)),
        _ => false,
    });
    let simple = query.with.is_none()
        && query.limit_clause.is_none()
        && query.order_by.is_none()
        && select.selection.is_none()
        && select.having.is_none();
    let grouped = is_grouped(select);
    if !plain_projection || !simple || grouped || select.distinct.is_some() || select.from.len() != 1 || !select.from[0].joins.is_empty() {
        return None;
    }
    let TableFactor::Table { name, args: None, .. } = &select.from[0].relation else { return None };
    table_name(name)
}

fn table_name(name: &sqlparser::ast::ObjectName) -> Option<(Option<String>, String)> {
    let parts: Vec<String> = name.0.iter().filter_map(|p| p.as_ident()).map(folded).collect();
    match parts.as_slice() {
        [table] => Some((None, table.clone())),
        [.., schema, table] => Some((Some(schema.clone()), table.clone())),
        [] => None,
    }
}

/// One table in a FROM list, with the name the statement calls it by.
struct Relation<'a> {
    reference: String,
    table: &'a Table,
}

/// The tables of one SELECT (or UPDATE/DELETE) and the conditions joining them.
struct Scope<'a> {
    relations: Vec<Relation<'a>>,
    join_conditions: Vec<&'a Expr>,
}

impl<'a> Scope<'a> {
    fn new(from: &'a [TableWithJoins], catalog: &'a Catalog, ctes: &[CteRef]) -> Result<Scope<'a>, Skipped> {
        let mut scope = Scope { relations: Vec::new(), join_conditions: Vec::new() };
        for item in from {
            scope.add_factor(&item.relation, catalog, ctes)?;
            for join in &item.joins {
                scope.add_factor(&join.relation, catalog, ctes)?;
                if let Some(JoinConstraint::On(condition)) = constraint(&join.join_operator) {
                    scope.join_conditions.push(condition);
                }
            }
        }
        Ok(scope)
    }

    fn add_factor(&mut self, factor: &TableFactor, catalog: &'a Catalog, ctes: &[CteRef]) -> Result<(), Skipped> {
        // `FROM generate_series(...)` and other table functions are not tables.
        let TableFactor::Table { name, alias, args: None, .. } = factor else { return Ok(()) };
        let Some((mut schema, mut table)) = table_name(name) else { return Ok(()) };
        let mut reference = alias.as_ref().map_or(table.clone(), |a| a.name.value.to_lowercase());
        if schema.is_none() {
            if let Some(cte) = ctes.iter().rev().find(|c| c.name == table) {
                let Some((cte_schema, cte_table)) = cte.inlined.clone() else { return Ok(()) };
                (schema, table) = (cte_schema, cte_table);
                reference = alias.as_ref().map_or(cte.name.clone(), |a| a.name.value.to_lowercase());
            }
        }
        let system =
            matches!(schema.as_deref(), Some("pg_catalog" | "information_schema")) || (schema.is_none() && table.starts_with("pg_"));
        if system {
            return Err(Skipped::SystemCatalog);
        }
        let Some(found) = catalog.table(schema.as_deref(), &table) else {
            return Err(Skipped::Unreadable(format!(
                "reads {} which the catalog does not have",
                schema.map_or(table.clone(), |s| format!("{s}.{table}"))
            )));
        };
        self.relations.push(Relation { reference, table: found });
        Ok(())
    }

    /// Whether `column` is `relation`'s: by qualifier, or for a bare name, by the
    /// catalog's columns (the only relation when the catalog lists none).
    fn belongs(&self, relation: &Relation<'_>, column: &ColumnRef) -> bool {
        let known = |r: &Relation<'_>| r.table.columns.is_empty() || r.table.columns.iter().any(|c| c.name == column.name);
        match &column.qualifier {
            Some(q) => *q == relation.reference && known(relation),
            // An output alias (ORDER BY u) or a typo is not a column of the table.
            None if self.relations.len() == 1 => known(relation),
            None => {
                let has = |r: &Relation<'_>| r.table.columns.iter().any(|c| c.name == column.name);
                has(relation) && self.relations.iter().filter(|r| has(r)).count() == 1
            }
        }
    }

    /// Whether `reference` (a table name or alias) is one of this scope's relations.
    fn has_reference(&self, reference: &str) -> bool {
        self.relations.iter().any(|r| r.reference == reference)
    }

    fn add_reads(
        &self,
        selection: Option<&Expr>,
        order_by: &[&sqlparser::ast::OrderByExpr],
        select: Option<&Select>,
        shape: &mut StatementShape,
    ) {
        let conditions: Vec<&Expr> = selection.into_iter().chain(self.join_conditions.iter().copied()).collect();
        let joined = self.relations.len() > 1;
        for relation in &self.relations {
            let belongs = |c: &ColumnRef| self.belongs(relation, c);
            let mut predicates = Vec::new();
            let mut joins = Vec::new();
            for condition in &conditions {
                for mut predicate in predicates_in(condition, &belongs) {
                    match &predicate.operand {
                        // A column of a table outside this scope: the outer row of a
                        // correlated subquery, one value per run, as a parameter is.
                        Operand::Column(other) if other.qualifier.as_ref().is_some_and(|q| !self.has_reference(q)) => {
                            predicate.operand = Operand::Parameter;
                            predicates.push(predicate);
                        }
                        Operand::Column(_) => joins.push(predicate),
                        _ => predicates.push(predicate),
                    }
                }
            }
            for condition in &conditions {
                for conjunct in conjunct_exprs(condition) {
                    for (column, comparison, number) in placeholder_comparisons(conjunct) {
                        if belongs(&column) {
                            shape.parameter_roles.push((
                                number,
                                ParameterRole::Column {
                                    schema: relation.table.schema.clone(),
                                    table: relation.table.name.clone(),
                                    column: column.name,
                                    comparison,
                                },
                            ));
                        }
                    }
                }
            }
            let sort_keys = match select.and_then(extreme_of) {
                _ if joined => Vec::new(),
                // `max(col)` reads the last entry of an index that ends in col.
                Some(column) if order_by.is_empty() && belongs(&column) => vec![SortKey { column: column.name, direction: String::new() }],
                _ => sort_keys(order_by, select, &belongs),
            };
            let access = Access {
                schema: Some(relation.table.schema.clone()),
                table: relation.table.name.clone(),
                predicates,
                residual_columns: Vec::new(),
                joins,
                join_lookup: joined,
                sort_keys,
                output_columns: select.and_then(|s| columns_read(s, &belongs, order_by_aliases(s))),
                rows: None,
                partial_constants: None,
                // Set by the caller, who has the catalog.
                byte_order_collation: false,
            };
            if !joined && access.predicates.iter().any(|p| p.operator == crate::sql::predicate::Operator::Equality) {
                shape.key_lookup = true;
            }
            shape.reads.push(access);
        }
    }
}

fn constraint(operator: &JoinOperator) -> Option<&JoinConstraint> {
    match operator {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::Semi(c)
        | JoinOperator::LeftSemi(c)
        | JoinOperator::RightSemi(c)
        | JoinOperator::Anti(c)
        | JoinOperator::LeftAnti(c)
        | JoinOperator::RightAnti(c) => Some(c),
        _ => None,
    }
}

/// `ORDER BY 1` and `ORDER BY alias` name a SELECT-list item: the expression behind it.
fn resolve_order_item<'a>(expr: &'a Expr, select: Option<&'a Select>) -> &'a Expr {
    let Some(select) = select else { return expr };
    match expr {
        Expr::Value(v) => match &v.value {
            sqlparser::ast::Value::Number(n, _) => n
                .parse::<usize>()
                .ok()
                .and_then(|n| select.projection.get(n.wrapping_sub(1)))
                .and_then(|item| match item {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
                    _ => None,
                })
                .unwrap_or(expr),
            _ => expr,
        },
        Expr::Identifier(name) => select
            .projection
            .iter()
            .find_map(|item| match item {
                SelectItem::ExprWithAlias { expr: e, alias } if alias.value.eq_ignore_ascii_case(&name.value) => Some(e),
                _ => None,
            })
            .unwrap_or(expr),
        _ => expr,
    }
}

fn sort_keys(order_by: &[&sqlparser::ast::OrderByExpr], select: Option<&Select>, belongs: &dyn Fn(&ColumnRef) -> bool) -> Vec<SortKey> {
    let mut keys = Vec::new();
    for item in order_by {
        let expr = resolve_order_item(&item.expr, select);
        let columns = columns_in(expr);
        let [column] = columns.as_slice() else { break };
        if !belongs(column) || !matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
            break;
        }
        let mut direction = match item.options.sort {
            Some(OrderBySort::Desc) => "DESC".to_string(),
            _ => String::new(),
        };
        match item.options.nulls_first {
            Some(true) if direction.is_empty() => direction = "NULLS FIRST".into(),
            Some(false) if direction == "DESC" => direction.push_str(" NULLS LAST"),
            _ => {}
        }
        keys.push(SortKey { column: column.name.clone(), direction });
    }
    keys
}

/// The column of a SELECT that asks only for `min(col)` / `max(col)` of one plain
/// column, with no GROUP BY or DISTINCT: PostgreSQL answers it from the first or
/// last entry of an index on (equality columns..., col), one row read instead of
/// all that match, so it is an ORDER BY col LIMIT 1 as far as an index goes. A
/// correlated `(SELECT max(o_totalprice) FROM orders WHERE o_custkey = c.c_custkey)`
/// run once per outer row is where that pays most.
fn extreme_of(select: &Select) -> Option<ColumnRef> {
    let grouped = is_grouped(select);
    if grouped || select.distinct.is_some() || select.having.is_some() || select.projection.is_empty() {
        return None;
    }
    let mut found: Option<ColumnRef> = None;
    for item in &select.projection {
        let (SelectItem::UnnamedExpr(Expr::Function(f)) | SelectItem::ExprWithAlias { expr: Expr::Function(f), .. }) = item else {
            return None;
        };
        let name = f.name.to_string().to_lowercase();
        if !matches!(name.as_str(), "min" | "max") || f.over.is_some() || f.filter.is_some() {
            return None;
        }
        let FunctionArguments::List(list) = &f.args else { return None };
        let [FunctionArg::Unnamed(FunctionArgExpr::Expr(argument @ (Expr::Identifier(_) | Expr::CompoundIdentifier(_))))] =
            list.args.as_slice()
        else {
            return None;
        };
        if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
            return None;
        }
        let [column] = <[ColumnRef; 1]>::try_from(columns_in(argument)).ok()?;
        match &found {
            Some(seen) if *seen != column => return None,
            _ => found = Some(column),
        }
    }
    found
}

/// Output aliases, which ORDER BY may name but which are not columns.
fn order_by_aliases(select: &Select) -> Vec<String> {
    select
        .projection
        .iter()
        .filter_map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_lowercase()),
            _ => None,
        })
        .collect()
}

/// Every column of this relation the SELECT mentions; `None` if it reads `*`.
fn columns_read(select: &Select, belongs: &dyn Fn(&ColumnRef) -> bool, aliases: Vec<String>) -> Option<Vec<String>> {
    if select.projection.iter().any(|item| matches!(item, SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..))) {
        return None;
    }
    let mut columns = Vec::new();
    let _ = sqlparser::ast::visit_expressions(select, |e| {
        if matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
            columns.extend(columns_in(e).into_iter().filter(|c| belongs(c) && !aliases.contains(&c.name)).map(|c| c.name));
        }
        ControlFlow::<()>::Continue(())
    });
    columns.sort();
    columns.dedup();
    Some(columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Column, Table};
    use crate::sql::predicate::{Operator, Target};

    fn table(name: &str, columns: &[&str]) -> Table {
        Table { columns: columns.iter().map(|c| Column::new(c, "integer")).collect(), ..Table::new("public", name, 100_000.0) }
    }

    fn catalog() -> Catalog {
        Catalog {
            tables: vec![table("orders", &["id", "account_id", "status", "total", "created_at"]), table("accounts", &["id", "email"])],
            ..Catalog::default()
        }
    }

    fn column_names(access: &Access) -> Vec<(String, Operator)> {
        access
            .predicates
            .iter()
            .map(|p| match &p.target {
                Target::Column(c) => (c.name.clone(), p.operator),
                Target::Expression { sql, .. } => (sql.clone(), p.operator),
            })
            .collect()
    }

    #[test]
    fn reads_predicates_sort_and_columns_of_a_single_table() {
        let shape =
            analyze("SELECT id, total FROM orders WHERE account_id = $1 AND created_at > $2 ORDER BY created_at DESC LIMIT 10", &catalog())
                .unwrap();
        assert_eq!(shape.reads.len(), 1);
        let read = &shape.reads[0];
        assert_eq!(column_names(read), vec![("account_id".into(), Operator::Equality), ("created_at".into(), Operator::Range)]);
        assert_eq!(read.sort_keys, vec![SortKey { column: "created_at".into(), direction: "DESC".into() }]);
        assert_eq!(read.output_columns.as_deref(), Some(&["account_id".to_string(), "created_at".into(), "id".into(), "total".into()][..]));
        assert!(shape.key_lookup);
        assert_eq!(shape.parameters, 2, "$1 and $2, for planning it as a generic plan");
        let by_position = analyze("SELECT created_at FROM orders ORDER BY 1 DESC LIMIT 5", &catalog()).unwrap();
        assert_eq!(by_position.reads[0].sort_keys, vec![SortKey { column: "created_at".into(), direction: "DESC".into() }]);
        let by_alias = analyze("SELECT created_at AS c FROM orders ORDER BY c LIMIT 5", &catalog()).unwrap();
        assert_eq!(by_alias.reads[0].sort_keys, vec![SortKey { column: "created_at".into(), direction: String::new() }]);
        let not_a_column = analyze("SELECT id FROM orders WHERE typo = 1", &catalog()).unwrap();
        assert!(not_a_column.reads[0].predicates.is_empty());
    }

    #[test]
    fn min_or_max_of_one_column_reads_as_its_sort_key() {
        let sort = |sql: &str| analyze(sql, &catalog()).unwrap().reads.iter().map(|r| r.sort_keys.clone()).collect::<Vec<_>>();
        let created_at = vec![SortKey { column: "created_at".into(), direction: String::new() }];
        assert_eq!(sort("SELECT max(created_at) FROM orders WHERE account_id = $1"), vec![created_at.clone()]);
        assert_eq!(sort("SELECT min(o.created_at) AS first, max(o.created_at) FROM orders o WHERE o.account_id = 1"), vec![created_at]);
        // Correlated, once per outer row: the subquery's own read gets it.
        let correlated = sort("SELECT a.id, (SELECT max(o.total) FROM orders o WHERE o.account_id = a.id) FROM accounts a");
        assert!(correlated.contains(&vec![SortKey { column: "total".into(), direction: String::new() }]), "{correlated:?}");
        // Not answered from one index entry: grouped, two columns, another aggregate, a window.
        for sql in [
            "SELECT max(created_at) FROM orders WHERE account_id = 1 GROUP BY status",
            "SELECT max(created_at), max(total) FROM orders",
            "SELECT max(created_at), count(*) FROM orders",
            "SELECT max(created_at) OVER () FROM orders",
            "SELECT max(total + 1) FROM orders",
        ] {
            assert_eq!(sort(sql), vec![Vec::<SortKey>::new()], "{sql}");
        }
    }

    #[test]
    fn subqueries_in_expressions_are_read_and_outer_columns_are_lookup_values() {
        for sql in [
            "SELECT a.id, (SELECT max(o.total) FROM orders o WHERE o.account_id = a.id) FROM accounts a WHERE a.email = $1",
            "SELECT a.id FROM accounts a WHERE EXISTS (SELECT 1 FROM orders o WHERE o.account_id = a.id AND o.status = 'open')",
            "SELECT a.id FROM accounts a WHERE a.id IN (SELECT o.account_id FROM orders o WHERE o.total > $1)",
            "SELECT a.id FROM accounts a GROUP BY a.id HAVING count(*) > (SELECT count(*) FROM orders o WHERE o.account_id = a.id)",
        ] {
            let shape = analyze(sql, &catalog()).unwrap();
            let orders = shape.reads.iter().find(|r| r.table == "orders").unwrap_or_else(|| panic!("{sql}: the subquery is not read"));
            assert!(!orders.predicates.is_empty(), "{sql}: {:?}", orders.predicates);
        }
        let correlated =
            analyze("SELECT a.id, (SELECT max(o.total) FROM orders o WHERE o.account_id = a.id) FROM accounts a", &catalog()).unwrap();
        let orders = correlated.reads.iter().find(|r| r.table == "orders").unwrap();
        assert_eq!(column_names(orders), vec![("account_id".into(), Operator::Equality)], "the outer a.id is one value per run");
        // A subquery nested in a subquery is read once, with its parent.
        let nested = analyze(
            "SELECT (SELECT max(o.total) FROM orders o WHERE o.account_id = (SELECT min(id) FROM accounts WHERE email = $1)) FROM accounts",
            &catalog(),
        )
        .unwrap();
        assert_eq!(nested.reads.iter().filter(|r| r.table == "accounts").count(), 2, "{:?}", nested.reads);
    }

    #[test]
    fn resolves_aliases_and_bare_columns_across_a_join() {
        let shape =
            analyze("SELECT o.id FROM orders o JOIN accounts a ON a.id = o.account_id WHERE email = 'x' AND status = 'open'", &catalog())
                .unwrap();
        let orders = shape.reads.iter().find(|r| r.table == "orders").unwrap();
        let accounts = shape.reads.iter().find(|r| r.table == "accounts").unwrap();
        assert_eq!(column_names(orders), vec![("status".into(), Operator::Equality)]);
        assert_eq!(column_names(accounts), vec![("email".into(), Operator::Equality)]);
        assert!(orders.join_lookup);
        assert!(matches!(&orders.joins[0].target, Target::Column(c) if c.name == "account_id"));
    }

    #[test]
    fn finds_aggregations_and_reads_updates_and_deletes() {
        let shape = analyze("SELECT status, count(*), sum(total) FROM orders GROUP BY status", &catalog()).unwrap();
        assert_eq!(shape.aggregation.unwrap().key_columns, Some(vec!["status".to_string()]));
        let update = analyze("UPDATE orders SET total = 0 WHERE account_id = 5", &catalog()).unwrap();
        assert_eq!(column_names(&update.reads[0]), vec![("account_id".into(), Operator::Equality)]);
        assert_eq!(update.written, Some((Write::Update(vec!["total".to_string()]), ("public".to_string(), "orders".to_string()))));
        let delete = analyze("DELETE FROM orders WHERE status IS NULL", &catalog()).unwrap();
        assert_eq!(column_names(&delete.reads[0]), vec![("status".into(), Operator::IsNull)]);
    }

    #[test]
    fn says_why_a_statement_is_left_out() {
        assert_eq!(analyze("BEGIN", &catalog()).unwrap_err(), Skipped::Utility);
        assert_eq!(analyze("DO $$ BEGIN PERFORM 1; END $$", &catalog()).unwrap_err(), Skipped::Utility);
        assert_eq!(analyze("SET work_mem = '1GB'", &catalog()).unwrap_err(), Skipped::Utility);
        assert_eq!(analyze("SELECT name FROM pg_settings WHERE name = $1", &catalog()).unwrap_err(), Skipped::SystemCatalog);
        assert!(matches!(analyze("SELEC 1", &catalog()).unwrap_err(), Skipped::Unreadable(r) if r.starts_with("does not parse")));
        assert_eq!(
            analyze("SELECT * FROM nowhere", &catalog()).unwrap_err(),
            Skipped::Unreadable("reads nowhere which the catalog does not have".into())
        );
        assert!(analyze("WITH r AS (SELECT id FROM orders WHERE status = 'x') SELECT * FROM r", &catalog()).is_ok());
        // A plain CTE is inlined (PostgreSQL 12+): its conditions are the table's; a MATERIALIZED one is a fence.
        let inlined = analyze("WITH c AS (SELECT * FROM orders) SELECT * FROM c WHERE status = $1", &catalog()).unwrap();
        assert_eq!(column_names(inlined.reads.last().unwrap()), vec![("status".into(), Operator::Equality)]);
        let fenced = analyze("WITH c AS MATERIALIZED (SELECT * FROM orders) SELECT * FROM c WHERE status = $1", &catalog()).unwrap();
        assert!(fenced.reads.iter().all(|r| r.predicates.is_empty()));
    }
}
