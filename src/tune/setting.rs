//! One recommended setting, its value in PostgreSQL's own terms, and the
//! conversion to and from the units `pg_settings` reports in.

use crate::units::{self, KIB, MIB};
use serde::Serialize;

/// A setting's value, typed so that it can be compared with the server's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Bytes(u64),
    Integer(i64),
    Real(f64),
    Seconds(u64),
    Bool(bool),
    Enum(String),
}

impl Value {
    /// The value as postgresql.conf and `ALTER SYSTEM` accept it.
    pub fn to_pg(&self) -> String {
        match self {
            Value::Bytes(bytes) => units::format_pg_bytes(*bytes),
            Value::Integer(n) => n.to_string(),
            Value::Real(x) => format_real(*x),
            Value::Seconds(s) => units::format_pg_seconds(*s),
            Value::Bool(b) => if *b { "on" } else { "off" }.to_string(),
            Value::Enum(text) => text.clone(),
        }
    }

    /// The value as a number in a `pg_settings.unit` (`8kB`, `kB`, `MB`, `s`, `ms`, `min`),
    /// for comparison with `pg_settings.setting` and its bounds. `None` for text values.
    pub fn in_unit(&self, unit: Option<&str>) -> Option<f64> {
        match self {
            Value::Bytes(bytes) => Some(*bytes as f64 / unit_bytes(unit)? as f64),
            Value::Seconds(seconds) => Some(*seconds as f64 * 1000.0 / unit_millis(unit)? as f64),
            Value::Integer(n) => Some(*n as f64),
            Value::Real(x) => Some(*x),
            Value::Bool(_) | Value::Enum(_) => None,
        }
    }

    /// Reads a `pg_settings.setting` in its unit back into a value of the same kind as `self`,
    /// so the server's current value can be shown the way we show ours.
    pub fn like_from_server(&self, setting: &str, unit: Option<&str>) -> Option<Value> {
        let number = || setting.trim().parse::<f64>().ok();
        Some(match self {
            Value::Bytes(_) => {
                let n = number()?;
                if n < 0.0 {
                    return None;
                }
                Value::Bytes((n * unit_bytes(unit)? as f64) as u64)
            }
            Value::Seconds(_) => Value::Seconds((number()? * unit_millis(unit)? as f64 / 1000.0) as u64),
            Value::Integer(_) => Value::Integer(number()? as i64),
            Value::Real(_) => Value::Real(number()?),
            Value::Bool(_) => Value::Bool(setting == "on"),
            Value::Enum(_) => Value::Enum(setting.to_string()),
        })
    }

    /// The server's `setting` (in `unit`) written the way we write this value
    /// (`128MB`, not `16384`), or as the server wrote it when it is no size or
    /// duration (`-1` for "use maintenance_work_mem").
    pub fn show_server(&self, setting: &str, unit: Option<&str>) -> String {
        self.like_from_server(setting, unit).map(|v| v.to_pg()).unwrap_or_else(|| setting.to_string())
    }

    /// Whether the server's `setting` (in `unit`) is within `share` of this value
    /// (a byte size or a number): close enough that changing it would not matter.
    pub fn near_server(&self, setting: &str, unit: Option<&str>, share: f64) -> bool {
        match (self.in_unit(unit), setting.trim().parse::<f64>()) {
            (Some(ours), Ok(theirs)) if ours > 0.0 => ((ours - theirs) / ours).abs() <= share,
            _ => false,
        }
    }

    /// Whether the server's `setting` (in `unit`) already equals this value.
    pub fn matches_server(&self, setting: &str, unit: Option<&str>) -> bool {
        match (self.in_unit(unit), setting.trim().parse::<f64>()) {
            (Some(ours), Ok(theirs)) => (ours - theirs).abs() < 1e-6 * ours.abs().max(1.0),
            _ => self.to_pg().eq_ignore_ascii_case(setting.trim()),
        }
    }
}

