//! `pgadvise tune`: PostgreSQL settings from the host, a workload profile and,
//! when connected, evidence from the running server.
//!
//! `recommend` is a pure function of [`TuneInput`]. Per-workload numbers come
//! from the profile; the constants below are the same for every workload and
//! each says why it is what it is.

pub mod diff;
pub mod report;
pub mod setting;

use crate::host::{Host, StorageKind};
use crate::input::{Source, Sourced};
use crate::profile::Profile;
use crate::units::{self, floor_mib, GIB, KIB, MIB};
use anyhow::{bail, Result};
use serde::Serialize;
use setting::{InputName, Setting, Value, RESTART_SETTINGS};

pub use diff::{compare, Change};

/// PostgreSQL versions whose settings we know.
pub const SUPPORTED_VERSIONS: std::ops::RangeInclusive<u32> = 12..=19;
/// The newest major version whose settings pgadvise's rules were written from;
/// a newer one is tuned with its rules, and the report says so.
pub const NEWEST_KNOWN_VERSION: u32 = 18;
/// The oldest major version the PostgreSQL project still supports (14 until November 2026).
pub const OLDEST_SUPPORTED_UPSTREAM: u32 = 14;
/// io_workers, when io_method is `worker` (18+): one per this many CPUs ...
pub const CPUS_PER_IO_WORKER: u32 = 4;
/// ... at least PostgreSQL's default, at most its limit.
pub const MIN_IO_WORKERS: u32 = 3;
pub const MAX_IO_WORKERS: u32 = 32;
/// autovacuum_worker_slots' default (18+): autovacuum_max_workers may not exceed it.
pub const DEFAULT_AUTOVACUUM_WORKER_SLOTS: u32 = 16;
/// effective_io_concurrency's and maintenance_io_concurrency's default from 18 on.
pub const DEFAULT_IO_CONCURRENCY_18: i64 = 16;
/// PostgreSQL's own defaults, which a recommendation never goes below.
const DEFAULT_SHARED_BUFFERS: u64 = 128 * MIB;
const DEFAULT_WORK_MEM: u64 = 4 * MIB;
const DEFAULT_MAINTENANCE_WORK_MEM: u64 = 64 * MIB;
const DEFAULT_AUTOVACUUM_MAX_WORKERS: u32 = 3;
const DEFAULT_MAX_WORKER_PROCESSES: u32 = 8;
/// work_mem's hard minimum, used only when a user's own --connections cannot fit otherwise.
const MIN_WORK_MEM: u64 = 64 * KIB;
/// PostgreSQL refuses to start unless max_connections exceeds the connections it
/// reserves: superuser_reserved_connections, 3 by default (plus reserved_connections
/// from 16, 0 by default). A live `--apply` checks the server's own values.
pub const DEFAULT_RESERVED_CONNECTIONS: u32 = 3;
/// Memory kept for the OS even on the smallest host.
const MIN_OS_RESERVE: u64 = 64 * MIB;
/// Smallest autovacuum_work_mem we propose: about 1.4 million dead tuples per pass.
const MIN_AUTOVACUUM_WORK_MEM: u64 = 8 * MIB;
/// wal_buffers larger than one WAL segment (16MB) buys nothing; PostgreSQL's
/// own auto-tuning is shared_buffers / 32 up to that.
const MAX_WAL_BUFFERS: u64 = 16 * MIB;
const MIN_WAL_BUFFERS: u64 = 64 * KIB;
/// Background worker slots beyond parallel query, for logical replication and extensions.
const EXTRA_BACKGROUND_WORKERS: u32 = 2;
/// Below this shared_buffers, huge pages save little page-table memory.
const HUGE_PAGES_WORTHWHILE: u64 = 2 * GIB;
const HUGE_PAGE_SIZE: u64 = 2 * MIB;
/// shared_buffers larger than the database times this holds nothing but growth room.
const DATA_GROWTH_HEADROOM: f64 = 2.0;
/// Requested checkpoints above this share of all checkpoints mean max_wal_size is too small.
const REQUESTED_CHECKPOINT_SHARE: f64 = 0.10;
/// Fewer checkpoints than this since the stats reset are too few to judge.
const MIN_CHECKPOINTS_FOR_EVIDENCE: i64 = 10;
/// Idle connections above this share of all client connections suggest a pooler.
const IDLE_CONNECTION_SHARE: f64 = 0.5;
const MIN_CONNECTIONS_FOR_POOLER_ADVICE: i64 = 20;

