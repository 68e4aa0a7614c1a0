//! Invariants of `recommend` over a grid of hosts, profiles and versions.

use super::setting::Value;
use super::*;
use crate::host::Host;
use crate::profile::{Profile, BUILT_IN};
use crate::units::TIB;

const MEMORIES: &[u64] =
    &[512 * MIB, GIB, 2 * GIB, 3 * GIB, 4 * GIB, 8 * GIB, 16 * GIB, 32 * GIB, 64 * GIB, 128 * GIB, 256 * GIB, 512 * GIB, TIB];
const CPUS: &[u32] = &[1, 2, 3, 4, 8, 16, 32, 64, 128];

fn input(memory: u64, cpus: u32, profile: &Profile, version: u32) -> TuneInput {
    TuneInput {
        host: Host {
            memory: Sourced::new(memory, Source::Flag("--memory".into())),
            cpus: Sourced::new(cpus, Source::Flag("--cpus".into())),
            storage: Sourced::new(StorageKind::Ssd, Source::Flag("--storage".into())),
        },
        profile: profile.clone(),
        connections: Sourced::new(profile.max_connections, Source::Profile(profile.name.clone())),
        pg_version: Sourced::new(version, Source::Flag("--pg-version".into())),
        data_size: None,
        evidence: None,
    }
}

fn profiles() -> Vec<Profile> {
    BUILT_IN.iter().map(|(name, _)| Profile::load(name).unwrap()).collect()
}

fn get<'a>(rec: &'a Recommendation, name: &str) -> Option<&'a Value> {
    rec.settings.iter().find(|s| s.name == name).map(|s| &s.value)
}

fn bytes(rec: &Recommendation, name: &str) -> u64 {
    match get(rec, name) {
        Some(Value::Bytes(b)) => *b,
        other => panic!("{name} is {other:?}"),
    }
}

fn int(rec: &Recommendation, name: &str) -> i64 {
    match get(rec, name) {
        Some(Value::Integer(n)) => *n,
        other => panic!("{name} is {other:?}"),
    }
}

/// PostgreSQL's documented bounds (12 to 17), in bytes, seconds or plain numbers.
fn bounds(name: &str) -> (f64, f64) {
    let kb = KIB as f64;
    match name {
        "shared_buffers" => (128.0 * kb, 1073741823.0 * 8.0 * kb),
        "effective_cache_size" => (8.0 * kb, 2147483647.0 * 8.0 * kb),
        "work_mem" => (64.0 * kb, 2147483647.0 * kb),
        "maintenance_work_mem" | "autovacuum_work_mem" => (1024.0 * kb, 2147483647.0 * kb),
        "wal_buffers" => (32.0 * kb, 262143.0 * 8.0 * kb),
        "min_wal_size" | "max_wal_size" => (32.0 * MIB as f64, 2147483647.0 * MIB as f64),
        "checkpoint_timeout" => (30.0, 86400.0),
        "checkpoint_completion_target" => (0.0, 1.0),
        "max_connections" => (1.0, 262143.0),
        "hash_mem_multiplier" => (1.0, 1000.0),
        "random_page_cost" => (0.0, f64::MAX),
        "effective_io_concurrency" | "maintenance_io_concurrency" => (0.0, 1000.0),
        "default_statistics_target" => (1.0, 10000.0),
        "max_worker_processes" => (0.0, 262143.0),
        "max_parallel_workers" | "max_parallel_workers_per_gather" | "max_parallel_maintenance_workers" => (0.0, 1024.0),
        "autovacuum_max_workers" | "autovacuum_worker_slots" => (1.0, 262143.0),
        "io_workers" => (1.0, 32.0),
        "autovacuum_vacuum_max_threshold" => (-1.0, 2147483647.0),
        "autovacuum_vacuum_cost_limit" => (1.0, 10000.0),
        "autovacuum_vacuum_scale_factor" | "autovacuum_analyze_scale_factor" | "autovacuum_vacuum_insert_scale_factor" => (0.0, 100.0),
        other => panic!("no bounds known for {other}"),
    }
}

