//! One change to a database, with its undo and how it must run: the single
//! source of the SQL that reports show, migrations write and `--apply` runs, so
//! that what a reviewer reads is what runs.
//!
//! Advisors build actions; `render` shows them, `migrate` wraps them in a
//! migration tool's conventions (headers, timeouts, lint exceptions), `apply`
//! runs them. Nothing else writes DDL or `ALTER SYSTEM`.

use crate::advise::index::{shorten_name, IndexCandidate};
use crate::sql::{quote_ident, quote_literal};
use serde::ser::{Serialize, SerializeMap, Serializer};

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    CreateIndex(IndexCandidate),
    DropIndex(ExistingIndex),
    CreateMaterializedView(MaterializedView),
    SetParameter(SetParameter),
    /// `pg_reload_conf()`, which makes the server read what ALTER SYSTEM wrote.
    ReloadConfiguration,
}

/// An index the catalog holds, as a drop needs it: its name to drop it by, and
/// pg_get_indexdef's definition to rebuild it from going down.
#[derive(Debug, Clone, PartialEq)]
pub struct ExistingIndex {
    pub schema: String,
    pub table: String,
    pub name: String,
    /// `CREATE [UNIQUE] INDEX name ON ...` as pg_get_indexdef writes it.
    pub definition: String,
}

/// A materialized view storing a whole query, unique on its GROUP BY columns so
/// that `REFRESH ... CONCURRENTLY` can run without blocking readers.
#[derive(Debug, Clone, PartialEq)]
pub struct MaterializedView {
    pub schema: String,
    pub name: String,
    pub query: String,
    pub keys: Vec<String>,
}

/// `ALTER SYSTEM SET name = value`. `earlier` is the value postgresql.auto.conf held
/// before, which the undo writes back; without one the undo RESETs the setting.
#[derive(Debug, Clone, PartialEq)]
pub struct SetParameter {
    pub name: String,
    pub value: String,
    pub earlier: Option<String>,
}

/// How an action must run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// `CREATE/DROP INDEX CONCURRENTLY`: outside a transaction, alone, under timeouts.
    Concurrently,
    /// `ALTER SYSTEM`: outside a transaction, alone; takes no lock on a table.
    AlterSystem,
    /// `pg_reload_conf()`: anywhere; kept last so it reads every setting written before it.
    Reload,
    /// Plain DDL: in one transaction, under timeouts.
    Transaction,
}

impl Run {
    pub fn outside_transaction(self) -> bool {
        !matches!(self, Run::Transaction)
    }

    /// Whether it waits for locks or may run long, and so runs under lock and statement timeouts.
    pub fn timed(self) -> bool {
        matches!(self, Run::Concurrently | Run::Transaction)
    }

    fn describe(self) -> &'static str {
        match self {
            Run::Concurrently => "concurrently, outside a transaction",
            Run::AlterSystem => "outside a transaction",
            Run::Reload => "anywhere, after the settings",
            Run::Transaction => "in one transaction",
        }
    }
}

impl MaterializedView {
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }

    /// The refresh to schedule, which does not block readers.
    pub fn refresh_statement(&self) -> String {
        format!("REFRESH MATERIALIZED VIEW CONCURRENTLY {};", self.qualified_name())
    }

    /// The unique index `REFRESH ... CONCURRENTLY` needs: the second statement going up.
    fn key_index(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(|k| quote_ident(k).into_owned()).collect();
        let name = shorten_name(&format!("{}_key", self.name));
        format!("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({});", quote_ident(&name), self.qualified_name(), keys.join(", "))
    }
}

impl Action {
    /// The statements that make the change, each ending in `;`, in order.
    pub fn up(&self) -> Vec<String> {
        match self {
            // Concurrently (no write lock) and rerunnable.
            Action::CreateIndex(index) => {
                vec![format!("CREATE INDEX CONCURRENTLY IF NOT EXISTS {} {};", quote_ident(&index.name()), index.definition())]
            }
            Action::DropIndex(index) => {
                vec![format!("DROP INDEX CONCURRENTLY IF EXISTS {}.{};", quote_ident(&index.schema), quote_ident(&index.name))]
            }
            // Created empty, given its unique index, then filled once.
            Action::CreateMaterializedView(view) => vec![
                format!("CREATE MATERIALIZED VIEW IF NOT EXISTS {} AS\n{}\nWITH NO DATA;", view.qualified_name(), view.query),
                view.key_index(),
                format!("REFRESH MATERIALIZED VIEW {};", view.qualified_name()),
            ],
            Action::SetParameter(set) => vec![alter_system_set(&set.name, &set.value)],
            Action::ReloadConfiguration => vec!["SELECT pg_reload_conf();".into()],
        }
    }