/// Random page cost and I/O concurrency by storage kind: properties of the device, not the workload.
fn storage_costs(kind: StorageKind) -> (f64, i64) {
    match kind {
        StorageKind::Hdd => (4.0, 2),
        StorageKind::Ssd => (1.1, 200),
        StorageKind::San => (1.1, 300),
        StorageKind::Nvme => (1.1, 1000),
    }
}

/// Everything `recommend` reads.
#[derive(Debug, Clone)]
pub struct TuneInput {
    pub host: Host,
    pub profile: Profile,
    pub connections: Sourced<u32>,
    pub pg_version: Sourced<u32>,
    pub data_size: Option<Sourced<u64>>,
    /// Evidence from a running server, when connected.
    pub evidence: Option<Evidence>,
}

/// What a running server tells about its workload.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evidence {
    /// When the statistics below were last reset.
    pub stats_since: Option<String>,
    pub temp_files: i64,
    pub temp_bytes: i64,
    pub blocks_hit: i64,
    pub blocks_read: i64,
    pub checkpoints_timed: i64,
    pub checkpoints_requested: i64,
    /// The server's max_wal_size now.
    pub current_max_wal_size: Option<u64>,
    pub client_connections: i64,
    pub idle_connections: i64,
    /// wal_compression methods this server was built with (`pg_settings.enumvals`).
    pub wal_compression_methods: Vec<String>,
}

impl Evidence {
    pub fn cache_hit_ratio(&self) -> Option<f64> {
        let total = self.blocks_hit + self.blocks_read;
        (total > 0).then(|| self.blocks_hit as f64 / total as f64)
    }
}

/// The worst case of memory use under the recommended settings.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryBudget {
    pub shared_buffers: u64,
    /// Client connections plus parallel workers: each may hold work_mem at once.
    pub backends: u32,
    pub work_mem: u64,
    pub hash_mem_multiplier: f64,
    /// Sort/hash nodes a query may run at once (the profile's), each at work_mem.
    pub nodes_per_query: f64,
    pub query_memory: u64,
    pub autovacuum_workers: u32,
    pub autovacuum_work_mem: u64,
    /// One manual maintenance operation (CREATE INDEX, VACUUM) at maintenance_work_mem.
    pub maintenance_work_mem: u64,
    pub os_reserve: u64,
    pub total: u64,
    pub limit: u64,
}

/// The settings, the budget they keep to, and advice that is not a setting.
#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    pub settings: Vec<Setting>,
    pub budget: MemoryBudget,
    pub notes: Vec<String>,
}

