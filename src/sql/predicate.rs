//! Predicates an index can serve, read from a condition such as a plan's
//! `Filter: ((status = 'active'::text) AND (lower((email)::text) = 'a@b.c'::text))`
//! or a query's WHERE clause.
//!
//! A condition is split into its AND-ed conjuncts first, textually, so that one
//! conjunct sqlparser cannot read (an operator it does not know) does not hide
//! the others; each conjunct is then parsed and classified.

use sqlparser::ast::{BinaryOperator, Expr, UnaryOperator, Value};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::ops::ControlFlow;
use std::rc::Rc;

/// A column reference as written: `alias.column` or a bare `column`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ColumnRef {
    pub qualifier: Option<String>,
    pub name: String,
}

/// What the indexed side of a predicate is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Column(ColumnRef),
    /// A function or operator over columns, e.g. `lower((email)::text)`: needs an
    /// expression index. `sql` is the expression as PostgreSQL will match it.
    Expression {
        sql: String,
        columns: Vec<ColumnRef>,
    },
}

/// How a btree can use the predicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operator {
    /// `=`, `IN (...)`, `= ANY (...)`.
    Equality,
    /// `<`, `<=`, `>`, `>=`, `BETWEEN`.
    Range,
    /// `LIKE 'prefix%'`, or `LIKE $n` (a prefix when the value is one): a range
    /// in byte order, which only a `text_pattern_ops` index has under a collation
    /// other than C.
    Prefix,
    IsNull,
    IsNotNull,
    /// A boolean column tested for true (`active`, `active = true`, `active IS TRUE`).
    IsTrue,
    IsFalse,
}

/// What the target is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operand {
    /// A value fixed in the text: `'active'::text`, `42`, `now()`.
    Constant(String),
    /// `$1`, or a value from a SubPlan/InitPlan: known only when the statement runs.
    Parameter,
    /// A column of another relation: a join.
    Column(ColumnRef),
    /// Nothing: IS NULL, IS TRUE...
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Predicate {
    pub target: Target,
    pub operator: Operator,
    pub operand: Operand,
    /// The conjunct as text, for a partial index's WHERE clause.
    pub sql: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// An ORDER BY column, as an index key would take it.
pub struct SortKey {
    pub column: String,
    /// `DESC`, `DESC NULLS LAST`... as written; empty for ascending.
    pub direction: String,
}

/// The predicates in `condition` that are about the relation whose columns `belongs` accepts. Conjuncts that are not indexable
/// predicates (ORs, inequalities, unknown syntax) are left out.
pub fn predicates(condition: &str, belongs: &dyn Fn(&ColumnRef) -> bool) -> Vec<Predicate> {
    conjuncts(condition).iter().filter_map(|text| parse_expr(text)).flat_map(|expr| classify(&expr, belongs)).collect()
}

/// The same for a parsed condition (a WHERE clause or JOIN ... ON): its AND-ed parts, classified.
pub fn predicates_in(condition: &Expr, belongs: &dyn Fn(&ColumnRef) -> bool) -> Vec<Predicate> {
    conjunct_exprs(condition).into_iter().filter_map(|expr| classify(expr, belongs)).collect()
}

/// The AND-ed parts of a parsed condition.
pub fn conjunct_exprs(condition: &Expr) -> Vec<&Expr> {
    match strip_nested(condition) {
        Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
            let mut parts = conjunct_exprs(left);
            parts.extend(conjunct_exprs(right));
            parts
        }
        other => vec![other],
    }
}

/// How a `$n` placeholder is compared with a column in a conjunct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `col = $n`
    Equal,
    /// `col > $n`, `col >= $n`, or `$n < col`: the lower end of a range.
    Lower,
    /// `col < $n`, `col <= $n`: the upper end.
    Upper,
    /// `col LIKE $n`.
    Like,
}

