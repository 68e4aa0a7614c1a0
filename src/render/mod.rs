//! Turning reports into text: tables for people, SQL and conf snippets for
//! servers, JSON for tools, Markdown for pull requests. Renderers compute no advice.

mod advise;
mod explain;
mod tune;

pub use advise::{advise_markdown, advise_table};
pub use explain::{explain_json, explain_markdown, explain_table, ReportFormat};
pub use tune::*;

use comfy_table::{presets, ContentArrangement, Table};

pub(crate) fn new_table(width: u16, header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(header.to_vec());
    if std::env::var_os("NO_COLOR").is_some() {
        table.force_no_tty();
    }
    table
}