#[test]
fn every_host_profile_and_version_stays_in_bounds_and_in_budget() {
    for profile in profiles() {
        for version in SUPPORTED_VERSIONS {
            for &memory in MEMORIES {
                for &cpus in CPUS {
                    let case = format!("{} pg{version} {} {cpus} CPUs", profile.name, units::format_human_bytes(memory));
                    let rec = recommend(&input(memory, cpus, &profile, version)).unwrap_or_else(|e| panic!("{case}: {e}"));
                    let b = &rec.budget;
                    assert!(b.total <= b.limit, "{case}: budget {} over limit {}", b.total, b.limit);
                    assert_eq!(
                        b.total,
                        b.shared_buffers
                            + b.query_memory
                            + b.autovacuum_workers as u64 * b.autovacuum_work_mem
                            + b.maintenance_work_mem
                            + b.os_reserve,
                        "{case}"
                    );
                    assert!(
                        b.query_memory as f64 >= b.backends as f64 * b.work_mem as f64 * b.hash_mem_multiplier * b.nodes_per_query - 1.0,
                        "{case}: the budget must count every backend's work_mem × hash_mem_multiplier in each of the profile's sort/hash nodes"
                    );
                    for setting in &rec.settings {
                        if let Some(number) = match &setting.value {
                            Value::Bytes(v) => Some(*v as f64),
                            Value::Seconds(v) => Some(*v as f64),
                            Value::Integer(v) => Some(*v as f64),
                            Value::Real(v) => Some(*v),
                            _ => None,
                        } {
                            let (min, max) = bounds(setting.name);
                            assert!(number >= min && number <= max, "{case}: {} = {number} outside {min}..{max}", setting.name);
                        }
                        assert!(!setting.rationale.is_empty() && !setting.rationale.contains('\n'), "{case}: {}", setting.name);
                        assert!(!setting.inputs.is_empty(), "{case}: {} names no inputs", setting.name);
                    }
                    // Never below PostgreSQL's own defaults (PGTune gives a 1GB desktop 64MB shared_buffers).
                    assert!(bytes(&rec, "shared_buffers") >= DEFAULT_SHARED_BUFFERS, "{case}");
                    // Unless even the fewest connections, at the profile's sort/hash nodes per
                    // query, would not fit at the default (then it says so).
                    let at_default = b.backends as f64 * DEFAULT_WORK_MEM as f64 * b.hash_mem_multiplier * b.nodes_per_query;
                    let fits = b.total as f64 - b.query_memory as f64 + at_default <= b.limit as f64;
                    assert!(bytes(&rec, "work_mem") >= DEFAULT_WORK_MEM || !fits, "{case}");
                    assert!(bytes(&rec, "maintenance_work_mem") >= DEFAULT_MAINTENANCE_WORK_MEM, "{case}");
                    assert!(int(&rec, "max_worker_processes") >= 8, "{case}");
                    assert!(int(&rec, "autovacuum_max_workers") >= 3, "{case}");
                    // Parallel workers come out of max_worker_processes, and never exceed the CPUs.
                    assert!(int(&rec, "max_parallel_workers") + 2 <= int(&rec, "max_worker_processes"), "{case}");
                    assert!(int(&rec, "max_parallel_workers") <= cpus as i64, "{case}");
                    assert!(int(&rec, "max_parallel_workers_per_gather") <= int(&rec, "max_parallel_workers"), "{case}");
                    assert!(
                        bytes(&rec, "autovacuum_work_mem") <= bytes(&rec, "maintenance_work_mem").max(MIN_AUTOVACUUM_WORK_MEM),
                        "{case}"
                    );
                    assert!(bytes(&rec, "effective_cache_size") >= bytes(&rec, "shared_buffers"), "{case}");
                }
            }
        }
    }
}

#[test]
fn memory_settings_grow_with_memory() {
    const MONOTONE: &[&str] =
        &["shared_buffers", "effective_cache_size", "maintenance_work_mem", "autovacuum_work_mem", "work_mem", "wal_buffers"];
    for profile in profiles() {
        for version in SUPPORTED_VERSIONS {
            for &cpus in CPUS {
                let recs: Vec<_> = MEMORIES.iter().map(|&m| recommend(&input(m, cpus, &profile, version)).unwrap()).collect();
                for pair in recs.windows(2) {
                    for name in MONOTONE {
                        assert!(
                            bytes(&pair[1], name) >= bytes(&pair[0], name),
                            "{} pg{version} {cpus} CPUs: {name} shrank from {} to {} as memory grew",
                            profile.name,
                            bytes(&pair[0], name),
                            bytes(&pair[1], name)
                        );
                    }
                    assert!(int(&pair[1], "max_connections") >= int(&pair[0], "max_connections"));
                    assert!(int(&pair[1], "max_parallel_workers") >= int(&pair[0], "max_parallel_workers"));
                }
            }
        }
    }
}