fn format_real(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.1}")
    } else {
        let text = format!("{x:.3}");
        text.trim_end_matches('0').to_string()
    }
}

fn unit_bytes(unit: Option<&str>) -> Option<u64> {
    match unit {
        None | Some("") | Some("B") => Some(1),
        Some("kB") => Some(KIB),
        Some("8kB") => Some(8 * KIB),
        Some("16kB") => Some(16 * KIB),
        Some("32kB") => Some(32 * KIB),
        Some("MB") => Some(MIB),
        Some("16MB") => Some(16 * MIB),
        Some("GB") => Some(1024 * MIB),
        _ => None,
    }
}

fn unit_millis(unit: Option<&str>) -> Option<u64> {
    match unit {
        Some("ms") => Some(1),
        None | Some("") | Some("s") => Some(1000),
        Some("min") => Some(60_000),
        Some("h") => Some(3_600_000),
        Some("d") => Some(86_400_000),
        _ => None,
    }
}

/// The inputs a setting's value was computed from, named as in the Inputs table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputName {
    Memory,
    Cpus,
    Storage,
    Connections,
    PgVersion,
    DataSize,
    Profile,
    Server,
}

/// A recommended setting with the reason for it.
#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub name: &'static str,
    pub value: Value,
    /// One sentence naming the inputs and why.
    pub rationale: String,
    pub inputs: Vec<InputName>,
    /// Whether a change takes a server restart (the `postmaster` context).
    /// From the server's `pg_settings.context` when live, else from what PostgreSQL documents.
    pub restart: bool,
}

/// PostgreSQL's own bounds (guc_tables.c, 64-bit builds, 12 to 18) for each
/// setting tune writes, in the value's own terms: bytes, seconds or the number.
/// Offline there is no `pg_settings` to check against, and a value outside these
/// makes ALTER SYSTEM fail, or a server that cannot start.
const PG_BOUNDS: &[(&str, f64, f64)] = &[
    // INT_MAX / 2 pages of 8kB.
    ("shared_buffers", 128.0 * 1024.0, 1_073_741_823.0 * 8192.0),
    ("work_mem", 64.0 * 1024.0, MAX_KILOBYTES * 1024.0),
    ("maintenance_work_mem", 1024.0 * 1024.0, MAX_KILOBYTES * 1024.0),
    ("autovacuum_work_mem", 1024.0 * 1024.0, MAX_KILOBYTES * 1024.0),
    ("effective_cache_size", 8192.0, 2_147_483_647.0 * 8192.0),
    ("wal_buffers", 64.0 * 1024.0, 262_143.0 * 8192.0),
    ("min_wal_size", 2.0 * 1024.0 * 1024.0, MAX_KILOBYTES * 1024.0 * 1024.0),
    ("max_wal_size", 2.0 * 1024.0 * 1024.0, MAX_KILOBYTES * 1024.0 * 1024.0),
    ("max_connections", 1.0, 262_143.0),
    ("checkpoint_timeout", 30.0, 86_400.0),
    ("checkpoint_completion_target", 0.0, 1.0),
    ("default_statistics_target", 1.0, 10_000.0),
    ("effective_io_concurrency", 0.0, 1000.0),
    ("maintenance_io_concurrency", 0.0, 1000.0),
    ("max_worker_processes", 0.0, 262_143.0),
    ("max_parallel_workers", 0.0, 1024.0),
    ("max_parallel_workers_per_gather", 0.0, 1024.0),
    ("max_parallel_maintenance_workers", 0.0, 1024.0),
    ("autovacuum_max_workers", 1.0, 262_143.0),
    ("autovacuum_worker_slots", 1.0, 262_143.0),
    ("io_workers", 1.0, 32.0),
    ("autovacuum_vacuum_cost_limit", -1.0, 10_000.0),
    ("autovacuum_vacuum_scale_factor", 0.0, 100.0),
    ("autovacuum_vacuum_insert_scale_factor", 0.0, 100.0),
    ("autovacuum_analyze_scale_factor", 0.0, 100.0),
    ("autovacuum_vacuum_max_threshold", -1.0, 2_147_483_647.0),
    ("hash_mem_multiplier", 1.0, 1000.0),
    ("random_page_cost", 0.0, f64::MAX),
];

