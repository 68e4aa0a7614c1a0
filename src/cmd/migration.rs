//! `--emit-migration DIR` and `--check DIR`, the same for every command that
//! advises changes: the command builds its [`Change`]s, this writes or checks them.

use crate::cli::MigrationArgs;
use crate::config::MigrationsConfig;
use crate::error::Exit;
use crate::migrate::format::Migration;
use crate::migrate::{dir, render, Change, MigrationFile, MigrationFormat, Timeouts};
use anyhow::{bail, Result};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Emit,
    Check,
}

/// Where and how to write migrations, flags first, then pgadvise.toml.
#[derive(Debug, Clone)]
pub struct Target {
    pub action: Action,
    pub dir: PathBuf,
    pub format: MigrationFormat,
    pub version: Option<u64>,
    pub timeouts: Timeouts,
}

impl Target {
    /// `None` unless `--emit-migration` or `--check` was given.
    pub fn resolve(args: &MigrationArgs, config: &MigrationsConfig) -> Result<Option<Target>> {
        let (action, flag, given) = match (&args.emit_migration, &args.check) {
            (Some(dir), _) => (Action::Emit, "--emit-migration", dir),
            (None, Some(dir)) => (Action::Check, "--check", dir),
            (None, None) => return Ok(None),
        };
        let dir = match (given, &config.dir) {
            (Some(dir), _) | (None, Some(dir)) => dir.clone(),
            (None, None) => bail!("{flag} needs a directory: {flag} DIR, or migrations.dir in pgadvise.toml"),
        };
        let defaults = Timeouts::default();
        let timeouts = Timeouts {
            lock: checked_duration("migrations.lock_timeout", config.lock_timeout.as_deref().unwrap_or(&defaults.lock))?,
            statement: checked_duration(
                "migrations.statement_timeout",
                config.statement_timeout.as_deref().unwrap_or(&defaults.statement),
            )?,
        };
        Ok(Some(Target {
            action,
            dir,
            format: args.migration_format.or(config.format).unwrap_or(MigrationFormat::Plain),
            version: args.migration_version.or(config.version),
            timeouts,
        }))
    }
}

/// A timeout as PostgreSQL reads it: digits and an optional unit (`0`, `500ms`, `30s`, `1min`, `2h`).
fn checked_duration(key: &str, value: &str) -> Result<String> {
    let value = value.trim();
    let digits = value.trim_end_matches(char::is_alphabetic);
    let unit = &value[digits.len()..];
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || !["", "ms", "s", "min", "h", "d"].contains(&unit) {
        bail!("pgadvise.toml: {key} = {value:?} is not a PostgreSQL duration; write it like \"30s\", \"1min\" or \"0\"");
    }
    Ok(value.to_string())
}

/// The files for one run's changes, rendered and checked against the directory,
/// before anything is printed or written.
#[derive(Debug)]
pub struct Prepared {
    target: Target,
    existing: dir::Existing,
    /// Only the files for advice the directory does not hold yet.
    files: Vec<MigrationFile>,
    /// Earlier files whose change is no longer advised.
    no_longer_advised: Vec<String>,
}

impl Prepared {
    pub fn action(&self) -> Action {
        self.target.action
    }

    /// Writes the new files (`--emit-migration`), or prints those the directory
    /// lacks (`--check`, exit 1 when it lacks any). Earlier files are never touched;
    /// those whose change is no longer advised are named.
    pub fn finish(&self, out: &mut dyn Write) -> Result<Exit> {
        let shown = self.target.dir.display();
        let kept = self.existing.generated.len();
        if !self.no_longer_advised.is_empty() {
            super::note(&format!(
                "{} earlier migration files in {shown} hold changes no longer advised ({}); they are kept, as they may have been applied: undo them with a migration of your own if they should go",
                self.no_longer_advised.len(),
                self.no_longer_advised.join(", ")
            ));
        }
        match self.target.action {
            Action::Emit => {
                let written = dir::emit(&self.target.dir, &self.files, &self.existing)?;
                if written.is_empty() {
                    super::note(&format!("nothing new to migrate; no migration files written in {shown} ({kept} earlier files kept)"));
                } else {
                    super::note(&format!("{} migration files written in {shown} ({kept} earlier files kept)", written.len()));
                }
                Ok(Exit::Success)
            }
            Action::Check => {
                let diffs = dir::check(&self.target.dir, &self.files);
                if diffs.is_empty() {
                    super::note(&format!("the migrations in {shown} hold all the advice ({kept} files)"));
                    return Ok(Exit::Success);
                }
                for diff in &diffs {
                    out.write_all(diff.as_bytes())?;
                }
                super::note(&format!(
                    "{shown} lacks {} migration files for advice it does not hold yet; write them with --emit-migration {shown}{}",
                    diffs.len(),
                    match self.target.format {
                        MigrationFormat::Plain => String::new(),
                        other => format!(" --migration-format {}", other.name()),
                    }
                ));
                Ok(Exit::Findings)
            }
        }
    }
}

/// Renders `changes` for `target`; fails, before anything is written, when a file
/// would replace one of the team's own.
pub fn prepare(target: &Target, command: &str, changes: &[Change]) -> Result<Prepared> {
    let existing = dir::scan(&target.dir, command)?;
    if !existing.generated.is_empty() && !existing.generated.iter().any(|(name, contents)| written_as(target.format, name, contents)) {
        anyhow::bail!(
            "{} holds migration files pgadvise {command} wrote in another format than {}: pass the --migration-format they were written with (or set it in pgadvise.toml)",
            target.dir.display(),
            target.format.name()
        );
    }
    let version = target.version.unwrap_or_else(|| existing.next_version());
    let new = existing.new_changes(changes);
    let migration = Migration { command, changes: &new, version, timeouts: &target.timeouts };
    let files = render(target.format, &migration);
    if target.action == Action::Emit {
        dir::refuse_clashes(&target.dir, &files, &existing)?;
    }
    let no_longer_advised = existing.no_longer_advised(changes);
    Ok(Prepared { target: target.clone(), existing, files, no_longer_advised })
}

/// Whether a file pgadvise wrote looks like one of `format`'s.
fn written_as(format: MigrationFormat, name: &str, contents: &str) -> bool {
    let up_down = name.ends_with(".up.sql") || name.ends_with(".down.sql");
    match format {
        MigrationFormat::Plain => name.contains("_pgadvise_"),
        MigrationFormat::Sqlx | MigrationFormat::GolangMigrate => up_down,
        MigrationFormat::Flyway => name.starts_with('V') || name.starts_with('U'),
        MigrationFormat::Dbmate => contents.contains("-- migrate:up"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_must_read_as_durations() {
        assert_eq!(checked_duration("k", "1min").unwrap(), "1min");
        assert_eq!(checked_duration("k", "0").unwrap(), "0");
        assert!(checked_duration("k", "soon").is_err());
        assert!(checked_duration("k", "5 minutes").is_err());
        assert!(checked_duration("k", "1min; DROP TABLE t").is_err());
    }
}
