//! Write counts over the same period as the statements' times.
//!
//! An index's write cost compares the time it saves reads with the time writes
//! spend maintaining it, so both must cover the same period. pg_stat_user_tables
//! counts writes since the database's statistics were last reset (or ever), while
//! pg_stat_statements is often reset on its own: a bulk load a week before the
//! reset would otherwise count against every index on the table. The benchmark
//! harness found exactly that (bench/, README "Benchmarks").

use super::statement::Write;
use super::workload::AnalyzedStatement;
use crate::catalog::Catalog;
use std::collections::BTreeMap;

/// How long each source has been counting, in seconds, where the server says.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatsPeriods {
    /// Since pg_stat_statements was reset (pg_stat_statements_info: PostgreSQL 14+, extension 1.9+).
    pub statements_s: Option<f64>,
    /// Since the database's statistics were reset (pg_stat_database.stats_reset);
    /// `None` when never reset, so that the counts may go back to the database's creation.
    pub tables_s: Option<f64>,
}

/// Where the write counts came from (the caller may say so; the tests check it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WriteCounts {
    /// pg_stat_user_tables as read: the periods match, or cannot be compared.
    TableStatistics,
    /// pg_stat_user_tables scaled to pg_stat_statements' shorter period (the share kept).
    Scaled(f64),
    /// The workload's own INSERT, UPDATE and DELETE statements (rows affected):
    /// the table statistics' period is unknown and may be much longer.
    FromStatements,
}

/// Brings the catalog's write counts to the statements' period.
pub fn align(catalog: &mut Catalog, statements: &[AnalyzedStatement], periods: StatsPeriods) -> WriteCounts {
    let Some(statements_s) = periods.statements_s else { return WriteCounts::TableStatistics };
    match periods.tables_s {
        Some(tables_s) if tables_s <= statements_s || tables_s <= 0.0 => WriteCounts::TableStatistics,
        Some(tables_s) => {
            let share = statements_s / tables_s;
            for activity in catalog.tables.iter_mut().filter_map(|t| t.activity.as_mut()) {
                let scale = |count: i64| (count as f64 * share).round() as i64;
                activity.inserts = scale(activity.inserts);
                activity.updates = scale(activity.updates);
                activity.deletes = scale(activity.deletes);
                activity.hot_updates = scale(activity.hot_updates);
            }
            WriteCounts::Scaled(share)
        }
        None => {
            let mut rows: BTreeMap<(&str, &str), [f64; 3]> = BTreeMap::new();
            for statement in statements {
                if let Some((write, (schema, table))) = &statement.written {
                    let slot = match write {
                        Write::Insert => 0,
                        Write::Update(_) => 1,
                        Write::Delete => 2,
                    };
                    rows.entry((schema.as_str(), table.as_str())).or_default()[slot] += statement.statement.rows;
                }
            }
            for table in &mut catalog.tables {
                let Some(activity) = table.activity.as_mut() else { continue };
                let [inserts, updates, deletes] = rows.get(&(table.schema.as_str(), table.name.as_str())).copied().unwrap_or_default();
                // Keep the table's share of HOT updates: it says how its updates behave.
                let hot_share = if activity.updates > 0 { activity.hot_updates as f64 / activity.updates as f64 } else { 0.0 };
                activity.inserts = inserts.round() as i64;
                activity.updates = updates.round() as i64;
                activity.deletes = deletes.round() as i64;
                activity.hot_updates = (updates * hot_share).round() as i64;
            }
            WriteCounts::FromStatements
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advise::workload::analyze_workload;
    use crate::catalog::{Column, Table, TableActivity};
    use crate::workload::{Workload, WorkloadStatement};

    fn catalog() -> Catalog {
        let activity = TableActivity {
            seq_scans: 0,
            index_scans: 0,
            inserts: 9_000_000,
            updates: 1_000,
            deletes: 0,
            hot_updates: 500,
            live_rows: 9_000_000,
            last_analyze: None,
        };
        let table = Table {
            columns: vec![Column::new("id", "bigint"), Column::new("order_id", "bigint"), Column::new("status", "text")],
            activity: Some(activity),
            ..Table::new("public", "items", 9_000_000.0)
        };
        Catalog { tables: vec![table], ..Catalog::default() }
    }

    fn analyzed(catalog: &Catalog) -> Vec<AnalyzedStatement> {
        let statement = |query: &str, rows: f64| WorkloadStatement {
            query: query.into(),
            calls: 10.0,
            total_ms: 5.0,
            rows,
            shared_hit: 0.0,
            shared_read: 0.0,
            source: "pg_stat_statements".into(),
        };
        let workload = Workload::new(vec![
            statement("INSERT INTO items (id, order_id, status) VALUES ($1, $2, $3)", 20.0),
            statement("UPDATE items SET status = $1 WHERE id = $2", 10.0),
            statement("DELETE FROM public.items WHERE order_id = $1", 30.0),
            statement("SELECT * FROM items WHERE order_id = $1", 30.0),
        ]);
        analyze_workload(workload, catalog).statements
    }

    fn counts(catalog: &Catalog) -> (i64, i64, i64, i64) {
        let a = catalog.tables[0].activity.as_ref().unwrap();
        (a.inserts, a.updates, a.deletes, a.hot_updates)
    }

    #[test]
    fn a_bulk_load_before_pg_stat_statements_was_reset_is_not_counted() {
        let mut catalog = catalog();
        let statements = analyzed(&catalog);
        // Database statistics never reset: the workload's own writes stand in.
        let source = align(&mut catalog, &statements, StatsPeriods { statements_s: Some(60.0), tables_s: None });
        assert_eq!(source, WriteCounts::FromStatements);
        assert_eq!(counts(&catalog), (20, 10, 30, 5));
    }

    #[test]
    fn a_longer_table_statistics_period_is_scaled_down() {
        let mut catalog = catalog();
        let statements = analyzed(&catalog);
        let source = align(&mut catalog, &statements, StatsPeriods { statements_s: Some(3_600.0), tables_s: Some(36_000.0) });
        assert_eq!(source, WriteCounts::Scaled(0.1));
        assert_eq!(counts(&catalog), (900_000, 100, 0, 50));
    }

    #[test]
    fn matching_or_unknown_periods_leave_the_counts_alone() {
        for periods in [
            StatsPeriods { statements_s: Some(100.0), tables_s: Some(100.0) },
            StatsPeriods { statements_s: Some(100.0), tables_s: Some(50.0) },
            StatsPeriods { statements_s: None, tables_s: None },
        ] {
            let mut catalog = catalog();
            let statements = analyzed(&catalog);
            assert_eq!(align(&mut catalog, &statements, periods), WriteCounts::TableStatistics);
            assert_eq!(counts(&catalog), (9_000_000, 1_000, 0, 500));
        }
    }
}
