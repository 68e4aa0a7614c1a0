//! Property tests over every parser of user input: plans, SQL files, conditions,
//! pg_stat_statements exports, server logs, sizes, durations and profiles. Whatever
//! the bytes (truncated fixtures, flipped bytes, curly quotes and non-breaking
//! spaces pasted from a ticket, control characters), each parser returns a value
//! or an error, never a panic. Case counts are bounded to keep CI fast.

mod common;

use common::{pgadvise, stderr};
use pgadvise::plan::parse as plan_parse;
use pgadvise::sql::{predicate, statements};
use pgadvise::workload::{export, log};
use proptest::prelude::*;
use std::path::PathBuf;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Text that looks like what people paste: SQL and plan punctuation, keywords,
/// non-ASCII quotes and spaces, control characters.
fn pasted_text(max: usize) -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just(" AND ".to_string()),
        Just(" OR ".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("::text".to_string()),
        Just("$1".to_string()),
        Just("=".to_string()),
        Just(" LIKE 'ab%'".to_string()),
        Just(";".to_string()),
        Just("--".to_string()),
        Just("/*".to_string()),
        Just("$$".to_string()),
        Just("\u{2019}".to_string()),
        Just("\u{201c}".to_string()),
        Just("\u{a0}".to_string()),
        Just("é".to_string()),
        Just("\n".to_string()),
        Just("\0".to_string()),
        Just("SubPlan 1".to_string()),
        "[a-z_]{1,8}".prop_map(String::from),
        "[0-9]{1,4}".prop_map(String::from),
        any::<char>().prop_map(|c| c.to_string()),
    ];
    proptest::collection::vec(pieces, 0..max).prop_map(|v| v.concat())
}

