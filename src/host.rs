//! What the machine offers PostgreSQL: memory, CPUs and storage, with the
//! container (cgroup) limits that override what the kernel reports.
//!
//! Detection reads the real filesystem through a root path so that tests can
//! point it at a fake `/proc` and `/sys` tree in `fixtures/`.

use crate::input::{Source, Sourced};
use serde::Serialize;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Above this, a cgroup v1 memory limit means "no limit" (the kernel writes
/// a page-rounded `i64::MAX` there).
const CGROUP_V1_UNLIMITED: u64 = 1 << 62;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    Hdd,
    Ssd,
    Nvme,
    San,
}

impl fmt::Display for StorageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StorageKind::Hdd => "hdd",
            StorageKind::Ssd => "ssd",
            StorageKind::Nvme => "nvme",
            StorageKind::San => "san",
        })
    }
}

impl FromStr for StorageKind {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "hdd" => Ok(StorageKind::Hdd),
            "ssd" => Ok(StorageKind::Ssd),
            "nvme" => Ok(StorageKind::Nvme),
            "san" => Ok(StorageKind::San),
            _ => anyhow::bail!("unknown storage kind '{s}': use hdd, ssd, nvme or san"),
        }
    }
}

/// The resources the advice may use, each with its origin.
#[derive(Debug, Clone, Serialize)]
pub struct Host {
    /// Memory PostgreSQL may use: the container limit when lower than RAM.
    pub memory: Sourced<u64>,
    /// CPUs PostgreSQL may use: the container quota (rounded up) when lower.
    pub cpus: Sourced<u32>,
    pub storage: Sourced<StorageKind>,
}