/// The `$n` placeholders a conjunct compares a column with: `col = $1`,
/// `col >= $2::timestamptz`, `col BETWEEN $3 AND $4`, either side round.
pub fn placeholder_comparisons(conjunct: &Expr) -> Vec<(ColumnRef, Comparison, usize)> {
    match strip_nested(conjunct) {
        Expr::BinaryOp { left, op, right } => {
            let (column, number, flipped) = match (
                column_ref(strip_casts(left)),
                placeholder_number(right),
                column_ref(strip_casts(right)),
                placeholder_number(left),
            ) {
                (Some(column), Some(n), _, _) => (column, n, false),
                (_, _, Some(column), Some(n)) => (column, n, true),
                _ => return Vec::new(),
            };
            let comparison = match (op, flipped) {
                (BinaryOperator::Eq, _) => Comparison::Equal,
                (BinaryOperator::PGLikeMatch, false) => Comparison::Like,
                (BinaryOperator::Gt | BinaryOperator::GtEq, false) | (BinaryOperator::Lt | BinaryOperator::LtEq, true) => Comparison::Lower,
                (BinaryOperator::Lt | BinaryOperator::LtEq, false) | (BinaryOperator::Gt | BinaryOperator::GtEq, true) => Comparison::Upper,
                _ => return Vec::new(),
            };
            vec![(column, comparison, number)]
        }
        Expr::Like { negated: false, expr, pattern, .. } => match (column_ref(strip_casts(expr)), placeholder_number(pattern)) {
            (Some(column), Some(n)) => vec![(column, Comparison::Like, n)],
            _ => Vec::new(),
        },
        Expr::Between { expr, negated: false, low, high } => match column_ref(strip_casts(expr)) {
            Some(column) => [(low, Comparison::Lower), (high, Comparison::Upper)]
                .into_iter()
                .filter_map(|(e, comparison)| placeholder_number(e).map(|n| (column.clone(), comparison, n)))
                .collect(),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// `n` when the expression is the placeholder `$n` (casts aside).
pub fn placeholder_number(expr: &Expr) -> Option<usize> {
    match strip_casts(expr) {
        Expr::Value(v) => match &v.value {
            Value::Placeholder(p) => p.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()),
            _ => None,
        },
        _ => None,
    }
}

/// A column a relation has when `qualifier` names it (or is absent): the test
/// plan conditions use, where bare columns belong to the scan.
pub fn of_relation(reference: &str) -> impl Fn(&ColumnRef) -> bool + '_ {
    move |c: &ColumnRef| c.qualifier.is_none() || c.qualifier.as_deref() == Some(reference)
}

/// Parses an expression the way PostgreSQL prints it, after replacing what only
/// EXPLAIN writes (`SubPlan 1`, `InitPlan 1`) with a parameter.
pub fn parse_expr(text: &str) -> Option<Rc<Expr>> {
    // A plan of thousands of partitions repeats one filter thousands of times, and
    // each is read by the conditions and by several rules: parse each text once,
    // and share the tree rather than copy it.
    thread_local! {
        static PARSED: std::cell::RefCell<std::collections::HashMap<String, Option<Rc<Expr>>>> = Default::default();
    }
    let parse = || {
        Parser::new(&PostgreSqlDialect {})
            .try_with_sql(&replace_subplan_references(text))
            .ok()
            .and_then(|mut p| p.parse_expr().ok())
            .map(Rc::new)
    };
    // A long condition is read once; copying it in and out of the cache would cost more.
    if text.len() > PARSE_CACHE_MAX_CHARS {
        return parse();
    }
    if let Some(found) = PARSED.with(|cache| cache.borrow().get(text).cloned()) {
        return found;
    }
    let parsed = parse();
    PARSED.with(|cache| {
        let mut cache = cache.borrow_mut();
        // Bounded, so that a plan of distinct filters keeps memory linear in its size.
        if cache.len() >= PARSE_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(text.to_string(), parsed.clone());
    });
    parsed
}

/// Parsed expressions [`parse_expr`] keeps for reuse ...
const PARSE_CACHE_ENTRIES: usize = 4096;
/// ... of conditions up to this long.
const PARSE_CACHE_MAX_CHARS: usize = 512;

/// Column references anywhere in an expression.
pub fn columns_in(expr: &Expr) -> Vec<ColumnRef> {
    let mut found = Vec::new();
    let _ = sqlparser::ast::visit_expressions(expr, |e| {
        if let Some(column) = column_ref(e) {
            found.push(column);
        }
        ControlFlow::<()>::Continue(())
    });
    found.sort();
    found.dedup();
    found
}

/// Splits `((a = 1) AND (b = 2))` into `a = 1` and `b = 2`, respecting quotes and parentheses.
/// Slices of `condition`, not copies: a plan repeats its filters on every node.
pub fn conjuncts(condition: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    push_conjuncts(condition, &mut parts);
    parts
}

fn push_conjuncts<'a>(condition: &'a str, parts: &mut Vec<&'a str>) {
    let mut text = condition.trim();
    while let Some(inner) = strip_outer_parens(text) {
        text = inner.trim();
    }
    let split = split_top_level(text, " AND ");
    if split.len() == 1 {
        parts.push(text);
        return;
    }
    for part in split {
        push_conjuncts(part, parts);
    }
}

