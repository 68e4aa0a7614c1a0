//! Advice → migration files that a team reviews in a pull request and its
//! migration tool then runs: one [`Change`] per action, rendered by [`format`]
//! in the tool's conventions, written or checked against a directory by [`dir`].
//!
//! How a change may run decides its file. `CREATE/DROP INDEX CONCURRENTLY` and
//! `ALTER SYSTEM` refuse a transaction block, and PostgreSQL opens an implicit one
//! for a query string that holds several statements, which is how sqlx,
//! golang-migrate and dbmate send a file. So each such change is one statement in a
//! file the tool runs outside a transaction. A materialized view is plain DDL and
//! runs atomically in one.

pub mod dir;
pub mod format;

use crate::advise::hygiene::{DropAdvice, Problem};
use crate::advise::index::IndexCandidate;
use crate::advise::report::{IndexAdvice, MatviewAdvice};
use crate::plan::report::Suggestion;
use crate::sql::{alter_system_reset, alter_system_set, quote_ident};
use crate::units::{format_human_bytes, format_ms};

pub use format::{render, MigrationFile, MigrationFormat};

/// One action with its undo, and what a reviewer needs to judge it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Lower-case ASCII words joined by `_`: the file name's description.
    pub slug: String,
    /// The first line of the file's header: what the change does.
    pub title: String,
    /// Further header lines: why, the evidence, what to watch for.
    pub why: Vec<String>,
    /// Statements, each ending in `;`.
    pub up: Vec<String>,
    pub down: Vec<String>,
    pub run: Run,
}

/// How a change must be run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// `CREATE/DROP INDEX CONCURRENTLY`: outside a transaction, alone, under the timeouts.
    Concurrently,
    /// `ALTER SYSTEM`: outside a transaction, alone; takes no lock on a table.
    AlterSystem,
    /// `pg_reload_conf()`: anywhere; kept last so it reads every setting written before it.
    Reload,
    /// Plain DDL: in one transaction, under the timeouts.
    Transaction,
}

impl Run {
    pub fn outside_transaction(self) -> bool {
        !matches!(self, Run::Transaction)
    }

    /// Whether it waits for locks or may run long, and so runs under [`Timeouts`].
    pub fn timed(self) -> bool {
        matches!(self, Run::Concurrently | Run::Transaction)
    }
}

/// `lock_timeout` and `statement_timeout` for changes that take locks, as PostgreSQL
/// reads them (`'1min'`, `'0'`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    pub lock: String,
    pub statement: String,
}

impl Default for Timeouts {
    /// A concurrent build waits for the table's lock and then for every older
    /// transaction; a minute gives up before queueing long behind DDL without
    /// failing on an ordinary long transaction. Builds of big tables take hours,
    /// and block no reads or writes meanwhile, so the statement has no limit.
    fn default() -> Timeouts {
        Timeouts { lock: "1min".into(), statement: "0".into() }
    }
}

/// `name` qualified by `schema` when there is one, each part quoted as needed.
fn qualified(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(name)),
        None => quote_ident(name),
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

/// What to do when a concurrent build fails part-way: PostgreSQL keeps the index,
/// marked INVALID, and `IF NOT EXISTS` would then skip it on a rerun.
fn invalid_index_note(qualified_index: &str) -> Vec<String> {
    vec![
        "A failed build (lock_timeout, a cancel) leaves the index behind marked INVALID, which".into(),
        "IF NOT EXISTS then skips: before running again, look for it and drop it:".into(),
        format!("  SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid;  DROP INDEX CONCURRENTLY IF EXISTS {qualified_index};"),
    ]
}

/// A new index. `evidence` says why; the INVALID-build note is added here.
fn create_index(index: &IndexCandidate, evidence: Vec<String>) -> Change {
    let name = index.name();
    let qualified_index = qualified(index.schema.as_deref(), &name);
    let mut why = evidence;
    why.extend(invalid_index_note(&qualified_index));
    Change {
        slug: slug(&format!("add_index_{name}")),
        title: format!("Add the {} index {name} on {}.", index.kind(), index.qualified_table()),
        why,
        up: vec![index.create_sql()],
        down: vec![format!("DROP INDEX CONCURRENTLY IF EXISTS {qualified_index};")],
        run: Run::Concurrently,
    }
}

