//! The harness's tables. Figures only; everything was measured before.

use crate::analytic::{Analytic, TIMEOUT_S};
use crate::app::TEMPLATES;
use crate::quality::{Outcome, Quality};
use crate::speed::Speed;
use crate::stats::median;
use crate::tuning::{Config, Script, Tuning, CLIENTS, PGBENCH_SCALE, PGTUNE_INPUTS, THREADS, WARM_UP_SECONDS};
use comfy_table::presets::ASCII_MARKDOWN;
use comfy_table::{CellAlignment, Table};

/// A query counts as slower when the planner chose a different plan for it and
/// it takes this much longer than with primary keys only, and at least
/// REGRESSION_MIN_MS more: timings of a few milliseconds move by more than a
/// quarter from run to run, with or without a new plan.
const REGRESSION_RATIO: f64 = 1.25;
const REGRESSION_MIN_MS: f64 = 5.0;

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(ASCII_MARKDOWN).set_header(header.to_vec());
    for column in 1..header.len() {
        if let Some(column) = table.column_mut(column) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / (1 << 20) as f64)
}

fn ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0} ms")
    } else if value >= 10.0 {
        format!("{value:.1} ms")
    } else {
        format!("{value:.2} ms")
    }
}

/// A speed-up factor: whole above 10, else with a decimal, so that 0.5× (twice as slow) shows.
fn factor(value: f64) -> String {
    if value >= 10.0 {
        format!("{value:.0}×")
    } else {
        format!("{value:.1}×")
    }
}

fn is_regression(baseline: &Outcome, outcome: &Outcome, template: usize) -> bool {
    let (before, after) = (baseline.template_ms[template], outcome.template_ms[template]);
    baseline.template_plans[template] != outcome.template_plans[template]
        && after > before * REGRESSION_RATIO
        && after - before >= REGRESSION_MIN_MS
}

pub fn quality(quality: &Quality, scale: u64, runs: usize) -> String {
    let baseline = &quality.outcomes[0];
    let mut out = format!(
        "## Advice quality\n\nApplication database at scale {scale}: {} ({:.0} s to generate); {} query templates, \
         {} calls per workload run; median of {runs} runs.\n\n",
        mib(quality.database_bytes),
        quality.load_s,
        TEMPLATES.len(),
        TEMPLATES.iter().map(|t| t.calls).sum::<usize>(),
    );
    let mut summary = table(&[
        "indexes",
        "workload time",
        "speed-up",
        "planner cost (Σ cost × calls)",
        "cost ratio",
        "indexes added",
        "index storage",
        "build time",
        "queries slower",
    ]);
    for outcome in &quality.outcomes {
        let slower = (0..TEMPLATES.len()).filter(|&t| is_regression(baseline, outcome, t)).count();
        summary.add_row(vec![
            outcome.name.clone(),
            ms(outcome.total_ms),
            format!("{:.1}×", baseline.total_ms / outcome.total_ms),
            format!("{:.0}", outcome.total_cost()),
            format!("{:.1}×", baseline.total_cost() / outcome.total_cost()),
            (outcome.indexes - baseline.indexes).to_string(),
            mib(outcome.index_bytes - baseline.index_bytes),
            format!("{:.1} s", outcome.build_s),
            slower.to_string(),
        ]);
    }
    out.push_str(&format!("{summary}\n\n"));
    for advice in &quality.advice {
        out.push_str(&format!(
            "{} (advise --db) took {:.1} s and made {} what-if planner calls (HypoPG); it chose {} indexes, \
             {} materialized views and {} drops:\n",
            advice.name,
            advice.advise_s,
            advice.planner_calls,
            advice.indexes.len(),
            advice.materialized_views,
            advice.drops
        ));
        out.push_str(&format!("```\n{}```\n", advice.indexes.iter().map(|sql| format!("{sql}\n")).collect::<String>()));
    }
    let mut header = vec!["query".to_string(), "calls".to_string()];
    header.extend(quality.outcomes.iter().map(|o| o.name.clone()));
    let mut per_query = table(&header.iter().map(String::as_str).collect::<Vec<_>>());
    for (t, template) in TEMPLATES.iter().enumerate() {
        let mut row = vec![template.name.to_string(), template.calls.to_string(), ms(baseline.template_ms[t])];
        for outcome in &quality.outcomes[1..] {
            let (before, after) = (baseline.template_ms[t], outcome.template_ms[t]);
            let flag = if is_regression(baseline, outcome, t) { " SLOWER" } else { "" };
            row.push(format!("{} ({}){flag}", ms(after), factor(before / after)));
        }
        per_query.add_row(row);
    }
    out.push_str(&format!(
        "\nPer query (time of its calls in one run; the factor is the speed-up over primary keys only; \
         SLOWER: a different plan, over {REGRESSION_RATIO}× and {REGRESSION_MIN_MS} ms slower):\n\n{per_query}\n\n"
    ));
    out
}

/// A query's time, or that it was stopped at the timeout.
fn run_time(value: Option<f64>) -> String {
    value.map_or_else(|| format!("> {TIMEOUT_S} s"), ms)
}

