//! Turning reports into text: tables for people, SQL and conf snippets for
//! servers, JSON for tools, Markdown for pull requests. Renderers compute no advice.

mod advise;
mod compare;
mod explain;
mod flame;
mod json;
mod tune;

pub use advise::{advise_markdown, advise_table};
pub use compare::{compare_json, compare_markdown, compare_table};
pub use explain::{ExplainFormat, ExplainRenderer, PlanPart, ReportFormat};
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

/// Lines of `text` that start with `prefix` (`note: `, `- `) and are wider than
/// `width`, wrapped at spaces, continued under their first word: a note reads as
/// a paragraph on an 80-column terminal, not as one long line.
pub(crate) fn wrap_prefixed(text: &str, prefix: &str, width: u16) -> String {
    let width = usize::from(width).max(40);
    let indent = " ".repeat(prefix.chars().count());
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        if !body.starts_with(prefix) || body.chars().count() <= width {
            out.push_str(line);
            continue;
        }
        let mut current = String::new();
        for word in body.split(' ') {
            if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
                out.push_str(current.trim_end());
                out.push('\n');
                current = indent.clone();
            } else if !current.is_empty() && current != indent {
                current.push(' ');
            }
            current.push_str(word);
        }
        out.push_str(&current);
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_notes_wrap_under_their_first_word() {
        let text = "title\nnote: one two three four five six seven eight nine ten eleven twelve thirteen fourteen\nother line\n";
        let wrapped = wrap_prefixed(text, "note: ", 40);
        assert_eq!(
            wrapped,
            "title\nnote: one two three four five six seven\n      eight nine ten eleven twelve\n      thirteen fourteen\nother line\n"
        );
        assert!(wrapped.lines().all(|l| l.chars().count() <= 40));
        assert_eq!(wrap_prefixed("note: short\n", "note: ", 40), "note: short\n");
    }
}
