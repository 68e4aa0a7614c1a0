//! Workload profiles: the knobs that differ between a web app, OLTP, a data
//! warehouse, a mixed server and a desktop. They are data (`profiles/*.toml`),
//! so the formulas in `tune` carry no per-workload magic numbers, and a user
//! can copy a built-in profile and change it.

use crate::units;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Deserializer, Serialize};
use std::path::Path;

/// The built-in profiles, embedded so the binary works from anywhere.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("web", include_str!("../profiles/web.toml")),
    ("oltp", include_str!("../profiles/oltp.toml")),
    ("dw", include_str!("../profiles/dw.toml")),
    ("mixed", include_str!("../profiles/mixed.toml")),
    ("desktop", include_str!("../profiles/desktop.toml")),
];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub max_connections: u32,
    pub shared_buffers_fraction: f64,
    pub effective_cache_size_fraction: f64,
    pub maintenance_work_mem_fraction: f64,
    #[serde(deserialize_with = "bytes")]
    pub maintenance_work_mem_max: u64,
    pub autovacuum_memory_fraction: f64,
    #[serde(deserialize_with = "bytes")]
    pub autovacuum_work_mem_max: u64,
    pub os_reserve_fraction: f64,
    pub work_mem_operations_per_query: f64,
    pub hash_mem_multiplier: f64,
    #[serde(deserialize_with = "bytes")]
    pub min_wal_size: u64,
    #[serde(deserialize_with = "bytes")]
    pub max_wal_size: u64,
    #[serde(deserialize_with = "seconds")]
    pub checkpoint_timeout: u64,
    pub checkpoint_completion_target: f64,
    pub wal_compression: bool,
    pub default_statistics_target: u32,
    pub jit: bool,
    pub max_parallel_workers_per_gather_max: u32,
    pub max_parallel_maintenance_workers_max: u32,
    pub cpus_per_autovacuum_worker: u32,
    pub autovacuum_max_workers_max: u32,
    pub autovacuum_vacuum_cost_limit: u32,
    /// Present for write-heavy profiles: vacuum and analyze big tables sooner.
    pub autovacuum_scale_factors: Option<ScaleFactors>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleFactors {
    pub vacuum: f64,
    pub analyze: f64,
    pub vacuum_insert: f64,
    /// PostgreSQL 18+: dead rows that trigger a vacuum whatever the table's size
    /// (`autovacuum_vacuum_max_threshold`, default 100M), so that the scale factor
    /// does not leave the biggest tables waiting longest.
    #[serde(default)]
    pub vacuum_max_threshold: Option<u64>,
}

fn bytes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let text = String::deserialize(deserializer)?;
    units::parse_bytes(&text).map_err(serde::de::Error::custom)
}

fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let text = String::deserialize(deserializer)?;
    units::parse_seconds(&text).map_err(serde::de::Error::custom)
}

impl Profile {
    /// Loads a built-in profile by name, or a user's TOML file by path.
    pub fn load(name_or_path: &str) -> Result<Profile> {
        if let Some((_, text)) = BUILT_IN.iter().find(|(name, _)| *name == name_or_path) {
            return Profile::parse(text, name_or_path);
        }
        let path = Path::new(name_or_path);
        let looks_like_path = name_or_path.contains('/') || name_or_path.ends_with(".toml");
        if !looks_like_path || !path.exists() {
            let names: Vec<&str> = BUILT_IN.iter().map(|(name, _)| *name).collect();
            bail!("unknown profile '{name_or_path}': use one of {} or the path to a profile .toml file", names.join(", "));
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read profile {}", path.display()))?;
        Profile::parse(&text, &path.display().to_string())
    }

    /// Parses and validates a profile; `origin` names it in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Profile> {
        let profile: Profile = toml::from_str(text).map_err(|e| {
            let line = crate::config::toml_error_line(text, &e);
            match line {
                Some(line) => anyhow::anyhow!("profile {origin}, line {line}: {}", e.message().trim()),
                None => anyhow::anyhow!("profile {origin}: {}", e.message().trim()),
            }
        })?;
        profile.validate().with_context(|| format!("profile {origin}"))?;
        Ok(profile)
    }

    fn validate(&self) -> Result<()> {
        let fractions = [
            ("shared_buffers_fraction", self.shared_buffers_fraction),
            ("effective_cache_size_fraction", self.effective_cache_size_fraction),
            ("maintenance_work_mem_fraction", self.maintenance_work_mem_fraction),
            ("autovacuum_memory_fraction", self.autovacuum_memory_fraction),
            ("os_reserve_fraction", self.os_reserve_fraction),
        ];
        for (name, value) in fractions {
            if !(value > 0.0 && value < 1.0) {
                bail!("{name} must be between 0 and 1, not {value}");
            }
        }
        let committed =
            self.shared_buffers_fraction + self.os_reserve_fraction + self.autovacuum_memory_fraction + self.maintenance_work_mem_fraction;
        if committed >= 0.9 {
            bail!("shared_buffers, OS reserve, autovacuum and maintenance fractions add up to {committed:.2}, leaving nothing for queries; keep them under 0.9");
        }
        if self.max_connections == 0 {
            bail!("max_connections must be at least 1");
        }
        if self.work_mem_operations_per_query < 1.0 {
            bail!("work_mem_operations_per_query must be at least 1");
        }
        if !(1.0..=1000.0).contains(&self.hash_mem_multiplier) {
            bail!("hash_mem_multiplier must be between 1 and 1000");
        }
        if self.min_wal_size > self.max_wal_size {
            bail!("min_wal_size must not exceed max_wal_size");
        }
        if !(0.0..=1.0).contains(&self.checkpoint_completion_target) {
            bail!("checkpoint_completion_target must be between 0 and 1");
        }
        if self.cpus_per_autovacuum_worker == 0 {
            bail!("cpus_per_autovacuum_worker must be at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_profile_loads_and_is_named_after_its_file() {
        for (name, _) in BUILT_IN {
            let profile = Profile::load(name).unwrap();
            assert_eq!(&profile.name, name);
        }
    }

    #[test]
    fn unknown_profile_names_the_choices() {
        let err = Profile::load("webscale").unwrap_err().to_string();
        assert_eq!(err, "unknown profile 'webscale': use one of web, oltp, dw, mixed, desktop or the path to a profile .toml file");
    }

    #[test]
    fn malformed_toml_gets_a_one_line_error_with_the_line() {
        let text = BUILT_IN[0].1.replace("max_connections = 200", "max_connections = \"many\"");
        let err = format!("{:#}", Profile::parse(&text, "mine.toml").unwrap_err());
        assert!(err.starts_with("profile mine.toml, line "), "{err}");
        assert!(err.contains("invalid type"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn typos_in_knob_names_are_rejected() {
        let text = format!("{}\nshared_bufers_fraction = 0.3\n", BUILT_IN[0].1);
        let err = format!("{:#}", Profile::parse(&text, "mine.toml").unwrap_err());
        assert!(err.contains("unknown field `shared_bufers_fraction`"), "{err}");
    }

    #[test]
    fn nonsense_fractions_are_rejected() {
        let text = BUILT_IN[0].1.replace("shared_buffers_fraction = 0.25", "shared_buffers_fraction = 0.85");
        let err = format!("{:#}", Profile::parse(&text, "mine.toml").unwrap_err());
        assert!(err.contains("leaving nothing for queries"), "{err}");
    }
}
