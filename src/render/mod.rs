//! Turning reports into text: tables for people, SQL and conf snippets for
//! servers, JSON for tools, Markdown for pull requests. Renderers compute no advice.

mod advise;
mod explain;
mod tune;

pub use advise::{advise_markdown, advise_table};
pub use explain::{explain_json, explain_markdown, explain_table, ReportFormat};
pub use tune::*;

use comfy_table::{presets, ContentArrangement, Table};

/// The most characters a table cell shows of one text. A filter with a 20,000-id IN
/// list is 100 KB, which no one reads in a terminal, and which comfy-table wraps in
/// time quadratic in its length; JSON and Markdown keep all of it.
const CELL_MAX_CHARS: usize = 600;

/// `text` cut to what a table cell shows, saying how much was left out.
pub(crate) fn clip(text: &str) -> String {
    match text.char_indices().nth(CELL_MAX_CHARS) {
        None => text.to_string(),
        Some((cut, _)) => {
            let rest = text[cut..].chars().count();
            format!("{}… ({rest} more characters: --format json shows all)", &text[..cut])
        }
    }
}

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