#[test]
fn names_follow_the_version() {
    let profile = Profile::load("oltp").unwrap();
    for version in SUPPORTED_VERSIONS {
        let rec = recommend(&input(16 * GIB, 8, &profile, version)).unwrap();
        let has = |name: &str| get(&rec, name).is_some();
        assert_eq!(has("hash_mem_multiplier"), version >= 13, "pg{version}");
        assert_eq!(has("maintenance_io_concurrency"), version >= 13, "pg{version}");
        assert_eq!(has("autovacuum_vacuum_insert_scale_factor"), version >= 13, "pg{version}");
        assert_eq!(has("io_workers"), version >= 18, "pg{version}");
        assert_eq!(has("autovacuum_vacuum_max_threshold"), version >= 18, "pg{version}: oltp caps vacuum's threshold on 18");
        // 18 raised the prefetch defaults to 16; a recommendation never goes below them there.
        let floor = if version >= 18 { 16 } else { 2 };
        let hdd = recommend(&TuneInput {
            host: Host {
                storage: Sourced::new(StorageKind::Hdd, Source::Flag("--storage".into())),
                ..input(16 * GIB, 8, &profile, version).host
            },
            ..input(16 * GIB, 8, &profile, version)
        })
        .unwrap();
        assert_eq!(get(&hdd, "effective_io_concurrency"), Some(&Value::Integer(floor)), "pg{version} on a disk that seeks");
        let restarts = rec.settings.iter().find(|s| s.name == "autovacuum_max_workers").unwrap().restart;
        assert_eq!(restarts, version < 18, "pg{version}: autovacuum_max_workers takes a reload from 18 on");
        let past_eol = rec.notes.iter().any(|n| n.contains("past its end of life"));
        assert_eq!(past_eol, version < 14, "pg{version}");
        let newer = rec.notes.iter().any(|n| n.contains("newer than pgadvise's rules"));
        assert_eq!(newer, version > 18, "pg{version}");
        let expected = if version >= 15 { "lz4" } else { "on" };
        assert_eq!(get(&rec, "wal_compression"), Some(&Value::Enum(expected.into())), "pg{version}");
        let mut names: Vec<_> = rec.settings.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), rec.settings.len(), "pg{version}: a setting appears twice");
    }
    for version in [11, 20] {
        let err = recommend(&input(16 * GIB, 8, &profile, version)).unwrap_err().to_string();
        assert!(err.contains("not supported"), "{err}");
    }
}

#[test]
fn only_write_heavy_profiles_change_autovacuum_scale_factors() {
    for profile in profiles() {
        let rec = recommend(&input(16 * GIB, 8, &profile, 16)).unwrap();
        assert_eq!(get(&rec, "autovacuum_vacuum_scale_factor").is_some(), profile.autovacuum_scale_factors.is_some(), "{}", profile.name);
    }
    let oltp = recommend(&input(16 * GIB, 8, &Profile::load("oltp").unwrap(), 16)).unwrap();
    assert_eq!(get(&oltp, "autovacuum_vacuum_scale_factor"), Some(&Value::Real(0.05)));
    assert_eq!(get(&oltp, "jit"), Some(&Value::Bool(false)));
    let dw = recommend(&input(16 * GIB, 8, &Profile::load("dw").unwrap(), 16)).unwrap();
    assert_eq!(get(&dw, "jit"), Some(&Value::Bool(true)));
    assert_eq!(get(&dw, "default_statistics_target"), Some(&Value::Integer(500)));
}

