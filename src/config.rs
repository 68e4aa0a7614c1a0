//! `pgadvise.toml`: what a team would otherwise repeat on every command line,
//! found by walking up from the working directory, as git finds `.git`.
//! Flags always win over it.

use crate::finding::Severity;
use crate::migrate::MigrationFormat;
use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "pgadvise.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The environment variable that holds the database URL for `--db` given alone.
    pub database_url_env: Option<String>,
    /// The severity at which `explain --fail-on` exits 1.
    pub fail_on: Option<Severity>,
    #[serde(default)]
    pub migrations: MigrationsConfig,
    #[serde(default)]
    pub advise: AdviseConfig,
    /// Where the file was found; relative paths in it are relative to its directory.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationsConfig {
    pub dir: Option<PathBuf>,
    pub format: Option<MigrationFormat>,
    pub version: Option<u64>,
    pub lock_timeout: Option<String>,
    pub statement_timeout: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdviseConfig {
    /// Storage for new indexes, as `--budget` takes it (`2GiB`).
    pub budget: Option<String>,
    pub max_indexes: Option<u32>,
    pub min_saving: Option<f64>,
}

impl Config {
    /// The nearest `pgadvise.toml` at or above `start`; none is an empty config.
    pub fn discover(start: &Path) -> Result<Config> {
        for dir in start.ancestors() {
            let path = dir.join(FILE_NAME);
            if path.is_file() {
                return Config::load(&path);
            }
        }
        Ok(Config::default())
    }

    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut config: Config = toml::from_str(&text).map_err(|e| {
            let message = e.message().to_string();
            let line = toml_error_line(&text, &e);
            anyhow::anyhow!("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())
        })?;
        config.path = Some(path.to_path_buf());
        if let Some(dir) = &config.migrations.dir {
            if dir.is_relative() {
                let base = path.parent().unwrap_or(Path::new("."));
                config.migrations.dir = Some(base.join(dir));
            }
        }
        Ok(config)
    }

    /// The database URL for `--db` given without one: from the configured variable,
    /// else none (the PG* variables then apply).
    pub fn database_url(&self) -> Result<Option<String>> {
        let Some(variable) = &self.database_url_env else { return Ok(None) };
        match std::env::var(variable) {
            Ok(url) if !url.trim().is_empty() => Ok(Some(url)),
            _ => anyhow::bail!(
                "{} says the database URL is in ${variable}, which is not set: export it, or pass --db URL",
                self.path.as_deref().unwrap_or(Path::new(FILE_NAME)).display()
            ),
        }
    }
}

/// The 1-based line a TOML error points at, for messages (profiles and this file).
pub fn toml_error_line(text: &str, error: &toml::de::Error) -> Option<usize> {
    error.span().map(|span| text[..span.start].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_found_by_walking_up_and_resolves_paths_from_its_directory() {
        let root = std::env::temp_dir().join(format!("pgadvise-config-{}", std::process::id()));
        let nested = root.join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::write(
            root.join(FILE_NAME),
            "database_url_env = \"APP_DB\"\nfail_on = \"warning\"\n[migrations]\ndir = \"db/migrations\"\nformat = \"golang-migrate\"\n[advise]\nbudget = \"2GiB\"\n",
        )
        .unwrap();
        let config = Config::discover(&nested).unwrap();
        assert_eq!(config.migrations.dir, Some(root.join("db/migrations")));
        assert_eq!(config.migrations.format, Some(MigrationFormat::GolangMigrate));
        assert_eq!(config.fail_on, Some(Severity::Warning));
        assert_eq!(config.advise.budget.as_deref(), Some("2GiB"));

        std::fs::write(root.join(FILE_NAME), "[migrations]\nformt = \"sqlx\"\n").unwrap();
        let error = Config::discover(&nested).unwrap_err().to_string();
        assert!(error.contains("pgadvise.toml:2") && error.contains("formt"), "{error}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