/// An index chosen by workload advice.
pub fn from_index_advice(advice: &IndexAdvice, workload_ms: f64) -> Change {
    let mut why = Vec::new();
    if advice.verified {
        let share = if workload_ms > 0.0 { advice.saved_ms / workload_ms * 100.0 } else { 0.0 };
        why.push(format!(
            "Verified with HypoPG: saves {} of the workload's time ({share:.1}%), {} a call; about {}.",
            format_ms(advice.saved_ms),
            format_ms(advice.saved_per_call_ms),
            advice.size_bytes.map_or("size unknown".into(), format_human_bytes)
        ));
        if advice.write_ms > 0.0 {
            why.push(format!("Costs about {} of writes to maintain.", format_ms(advice.write_ms)));
        }
    } else {
        why.push(format!(
            "Not verified (no HypoPG): ranked by the time of the statements it may help; about {}.",
            advice.size_bytes.map_or("size unknown".into(), format_human_bytes)
        ));
    }
    why.push("Helps:".into());
    why.extend(advice.statements.iter().map(|s| format!("  {s}")));
    create_index(&advice.index, why)
}

/// An index suggested for one plan.
pub fn from_suggestion(suggestion: &Suggestion, statement_label: &str) -> Change {
    let mut why = vec![format!("For {statement_label}: {}", suggestion.reason)];
    match &suggestion.verification {
        Some(v) => why.push(format!(
            "Verified with HypoPG: the planner uses it; cost {:.0} → {:.0}; about {}.",
            v.cost_before,
            v.cost_after,
            format_human_bytes(v.size_bytes)
        )),
        None => why.push("Not verified (no HypoPG): check the plan after building it.".into()),
    }
    create_index(&suggestion.index, why)
}

