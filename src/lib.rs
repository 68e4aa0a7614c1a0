//! pgadvise: PostgreSQL tuning and query advice.
//!
//! Data flows one way: sources (`host`, `profile`, `pg`) produce plain data,
//! advisors (`tune`) turn it into recommendations, renderers (`render`) into
//! text, and only `apply` changes a server. See ARCHITECTURE.md in the docs.

pub mod advise;
pub mod apply;
pub mod catalog;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod error;
pub mod files;
pub mod finding;
pub mod host;
pub mod input;
pub mod migrate;
pub mod pg;
pub mod plan;
pub mod profile;
pub mod render;
pub mod sql;
pub mod tune;
pub mod units;
pub mod workload;