/// Computes the settings for `input`.
pub fn recommend(input: &TuneInput) -> Result<Recommendation> {
    let version = input.pg_version.value;
    if !SUPPORTED_VERSIONS.contains(&version) {
        bail!(
            "PostgreSQL {version} is not supported: pgadvise tunes PostgreSQL {} to {}",
            SUPPORTED_VERSIONS.start(),
            SUPPORTED_VERSIONS.end()
        );
    }
    let p = &input.profile;
    let memory = input.host.memory.value;
    let cpus = input.host.cpus.value.max(1);
    let mem_text = units::format_human_bytes(memory);
    let data_size = input.data_size.as_ref().map(|d| d.value);
    let evidence = input.evidence.as_ref();
    let mut settings = Vec::new();
    let mut notes = Vec::new();
    if version < OLDEST_SUPPORTED_UPSTREAM {
        notes.push(format!(
            "PostgreSQL {version} is past its end of life (no more security fixes): plan the upgrade; these settings are for {version}"
        ));
    }
    if version > NEWEST_KNOWN_VERSION {
        notes.push(format!(
            "PostgreSQL {version} is newer than pgadvise's rules, which know up to {NEWEST_KNOWN_VERSION}: its settings are tuned as {NEWEST_KNOWN_VERSION}'s; check its release notes for new ones"
        ));
    }
    // autovacuum_max_workers takes a reload from 18 on (autovacuum_worker_slots the restart).
    let restarts = |name: &str| RESTART_SETTINGS.contains(&name) && !(version >= 18 && name == "autovacuum_max_workers");
    let mut add = |name: &'static str, value: Value, inputs: &[InputName], rationale: String| {
        settings.push(Setting { name, value, rationale, inputs: inputs.to_vec(), restart: restarts(name) });
    };
    use InputName::*;

    // Memory that is spoken for before any query runs.
    let os_reserve = floor_mib(((memory as f64 * p.os_reserve_fraction) as u64).max(MIN_OS_RESERVE));
    let mut shared_buffers = floor_mib((memory as f64 * p.shared_buffers_fraction) as u64).max(DEFAULT_SHARED_BUFFERS);
    let mut shared_buffers_why = format!(
        "{:.0}% of {mem_text} memory (profile {}), never below PostgreSQL's default 128MB; the OS page cache holds the rest",
        p.shared_buffers_fraction * 100.0,
        p.name
    );
    if let Some(size) = data_size {
        let enough = units::step_up((size as f64 * DATA_GROWTH_HEADROOM) as u64).max(DEFAULT_SHARED_BUFFERS);
        if enough < shared_buffers {
            notes.push(format!(
                "the server's databases hold only {}, so shared_buffers and work_mem were sized to them; if they will grow, pass --data-size with the size you expect",
                units::format_human_bytes(size)
            ));
            shared_buffers = enough;
            shared_buffers_why = format!(
                "the server's databases hold {} (shared_buffers serves them all), so {:.0}× that (room to grow) caches all of it; more memory goes to queries instead",
                units::format_human_bytes(size),
                DATA_GROWTH_HEADROOM
            );
        }
    }
    if let Some(ratio) = evidence.and_then(Evidence::cache_hit_ratio) {
        shared_buffers_why.push_str(&format!("; cache hit ratio now {:.1}%", ratio * 100.0));
    }

    let maintenance_work_mem = floor_mib((memory as f64 * p.maintenance_work_mem_fraction) as u64)
        .min(p.maintenance_work_mem_max)
        .max(DEFAULT_MAINTENANCE_WORK_MEM);
    let autovacuum_max_workers = (cpus / p.cpus_per_autovacuum_worker)
        .clamp(DEFAULT_AUTOVACUUM_MAX_WORKERS, p.autovacuum_max_workers_max.max(DEFAULT_AUTOVACUUM_MAX_WORKERS));
    let autovacuum_work_mem = floor_mib((memory as f64 * p.autovacuum_memory_fraction) as u64 / autovacuum_max_workers as u64)
        .min(p.autovacuum_work_mem_max)
        .min(maintenance_work_mem)
        .max(MIN_AUTOVACUUM_WORK_MEM);

    // Parallel query follows the CPUs; max_parallel_workers caps the pool for the whole server.
    let mut max_parallel_workers = cpus;
    let hash_mem_multiplier = if version >= 13 { p.hash_mem_multiplier } else { 1.0 };

    let fixed = shared_buffers + autovacuum_max_workers as u64 * autovacuum_work_mem + maintenance_work_mem + os_reserve;
    if fixed >= memory {
        bail!(
            "{mem_text} is too little memory for PostgreSQL with profile {}: shared_buffers, autovacuum, maintenance and the OS reserve alone need {}",
            p.name,
            units::format_human_bytes(fixed)
        );
    }
    let available = memory - fixed;
    // How many backends can hold PostgreSQL's default work_mem at once, in each of
    // the profile's sort/hash nodes per query.
    let nodes = p.work_mem_operations_per_query;
    let capacity = (available as f64 / (DEFAULT_WORK_MEM as f64 * hash_mem_multiplier * nodes)) as u32;
    let mut max_connections = input.connections.value;
    let connections_from_user = matches!(input.connections.source, Source::Flag(_));
    let mut connections_why = format!("{} ({})", max_connections, input.connections.source);
    if max_connections + max_parallel_workers > capacity {
        if !connections_from_user {
            let fitted = capacity.saturating_sub(max_parallel_workers.min(capacity / 4)).max(DEFAULT_RESERVED_CONNECTIONS + 1);
            if fitted < max_connections {
                connections_why = format!(
                    "{fitted}, not {} ({}): more connections at work_mem 4MB would not fit in {mem_text}",
                    max_connections, input.connections.source
                );
                max_connections = fitted;
            }
        }
        max_parallel_workers = max_parallel_workers.min(capacity.saturating_sub(max_connections));
    }
    let backends = max_connections + max_parallel_workers;
    let per_backend = backends as f64 * hash_mem_multiplier * p.work_mem_operations_per_query;
    let mut work_mem = floor_mib((available as f64 / per_backend) as u64).max(DEFAULT_WORK_MEM);
    let mut work_mem_why = format!(
        "memory left after shared_buffers, autovacuum, maintenance and a {} OS reserve, shared by {backends} backends ({max_connections} connections + {max_parallel_workers} parallel workers, counted once) × hash_mem_multiplier {} × {} sort/hash nodes per query (profile {})",
        units::format_human_bytes(os_reserve),
        format_multiplier(hash_mem_multiplier),
        p.work_mem_operations_per_query,
        p.name
    );
    let query_memory_at = |work_mem: u64| (backends as f64 * work_mem as f64 * hash_mem_multiplier * nodes) as u64;
    if query_memory_at(work_mem) > available {
        // A user's own --connections, or the fewest connections PostgreSQL starts
        // with on a very small host: go below the default rather than overcommit.
        let connections = if connections_from_user {
            format!("--connections {max_connections}")
        } else {
            format!("even the fewest connections ({max_connections})")
        };
        work_mem = ((available as f64 / (backends as f64 * hash_mem_multiplier * nodes)) as u64 / KIB * KIB).max(MIN_WORK_MEM);
        if query_memory_at(work_mem) > available {
            bail!(
                "{connections} cannot fit in {mem_text} even at the minimum work_mem of 64kB: use fewer connections behind a pooler such as PgBouncer"
            );
        }
        work_mem_why = format!(
            "below PostgreSQL's default 4MB because {connections} × {} sort/hash nodes per query (profile {}) must fit in {mem_text}; a pooler such as PgBouncer and fewer connections would allow more",
            format_multiplier(nodes),
            p.name
        );
        notes.push(format!(
            "{connections} leave only {} work_mem per sort/hash node in {mem_text}: queries will sort on disk. Put PgBouncer (transaction mode) in front and lower max_connections.",
            units::format_pg_bytes(work_mem)
        ));
    }
    if let Some(size) = data_size {
        let cap = floor_mib(size).max(DEFAULT_WORK_MEM);
        if cap < work_mem {
            work_mem = cap;
            work_mem_why =
                format!("capped at the database size ({}): no sort or hash needs more than all the data", units::format_human_bytes(size));
        }
    }
    if let Some(e) = evidence.filter(|e| e.temp_files > 0) {
        work_mem_why.push_str(&format!(
            "; the server wrote {} temporary files ({}) since {}: find the spilling queries with log_temp_files and `pgadvise explain`",
            e.temp_files,
            units::format_human_bytes(e.temp_bytes.max(0) as u64),
            e.stats_since.as_deref().unwrap_or("the last stats reset")
        ));
    }

    add(
        "max_connections",
        Value::Integer(max_connections as i64),
        &[Connections, Memory],
        format!("{connections_why}; every connection is a process that may hold work_mem"),
    );
    add("shared_buffers", Value::Bytes(shared_buffers), &[Memory, Profile, DataSize], shared_buffers_why);
    let effective_cache_size = floor_mib((memory as f64 * p.effective_cache_size_fraction) as u64).max(shared_buffers);
    add(
        "effective_cache_size",
        Value::Bytes(effective_cache_size),
        &[Memory, Profile],
        format!(
            "{:.0}% of {mem_text} memory (profile {}): what shared_buffers and the OS cache can hold; only a planner estimate, allocates nothing",
            p.effective_cache_size_fraction * 100.0,
            p.name
        ),
    );
    add(
        "maintenance_work_mem",
        Value::Bytes(maintenance_work_mem),
        &[Memory, Profile],
        format!(
            "{:.1}% of {mem_text} memory, at most {} (profile {}) and at least the default 64MB: faster CREATE INDEX and VACUUM",
            p.maintenance_work_mem_fraction * 100.0,
            units::format_pg_bytes(p.maintenance_work_mem_max),
            p.name
        ),
    );
    add(
        "autovacuum_work_mem",
        Value::Bytes(autovacuum_work_mem),
        &[Memory, Cpus, Profile],
        format!(
            "{:.0}% of {mem_text} memory shared by {autovacuum_max_workers} autovacuum workers, at most {} each (profile {}), so autovacuum cannot take maintenance_work_mem × workers",
            p.autovacuum_memory_fraction * 100.0,
            units::format_pg_bytes(p.autovacuum_work_mem_max),
            p.name
        ),
    );
    add("work_mem", Value::Bytes(work_mem), &[Memory, Connections, Cpus, PgVersion, Profile], work_mem_why);
    if version >= 13 {
        add(
            "hash_mem_multiplier",
            Value::Real(hash_mem_multiplier),
            &[PgVersion, Profile],
            format!(
                "hash joins and aggregates may use work_mem × {} before spilling (profile {}; counted in the memory budget)",
                format_multiplier(hash_mem_multiplier),
                p.name
            ),
        );
    }
    let wal_buffers = (shared_buffers / 32).clamp(MIN_WAL_BUFFERS, MAX_WAL_BUFFERS);
    add(
        "wal_buffers",
        Value::Bytes(wal_buffers),
        &[Memory],
        "1/32 of shared_buffers up to one 16MB WAL segment, as PostgreSQL's auto-tuning does, written out so it shows in diffs".to_string(),
    );
    add("min_wal_size", Value::Bytes(p.min_wal_size), &[Profile], format!("WAL kept for reuse between checkpoints (profile {})", p.name));
    let mut max_wal_size = p.max_wal_size;
    let mut max_wal_why =
        format!("checkpoints come from checkpoint_timeout, not from filling WAL, at this write rate (profile {})", p.name);
    if let Some(e) = evidence {
        let total = e.checkpoints_timed + e.checkpoints_requested;
        if total >= MIN_CHECKPOINTS_FOR_EVIDENCE && e.checkpoints_requested as f64 > total as f64 * REQUESTED_CHECKPOINT_SHARE {
            let doubled = e.current_max_wal_size.unwrap_or(p.max_wal_size) * 2;
            max_wal_size = max_wal_size.max(doubled);
            max_wal_why = format!(
                "{} of {total} checkpoints since {} were requested because WAL filled up, so at least twice the current max_wal_size (profile {} says {})",
                e.checkpoints_requested,
                e.stats_since.as_deref().unwrap_or("the last stats reset"),
                p.name,
                units::format_pg_bytes(p.max_wal_size)
            );
        }
    }
    add("max_wal_size", Value::Bytes(max_wal_size), &[Profile, Server], max_wal_why);
    add(
        "checkpoint_timeout",
        Value::Seconds(p.checkpoint_timeout),
        &[Profile],
        format!("fewer checkpoints and full-page writes, at the price of longer crash recovery (profile {})", p.name),
    );
    add(
        "checkpoint_completion_target",
        Value::Real(p.checkpoint_completion_target),
        &[Profile, PgVersion],
        format!("spread checkpoint writes over most of the interval (profile {}; PostgreSQL 14+ defaults to 0.9)", p.name),
    );

    let storage = input.host.storage.value;
    let (mut random_page_cost, mut io_concurrency) = storage_costs(storage);
    let mut io_concurrency_why = format!("storage {storage}: concurrent prefetch requests the device can serve for bitmap heap scans");
    if version >= 18 && io_concurrency < DEFAULT_IO_CONCURRENCY_18 {
        // 18's read streams issue these reads for sequential scans and VACUUM too, and
        // raised the default to 16: a queue of 16 lets even a disk that seeks reorder them.
        io_concurrency = DEFAULT_IO_CONCURRENCY_18;
        io_concurrency_why = format!(
            "storage {storage}: PostgreSQL 18's default {DEFAULT_IO_CONCURRENCY_18}, since its read streams prefetch for every scan and a queue lets the disk order its seeks"
        );
    }
    let mut random_page_why = format!("storage {storage}: random reads cost about as much as sequential ones");
    if storage == StorageKind::Hdd {
        random_page_why = format!("storage {storage}: seeks make random reads about 4× sequential");
        if let Some(size) = data_size.filter(|size| *size <= effective_cache_size) {
            random_page_cost = 1.1;
            random_page_why = format!(
                "the database ({}) fits in effective_cache_size, so even on {storage} random reads are served from memory",
                units::format_human_bytes(size)
            );
        }
    }
    add("random_page_cost", Value::Real(random_page_cost), &[Storage, DataSize], random_page_why);
    add("effective_io_concurrency", Value::Integer(io_concurrency), &[Storage], io_concurrency_why);
    if version >= 13 {
        add(
            "maintenance_io_concurrency",
            Value::Integer(io_concurrency),
            &[Storage, PgVersion],
            format!("storage {storage}: the same prefetch depth for VACUUM and other maintenance (PostgreSQL 13+)"),
        );
    }
    if version >= 18 {
        // io_method stays `worker` (the default, and the one every build has):
        // io_uring needs a build with liburing, and a server that cannot start with it.
        let io_workers = (cpus / CPUS_PER_IO_WORKER).clamp(MIN_IO_WORKERS, MAX_IO_WORKERS);
        let io_workers = if storage == StorageKind::Hdd { MIN_IO_WORKERS } else { io_workers };
        add(
            "io_workers",
            Value::Integer(io_workers as i64),
            &[Cpus, Storage, PgVersion],
            format!(
                "io_method worker (PostgreSQL 18+): processes that issue reads ahead of the scans, one per {CPUS_PER_IO_WORKER} CPUs on {storage}, at least the default {MIN_IO_WORKERS}, at most {MAX_IO_WORKERS}; a disk that seeks gains nothing from more"
            ),
        );
    }
    add(
        "default_statistics_target",
        Value::Integer(p.default_statistics_target as i64),
        &[Profile],
        format!("statistics detail for the planner (profile {})", p.name),
    );

    let max_worker_processes = (max_parallel_workers + EXTRA_BACKGROUND_WORKERS).max(DEFAULT_MAX_WORKER_PROCESSES);
    let per_gather = (cpus / 2).min(p.max_parallel_workers_per_gather_max).min(max_parallel_workers);
    let maintenance_workers = (cpus / 2).min(p.max_parallel_maintenance_workers_max).min(max_parallel_workers);
    add(
        "max_worker_processes",
        Value::Integer(max_worker_processes as i64),
        &[Cpus],
        format!("max_parallel_workers + {EXTRA_BACKGROUND_WORKERS} for logical replication and extensions, never below the default 8"),
    );
    add(
        "max_parallel_workers",
        Value::Integer(max_parallel_workers as i64),
        &[Cpus, Memory],
        if max_parallel_workers < cpus {
            format!("fewer than the {cpus} CPUs because each worker may hold work_mem and {mem_text} holds no more")
        } else {
            format!("one parallel worker per CPU ({cpus}, {}) across the server", input.host.cpus.source)
        },
    );
    add(
        "max_parallel_workers_per_gather",
        Value::Integer(per_gather as i64),
        &[Cpus, Profile],
        format!(
            "half the {cpus} CPUs, at most {} (profile {}), so one query cannot take every core",
            p.max_parallel_workers_per_gather_max, p.name
        ),
    );
    add(
        "max_parallel_maintenance_workers",
        Value::Integer(maintenance_workers as i64),
        &[Cpus, Profile],
        format!(
            "half the {cpus} CPUs, at most {} (profile {}), for parallel CREATE INDEX and VACUUM",
            p.max_parallel_maintenance_workers_max, p.name
        ),
    );

    let huge_why = if shared_buffers >= HUGE_PAGES_WORTHWHILE {
        let pages = (shared_buffers + shared_buffers / 32).div_ceil(HUGE_PAGE_SIZE);
        notes.push(format!(
            "huge pages: reserve about {pages} 2MB pages (sysctl vm.nr_hugepages={pages}); on PostgreSQL 15+ `postgres -D $PGDATA -C shared_memory_size_in_huge_pages` gives the exact number"
        ));
        format!(
            "shared_buffers of {} in huge pages saves page-table memory and TLB misses; 'try' falls back if the OS has none reserved",
            units::format_pg_bytes(shared_buffers)
        )
    } else {
        "'try' (the default) uses huge pages when the OS has them; below 2GB of shared_buffers they matter little".to_string()
    };
    add("huge_pages", Value::Enum("try".into()), &[Memory], huge_why);

    if p.wal_compression {
        let has_lz4 = evidence.is_none_or(|e| e.wal_compression_methods.is_empty() || e.wal_compression_methods.iter().any(|m| m == "lz4"));
        let (value, why) = if version >= 15 && has_lz4 {
            ("lz4", "lz4 compresses full-page images in WAL at little CPU cost (PostgreSQL 15+)")
        } else if version >= 15 {
            // "pglz" as 15+ shows it: "on" means the same, and would read as a change.
            ("pglz", "compress full-page images in WAL with pglz (this server was built without lz4)")
        } else {
            ("on", "compress full-page images in WAL with pglz (lz4 needs PostgreSQL 15+ built with it)")
        };
        add(
            "wal_compression",
            Value::Enum(value.into()),
            &[PgVersion, Profile],
            format!("{why}; less WAL to write, archive and replicate (profile {})", p.name),
        );
    }
    add(
        "jit",
        Value::Bool(p.jit),
        &[Profile],
        if p.jit {
            format!("JIT compilation pays off on long, CPU-bound queries (profile {})", p.name)
        } else {
            format!("JIT compile time dominates short queries; off (profile {})", p.name)
        },
    );
    add(
        "autovacuum_max_workers",
        Value::Integer(autovacuum_max_workers as i64),
        &[Cpus, Profile],
        format!(
            "{cpus} CPUs / {} per worker (profile {}), at least PostgreSQL's 3, at most {}",
            p.cpus_per_autovacuum_worker,
            p.name,
            p.autovacuum_max_workers_max.max(DEFAULT_AUTOVACUUM_MAX_WORKERS)
        ),
    );
    if version >= 18 && autovacuum_max_workers > DEFAULT_AUTOVACUUM_WORKER_SLOTS {
        add(
            "autovacuum_worker_slots",
            Value::Integer(autovacuum_max_workers as i64),
            &[Cpus, Profile, PgVersion],
            format!(
                "room for the {autovacuum_max_workers} autovacuum workers above (PostgreSQL 18+: autovacuum_max_workers changes at a reload, within these slots, which take a restart)"
            ),
        );
    }
    add(
        "autovacuum_vacuum_cost_limit",
        Value::Integer(p.autovacuum_vacuum_cost_limit as i64),
        &[Profile],
        format!(
            "I/O autovacuum may spend before it sleeps, shared by all workers; 200 lets bloat outrun vacuum on busy tables (profile {})",
            p.name
        ),
    );
    if let Some(factors) = &p.autovacuum_scale_factors {
        add(
            "autovacuum_vacuum_scale_factor",
            Value::Real(factors.vacuum),
            &[Profile],
            format!(
                "vacuum after {:.0}% of a table changed, not 20%: big tables bloat less (write-heavy profile {})",
                factors.vacuum * 100.0,
                p.name
            ),
        );
        add(
            "autovacuum_analyze_scale_factor",
            Value::Real(factors.analyze),
            &[Profile],
            format!(
                "analyze after {:.0}% of a table changed, not 10%: fresher statistics on big tables (profile {})",
                factors.analyze * 100.0,
                p.name
            ),
        );
        if let Some(threshold) = factors.vacuum_max_threshold.filter(|_| version >= 18) {
            add(
                "autovacuum_vacuum_max_threshold",
                Value::Integer(threshold as i64),
                &[Profile, PgVersion],
                format!(
                    "vacuum any table once {} rows are dead, however big (PostgreSQL 18+, default 100 million): at {:.0}% a billion-row table would wait for {} (profile {})",
                    units::format_count(threshold as f64),
                    factors.vacuum * 100.0,
                    units::format_count(factors.vacuum * 1e9),
                    p.name
                ),
            );
        }
        if version >= 13 {
            add(
                "autovacuum_vacuum_insert_scale_factor",
                Value::Real(factors.vacuum_insert),
                &[Profile, PgVersion],
                format!(
                    "vacuum insert-mostly tables after {:.0}% new rows, keeping the visibility map current (PostgreSQL 13+, profile {})",
                    factors.vacuum_insert * 100.0,
                    p.name
                ),
            );
        }
    }

    if let Some(e) = evidence {
        if e.client_connections >= MIN_CONNECTIONS_FOR_POOLER_ADVICE
            && e.idle_connections as f64 > e.client_connections as f64 * IDLE_CONNECTION_SHARE
        {
            let busy = e.client_connections - e.idle_connections;
            notes.push(format!(
                "{} of {} client connections are idle: put a pooler such as PgBouncer (transaction mode) in front, then lower max_connections to about {}",
                e.idle_connections,
                e.client_connections,
                (busy * 3).max(MIN_CONNECTIONS_FOR_POOLER_ADVICE)
            ));
        }
    }

    let query_memory = (backends as f64 * work_mem as f64 * hash_mem_multiplier * nodes) as u64;
    let autovacuum_memory = autovacuum_max_workers as u64 * autovacuum_work_mem;
    let budget = MemoryBudget {
        shared_buffers,
        backends,
        work_mem,
        hash_mem_multiplier,
        nodes_per_query: nodes,
        query_memory,
        autovacuum_workers: autovacuum_max_workers,
        autovacuum_work_mem,
        maintenance_work_mem,
        os_reserve,
        total: shared_buffers + query_memory + autovacuum_memory + maintenance_work_mem + os_reserve,
        limit: memory,
    };
    debug_assert!(budget.total <= budget.limit, "{budget:?}");
    if max_connections <= DEFAULT_RESERVED_CONNECTIONS {
        bail!(
            "max_connections {max_connections} ({}) leaves no connection for applications: PostgreSQL reserves {DEFAULT_RESERVED_CONNECTIONS} for superusers by default and will not start unless max_connections is larger; use at least {}",
            input.connections.source,
            DEFAULT_RESERVED_CONNECTIONS + 1
        );
    }
    for setting in &settings {
        if let Some((min, max)) = setting.out_of_bounds() {
            bail!(
                "{} would be {}, outside PostgreSQL's range of {min} to {max}: check the inputs it comes from ({})",
                setting.name,
                setting.value.to_pg(),
                setting
                    .inputs
                    .iter()
                    .filter_map(|i| serde_json::to_value(i).ok()?.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(Recommendation { settings, budget, notes })
}

fn format_multiplier(x: f64) -> String {
    Value::Real(x).to_pg()
}

#[cfg(test)]
mod tests;