/// Limits imposed by the cgroup the process runs in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CgroupLimits {
    pub memory: Option<(u64, &'static str)>,
    pub cpus: Option<(f64, &'static str)>,
}

/// What was read off the machine, before flags are applied.
#[derive(Debug, Clone)]
pub struct HostFacts {
    pub total_memory: u64,
    pub logical_cpus: u32,
    pub cgroup: CgroupLimits,
    /// The storage kind and the device it was read from, when it could be.
    pub storage: Option<(StorageKind, String)>,
    /// Why storage could not be detected, when it could not.
    pub storage_unknown_reason: String,
}

/// Overrides from the command line.
#[derive(Debug, Clone, Default)]
pub struct HostOverrides {
    pub memory: Option<u64>,
    pub cpus: Option<u32>,
    pub storage: Option<StorageKind>,
}

impl HostFacts {
    /// Reads this machine: sysinfo for RAM and CPUs, `/proc` and `/sys` for the rest.
    pub fn detect(data_dir: Option<&Path>) -> HostFacts {
        let mut system = sysinfo::System::new();
        system.refresh_memory();
        system.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
        let logical_cpus = (system.cpus().len() as u32).max(1);
        let root = Path::new("/");
        let (storage, storage_unknown_reason) = match data_dir {
            Some(dir) => match detect_storage(root, dir) {
                Ok(found) => (Some(found), String::new()),
                Err(reason) => (None, reason),
            },
            None => (None, "no data directory to inspect; pass --data-dir or --storage".to_string()),
        };
        HostFacts { total_memory: system.total_memory(), logical_cpus, cgroup: detect_cgroup_limits(root), storage, storage_unknown_reason }
    }

    /// Applies flags over detected facts; a flag always wins, a container limit
    /// wins over the machine's totals when it is lower.
    pub fn resolve(&self, overrides: &HostOverrides) -> Host {
        let memory = match (overrides.memory, self.cgroup.memory) {
            (Some(bytes), _) => Sourced::new(bytes, Source::Flag("--memory".into())),
            (None, Some((limit, file))) if limit < self.total_memory => Sourced::new(limit, Source::Detected(file.into())),
            _ => Sourced::new(self.total_memory, Source::Detected("total RAM".into())),
        };
        let cpus = match (overrides.cpus, self.cgroup.cpus) {
            (Some(n), _) => Sourced::new(n, Source::Flag("--cpus".into())),
            (None, Some((quota, file))) if quota.ceil() < self.logical_cpus as f64 => {
                Sourced::new((quota.ceil() as u32).max(1), Source::Detected(file.into()))
            }
            _ => Sourced::new(self.logical_cpus, Source::Detected("logical CPUs".into())),
        };
        let storage = match (overrides.storage, &self.storage) {
            (Some(kind), _) => Sourced::new(kind, Source::Flag("--storage".into())),
            (None, Some((kind, device))) => Sourced::new(*kind, Source::Detected(device.clone())),
            (None, None) => Sourced::new(StorageKind::Ssd, Source::Default(self.storage_unknown_reason.clone())),
        };
        Host { memory, cpus, storage }
    }
}

/// Reads cgroup v2 (`memory.max`, `cpu.max`) or v1 (`memory.limit_in_bytes`,
/// `cpu.cfs_quota_us`) limits for this process, taking the tightest limit on the
/// path from its cgroup up to the mount point.
pub fn detect_cgroup_limits(root: &Path) -> CgroupLimits {
    let read = |path: &str| fs::read_to_string(root.join(path.trim_start_matches('/'))).ok();
    let (Some(proc_cgroup), Some(mountinfo)) = (read("/proc/self/cgroup"), read("/proc/self/mountinfo")) else {
        return CgroupLimits::default();
    };
    let mounts = parse_mountinfo(&mountinfo);
    let mut limits = CgroupLimits::default();

    for (controllers, path) in parse_proc_cgroup(&proc_cgroup) {
        let is_v2 = controllers.is_empty();
        for mount in &mounts {
            let matches = if is_v2 {
                mount.fs_type == "cgroup2"
            } else {
                mount.fs_type == "cgroup" && controllers.iter().any(|c| mount.super_options.split(',').any(|o| o == c))
            };
            if !matches {
                continue;
            }
            for dir in cgroup_dirs(root, mount, &path) {
                let file = |name: &str| fs::read_to_string(dir.join(name)).ok();
                if is_v2 {
                    if let Some(bytes) = file("memory.max").and_then(|t| parse_v2_memory_max(&t)) {
                        tighten(&mut limits.memory, bytes, "cgroup v2 memory.max");
                    }
                    if let Some(cpus) = file("cpu.max").and_then(|t| parse_v2_cpu_max(&t)) {
                        tighten(&mut limits.cpus, cpus, "cgroup v2 cpu.max");
                    }
                } else {
                    if let Some(bytes) = file("memory.limit_in_bytes").and_then(|t| parse_v1_memory_limit(&t)) {
                        tighten(&mut limits.memory, bytes, "cgroup v1 memory.limit_in_bytes");
                    }
                    if let (Some(quota), Some(period)) = (file("cpu.cfs_quota_us"), file("cpu.cfs_period_us")) {
                        if let Some(cpus) = parse_v1_cpu_quota(&quota, &period) {
                            tighten(&mut limits.cpus, cpus, "cgroup v1 cpu.cfs_quota_us");
                        }
                    }
                }
            }
        }
    }
    limits
}

/// Keeps the tightest limit seen on the path, with the file it came from.
fn tighten<T: PartialOrd + Copy>(slot: &mut Option<(T, &'static str)>, value: T, file: &'static str) {
    if slot.is_none_or(|(current, _)| value < current) {
        *slot = Some((value, file));
    }
}

struct Mount {
    root: String,
    mount_point: String,
    fs_type: String,
    super_options: String,
}

fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let fields: Vec<&str> = before.split_whitespace().collect();
            let after: Vec<&str> = after.split_whitespace().collect();
            Some(Mount {
                root: fields.get(3)?.to_string(),
                mount_point: fields.get(4)?.to_string(),
                fs_type: after.first()?.to_string(),
                super_options: after.get(2).unwrap_or(&"").to_string(),
            })
        })
        .collect()
}