pub fn analytic(analytic: &Analytic) -> String {
    let base = &analytic.configs[0];
    let mut out = format!(
        "## Advice quality: an analytic workload from SQL files\n\n\
         TPC-H-like database: {} ({:.0} s to generate); {} queries given as one SQL file, no pg_stat_statements; \
         each planned, and run under a {TIMEOUT_S} s statement_timeout (five times, the fastest counting, when quicker than 2 s; once otherwise).\n\n",
        mib(analytic.database_bytes),
        analytic.load_s,
        analytic.labels.len()
    );
    let mut summary = table(&[
        "indexes",
        "planner cost (Σ)",
        "cost ratio",
        "per-query cost ratio (geometric mean, after / before)",
        "time (Σ, stopped queries at the timeout)",
        "queries over 10 s",
        "indexes added",
        "index storage",
    ]);
    for config in &analytic.configs {
        let total: f64 = config.cost.iter().sum();
        let time: f64 = config.ms.iter().map(|m| m.unwrap_or(TIMEOUT_S as f64 * 1000.0)).sum();
        let stopped = config.ms.iter().filter(|m| m.is_none()).count();
        let over_10_s = config.ms.iter().filter(|m| m.is_none_or(|m| m > 10_000.0)).count();
        summary.add_row(vec![
            config.name.clone(),
            format!("{total:.0}"),
            factor(base.cost.iter().sum::<f64>() / total),
            format!("{:.3}", config.geometric_mean_ratio(base)),
            if stopped > 0 { format!("> {}", ms(time)) } else { ms(time) },
            over_10_s.to_string(),
            config.indexes.to_string(),
            mib(config.index_bytes),
        ]);
    }
    out.push_str(&format!(
        "{summary}

"
    ));
    let (indexes, calls, seconds) = &analytic.advice;
    out.push_str(&format!(
        "pgadvise (advise --db --queries) took {seconds:.1} s and made {calls} what-if planner calls (HypoPG); it chose {} indexes:
```
{}
```

",
        indexes.len(),
        indexes.join("\n")
    ));
    let mut header = vec!["query".to_string(), "cost with primary keys only".to_string()];
    header.extend(analytic.configs.iter().map(|c| c.name.clone()));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut per_query = table(&header);
    for (q, label) in analytic.labels.iter().enumerate() {
        let mut row = vec![label.chars().take(48).collect::<String>(), format!("{:.0}", base.cost[q])];
        for config in &analytic.configs {
            row.push(format!("{} ({})", run_time(config.ms[q]), factor(base.cost[q] / config.cost[q])));
        }
        per_query.add_row(row);
    }
    out.push_str(&format!(
        "Per query (its run time, and in brackets how many times cheaper the planner costs it than with primary keys only):

{per_query}

"
    ));
    out
}

pub fn tuning(tuning: &Tuning, runs: usize, seconds: u32) -> String {
    let mut out = format!(
        "## Tuning\n\npgbench scale {} ({}, {:.0} s to initialize), {CLIENTS} clients, {THREADS} threads, {seconds} s per run, \
         median of {runs} runs, configurations taking turns, each after a restart and a {WARM_UP_SECONDS} s warm-up. \
         PGTune's inputs: {PGTUNE_INPUTS}.\n\n",
        PGBENCH_SCALE,
        mib(tuning.database_bytes),
        tuning.init_s
    );
    let mut header = vec!["configuration"];
    header.extend(Script::ALL.iter().map(|s| s.name()));
    let mut tps_table = table(&header);
    let median_tps = |config, script| median(tuning.runs_of(config, script).to_vec());
    let defaults: Vec<f64> = Script::ALL.iter().map(|&s| median_tps(Config::Defaults, s)).collect();
    for config in Config::ALL {
        let mut row = vec![config.name().to_string()];
        for (i, &script) in Script::ALL.iter().enumerate() {
            let tps = median_tps(config, script);
            let all = tuning.runs_of(config, script);
            let (low, high) = (all.iter().copied().fold(f64::INFINITY, f64::min), all.iter().copied().fold(0.0, f64::max));
            row.push(format!("{tps:.0} TPS ({:.2}×; runs {low:.0}–{high:.0})", tps / defaults[i]));
        }
        tps_table.add_row(row);
    }
    out.push_str(&format!("{tps_table}\n\nEvery run's TPS:\n```\n"));
    for (config, script, all) in &tuning.tps {
        let all: Vec<String> = all.iter().map(|t| format!("{t:.0}")).collect();
        out.push_str(&format!("{:<22} {:<21} {}\n", config.name(), script.name(), all.join(", ")));
    }
    out.push_str("```\n");
    out.push_str(&format!("\npgadvise tune --apply set: {}\n\n", tuning.pgadvise_settings.join(", ")));
    out
}