/// INT_MAX kilobytes: PostgreSQL's largest memory setting in kB units on 64-bit builds.
const MAX_KILOBYTES: f64 = 2_147_483_647.0;

impl Setting {
    /// PostgreSQL's range for this setting, when it has one we know, as (min, max)
    /// written the way the value is (`128kB`, `30s`, `10000`).
    pub fn out_of_bounds(&self) -> Option<(String, String)> {
        let &(_, min, max) = PG_BOUNDS.iter().find(|(name, _, _)| *name == self.name)?;
        let (number, show): (f64, fn(f64) -> String) = match &self.value {
            Value::Bytes(bytes) => (*bytes as f64, |x| units::format_human_bytes(x as u64)),
            Value::Seconds(seconds) => (*seconds as f64, |x| units::format_pg_seconds(x as u64)),
            Value::Integer(n) => (*n as f64, |x| format!("{x}")),
            Value::Real(x) => (*x, format_real),
            Value::Bool(_) | Value::Enum(_) => return None,
        };
        (!number.is_finite() || number < min || number > max).then(|| (show(min), show(max)))
    }
}

/// Settings whose `pg_settings.context` is `postmaster` in PostgreSQL 12 to 17.
pub const RESTART_SETTINGS: &[&str] = &[
    "shared_buffers",
    "max_connections",
    "wal_buffers",
    "huge_pages",
    "max_worker_processes",
    "autovacuum_max_workers",
    "autovacuum_worker_slots",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_render_as_postgresql_writes_them() {
        assert_eq!(Value::Bytes(16 << 30).to_pg(), "16GB");
        assert_eq!(Value::Real(1.1).to_pg(), "1.1");
        assert_eq!(Value::Real(2.0).to_pg(), "2.0");
        assert_eq!(Value::Real(0.05).to_pg(), "0.05");
        assert_eq!(Value::Seconds(900).to_pg(), "15min");
        assert_eq!(Value::Bool(false).to_pg(), "off");
    }

    #[test]
    fn compares_with_pg_settings_units() {
        // shared_buffers is reported in 8kB pages, work_mem in kB, max_wal_size in MB.
        assert!(Value::Bytes(128 * MIB).matches_server("16384", Some("8kB")));
        assert!(!Value::Bytes(256 * MIB).matches_server("16384", Some("8kB")));
        assert!(Value::Bytes(4 * MIB).matches_server("4096", Some("kB")));
        assert!(Value::Bytes(1024 * MIB).matches_server("1024", Some("MB")));
        assert!(Value::Seconds(300).matches_server("300", Some("s")));
        assert!(Value::Real(4.0).matches_server("4", None));
        assert!(Value::Bool(true).matches_server("on", None));
        assert!(Value::Enum("lz4".into()).matches_server("lz4", None));
        assert!(!Value::Enum("lz4".into()).matches_server("off", None));
    }

    #[test]
    fn reads_server_values_back() {
        let shown = Value::Bytes(0).like_from_server("16384", Some("8kB")).unwrap();
        assert_eq!(shown.to_pg(), "128MB");
        let shown = Value::Seconds(0).like_from_server("300", Some("s")).unwrap();
        assert_eq!(shown.to_pg(), "5min");
        assert_eq!(Value::Bytes(0).show_server("16384", Some("8kB")), "128MB");
        assert_eq!(Value::Bytes(0).show_server("-1", Some("kB")), "-1");
        // autovacuum_work_mem = -1 means "use maintenance_work_mem": not a size.
        assert_eq!(Value::Bytes(0).like_from_server("-1", Some("kB")), None);
    }
}
