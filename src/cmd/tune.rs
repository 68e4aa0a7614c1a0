//! `pgadvise tune`: host + profile (+ server) → settings → table, SQL, conf or JSON.

use crate::action::SetParameter;
use crate::apply;
use crate::cli::TuneArgs;
use crate::cmd::migration::{prepare, Action, Target};
use crate::config::Config;
use crate::error::Exit;
use crate::host::{HostFacts, HostOverrides};
use crate::input::{Source, Sourced};
use crate::migrate::{self, Change};
use crate::pg::settings;
use crate::profile::Profile;
use crate::render::{self, TuneFormat};
use crate::tune::report::{InputRow, LiveComparison, TuneReport};
use crate::tune::{self, TuneInput};
use crate::units::format_human_bytes;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// The profile when none is given: the middle ground for a workload we know nothing about.
const DEFAULT_PROFILE: &str = "mixed";
/// PostgreSQL version assumed when neither a flag, a server nor a local install says.
const DEFAULT_PG_VERSION: u32 = 17;

pub fn run(args: &TuneArgs, config: &Config, out: &mut dyn Write) -> Result<Exit> {
    let migration = Target::resolve(&args.migration, &config.migrations)?;
    if args.diff && args.format == Some(TuneFormat::Json) {
        bail!("--diff is for people and reviews: use it with --format table, sql or conf (the JSON lists every change already)");
    }
    if migration.is_some() && args.apply {
        bail!("--apply changes the server now; --emit-migration and --check write migrations for later: choose one");
    }
    let profile = Profile::load(args.profile.as_deref().unwrap_or(DEFAULT_PROFILE))?;
    let data_dir = args.data_dir.clone().or_else(default_data_dir);
    let facts = HostFacts::detect(data_dir.as_deref());
    let host = facts.resolve(&HostOverrides { memory: args.memory, cpus: args.cpus, storage: args.storage });
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() { TuneFormat::Table } else { TuneFormat::Sql });

    let connections = match args.connections {
        Some(n) => Sourced::new(n, Source::Flag("--connections".into())),
        None => Sourced::new(profile.max_connections, Source::Profile(profile.name.clone())),
    };
    let pg_version = match args.pg_version {
        Some(v) => Sourced::new(v, Source::Flag("--pg-version".into())),
        None => local_pg_version()
            .map(|(v, how)| Sourced::new(v, Source::Detected(how)))
            .unwrap_or_else(|| Sourced::new(DEFAULT_PG_VERSION, Source::Default("newest supported".into()))),
    };
    let data_size = args.data_size.map(|s| Sourced::new(s, Source::Flag("--data-size".into())));
    let profile_source = match &args.profile {
        Some(_) => Source::Flag("--profile".into()),
        None => Source::Default("no --profile given".into()),
    };
    let mut input = TuneInput { host, profile, connections, pg_version, data_size, evidence: None };

    let Some(url) = &args.db.db else {
        let recommendation = tune::recommend(&input)?;
        let report = report(&input, &profile_source, recommendation, None);
        return finish(out, &report, format, migration.as_ref(), None);
    };

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let connection = super::connect(&args.db, url, args.apply).await?;
        let state = settings::read_state(&connection.client).await?;
        // The server's own version wins over --pg-version.
        input.pg_version = Sourced::new(state.major(), Source::Server("server_version_num".into()));
        if input.data_size.is_none() {
            let size = settings::read_database_size(&connection.client).await?;
            input.data_size =
                Some(Sourced::new(size, Source::Server("pg_database_size of the server's databases, templates aside".into())));
        }
        input.evidence = Some(settings::read_evidence(&connection.client, &state).await?);
        let recommendation = tune::recommend(&input)?;
        let changes = tune::compare(&recommendation.settings, &state.settings);
        let live = LiveComparison { target: connection.target.clone(), server_version: state.version.clone(), changes: changes.clone() };
        let report = report(&input, &profile_source, recommendation, Some(live));

        if args.apply {
            if changes.is_empty() {
                writeln!(out, "Nothing to apply: {} already runs with every recommended value.", connection.target)?;
                return Ok(Exit::Success);
            }
            let outcome =
                apply::apply(&connection, &state, &report.recommendation.settings, &changes, args.rollback_file.as_deref()).await?;
            out.write_all(render::apply_table(&outcome, super::table_width()).as_bytes())?;
            return Ok(Exit::Success);
        }
        if let Some(target) = &migration {
            let names: Vec<&str> = changes.iter().map(|c| c.name).collect();
            let earlier = apply::auto_conf_values(&connection.client, &state, &names).await?;
            return finish(out, &report, format, Some(target), Some(&earlier));
        }
        write_report(out, &report, format)?;
        if args.diff {
            // As comments in SQL and conf output, so that `> file` stays a file the server reads.
            let comment = match format {
                TuneFormat::Sql => "-- ",
                TuneFormat::Conf => "# ",
                TuneFormat::Table | TuneFormat::Json => "",
            };
            let diff: String = tune::diff::conf_diff(&changes).lines().map(|line| format!("{comment}{line}\n")).collect();
            write!(out, "\n{diff}")?;
        }
        Ok(Exit::Success)
    })
}

