//! Everything that talks to a PostgreSQL server. Nothing outside this module
//! (and `apply`) opens a connection.

pub mod catalog;
pub mod connect;
pub mod conninfo;
pub mod explain;
pub mod hypopg;
pub mod qualstats;
pub mod session;
pub mod settings;
pub mod statements;
pub mod tls;
pub mod whatif;

pub use connect::{connect, ConnectOptions, Connection};