    /// The statements that undo [`Action::up`].
    pub fn down(&self) -> Vec<String> {
        match self {
            Action::CreateIndex(index) => {
                vec![format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(index.schema.as_deref(), &index.name()))]
            }
            Action::DropIndex(index) => vec![concurrent_definition(&index.definition)],
            Action::CreateMaterializedView(view) => vec![format!("DROP MATERIALIZED VIEW IF EXISTS {};", view.qualified_name())],
            Action::SetParameter(set) => vec![match &set.earlier {
                Some(earlier) => alter_system_set(&set.name, earlier),
                None => format!("ALTER SYSTEM RESET {};", quote_ident(&set.name)),
            }],
            Action::ReloadConfiguration => vec!["SELECT pg_reload_conf();".into()],
        }
    }

    /// The statements going up as one text, as reports show them.
    pub fn sql(&self) -> String {
        self.up().join("\n")
    }

    pub fn run(&self) -> Run {
        match self {
            Action::CreateIndex(_) | Action::DropIndex(_) => Run::Concurrently,
            Action::CreateMaterializedView(_) => Run::Transaction,
            Action::SetParameter(_) => Run::AlterSystem,
            Action::ReloadConfiguration => Run::Reload,
        }
    }

    /// What it does, in one sentence.
    pub fn title(&self) -> String {
        match self {
            Action::CreateIndex(index) => format!("Add the {} index {} on {}.", index.kind(), index.name(), index.qualified_table()),
            Action::DropIndex(index) => format!("Drop the index {} on {}.{}.", index.name, index.schema, index.table),
            Action::CreateMaterializedView(view) => format!("Add the materialized view {}.{}.", view.schema, view.name),
            Action::SetParameter(set) => format!("Set {} = {}.", set.name, set.value),
            Action::ReloadConfiguration => "Reload the server's configuration.".into(),
        }
    }

    /// Lower-case ASCII words joined by `_`, for a file name.
    pub fn slug(&self) -> String {
        slug(&match self {
            Action::CreateIndex(index) => format!("add_index_{}", index.name()),
            Action::DropIndex(index) => format!("drop_index_{}", index.name),
            Action::CreateMaterializedView(view) => format!("add_materialized_view_{}", view.name),
            Action::SetParameter(set) => format!("set_{}", set.name),
            Action::ReloadConfiguration => "reload_configuration".into(),
        })
    }
}

/// In JSON: `sql` (the statements going up, as reports show them), `undo` and `runs`.
impl Serialize for Action {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("sql", &self.sql())?;
        map.serialize_entry("undo", &self.down().join("\n"))?;
        map.serialize_entry("runs", self.run().describe())?;
        map.end()
    }
}

/// A file-name description: ASCII letters and digits, other characters folded to `_`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed: String = out.trim_matches('_').chars().take(60).collect();
    trimmed.trim_end_matches('_').to_string()
}

/// `ALTER SYSTEM SET name = 'value';`.
fn alter_system_set(name: &str, value: &str) -> String {
    format!("ALTER SYSTEM SET {} = {};", quote_ident(name), quote_literal(value))
}

/// `name` qualified by `schema` when there is one, each part quoted as needed.
pub fn qualified(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(name)),
        None => quote_ident(name).into_owned(),
    }
}