/// An index to drop. The down migration rebuilds it from its definition.
pub fn from_drop_advice(advice: &DropAdvice) -> Change {
    let mut why = vec![format!("{}.", capitalized(&advice.evidence)), format!("Frees {}.", format_human_bytes(advice.size_bytes))];
    match advice.problem {
        Problem::Unused => why.push("Scans are counted per server: check that no replica uses it before dropping.".into()),
        Problem::Invalid => why.push("Going down rebuilds it whole, and fails as the first build did if the cause remains.".into()),
        Problem::Duplicate(_) | Problem::Redundant(_) => {}
    }
    Change {
        slug: slug(&format!("drop_index_{}", advice.index)),
        title: format!("Drop the index {} on {}.{}.", advice.index, advice.schema, advice.table),
        why,
        up: vec![advice.sql.clone()],
        down: vec![concurrent_definition(&advice.definition)],
        run: Run::Concurrently,
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
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

/// A materialized view for a heavy repeated aggregation: created empty, given the
/// unique index that `REFRESH ... CONCURRENTLY` needs, then filled once.
pub fn from_matview_advice(advice: &MatviewAdvice) -> Change {
    let view = advice.qualified_name();
    let [create, index, fill] = advice.build_statements();
    Change {
        slug: slug(&format!("add_materialized_view_{}", advice.name)),
        title: format!("Add the materialized view {}.{}.", advice.schema, advice.name),
        why: vec![
            format!("For a repeated aggregation taking {} of the workload: {}", format_ms(advice.total_ms), advice.statement),
            "Needs an application change (read from the view) and a refresh schedule, e.g. pg_cron:".into(),
            format!("  {}", advice.refresh_statement()),
        ],
        up: vec![
            create,
            format!(
                "-- The view is new, empty and read by no one yet: a plain CREATE INDEX blocks nothing.\n\
                 -- squawk-ignore require-concurrent-index-creation\n{index}"
            ),
            fill,
        ],
        down: vec![format!(
            "-- Only the up migration's own view, which no client reads before the application changes.\n\
             -- squawk-ignore ban-drop-view\n\
             DROP MATERIALIZED VIEW IF EXISTS {view};"
        )],
        run: Run::Transaction,
    }
}

/// squawk takes ALTER SYSTEM for slow DDL that needs timeouts; it only edits
/// postgresql.auto.conf, under a file lock, so the exception is stated where it is made.
const LOCKS_NO_TABLE: &str = "-- ALTER SYSTEM locks no table: squawk's timeout rules do not apply.\n\
                              -- squawk-ignore require-lock-timeout, require-statement-timeout\n";

/// One setting for `ALTER SYSTEM`. `earlier` is the value postgresql.auto.conf held
/// before, which the down migration writes back; without one it RESETs the setting.
pub fn alter_system(name: &str, value: &str, restart: bool, rationale: &str, earlier: Option<&str>) -> Change {
    let mut why = vec![rationale.to_string()];
    if restart {
        why.push("Takes effect only after a server restart.".into());
    }
    Change {
        slug: slug(&format!("set_{name}")),
        title: format!("Set {name} = {value}."),
        why,
        up: vec![format!("{LOCKS_NO_TABLE}{}", alter_system_set(name, value))],
        down: vec![format!(
            "{LOCKS_NO_TABLE}{}",
            earlier.map_or_else(|| alter_system_reset(name), |earlier| alter_system_set(name, earlier))
        )],
        run: Run::AlterSystem,
    }
}

/// The reloads around `ALTER SYSTEM` changes: the first runs last when migrating down,
/// after the undos, and the second last when migrating up. Both reload in both
/// directions, which costs nothing, so that either direction ends with the server
/// reading what was written. `restart` names the settings that also need a restart.
pub fn reloads(restart: &[&str]) -> [Change; 2] {
    let mut why = vec!["ALTER SYSTEM only writes postgresql.auto.conf; a reload makes the server read it.".to_string()];
    if !restart.is_empty() {
        why.push(format!("Then restart the server for {}.", restart.join(", ")));
    }
    let reload = |slug: &str, title: &str, first_line: &str| Change {
        slug: slug.into(),
        title: title.into(),
        why: [vec![first_line.to_string()], why.clone()].concat(),
        up: vec!["SELECT pg_reload_conf();".into()],
        down: vec!["SELECT pg_reload_conf();".into()],
        run: Run::Reload,
    };
    [
        reload(
            "reload_configuration_after_down",
            "Reload the server's configuration after migrating down.",
            "Migrating down runs this file last, after the settings below are undone.",
        ),
        reload("reload_configuration", "Reload the server's configuration.", "Migrating up runs this file last, after the settings above."),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_plain_ascii_words() {
        assert_eq!(slug("add_index_Order Items_\"CustomerID\"_idx"), "add_index_order_items_customerid_idx");
        assert_eq!(slug("drop_index_naïve_idx"), "drop_index_na_ve_idx");
        assert!(slug(&"x".repeat(100)).len() <= 60);
    }

    #[test]
    fn rebuilds_a_dropped_index_concurrently() {
        assert_eq!(
            concurrent_definition("CREATE UNIQUE INDEX a ON public.t USING btree (x)"),
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS a ON public.t USING btree (x);"
        );
        assert_eq!(
            concurrent_definition("CREATE INDEX a ON ONLY public.p USING btree (x)"),
            "CREATE INDEX IF NOT EXISTS a ON ONLY public.p USING btree (x);"
        );
    }

    #[test]
    fn settings_undo_to_the_earlier_value_or_reset() {
        let change = alter_system("work_mem", "64MB", false, "why", Some("4MB"));
        assert!(change.up[0].ends_with("\nALTER SYSTEM SET work_mem = '64MB';"));
        assert!(change.down[0].ends_with("\nALTER SYSTEM SET work_mem = '4MB';"));
        assert!(alter_system("work_mem", "64MB", false, "why", None).down[0].ends_with("\nALTER SYSTEM RESET work_mem;"));
    }
}
