//! `pgadvise snapshot`: the server's catalog → one versioned JSON file.

use crate::catalog::Snapshot;
use crate::cli::SnapshotArgs;
use crate::error::Exit;
use crate::pg::{self, catalog, settings};
use anyhow::{bail, Context, Result};
use std::io::Write;

pub fn run(args: &SnapshotArgs, out: &mut dyn Write) -> Result<Exit> {
    let Some(url) = &args.db.db else {
        bail!("snapshot reads a server: add --db URL (or --db alone for the PG* environment variables)");
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    let snapshot = runtime.block_on(async {
        let connection = super::connect(&args.db, url, false).await?;
        let state = settings::read_state(&connection.client).await?;
        let database = pg::connect::query(&connection.client, "SELECT current_database()::text", "the database name").await?[0].get(0);
        let catalog = catalog::read_all(&connection.client).await?;
        anyhow::Ok(Snapshot::new(state.version.clone(), state.version_num, database, catalog))
    })?;
    let text = serde_json::to_string_pretty(&snapshot)? + "\n";
    match &args.output {
        Some(path) => crate::files::write_atomically(path, &text, true).with_context(|| format!("cannot write {}", path.display()))?,
        None => out.write_all(text.as_bytes())?,
    }
    Ok(Exit::Success)
}