/// pg_get_indexdef's `CREATE [UNIQUE] INDEX name ON ...` as a concurrent, rerunnable build.
/// An index on a partitioned table (`ON ONLY`) cannot be built concurrently, so it stays plain.
fn concurrent_definition(definition: &str) -> String {
    let definition = definition.trim().trim_end_matches(';');
    let concurrent = !definition.contains(" ON ONLY ");
    for prefix in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = definition.strip_prefix(prefix) {
            let how = if concurrent { "CONCURRENTLY IF NOT EXISTS " } else { "IF NOT EXISTS " };
            return format!("{prefix}{how}{rest};");
        }
    }
    format!("{definition};")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advise::index::IndexKey;

    fn set(earlier: Option<&str>) -> Action {
        Action::SetParameter(SetParameter { name: "work_mem".into(), value: "64MB".into(), earlier: earlier.map(str::to_string) })
    }

    #[test]
    fn slugs_are_plain_ascii_words() {
        assert_eq!(slug("add_index_Order Items_\"CustomerID\"_idx"), "add_index_order_items_customerid_idx");
        assert_eq!(slug("drop_index_naïve_idx"), "drop_index_na_ve_idx");
        assert!(slug(&"x".repeat(100)).len() <= 60);
    }

    #[test]
    fn a_dropped_index_is_rebuilt_concurrently_going_down() {
        let drop = |definition: &str| {
            Action::DropIndex(ExistingIndex { schema: "public".into(), table: "t".into(), name: "a".into(), definition: definition.into() })
        };
        let unique = drop("CREATE UNIQUE INDEX a ON public.t USING btree (x)");
        assert_eq!(unique.up(), ["DROP INDEX CONCURRENTLY IF EXISTS public.a;"]);
        assert_eq!(unique.down(), ["CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS a ON public.t USING btree (x);"]);
        assert_eq!(
            drop("CREATE INDEX a ON ONLY public.p USING btree (x)").down(),
            ["CREATE INDEX IF NOT EXISTS a ON ONLY public.p USING btree (x);"]
        );
    }

    #[test]
    fn settings_undo_to_the_earlier_value_or_reset() {
        assert_eq!(set(Some("4MB")).up(), ["ALTER SYSTEM SET work_mem = '64MB';"]);
        assert_eq!(set(Some("4MB")).down(), ["ALTER SYSTEM SET work_mem = '4MB';"]);
        assert_eq!(set(None).down(), ["ALTER SYSTEM RESET work_mem;"]);
        assert_eq!(set(None).run(), Run::AlterSystem);
    }

    #[test]
    fn an_index_is_dropped_by_its_own_name_going_down() {
        let index = IndexCandidate {
            schema: Some("Sales".into()),
            table: "orders".into(),
            keys: vec![IndexKey::Column { name: "status".into(), direction: String::new() }],
            include: vec![],
            predicate: None,
            node: None,
            reason: String::new(),
        };
        let action = Action::CreateIndex(index);
        assert_eq!(action.sql(), "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON \"Sales\".orders (status);");
        assert_eq!(action.down(), ["DROP INDEX CONCURRENTLY IF EXISTS \"Sales\".orders_status_idx;"]);
        assert_eq!(action.slug(), "add_index_orders_status_idx");
        assert_eq!(
            serde_json::to_value(&action).unwrap(),
            serde_json::json!({
                "sql": action.sql(),
                "undo": "DROP INDEX CONCURRENTLY IF EXISTS \"Sales\".orders_status_idx;",
                "runs": "concurrently, outside a transaction",
            })
        );
    }

    #[test]
    fn a_view_is_created_empty_keyed_then_filled() {
        let view = MaterializedView {
            schema: "public".into(),
            name: "sales_by_day_mv".into(),
            query: "SELECT day, sum(x) FROM sales GROUP BY day".into(),
            keys: vec!["day".into()],
        };
        let refresh = view.refresh_statement();
        let action = Action::CreateMaterializedView(view);
        let up = action.up();
        assert!(
            up[0].starts_with("CREATE MATERIALIZED VIEW IF NOT EXISTS public.sales_by_day_mv AS\n") && up[0].ends_with("WITH NO DATA;")
        );
        assert_eq!(up[1], "CREATE UNIQUE INDEX IF NOT EXISTS sales_by_day_mv_key ON public.sales_by_day_mv (day);");
        assert_eq!(up[2], "REFRESH MATERIALIZED VIEW public.sales_by_day_mv;");
        assert_eq!(refresh, "REFRESH MATERIALIZED VIEW CONCURRENTLY public.sales_by_day_mv;");
        assert_eq!(action.run(), Run::Transaction);
    }
}