/// `/proc/self/cgroup` lines: `hierarchy:controllers:path`; v2 has empty controllers.
fn parse_proc_cgroup(text: &str) -> Vec<(Vec<String>, String)> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let _hierarchy = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            let controllers =
                controllers.split(',').filter(|c| !c.is_empty() && !c.starts_with("name=")).map(str::to_string).collect::<Vec<_>>();
            // A v1 line with only a named hierarchy (name=systemd) carries no limits.
            if controllers.is_empty() && !line.starts_with("0::") {
                return None;
            }
            Some((controllers, path.to_string()))
        })
        .collect()
}

/// The directories from the process's cgroup up to the mount point, deepest first.
fn cgroup_dirs(root: &Path, mount: &Mount, cgroup_path: &str) -> Vec<PathBuf> {
    let relative = cgroup_path.strip_prefix(mount.root.as_str()).unwrap_or(cgroup_path).trim_start_matches('/');
    let base = root.join(mount.mount_point.trim_start_matches('/'));
    let mut dirs = vec![];
    let mut current = PathBuf::from(relative);
    loop {
        dirs.push(base.join(&current));
        if !current.pop() {
            break;
        }
    }
    dirs.dedup();
    dirs
}

pub fn parse_v2_memory_max(text: &str) -> Option<u64> {
    match text.trim() {
        "max" => None,
        value => value.parse().ok(),
    }
}

pub fn parse_v2_cpu_max(text: &str) -> Option<f64> {
    let mut parts = text.split_whitespace();
    let quota = parts.next()?;
    let period: f64 = parts.next().unwrap_or("100000").parse().ok()?;
    if quota == "max" || period <= 0.0 {
        return None;
    }
    Some(quota.parse::<f64>().ok()? / period)
}

pub fn parse_v1_memory_limit(text: &str) -> Option<u64> {
    let value: u64 = text.trim().parse().ok()?;
    (value < CGROUP_V1_UNLIMITED).then_some(value)
}

pub fn parse_v1_cpu_quota(quota: &str, period: &str) -> Option<f64> {
    let quota: i64 = quota.trim().parse().ok()?;
    let period: i64 = period.trim().parse().ok()?;
    (quota > 0 && period > 0).then(|| quota as f64 / period as f64)
}

/// Finds the block device holding `dir` and reads its kind from sysfs:
/// an `nvme*` name is NVMe, `queue/rotational` 1 is a spinning disk, 0 an SSD.
pub fn detect_storage(root: &Path, dir: &Path) -> Result<(StorageKind, String), String> {
    use std::os::unix::fs::MetadataExt;
    let metadata = fs::metadata(dir).map_err(|e| format!("cannot read {}: {e}; pass --storage", dir.display()))?;
    let dev = metadata.dev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    storage_of_device(root, major, minor).ok_or_else(|| {
        format!("{} is not on a block device this tool can inspect (overlay, network or virtual filesystem); pass --storage", dir.display())
    })
}