/// A fixture cut at any character and with some bytes replaced: what a bad copy gives.
fn damaged(text: String) -> impl Strategy<Value = String> {
    let len = text.len();
    (0..=len, proptest::collection::vec((0..len.max(1), any::<u8>()), 0..4)).prop_map(move |(cut, flips)| {
        let mut bytes = text.as_bytes()[..cut].to_vec();
        for (at, byte) in flips {
            if at < bytes.len() {
                bytes[at] = byte;
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Every key pgadvise.toml takes (README, "pgadvise.toml").
const PGADVISE_TOML: &str = "database_url_env = \"DATABASE_URL\"\n\n[migrations]\ndir = \"db/migrations\"\nformat = \"sqlx\"\nversion = 20261122000000\nlock_timeout = \"10s\"\nstatement_timeout = \"0\"\n\n[advise]\nbudget = \"2GiB\"\nmax_indexes = 8\nmin_saving = 0.5\n";

fn temp_file(contents: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("pgadvise-prop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("input-{}", NEXT.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&path, contents).unwrap();
    path
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn conditions_never_panic(condition in pasted_text(40)) {
        let _ = predicate::conjuncts(&condition);
        let _ = predicate::predicates(&condition, &|_| true);
    }

    #[test]
    fn sql_files_never_panic(text in pasted_text(40)) {
        let _ = statements::split(&text);
        let _ = statements::parse_file(&text);
        let _ = statements::normalize(&text);
        let _ = pgadvise::sql::normalized::plannable(&text);
    }

    #[test]
    fn sizes_and_durations_never_panic(text in "[0-9.]{0,25}[a-zA-Z ]{0,4}") {
        let _ = pgadvise::units::parse_bytes(&text);
        let _ = pgadvise::units::parse_seconds(&text);
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn damaged_plans_never_panic(text in damaged(fixture("plans/joe__1.json"))) {
        let _ = plan_parse::read(&text);
    }

    #[test]
    fn damaged_text_plans_never_panic(
        text in damaged(fixture("explain/pg18_text_verbose.txt")),
        log in damaged(fixture("explain/auto_explain_text.log")),
        framed in damaged(fixture("plans-text/pev2__psql_border2_unicode.txt")),
        cut in damaged(fixture("plans-text/pev2__line_wrapped_01.txt")),
        noise in pasted_text(60),
    ) {
        let _ = plan_parse::read(&text);
        let _ = plan_parse::read(&log);
        let _ = plan_parse::read(&framed);
        let _ = plan_parse::read(&cut);
        // Pasted text around node arrows, headings and property lines.
        let _ = plan_parse::read(&format!("Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n  ->  {noise}\n    InitPlan 1\n{noise}: {noise}"));
    }

    /// Whatever the indentation of a text plan's lines, every node line is read
    /// as a node and none is lost.
    #[test]
    fn every_node_line_of_a_text_plan_is_a_node(depths in proptest::collection::vec(0usize..6, 1..40)) {
        let mut text = String::from("Limit  (cost=0.00..1.00 rows=1 width=4)\n");
        let mut depth = 0;
        for wanted in &depths {
            // A child is at most one level deeper than the line before it.
            depth = (*wanted).min(depth + 1);
            let indent = " ".repeat(2 + depth * 6);
            text.push_str(&format!("{indent}->  Seq Scan on t{depth}  (cost=0.00..1.00 rows=1 width=4)\n{indent}      Filter: (a = {depth})\n"));
        }
        let plan = plan_parse::read_plan(&text).unwrap();
        prop_assert_eq!(plan.nodes().len(), depths.len() + 1);
        prop_assert!(plan.nodes().iter().all(|n| n.node_type == "Limit" || n.filter.is_some()));
    }

    #[test]
    fn damaged_profiles_never_panic(text in damaged(fixture("../profiles/oltp.toml"))) {
        let _ = pgadvise::profile::Profile::parse(&text, "damaged.toml");
    }

    #[test]
    fn damaged_pgadvise_toml_never_panics(text in damaged(PGADVISE_TOML.to_string())) {
        let path = temp_file(&text);
        let _ = pgadvise::config::Config::load(&path);
        std::fs::remove_file(path).unwrap();
    }
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn damaged_exports_and_logs_never_panic(
        csv in damaged(fixture("advise/app_statements.csv")),
        json in damaged(fixture("advise/app_statements.json")),
        server_log in damaged(fixture("logs/app-stderr.log")),
    ) {
        for text in [&csv, &json] {
            let path = temp_file(text);
            let _ = export::read(&path);
            std::fs::remove_file(path).unwrap();
        }
        let path = temp_file(&server_log);
        let _ = log::read(&[&path]);
        std::fs::remove_file(path).unwrap();
    }
}

proptest! {
    #![proptest_config(config(48))]

    /// The whole explain pipeline (conditions, suggestions, every renderer) on a
    /// plan whose filter is pasted text: the binary ends with 0 or 2, never 101.
    #[test]
    fn explain_renders_any_condition(condition in pasted_text(30), format in prop_oneof![Just("table"), Just("json"), Just("markdown")]) {
        let plan = serde_json::json!([{ "Plan": {
            "Node Type": "Seq Scan", "Relation Name": "orders", "Alias": "orders",
            "Startup Cost": 0.0, "Total Cost": 1000.0, "Plan Rows": 10, "Plan Width": 8,
            "Actual Startup Time": 0.1, "Actual Total Time": 500.0, "Actual Rows": 10, "Actual Loops": 1,
            "Filter": condition, "Rows Removed by Filter": 100000
        }, "Execution Time": 500.0 }]);
        let path = temp_file(&plan.to_string());
        let output = pgadvise(&["explain", path.to_str().unwrap(), "--format", format]);
        std::fs::remove_file(path).unwrap();
        prop_assert!(matches!(output.status.code(), Some(0) | Some(2)), "{:?}: {}", output.status, stderr(&output));
    }
}

/// The undamaged config the property test starts from is a valid one.
#[test]
fn the_config_the_damage_starts_from_loads() {
    let path = temp_file(PGADVISE_TOML);
    let config = pgadvise::config::Config::load(&path).unwrap();
    std::fs::remove_file(path).unwrap();
    assert_eq!(config.advise.max_indexes, Some(8));
}
