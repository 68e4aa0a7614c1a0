//! What each byte of SQL text is: code, inside a quoted string, name or
//! dollar-quoted body, or inside a comment. One scan that the statement splitter
//! and the repair of normalized texts share, so they agree on where quotes and
//! comments begin and end.

/// The kind of text a byte belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Code,
    /// A `'string'`, a `"name"` or a `$tag$ body $tag$`, its delimiters included.
    Quoted,
    /// A `-- line` or `/* block */` comment.
    Comment,
}

/// One kind per byte of `text`. Unterminated quotes and comments run to the end.
pub fn kinds(text: &str) -> Vec<Kind> {
    let bytes = text.as_bytes();
    let mut kinds = vec![Kind::Code; bytes.len()];
    let mut i = 0;
    while i < bytes.len() {
        let (end, kind) = match bytes[i] {
            quote @ (b'\'' | b'"') => {
                let mut j = i + 1;
                let end = loop {
                    match bytes.get(j) {
                        None => break j,
                        Some(&b) if b == quote && bytes.get(j + 1) == Some(&quote) => j += 2,
                        Some(&b) if b == quote => break j + 1,
                        Some(_) => j += 1,
                    }
                };
                (end, Kind::Quoted)
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => (text[i..].find('\n').map_or(bytes.len(), |n| i + n), Kind::Comment),
            b'/' if bytes.get(i + 1) == Some(&b'*') => (text[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2), Kind::Comment),
            b'$' if i == 0 || !is_word_byte(bytes[i - 1]) => match dollar_tag(&text[i..]) {
                Some(tag) => (text[i + tag.len()..].find(tag).map_or(bytes.len(), |n| i + tag.len() + n + tag.len()), Kind::Quoted),
                None => (i + 1, Kind::Code),
            },
            _ => (i + 1, Kind::Code),
        };
        kinds[i..end].iter_mut().for_each(|k| *k = kind);
        i = end.max(i + 1);
    }
    kinds
}

/// The statement's command word (`SELECT`, `ALTER`...), upper-cased, after any
/// leading comments; `(` for a parenthesized query; `None` for no code at all.
pub fn command(text: &str) -> Option<String> {
    let kinds = kinds(text);
    let bytes = text.as_bytes();
    let start = (0..bytes.len()).find(|&i| kinds[i] == Kind::Code && !bytes[i].is_ascii_whitespace())?;
    if bytes[start] == b'(' {
        return Some("(".into());
    }
    let end = (start..bytes.len()).find(|&i| !bytes[i].is_ascii_alphabetic()).unwrap_or(bytes.len());
    Some(text[start..end].to_ascii_uppercase())
}

/// Whether the statement is one the planner plans (and an index can speed up):
/// a query or DML, not DDL, `SET`, `ALTER SYSTEM`, `VACUUM` or a transaction command.
pub fn is_plannable(text: &str) -> bool {
    command(text)
        .is_some_and(|c| matches!(c.as_str(), "(" | "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "WITH" | "MERGE" | "VALUES" | "TABLE"))
}

/// A byte that can continue an identifier (or a `$n` placeholder).
pub fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || byte >= 0x80
}

/// `$tag$` or `$$` at the start of `text` (not a `$1` placeholder).
fn dollar_tag(text: &str) -> Option<&str> {
    let rest = &text[1..];
    let close = rest.find('$')?;
    let tag = &rest[..close];
    let valid = tag.chars().all(|c| c.is_alphanumeric() || c == '_') && !tag.starts_with(|c: char| c.is_ascii_digit());
    valid.then(|| &text[..close + 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plannable_statements_are_queries_and_dml_after_any_comment() {
        assert!(is_plannable("/* app:checkout */ -- x\n  select 1"));
        assert!(is_plannable("(SELECT 1) UNION (SELECT 2)"));
        assert!(is_plannable("WITH x AS (SELECT 1) DELETE FROM t"));
        for utility in
            ["ALTER SYSTEM SET work_mem = $1", "SET search_path = x", "VACUUM t", "BEGIN", "CREATE INDEX i ON t (a)", "", "-- only"]
        {
            assert!(!is_plannable(utility), "{utility}");
        }
        assert_eq!(command("/* pgadvise */ EXPLAIN SELECT 1").as_deref(), Some("EXPLAIN"));
    }

    fn show(text: &str) -> String {
        kinds(text)
            .iter()
            .map(|k| match k {
                Kind::Code => 'c',
                Kind::Quoted => 'q',
                Kind::Comment => '-',
            })
            .collect()
    }

    #[test]
    fn quotes_comments_and_dollar_bodies() {
        assert_eq!(show("a 'b''c' d"), "ccqqqqqqcc");
        assert_eq!(show("x -- y\nz"), "cc----cc");
        assert_eq!(show("x /* ; */ y"), "cc-------cc");
        assert_eq!(show("$f$ ; $f$;"), "qqqqqqqqqc");
        assert_eq!(show("$1 $$;$$"), "cccqqqqq");
        assert_eq!(show("'open"), "qqqqq");
    }
}
