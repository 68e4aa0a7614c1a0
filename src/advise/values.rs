//! Values for a normalized statement's `$n`, so that it is planned as a real
//! call would be rather than as a generic plan.
//!
//! pg_stat_statements keeps no values. Planned generically, `created_at >= $1`
//! gets the planner's default selectivity of a third of the table, and an
//! equality on a skewed column the average frequency: the index for the recent
//! rows a report reads, or for the few pending orders of a backlog, never wins.
//! From the column's pg_stats instead: for an equality, the most common value when
//! one holds a majority of the rows, else a typical one (the histogram's middle;
//! for a column whose values are all common, the median of the common values by
//! frequency); for the lower end of a range, a value near
//! the top of the histogram (the newest or highest 1%), which is what "since $1"
//! reports ask for; for the upper end, the next histogram bound after the lower
//! end on the same column (a narrow window), or near the top; LIMIT 100 and
//! OFFSET 0. A statement with any `$n` these rules cannot fill stays generic.
//! The report says which values were assumed for which statement.

use super::statement::ParameterRole;
use crate::catalog::{Catalog, ColumnStats};
use crate::sql::predicate::Comparison;
use crate::workload::Observed;
use serde::Serialize;

/// A most common value at least this frequent (a majority) is what an equality
/// usually asks for. Below it, no one value stands for the calls: a country
/// holding 20% of the customers is one of many a report is run for.
const DOMINANT_FREQUENCY: f64 = 0.5;
/// Where in the histogram a range's lower end goes: the top 1% of the rows.
const RECENT_SHARE: f64 = 0.01;
/// A page of results.
const TYPICAL_LIMIT: &str = "100";

/// One assumed value and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assumed {
    pub parameter: usize,
    pub value: String,
    pub why: String,
}

/// Values for `$1..=$count`, or `None` when any is unknown (then the statement is planned generically).
pub fn assume(roles: &[(usize, ParameterRole)], count: usize, catalog: &Catalog, observed: &[Observed]) -> Option<Vec<Assumed>> {
    if count == 0 {
        return None;
    }
    let mut values: Vec<Option<Assumed>> = vec![None; count];
    // Lower ends first: an upper end on the same column follows its lower end.
    let mut ordered: Vec<&(usize, ParameterRole)> = roles.iter().collect();
    ordered.sort_by_key(|(_, role)| !matches!(role, ParameterRole::Column { comparison: Comparison::Lower, .. }));
    for (number, role) in ordered {
        let slot = values.get_mut(number.checked_sub(1)?)?;
        if slot.is_some() {
            continue;
        }
        let (value, why) = match role {
            ParameterRole::Limit => (TYPICAL_LIMIT.to_string(), "a typical LIMIT".to_string()),
            ParameterRole::Offset => ("0".to_string(), "the first page".to_string()),
            ParameterRole::Column { schema, table, column, comparison } => {
                let name = format!("{table}.{column}");
                if let Some(seen) = observed_value(observed, schema, table, column, *comparison, &name) {
                    values[number - 1] = Some(Assumed { parameter: *number, value: seen.0, why: seen.1 });
                    continue;
                }
                let stats = catalog.column_stats(Some(schema), table, column)?;
                match comparison {
                    Comparison::Equal => equal_value(&stats, &name)?,
                    Comparison::Like => like_value(&stats, &name)?,
                    Comparison::Lower => lower_value(&stats, &name)?,
                    Comparison::Upper => {
                        let lower = roles.iter().find_map(|(n, r)| match r {
                            ParameterRole::Column { schema: s, table: t, column: c, comparison: Comparison::Lower }
                                if s == schema && t == table && c == column =>
                            {
                                n.checked_sub(1).and_then(|i| values.get(i)).cloned().flatten()
                            }
                            _ => None,
                        });
                        let values_now: Option<String> = lower.map(|a| a.value);
                        upper_value(&stats, &name, values_now.as_deref())?
                    }
                }
            }
        };
        values[number - 1] = Some(Assumed { parameter: *number, value, why });
    }
    values.into_iter().collect()
}

/// An equality the calls always make with the same constant, by pg_qualstats: a
/// condition fixed in the application (`status = 'pending'` behind `status = $1`),
/// fit for a partial index as it would be in the statement's own text. At least
/// [`FIXED_MIN_COMPARISONS`] comparisons, every one with this value.
pub fn fixed_observed_value<'a>(observed: &'a [Observed], schema: &str, table: &str, column: &str) -> Option<&'a str> {
    let mut matching = observed.iter().filter(|o| o.schema == schema && o.table == table && o.column == column && o.operator == "=");
    let first = matching.next()?;
    let mut total = first.count;
    for other in matching {
        if other.value != first.value {
            return None;
        }
        total += other.count;
    }
    (total >= FIXED_MIN_COMPARISONS).then_some(first.value.as_str())
}

/// Comparisons pg_qualstats must have seen before one value counts as fixed: one
/// call with `'pending'` says nothing about the next.
pub const FIXED_MIN_COMPARISONS: f64 = 2.0;

