//! pgadvise: PostgreSQL tuning and query advice.
//!
//! Data flows one way: sources (`host`, `profile`, `pg`, `workload`, `catalog`)
//! produce plain data, advisors (`tune`, `plan`, `advise`) turn it into
//! recommendations whose changes are [`action::Action`]s, renderers (`render`,
//! `migrate`) into text, and only `apply` changes a server.

pub mod action;
pub mod advise;
pub mod apply;
pub mod catalog;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod error;
pub mod files;
pub mod finding;
pub mod halves;
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
