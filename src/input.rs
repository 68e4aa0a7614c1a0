//! A value together with where it came from, so every input the advice rests
//! on can be shown with its origin (detected, flag, profile, server, default).

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Source {
    /// Read off this machine; the detail names where (e.g. `cgroup v2 memory.max`).
    Detected(String),
    /// Given on the command line; the detail is the flag.
    Flag(String),
    /// The workload profile's default; the detail is the profile name.
    Profile(String),
    /// Read from the live server; the detail names the view.
    Server(String),
    /// Nothing better was known; the detail says why.
    Default(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Detected(d) => write!(f, "detected ({d})"),
            Source::Flag(d) => write!(f, "flag {d}"),
            Source::Profile(d) => write!(f, "profile {d}"),
            Source::Server(d) => write!(f, "server ({d})"),
            Source::Default(d) => write!(f, "default ({d})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    pub fn new(value: T, source: Source) -> Self {
        Sourced { value, source }
    }
}