pub fn speed(speed: &Speed, runs: usize) -> String {
    let runs = runs.max(crate::speed::MIN_RUNS);
    let mut out =
        format!("## The tool's own speed\n\nThe release binary end to end, the fastest of {runs} runs; peak resident memory.\n\n");
    let mut rows = table(&["input", "wall time", "per item", "peak memory"]);
    for (name, items, wall_s, peak) in &speed.rows {
        rows.add_row(vec![
            name.clone(),
            format!("{:.0} ms", wall_s * 1000.0),
            format!("{:.1} µs", wall_s * 1e6 / *items as f64),
            mib(*peak),
        ]);
    }
    out.push_str(&format!("{rows}\n\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::Advice;

    fn outcome(name: &str, ms: f64, plan: &str) -> Outcome {
        let n = TEMPLATES.len();
        Outcome {
            name: name.into(),
            template_ms: vec![ms; n],
            total_ms: ms * n as f64,
            template_cost: vec![ms; n],
            template_plans: vec![plan.into(); n],
            indexes: 0,
            index_bytes: 0,
            build_s: 0.0,
        }
    }

    #[test]
    fn slower_counts_only_with_a_new_plan() {
        let baseline = outcome("primary keys only", 100.0, "Seq Scan");
        assert!(!is_regression(&baseline, &outcome("same plan", 300.0, "Seq Scan"), 0), "same plan: noise");
        assert!(is_regression(&baseline, &outcome("new plan", 300.0, "Index Scan using x"), 0));
        assert!(!is_regression(&baseline, &outcome("new plan, faster", 50.0, "Index Scan using x"), 0));
        assert!(!is_regression(&baseline, &outcome("a few ms", 103.0, "Index Scan using x"), 0), "under 5 ms");
    }

    #[test]
    fn the_analytic_report_shows_stopped_queries_and_the_geometric_mean() {
        use crate::analytic::Config as Analyzed;
        let config =
            |name: &str, cost: Vec<f64>, ms: Vec<Option<f64>>| Analyzed { name: name.into(), cost, ms, indexes: 1, index_bytes: 1 << 20 };
        let measured = Analytic {
            load_s: 11.0,
            database_bytes: 442 << 20,
            labels: vec!["q01 a lookup".into(), "q02 a report".into()],
            configs: vec![
                config("primary keys only", vec![100.0, 1e6], vec![Some(5.0), None]),
                config("pgadvise", vec![10.0, 1e4], vec![Some(0.5), Some(90.0)]),
            ],
            advice: (vec!["CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a_idx ON public.t (a);".into()], 4, 0.1),
        };
        let text = analytic(&measured);
        assert!(text.contains("| primary keys only |") && text.contains("> 20005 ms"), "{text}");
        // Geometric mean of 0.1 and 0.01.
        assert!(text.contains("0.032"), "{text}");
        assert!(text.contains("> 20 s (1.0×)") && text.contains("90.0 ms (100×)"), "{text}");
        assert!(text.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a_idx"), "{text}");
    }

    #[test]
    fn the_quality_report_flags_regressions_and_fences_the_advice() {
        let advice = Advice {
            name: "pgadvise".into(),
            indexes: vec!["CREATE INDEX CONCURRENTLY a ON t (a);".into()],
            materialized_views: 0,
            drops: 0,
            planner_calls: 7,
            advise_s: 0.1,
        };
        let quality = Quality {
            load_s: 1.0,
            database_bytes: 1 << 30,
            outcomes: vec![outcome("primary keys only", 100.0, "Seq Scan"), outcome("pgadvise", 300.0, "Index Scan using a")],
            advice: vec![advice],
        };
        let text = quality_report(&quality);
        assert!(text.contains("made 7 what-if planner calls"), "{text}");
        assert!(text.contains("```\nCREATE INDEX CONCURRENTLY a ON t (a);\n```"), "{text}");
        assert!(text.contains("300 ms (0.3×) SLOWER"), "{text}");
        let summary = text.lines().find(|l| l.starts_with("| pgadvise")).expect("a summary row");
        assert!(summary.trim_end().ends_with(&format!(" {} |", TEMPLATES.len())), "every query slower: {summary}");
    }

    #[test]
    fn the_tuning_report_gives_medians_against_the_defaults_and_the_spread() {
        let mut tps = Vec::new();
        for (k, config) in Config::ALL.into_iter().enumerate() {
            for script in Script::ALL {
                let base = 1000.0 * (k + 1) as f64;
                tps.push((config, script, vec![base * 1.5, base, base * 0.5]));
            }
        }
        let measured = Tuning { init_s: 1.0, database_bytes: 300 << 20, tps, pgadvise_settings: vec!["shared_buffers = 1GB".into()] };
        let text = tuning(&measured, 3, 10);
        let row = |name: &str| text.lines().find(|l| l.starts_with(&format!("| {name} "))).unwrap_or_default().to_string();
        assert!(row("PostgreSQL defaults").contains(" 1000 TPS (1.00×; runs 500–1500) |"), "{text}");
        assert!(row("PGTune").contains(" 3000 TPS (3.00×; runs 1500–4500) |"), "{text}");
        assert!(text.contains("4 clients, 2 threads, 10 s per run"), "{text}");
        assert!(text.contains("pgadvise tune --apply set: shared_buffers = 1GB"), "{text}");
    }

    fn quality_report(quality: &Quality) -> String {
        super::quality(quality, 1, 3)
    }
}
