//! Quoting for SQL we generate: identifiers only when PostgreSQL needs it, literals always.

use std::borrow::Cow;

/// Keywords that cannot be used as bare identifiers in every position.
/// (PostgreSQL's reserved and type/function-name-restricted keywords.) Sorted:
/// looked up by binary search, once per identifier of every suggestion.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// Quotes an identifier exactly when PostgreSQL needs it: upper case, spaces,
/// quotes, non-ASCII, a leading digit, or a reserved word.
/// Borrowed when it needs no quotes, as most names do.
pub fn quote_ident(name: &str) -> Cow<'_, str> {
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'$')
        && RESERVED.binary_search(&name).is_err();
    if plain {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("\"{}\"", name.replace('"', "\"\"")))
    }
}

/// Quotes a string literal as PostgreSQL's own `quote_literal` does: single quotes
/// doubled, and, when the value holds a backslash, backslashes doubled inside an
/// `E'...'` literal. That reads the same whether `standard_conforming_strings` is
/// on or off, so a value can never end the literal early on a legacy database.
pub fn quote_literal(value: &str) -> String {
    let quoted = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

/// Text made safe to follow `-- ` in generated SQL (or `# ` in a conf file): a
/// line break would end the comment and let the rest of the text (an identifier
/// named `"t<newline>DROP TABLE x;--"`, say) run as SQL, so every control
/// character, and the Unicode line and paragraph separators, is written as a
/// visible escape instead.
pub fn comment_text(text: &str) -> String {
    if !text.chars().any(needs_escape_in_comment) {
        return text.to_string();
    }
    text.chars().map(|c| if needs_escape_in_comment(c) { c.escape_default().to_string() } else { c.to_string() }).collect()
}

fn needs_escape_in_comment(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_words_are_sorted_for_the_binary_search() {
        assert!(RESERVED.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(quote_ident("select"), "\"select\"");
        assert_eq!(quote_ident("zone"), "zone");
    }

    #[test]
    fn quotes_identifiers_only_when_needed() {
        assert_eq!(quote_ident("shared_buffers"), "shared_buffers");
        assert_eq!(quote_ident("Users"), "\"Users\"");
        assert_eq!(quote_ident("order"), "\"order\"");
        assert_eq!(quote_ident("my table"), "\"my table\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("1st"), "\"1st\"");
        assert_eq!(quote_ident("città"), "\"città\"");
    }

    #[test]
    fn quotes_literals() {
        assert_eq!(quote_literal("16GB"), "'16GB'");
        assert_eq!(quote_literal("it's"), "'it''s'");
        // As PostgreSQL's quote_literal: E'' and doubled backslashes, safe under
        // standard_conforming_strings = off, where '\'' would end the literal early.
        assert_eq!(quote_literal("\\'; DROP TABLE t; --"), "E'\\\\''; DROP TABLE t; --'");
        assert_eq!(quote_literal("C:\\dir"), "E'C:\\\\dir'");
    }

    #[test]
    fn comment_text_cannot_end_the_comment() {
        assert_eq!(comment_text("orders_status_idx"), "orders_status_idx");
        let hostile = "ev\nCREATE TABLE pwned1();--";
        assert_eq!(comment_text(hostile), "ev\\nCREATE TABLE pwned1();--");
        for c in ['\r', '\n', '\u{b}', '\u{c}', '\u{85}', '\u{2028}', '\u{2029}', '\0'] {
            let text = comment_text(&format!("a{c}b"));
            assert!(!text.contains(c), "{c:?} survived in {text:?}");
            assert_eq!(text.lines().count(), 1);
        }
        assert_eq!(comment_text("città ✓"), "città ✓");
    }
}