#[test]
fn pgtune_reference_host_lands_in_the_same_range() {
    // PGTune (le0pard/pgtune, 2026) for 64 GB, 16 CPUs, SSD, OLTP, 300 connections:
    // shared_buffers 16GB, effective_cache_size 48GB, maintenance_work_mem 4GB,
    // work_mem 53092kB, max_parallel_workers_per_gather 4, max_worker_processes 16.
    let rec = recommend(&input(64 * GIB, 16, &Profile::load("oltp").unwrap(), 16)).unwrap();
    assert_eq!(bytes(&rec, "shared_buffers"), 16 * GIB);
    assert_eq!(bytes(&rec, "effective_cache_size"), 48 * GIB);
    let work_mem = bytes(&rec, "work_mem") as f64;
    assert!((0.5..=2.0).contains(&(work_mem / (53092.0 * 1024.0))), "work_mem {work_mem}");
    // Deliberate differences: maintenance capped at 2GB, per-gather at 2 for OLTP, 2 spare worker slots.
    assert_eq!(bytes(&rec, "maintenance_work_mem"), 2 * GIB);
    assert_eq!(int(&rec, "max_parallel_workers_per_gather"), 2);
    assert_eq!(int(&rec, "max_worker_processes"), 18);
}

#[test]
fn a_small_desktop_keeps_the_defaults_pgtune_drops() {
    let rec = recommend(&input(GIB, 1, &Profile::load("desktop").unwrap(), 16)).unwrap();
    assert_eq!(bytes(&rec, "shared_buffers"), 128 * MIB);
    assert_eq!(bytes(&rec, "work_mem"), 4 * MIB);
    assert_eq!(int(&rec, "max_parallel_workers_per_gather"), 0);
}

#[test]
fn parallel_workers_are_counted_once_in_work_mem() {
    // PGTune divides work_mem by max_worker_processes on top of connections; we add the
    // parallel worker pool to the backends once, so more CPUs barely change work_mem.
    let profile = Profile::load("web").unwrap();
    let few = bytes(&recommend(&input(64 * GIB, 4, &profile, 16)).unwrap(), "work_mem");
    let many = bytes(&recommend(&input(64 * GIB, 64, &profile, 16)).unwrap(), "work_mem");
    assert!(many as f64 >= few as f64 * 0.75, "work_mem fell from {few} to {many} with more CPUs");
}

#[test]
fn too_many_user_connections_lower_work_mem_below_the_default_and_say_so() {
    let profile = Profile::load("web").unwrap();
    let mut tight = input(2 * GIB, 2, &profile, 16);
    tight.connections = Sourced::new(1000, Source::Flag("--connections".into()));
    let rec = recommend(&tight).unwrap();
    assert_eq!(int(&rec, "max_connections"), 1000);
    assert!(bytes(&rec, "work_mem") < DEFAULT_WORK_MEM);
    assert!(rec.budget.total <= rec.budget.limit);
    assert!(rec.notes.iter().any(|n| n.contains("PgBouncer")), "{:?}", rec.notes);

    tight.connections = Sourced::new(100_000, Source::Flag("--connections".into()));
    let err = recommend(&tight).unwrap_err().to_string();
    assert!(err.contains("cannot fit"), "{err}");
}

#[test]
fn profile_connections_shrink_to_fit_a_small_host() {
    let rec = recommend(&input(512 * MIB, 1, &Profile::load("oltp").unwrap(), 16)).unwrap();
    assert!(int(&rec, "max_connections") < 300);
    let why = &rec.settings.iter().find(|s| s.name == "max_connections").unwrap().rationale;
    assert!(why.contains("not 300"), "{why}");
}

#[test]
fn data_size_adjusts_random_page_cost_shared_buffers_and_work_mem() {
    let profile = Profile::load("web").unwrap();
    let mut small_db = input(64 * GIB, 8, &profile, 16);
    small_db.host.storage = Sourced::new(StorageKind::Hdd, Source::Flag("--storage".into()));
    let without = recommend(&small_db).unwrap();
    assert_eq!(get(&without, "random_page_cost"), Some(&Value::Real(4.0)));
    small_db.data_size = Some(Sourced::new(2 * GIB, Source::Flag("--data-size".into())));
    let with = recommend(&small_db).unwrap();
    assert_eq!(get(&with, "random_page_cost"), Some(&Value::Real(1.1)));
    assert_eq!(bytes(&with, "shared_buffers"), 4 * GIB);
    assert!(with.notes.iter().any(|n| n.contains("pass --data-size")), "{:?}", with.notes);
    assert!(bytes(&with, "work_mem") <= 2 * GIB);
}