fn storage_of_device(root: &Path, major: u64, minor: u64) -> Option<(StorageKind, String)> {
    let link = root.join(format!("sys/dev/block/{major}:{minor}"));
    let mut device = fs::canonicalize(&link).ok()?;
    // A partition's queue settings live on its parent disk.
    if device.join("partition").exists() {
        device.pop();
    }
    let name = device.file_name()?.to_string_lossy().to_string();
    if name.starts_with("nvme") {
        return Some((StorageKind::Nvme, format!("/dev/{name} is NVMe")));
    }
    let rotational = fs::read_to_string(device.join("queue/rotational")).ok()?;
    match rotational.trim() {
        "1" => Some((StorageKind::Hdd, format!("/dev/{name} reports rotational; virtual disks often do, pass --storage ssd if it is not"))),
        "0" => Some((StorageKind::Ssd, format!("/dev/{name} is not rotational"))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hosts").join(name)
    }

    #[test]
    fn parses_cgroup_files() {
        assert_eq!(parse_v2_memory_max("max\n"), None);
        assert_eq!(parse_v2_memory_max("4294967296\n"), Some(4 << 30));
        assert_eq!(parse_v2_cpu_max("max 100000\n"), None);
        assert_eq!(parse_v2_cpu_max("250000 100000\n"), Some(2.5));
        assert_eq!(parse_v1_memory_limit("9223372036854771712\n"), None);
        assert_eq!(parse_v1_memory_limit("2147483648\n"), Some(2 << 30));
        assert_eq!(parse_v1_cpu_quota("-1\n", "100000\n"), None);
        assert_eq!(parse_v1_cpu_quota("150000", "100000"), Some(1.5));
    }

    #[test]
    fn reads_cgroup_v2_limits_along_the_path() {
        let limits = detect_cgroup_limits(&fixture("cgroup-v2"));
        // The parent slice limits memory to 6 GiB, the leaf to 8 GiB: the tighter wins.
        assert_eq!(limits.memory, Some((6 << 30, "cgroup v2 memory.max")));
        assert_eq!(limits.cpus, Some((2.5, "cgroup v2 cpu.max")));
    }

    #[test]
    fn reads_cgroup_v1_limits() {
        let limits = detect_cgroup_limits(&fixture("cgroup-v1"));
        assert_eq!(limits.memory, Some((2 << 30, "cgroup v1 memory.limit_in_bytes")));
        assert_eq!(limits.cpus, Some((1.5, "cgroup v1 cpu.cfs_quota_us")));
    }

    #[test]
    fn no_cgroup_files_means_no_limits() {
        assert_eq!(detect_cgroup_limits(&fixture("does-not-exist")), CgroupLimits::default());
    }

    fn facts() -> HostFacts {
        HostFacts {
            total_memory: 16 << 30,
            logical_cpus: 8,
            cgroup: CgroupLimits { memory: Some((4 << 30, "cgroup v2 memory.max")), cpus: Some((2.5, "cgroup v2 cpu.max")) },
            storage: None,
            storage_unknown_reason: "no data directory".into(),
        }
    }

    #[test]
    fn container_limits_override_the_machine_and_flags_override_both() {
        let host = facts().resolve(&HostOverrides::default());
        assert_eq!(host.memory.value, 4 << 30);
        assert_eq!(host.memory.source, Source::Detected("cgroup v2 memory.max".into()));
        assert_eq!(host.cpus.value, 3);
        assert_eq!(host.storage.value, StorageKind::Ssd);
        assert!(matches!(host.storage.source, Source::Default(_)));

        let host = facts().resolve(&HostOverrides { memory: Some(64 << 30), cpus: Some(16), storage: Some(StorageKind::Hdd) });
        assert_eq!(host.memory.value, 64 << 30);
        assert_eq!(host.cpus.value, 16);
        assert_eq!(host.storage.value, StorageKind::Hdd);
        assert_eq!(host.storage.source, Source::Flag("--storage".into()));
    }

    #[test]
    fn a_limit_above_the_machine_is_ignored() {
        let mut facts = facts();
        facts.cgroup.memory = Some((64 << 30, "cgroup v2 memory.max"));
        assert_eq!(facts.resolve(&HostOverrides::default()).memory.source, Source::Detected("total RAM".into()));
    }

    #[test]
    fn storage_kind_from_sysfs() {
        let root = fixture("sysfs");
        assert_eq!(storage_of_device(&root, 259, 1).unwrap().0, StorageKind::Nvme);
        assert_eq!(storage_of_device(&root, 8, 1).unwrap().0, StorageKind::Hdd);
        assert_eq!(storage_of_device(&root, 8, 16).unwrap().0, StorageKind::Ssd);
        assert!(storage_of_device(&root, 0, 42).is_none());
    }
}