/// The constant pg_qualstats saw most often for this column and comparison, with
/// the share of the comparisons it was: what the calls actually ask for.
fn observed_value(
    observed: &[Observed],
    schema: &str,
    table: &str,
    column: &str,
    comparison: Comparison,
    name: &str,
) -> Option<(String, String)> {
    let operators: &[&str] = match comparison {
        Comparison::Equal => &["="],
        Comparison::Like => &["~~"],
        Comparison::Lower => &[">", ">="],
        Comparison::Upper => &["<", "<="],
    };
    let matching: Vec<&Observed> = observed
        .iter()
        .filter(|o| o.schema == schema && o.table == table && o.column == column && operators.contains(&o.operator.as_str()))
        .collect();
    let total: f64 = matching.iter().map(|o| o.count).sum();
    let most = matching.into_iter().max_by(|a, b| a.count.total_cmp(&b.count).then_with(|| b.value.cmp(&a.value)))?;
    Some((
        most.value.clone(),
        format!("the {name} pg_qualstats saw most ({:.0}% of {} comparisons)", most.count / total.max(1.0) * 100.0, total),
    ))
}

fn equal_value(stats: &ColumnStats, name: &str) -> Option<(String, String)> {
    match (stats.most_common_vals.first(), stats.most_common_freqs.first()) {
        (Some(value), Some(&frequency)) if frequency >= DOMINANT_FREQUENCY => {
            Some((value.clone(), format!("the most common {name} ({:.0}% of rows)", frequency * 100.0)))
        }
        _ => match stats.histogram_bounds.get(stats.histogram_bounds.len() / 2) {
            Some(value) => Some((value.clone(), format!("a typical {name}"))),
            // Every value is a common one (a country, a kind): the middle one by frequency.
            None => {
                let middle = stats.most_common_vals.len() / 2;
                let value = stats.most_common_vals.get(middle)?;
                let frequency = stats.most_common_freqs.get(middle).copied().unwrap_or(0.0);
                Some((value.clone(), format!("a typical {name} ({:.0}% of rows)", frequency * 100.0)))
            }
        },
    }
}

/// A prefix search: the first half of a typical value (at least 3 characters),
/// wildcards in it escaped, then `%`.
fn like_value(stats: &ColumnStats, name: &str) -> Option<(String, String)> {
    let (typical, _) = equal_value(stats, name)?;
    let length = typical.chars().count();
    let keep = (length / 2).max(3).min(length);
    let prefix: String = typical.chars().take(keep).collect();
    let escaped = prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    Some((format!("{escaped}%"), format!("the first {keep} characters of a typical {name}")))
}

fn top_bound(stats: &ColumnStats) -> Option<&String> {
    let bounds = &stats.histogram_bounds;
    let at = ((bounds.len() as f64 - 1.0) * (1.0 - RECENT_SHARE)).floor() as usize;
    bounds.get(at)
}

fn lower_value(stats: &ColumnStats, name: &str) -> Option<(String, String)> {
    top_bound(stats).map(|value| (value.clone(), format!("the newest or highest 1% of {name}")))
}