fn strip_outer_parens(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('(')?.strip_suffix(')')?;
    // Only if the first parenthesis closes at the very end: `(a) AND (b)` is not wrapped.
    // On bytes: every byte it looks for is ASCII, which no byte of a multi-byte character is.
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    for (i, &b) in text.as_bytes().iter().enumerate() {
        match (quote, b) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(b),
            (None, b'(') => depth += 1,
            (None, b')') => {
                depth -= 1;
                if depth == 0 && i != text.len() - 1 {
                    return None;
                }
            }
            _ => {}
        }
    }
    Some(inner)
}

/// Splits on an ASCII `separator` (matched case-insensitively) outside quotes and
/// parentheses. Works on bytes: every byte it matches is ASCII, so each cut falls
/// on a character boundary whatever else the text holds (curly quotes, a
/// non-breaking space pasted from a ticket), and each position is looked at once.
fn split_top_level<'a>(text: &'a str, separator: &str) -> Vec<&'a str> {
    debug_assert!(separator.is_ascii());
    let separator = separator.as_bytes();
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, _)
                if depth == 0 && bytes[i..].len() >= separator.len() && bytes[i..i + separator.len()].eq_ignore_ascii_case(separator) =>
            {
                parts.push(&text[start..i]);
                i += separator.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts
}

fn replace_subplan_references(text: &str) -> String {
    let mut out = text.to_string();
    for marker in ["hashed SubPlan ", "SubPlan ", "InitPlan "] {
        while let Some(at) = out.find(marker) {
            let digits = out[at + marker.len()..].chars().take_while(char::is_ascii_digit).count();
            out.replace_range(at..at + marker.len() + digits, "$0");
        }
    }
    // `($0).col1` (InitPlan output columns) → `$0`
    out.replace("($0).", "$0_")
}

/// The predicate one parsed AND-ed part is, if it is one an index can serve.
pub fn predicate_of(expr: &Expr, belongs: &dyn Fn(&ColumnRef) -> bool) -> Option<Predicate> {
    classify(expr, belongs)
}