/// The report, then the migration files when asked; `--check` prints only its diff.
fn finish(
    out: &mut dyn Write,
    report: &TuneReport,
    format: TuneFormat,
    migration: Option<&Target>,
    earlier: Option<&BTreeMap<String, String>>,
) -> Result<Exit> {
    let Some(target) = migration else {
        write_report(out, report, format)?;
        return Ok(Exit::Success);
    };
    let prepared = prepare(target, "tune", &changes(report, earlier))?;
    if prepared.action() == Action::Emit {
        write_report(out, report, format)?;
    }
    prepared.finish(out)
}

/// One ALTER SYSTEM per setting (each must run alone, outside a transaction), between reloads.
/// Said in every offline down migration's header.
const UNKNOWN_EARLIER: &str = "Written offline: the value postgresql.auto.conf held before is unknown, so going down RESETs it \
     (to postgresql.conf's value); with --db the down migration writes the earlier value back.";

/// `earlier`: what postgresql.auto.conf held, read from the server; `None` offline,
/// where the undo can only RESET, and says so.
fn changes(report: &TuneReport, earlier: Option<&BTreeMap<String, String>>) -> Vec<Change> {
    let proposed = report.proposed();
    if proposed.is_empty() {
        return Vec::new();
    }
    let restart: Vec<&str> = proposed.iter().filter(|s| s.restart).map(|s| s.name.as_str()).collect();
    let [reload_after_down, reload] = migrate::reloads(&restart);
    let mut changes = vec![reload_after_down];
    changes.extend(proposed.iter().map(|s| {
        let set = SetParameter { name: s.name.clone(), value: s.value.clone(), earlier: earlier.and_then(|e| e.get(&s.name)).cloned() };
        let mut change = migrate::alter_system(set, s.restart, &s.rationale);
        if earlier.is_none() {
            change.undo_notes.push(UNKNOWN_EARLIER.into());
        }
        change
    }));
    changes.push(reload);
    changes
}

fn report(input: &TuneInput, profile_source: &Source, recommendation: tune::Recommendation, live: Option<LiveComparison>) -> TuneReport {
    let host = &input.host;
    let mut inputs = vec![
        InputRow { name: "memory", value: format_human_bytes(host.memory.value), source: host.memory.source.clone() },
        InputRow { name: "cpus", value: host.cpus.value.to_string(), source: host.cpus.source.clone() },
        InputRow { name: "storage", value: host.storage.value.to_string(), source: host.storage.source.clone() },
        InputRow { name: "connections", value: input.connections.value.to_string(), source: input.connections.source.clone() },
        InputRow { name: "pg_version", value: input.pg_version.value.to_string(), source: input.pg_version.source.clone() },
    ];
    if let Some(size) = &input.data_size {
        inputs.push(InputRow { name: "data_size", value: format_human_bytes(size.value), source: size.source.clone() });
    }
    inputs.push(InputRow { name: "profile", value: input.profile.name.clone(), source: profile_source.clone() });
    TuneReport { profile: input.profile.name.clone(), pg_version: input.pg_version.value, inputs, recommendation, live }
}

fn write_report(out: &mut dyn Write, report: &TuneReport, format: TuneFormat) -> Result<()> {
    let text = match format {
        TuneFormat::Table => render::tune_table(report, super::table_width()),
        TuneFormat::Sql => render::tune_sql(report),
        TuneFormat::Conf => render::tune_conf(report),
        TuneFormat::Json => render::tune_json(report),
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}

fn default_data_dir() -> Option<PathBuf> {
    std::env::var_os("PGDATA").map(PathBuf::from).or_else(|| Some(PathBuf::from("/var/lib/postgresql")).filter(|p| p.exists()))
}

/// The major version of a PostgreSQL installed here, from `postgres --version`.
fn local_pg_version() -> Option<(u32, String)> {
    let output = std::process::Command::new("postgres").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    let version = text.split_whitespace().nth(2)?;
    let major: u32 = version.split('.').next()?.parse().ok()?;
    tune::SUPPORTED_VERSIONS.contains(&major).then(|| (major, "postgres --version".to_string()))
}