fn upper_value(stats: &ColumnStats, name: &str, lower: Option<&str>) -> Option<(String, String)> {
    let bounds = &stats.histogram_bounds;
    if let Some(at) = lower.and_then(|low| bounds.iter().position(|b| b == low)) {
        let next = bounds.get(at + 1).or(bounds.last())?;
        return Some((next.clone(), format!("a window of about 1% of {name} after the lower end")));
    }
    top_bound(stats).map(|value| (value.clone(), format!("all but the newest or highest 1% of {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Table;

    fn catalog() -> Catalog {
        let stats = |column: &str, mcv: Vec<&str>, freqs: Vec<f64>, bounds: Vec<String>| ColumnStats {
            column: column.into(),
            null_frac: 0.0,
            n_distinct: 100.0,
            most_common_vals: mcv.into_iter().map(String::from).collect(),
            most_common_freqs: freqs,
            correlation: None,
            histogram_bounds: bounds,
            avg_width: None,
            table_rows: 1e6,
        };
        let days: Vec<String> = (0..=100).map(|d| format!("2026-{:02}-{:02}", 1 + d / 28, 1 + d % 28)).collect();
        let table = Table {
            stats: vec![
                stats("status", vec!["shipped", "pending"], vec![0.9, 0.03], vec![]),
                stats("country", vec!["US", "FR", "DE", "JP", "IT"], vec![0.2, 0.1, 0.1, 0.05, 0.05], vec![]),
                stats("customer_id", vec![], vec![], (0..=100).map(|i| (i * 1000).to_string()).collect()),
                stats("created_at", vec![], vec![], days),
            ],
            ..Table::new("public", "orders", 1e6)
        };
        Catalog { tables: vec![table], ..Catalog::default() }
    }

    fn column(column: &str, comparison: Comparison) -> ParameterRole {
        ParameterRole::Column { schema: "public".into(), table: "orders".into(), column: column.into(), comparison }
    }

    fn values(roles: &[(usize, ParameterRole)], count: usize) -> Option<Vec<String>> {
        assume(roles, count, &catalog(), &[]).map(|v| v.into_iter().map(|a| a.value).collect())
    }

    #[test]
    fn equality_takes_a_dominant_value_else_a_typical_one() {
        assert_eq!(values(&[(1, column("status", Comparison::Equal))], 1), Some(vec!["shipped".into()]));
        assert_eq!(values(&[(1, column("customer_id", Comparison::Equal))], 1), Some(vec!["50000".into()]));
        // The biggest country holds a fifth of the rows, no majority: the middle one.
        assert_eq!(values(&[(1, column("country", Comparison::Equal))], 1), Some(vec!["DE".into()]));
    }

    #[test]
    fn a_prefix_search_takes_the_first_half_of_a_typical_value() {
        assert_eq!(values(&[(1, column("customer_id", Comparison::Like))], 1), Some(vec!["500%".into()]));
        let stats = ColumnStats {
            column: "email".into(),
            null_frac: 0.0,
            n_distinct: -1.0,
            most_common_vals: vec![],
            most_common_freqs: vec![],
            correlation: None,
            histogram_bounds: vec!["a".into(), "an_n%x@example.com".into(), "z".into()],
            avg_width: None,
            table_rows: 1e6,
        };
        assert_eq!(like_value(&stats, "t.email").unwrap().0, "an\\_n\\%x@ex%", "wildcards in the value are escaped");
    }

    #[test]
    fn ranges_read_recent_rows_and_windows_follow_their_lower_end() {
        // "since $1": the newest 1%.
        assert_eq!(values(&[(1, column("created_at", Comparison::Lower))], 1), Some(vec!["2026-04-16".into()]));
        // "$1 <= created_at < $2": the next bound after the lower end, whatever the order of the roles.
        let window = [(2, column("created_at", Comparison::Upper)), (1, column("created_at", Comparison::Lower))];
        assert_eq!(values(&window, 2), Some(vec!["2026-04-16".into(), "2026-04-17".into()]));
        let with_limit = [(1, column("created_at", Comparison::Lower)), (2, ParameterRole::Limit)];
        assert_eq!(values(&with_limit, 2), Some(vec!["2026-04-16".into(), "100".into()]));
    }

    #[test]
    fn any_unknown_placeholder_leaves_the_statement_generic() {
        assert_eq!(values(&[(1, column("status", Comparison::Equal))], 2), None, "$2 has no role");
        assert_eq!(values(&[(1, column("no_stats", Comparison::Equal))], 1), None);
        assert_eq!(values(&[], 0), None);
    }

    /// What pg_qualstats saw `orders.column` compared with.
    fn seen(column: &str, operator: &str, value: &str, count: f64) -> Observed {
        Observed {
            schema: "public".into(),
            table: "orders".into(),
            column: column.into(),
            operator: operator.into(),
            value: value.into(),
            count,
        }
    }

    #[test]
    fn constants_pg_qualstats_saw_win_over_the_statistics() {
        let observed = [seen("status", "=", "pending", 970.0), seen("status", "=", "shipped", 30.0), seen("customer_id", ">", "5", 4.0)];
        let roles = [(1, column("status", Comparison::Equal)), (2, column("customer_id", Comparison::Equal))];
        let assumed = assume(&roles, 2, &catalog(), &observed).unwrap();
        // The backlog's 'pending' (3% of rows), not the majority 'shipped' the statistics would give.
        assert_eq!(assumed[0].value, "pending");
        assert!(assumed[0].why.contains("pg_qualstats saw most (97% of 1000 comparisons)"), "{}", assumed[0].why);
        // Seen only with another operator: the statistics decide.
        assert_eq!(assumed[1].value, "50000", "the histogram's middle");
        assert!(!assumed[1].why.contains("pg_qualstats"), "{}", assumed[1].why);
    }

    #[test]
    fn a_value_is_fixed_only_when_every_comparison_seen_used_it() {
        let observed = [
            seen("status", "=", "pending", 40.0),
            seen("kind", "=", "a", 5.0),
            seen("kind", "=", "b", 1.0),
            seen("region", "=", "eu", 1.0),
            seen("created_at", ">", "2026-01-01", 9.0),
        ];
        assert_eq!(fixed_observed_value(&observed, "public", "orders", "status"), Some("pending"));
        assert_eq!(fixed_observed_value(&observed, "public", "orders", "kind"), None, "two values: a lookup");
        assert_eq!(fixed_observed_value(&observed, "public", "orders", "region"), None, "seen once");
        assert_eq!(fixed_observed_value(&observed, "public", "orders", "created_at"), None, "not an equality");
        assert_eq!(fixed_observed_value(&observed, "other", "orders", "status"), None);
    }
}