#[test]
fn server_evidence_changes_the_advice_and_says_why() {
    let profile = Profile::load("web").unwrap();
    let mut live = input(16 * GIB, 4, &profile, 15);
    live.evidence = Some(Evidence {
        checkpoints_timed: 10,
        checkpoints_requested: 40,
        current_max_wal_size: Some(8 * GIB),
        temp_files: 120,
        temp_bytes: 3 * GIB as i64,
        client_connections: 150,
        idle_connections: 140,
        blocks_hit: 990,
        blocks_read: 10,
        stats_since: Some("2026-11-01 00:00".into()),
        wal_compression_methods: vec!["pglz".into(), "on".into(), "off".into()],
    });
    let rec = recommend(&live).unwrap();
    assert_eq!(bytes(&rec, "max_wal_size"), 16 * GIB);
    let why = |name: &str| rec.settings.iter().find(|s| s.name == name).unwrap().rationale.clone();
    assert!(why("max_wal_size").contains("40 of 50 checkpoints"), "{}", why("max_wal_size"));
    assert!(why("work_mem").contains("120 temporary files"), "{}", why("work_mem"));
    assert!(why("shared_buffers").contains("cache hit ratio now 99.0%"), "{}", why("shared_buffers"));
    assert!(rec.notes.iter().any(|n| n.contains("140 of 150 client connections are idle")), "{:?}", rec.notes);
    // This server was built without lz4: pglz, as 15+ shows it ("on" would read as a change).
    assert_eq!(get(&rec, "wal_compression"), Some(&Value::Enum("pglz".into())));
}

#[test]
fn never_recommends_what_postgresql_refuses() {
    let oltp = Profile::load("oltp").unwrap();
    // A server whose max_connections does not exceed the reserved connections does not start.
    for connections in 1..=DEFAULT_RESERVED_CONNECTIONS {
        let mut few = input(8 * GIB, 4, &oltp, 15);
        few.connections = Sourced::new(connections, Source::Flag("--connections".into()));
        let err = recommend(&few).unwrap_err().to_string();
        assert!(err.contains("use at least 4"), "{err}");
    }
    let mut four = input(8 * GIB, 4, &oltp, 15);
    four.connections = Sourced::new(4, Source::Flag("--connections".into()));
    assert_eq!(int(&recommend(&four).unwrap(), "max_connections"), 4);
    // shared_buffers stops at INT_MAX / 2 pages.
    let err = recommend(&input(4096 * TIB, 64, &oltp, 15)).unwrap_err().to_string();
    assert!(err.starts_with("shared_buffers would be 1024TB, outside PostgreSQL's range of 128 KiB to 8 TiB"), "{err}");
    // Values a profile sets directly.
    let mut zero_timeout = oltp.clone();
    zero_timeout.checkpoint_timeout = 0;
    let err = recommend(&input(8 * GIB, 4, &zero_timeout, 15)).unwrap_err().to_string();
    assert!(err.starts_with("checkpoint_timeout would be 0s"), "{err}");
    let mut huge_target = oltp.clone();
    huge_target.default_statistics_target = 100_000;
    let err = recommend(&input(8 * GIB, 4, &huge_target, 15)).unwrap_err().to_string();
    assert!(err.starts_with("default_statistics_target would be 100000, outside PostgreSQL's range of 1 to 10000"), "{err}");
}

#[test]
fn postgresql_18_gets_io_workers_by_cpus_and_storage_and_slots_for_many_autovacuum_workers() {
    let profile = Profile::load("oltp").unwrap();
    let workers = |memory, cpus, storage: StorageKind| {
        let mut input = input(memory, cpus, &profile, 18);
        input.host.storage.value = storage;
        let rec = recommend(&input).unwrap();
        (get(&rec, "io_workers").cloned(), get(&rec, "autovacuum_worker_slots").cloned())
    };
    assert_eq!(workers(16 * GIB, 8, StorageKind::Ssd).0, Some(Value::Integer(3)), "the default, at 8 CPUs");
    assert_eq!(workers(64 * GIB, 64, StorageKind::Ssd).0, Some(Value::Integer(16)), "one per 4 CPUs");
    assert_eq!(workers(64 * GIB, 64, StorageKind::Hdd).0, Some(Value::Integer(3)), "a seeking disk gains nothing from more");
    assert_eq!(workers(16 * GIB, 8, StorageKind::Ssd).1, None, "3 workers fit the default 16 slots");
}