fn classify(expr: &Expr, belongs: &dyn Fn(&ColumnRef) -> bool) -> Option<Predicate> {
    // Written out only for a predicate: most conjuncts of a long filter are not one.
    let predicate = |target, operator, operand| Some(Predicate { target, operator, operand, sql: expr.to_string() });
    match strip_nested(expr) {
        Expr::BinaryOp { left, op, right } => {
            let operator = match op {
                BinaryOperator::Eq => Operator::Equality,
                BinaryOperator::Lt | BinaryOperator::LtEq | BinaryOperator::Gt | BinaryOperator::GtEq => Operator::Range,
                BinaryOperator::PGLikeMatch => Operator::Prefix,
                _ => return None,
            };
            // Either side may be ours; the other is then the operand.
            if let Some(target) = target(left, belongs) {
                let operand = operand(right, belongs)?;
                if *op == BinaryOperator::PGLikeMatch && !is_prefix_pattern(&operand) {
                    return None;
                }
                if let (Operator::Equality, Operand::Constant(value)) = (operator, &operand) {
                    if let Some(flag) = boolean_constant(value) {
                        return predicate(target, if flag { Operator::IsTrue } else { Operator::IsFalse }, Operand::None);
                    }
                }
                return predicate(target, operator, operand);
            }
            if *op == BinaryOperator::PGLikeMatch {
                return None;
            }
            let target = target(right, belongs)?;
            predicate(target, operator, operand(left, belongs)?)
        }
        Expr::InList { expr, list, negated: false } => {
            let target = target(expr, belongs)?;
            let operands: Option<Vec<Operand>> = list.iter().map(|e| operand(e, belongs)).collect();
            let all_constant = operands?.iter().all(|o| matches!(o, Operand::Constant(_) | Operand::Parameter));
            all_constant.then_some(())?;
            predicate(target, Operator::Equality, Operand::Constant(list.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")))
        }
        Expr::AnyOp { left, compare_op: BinaryOperator::Eq, right, .. } => {
            let target = target(left, belongs)?;
            predicate(target, Operator::Equality, operand(right, belongs)?)
        }
        Expr::Between { expr, negated: false, low, high } => {
            let target = target(expr, belongs)?;
            operand(low, belongs)?;
            predicate(target, Operator::Range, operand(high, belongs)?)
        }
        Expr::Like { negated: false, expr, pattern, .. } => {
            let target = target(expr, belongs)?;
            let operand = operand(pattern, belongs)?;
            is_prefix_pattern(&operand).then_some(())?;
            predicate(target, Operator::Prefix, operand)
        }
        Expr::IsNull(inner) => predicate(target(inner, belongs)?, Operator::IsNull, Operand::None),
        Expr::IsNotNull(inner) => predicate(target(inner, belongs)?, Operator::IsNotNull, Operand::None),
        Expr::IsTrue(inner) => predicate(target(inner, belongs)?, Operator::IsTrue, Operand::None),
        Expr::IsFalse(inner) => predicate(target(inner, belongs)?, Operator::IsFalse, Operand::None),
        Expr::UnaryOp { op: UnaryOperator::Not, expr: inner } => match target(inner, belongs)? {
            column @ Target::Column(_) => predicate(column, Operator::IsFalse, Operand::None),
            Target::Expression { .. } => None,
        },
        bare @ (Expr::Identifier(_) | Expr::CompoundIdentifier(_)) => predicate(target(bare, belongs)?, Operator::IsTrue, Operand::None),
        _ => None,
    }
}

fn boolean_constant(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// A constant pattern whose only wildcard is a trailing `%`, or a parameter
/// (whose value may be one: the values assumed for it are).
fn is_prefix_pattern(operand: &Operand) -> bool {
    if *operand == Operand::Parameter {
        return true;
    }
    let Operand::Constant(text) = operand else { return false };
    // 'abc%'::text → abc% ; a prefix pattern has its only wildcard at the end.
    let Some(start) = text.find('\'') else { return false };
    let Some(end) = text.rfind('\'') else { return false };
    if end <= start + 1 {
        return false;
    }
    let pattern = &text[start + 1..end];
    let body = pattern.strip_suffix('%').unwrap_or(pattern);
    !body.is_empty() && !body.contains(['%', '_']) && pattern.ends_with('%')
}

fn strip_nested(expr: &Expr) -> &Expr {
    match expr {
        Expr::Nested(inner) => strip_nested(inner),
        other => other,
    }
}

/// Strips parentheses and casts: `(status)::text` is the column `status`.
fn strip_casts(expr: &Expr) -> &Expr {
    match expr {
        Expr::Nested(inner) => strip_casts(inner),
        Expr::Cast { expr, .. } => strip_casts(expr),
        other => other,
    }
}

fn column_ref(expr: &Expr) -> Option<ColumnRef> {
    match expr {
        Expr::Identifier(ident) => Some(ColumnRef { qualifier: None, name: folded(ident) }),
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
            let name = folded(&parts[parts.len() - 1]);
            Some(ColumnRef { qualifier: Some(folded(&parts[parts.len() - 2])), name })
        }
        _ => None,
    }
}

/// PostgreSQL folds unquoted identifiers to lower case.
pub fn folded(ident: &sqlparser::ast::Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// Our side of a predicate: a column of this relation (casts ignored), or an
/// expression over this relation's columns only.
fn target(expr: &Expr, belongs: &dyn Fn(&ColumnRef) -> bool) -> Option<Target> {
    if let Some(column) = column_ref(strip_casts(expr)) {
        return belongs(&column).then_some(Target::Column(column));
    }
    let columns = columns_in(expr);
    if columns.is_empty() || !columns.iter().all(belongs) || has_parameter(expr) {
        return None;
    }
    let stripped = strip_nested(expr);
    matches!(stripped, Expr::Function(_) | Expr::BinaryOp { .. } | Expr::Cast { .. })
        .then(|| Target::Expression { sql: unqualified(stripped).to_string(), columns })
}

/// The expression with `o.email` written as `email`, as an index definition needs it.
fn unqualified(expr: &Expr) -> Expr {
    let mut expr = expr.clone();
    let _ = sqlparser::ast::visit_expressions_mut(&mut expr, |e| {
        if let Expr::CompoundIdentifier(parts) = e {
            if let Some(last) = parts.last() {
                *e = Expr::Identifier(last.clone());
            }
        }
        ControlFlow::<()>::Continue(())
    });
    expr
}

fn operand(expr: &Expr, belongs: &dyn Fn(&ColumnRef) -> bool) -> Option<Operand> {
    if let Some(column) = column_ref(strip_casts(expr)) {
        // A column of ours on both sides is not something an index looks up.
        return (!belongs(&column)).then_some(Operand::Column(column));
    }
    if has_parameter(expr) {
        return Some(Operand::Parameter);
    }
    let columns = columns_in(expr);
    if columns.is_empty() {
        return Some(Operand::Constant(expr.to_string()));
    }
    if columns.iter().all(|c| !belongs(c)) {
        return Some(Operand::Column(columns[0].clone()));
    }
    None
}

fn has_parameter(expr: &Expr) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(expr, |e| {
        if let Expr::Value(v) = e {
            if matches!(v.value, Value::Placeholder(_)) {
                found = true;
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(c: &ColumnRef) -> bool {
        c.qualifier.is_none() || c.qualifier.as_deref() == Some("o")
    }

    fn read(condition: &str) -> Vec<(String, Operator, String)> {
        predicates(condition, &ours)
            .into_iter()
            .map(|p| {
                let target = match &p.target {
                    Target::Column(c) => c.name.clone(),
                    Target::Expression { sql, .. } => format!("expr {sql}"),
                };
                let operand = match &p.operand {
                    Operand::Constant(v) => v.clone(),
                    Operand::Parameter => "param".into(),
                    Operand::Column(c) => format!("join {}.{}", c.qualifier.clone().unwrap_or_default(), c.name),
                    Operand::None => String::new(),
                };
                (target, p.operator, operand)
            })
            .collect()
    }

    #[test]
    fn reads_plan_filters() {
        assert_eq!(read("((tech)::text = 'scss'::text)"), vec![("tech".into(), Operator::Equality, "'scss'::TEXT".into())]);
        let both = read("((status = 'active'::text) AND (deleted_at IS NULL) AND (created_at >= '2024-01-01'::date))");
        assert_eq!(both.iter().map(|p| p.1).collect::<Vec<_>>(), vec![Operator::Equality, Operator::IsNull, Operator::Range]);
        assert_eq!(read("(id = ANY ('{1,2,3}'::integer[]))")[0].1, Operator::Equality);
        assert_eq!(read("(o.user_id = u.id)"), vec![("user_id".into(), Operator::Equality, "join u.id".into())]);
        assert_eq!(read("(user_id = $1)")[0].2, "param");
        assert_eq!(read("(total > (SubPlan 1))")[0].2, "param");
        assert_eq!(read("(NOT archived)"), vec![("archived".into(), Operator::IsFalse, String::new())]);
        assert_eq!(read("(active = true)")[0].1, Operator::IsTrue);
    }

    #[test]
    fn finds_functions_on_columns() {
        let found = read("(lower((email)::text) = 'a@b.c'::text)");
        assert_eq!(found[0].0, "expr lower((email)::TEXT)");
        assert_eq!(found[0].1, Operator::Equality);
        assert_eq!(read("(lower((o.email)::text) = 'a@b.c'::text)")[0].0, "expr lower((email)::TEXT)");
    }

    #[test]
    fn like_is_a_prefix_match_only_with_a_fixed_prefix_or_a_parameter() {
        assert_eq!(read("((name)::text ~~ 'abc%'::text)")[0].1, Operator::Prefix);
        assert!(read("((name)::text ~~ '%abc'::text)").is_empty());
        assert!(read("((name)::text ~~ 'a_c%'::text)").is_empty());
        assert_eq!(read("((name)::text ~~ $1)")[0].1, Operator::Prefix, "the value may be a prefix");
    }

    #[test]
    fn skips_what_an_index_cannot_serve_but_keeps_the_rest() {
        assert!(read("((a = 1) OR (b = 2))").is_empty());
        assert_eq!(read("((a <> 1) AND (b = 2) AND (c @@@ 'x'))").len(), 1);
        assert!(read("(u.id = 5)").is_empty(), "another relation's column is not ours");
    }
}
