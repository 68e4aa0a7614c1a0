//! pg_stat_statements texts made plannable again.
//!
//! pg_stat_statements replaces each constant with `$n`, including the string of a
//! typed literal: `interval '90 days'` becomes `interval $3`, `date '2024-01-01'`
//! becomes `date $1`. PostgreSQL's grammar takes only a string there, so PREPARE
//! (and sqlparser) reject the text, and the statement would never be planned. The
//! cast `$3::interval` means the same to the planner: a value of that type. Only
//! text outside strings, quoted names and comments is touched.

use super::lexical::{is_word_byte, kinds, Kind};
use std::borrow::Cow;

/// Type names that can precede a string in a typed literal, longest first so that
/// `timestamp with time zone $1` is not read as `timestamp` then words.
const TYPE_NAMES: &[&str] = &[
    "timestamp without time zone",
    "timestamp with time zone",
    "time without time zone",
    "time with time zone",
    "character varying",
    "double precision",
    "timestamptz",
    "timestamp",
    "interval",
    "timetz",
    "date",
    "time",
    "numeric",
    "decimal",
    "bigint",
    "integer",
    "smallint",
    "int8",
    "int4",
    "int2",
    "int",
    "real",
    "float8",
    "float4",
    "float",
    "boolean",
    "bool",
    "text",
    "varchar",
    "character",
    "char",
    "bpchar",
    "name",
    "jsonb",
    "json",
    "uuid",
    "inet",
    "cidr",
    "macaddr",
    "bytea",
    "money",
    "xml",
    "tsquery",
    "tsvector",
    "regclass",
    "oid",
];

/// `text` with each `type $n` typed literal written as `$n::type`; unchanged (and
/// not copied) when it has none.
pub fn plannable(text: &str) -> Cow<'_, str> {
    let code: Vec<bool> = kinds(text).into_iter().map(|k| k == Kind::Code).collect();
    let bytes = text.as_bytes();
    let mut rewrites: Vec<(usize, usize, String)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let word_start = i == 0 || !is_word_byte(bytes[i - 1]);
        if code[i] && word_start && bytes[i].is_ascii_alphabetic() {
            if let Some((end, replacement)) = typed_placeholder(text, &code, i) {
                rewrites.push((i, end, replacement));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    if rewrites.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + rewrites.len() * 2);
    let mut at = 0;
    for (start, end, replacement) in rewrites {
        out.push_str(&text[at..start]);
        out.push_str(&replacement);
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// At `start`, a type name (with an optional `(precision)`) then `$n`: the end of
/// the match and its rewrite.
fn typed_placeholder(text: &str, code: &[bool], start: usize) -> Option<(usize, String)> {
    let bytes = text.as_bytes();
    for name in TYPE_NAMES {
        let Some(after_name) = match_words(text, start, name) else { continue };
        let mut at = after_name;
        let mut modifier = "";
        let spaced = skip_spaces(bytes, at);
        if bytes.get(spaced) == Some(&b'(') {
            let close = spaced + text[spaced..].find(')')?;
            if !text[spaced + 1..close].chars().all(|c| c.is_ascii_digit() || c == ',' || c == ' ') {
                return None;
            }
            modifier = &text[spaced..=close];
            at = close + 1;
        }
        let dollar = skip_spaces(bytes, at);
        if dollar == at || bytes.get(dollar) != Some(&b'$') || !code[dollar] {
            return None;
        }
        let digits = bytes[dollar + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || bytes.get(dollar + 1 + digits).is_some_and(|b| is_word_byte(*b)) {
            return None;
        }
        let end = dollar + 1 + digits;
        let written = &text[start..after_name];
        return Some((end, format!("{}::{written}{modifier}", &text[dollar..end])));
    }
    None
}

/// The end of `words` (space-separated, matched case-insensitively, any run of
/// spaces between them) at `start`, when they are there as whole words.
fn match_words(text: &str, start: usize, words: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = start;
    for (n, word) in words.split(' ').enumerate() {
        if n > 0 {
            let next = skip_spaces(bytes, at);
            if next == at {
                return None;
            }
            at = next;
        }
        let end = at + word.len();
        if end > bytes.len() || !bytes[at..end].eq_ignore_ascii_case(word.as_bytes()) {
            return None;
        }
        at = end;
    }
    (!bytes.get(at).is_some_and(|b| is_word_byte(*b))).then_some(at)
}

fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_typed_literal_form_pg_stat_statements_writes() {
        for (normalized, plannable_text) in [
            ("created_at > $2::timestamptz - interval $3", "created_at > $2::timestamptz - $3::interval"),
            ("d = date $1", "d = $1::date"),
            ("t < timestamp $1", "t < $1::timestamp"),
            ("t < TIMESTAMP WITH TIME ZONE $1", "t < $1::TIMESTAMP WITH TIME ZONE"),
            ("t < timestamp  without time zone $12", "t < $12::timestamp  without time zone"),
            ("at = time $1", "at = $1::time"),
            ("at = timetz $1", "at = $1::timetz"),
            ("n = numeric(10,2) $1", "n = $1::numeric(10,2)"),
            ("t > timestamp(3) $4", "t > $4::timestamp(3)"),
            ("age < interval $1 day", "age < $1::interval day"),
            ("x = double precision $1", "x = $1::double precision"),
            ("id = uuid $1 and j @> jsonb $2", "id = $1::uuid and j @> $2::jsonb"),
        ] {
            assert_eq!(plannable(normalized), plannable_text, "{normalized}");
        }
    }

    #[test]
    fn leaves_everything_else_alone() {
        for text in [
            "select date, time from t where date = $1",
            "select 'interval $1' from t",
            "select \"date\" $1",
            "select 1 -- interval $1\n",
            "select $$ date $1 $$",
            "select $1::date, interval '1 day'",
            "select update_date $1",
            "select intervals $1",
            "select date $1x",
        ] {
            assert!(matches!(plannable(text), Cow::Borrowed(_)), "{text} changed to {}", plannable(text));
        }
    }

    #[test]
    fn the_repaired_forms_parse() {
        for text in [
            "SELECT * FROM t WHERE created_at > $2::timestamptz - interval $3",
            "SELECT * FROM t WHERE d BETWEEN date $1 AND date $2",
            "SELECT * FROM t WHERE t > now() - interval $1 day",
        ] {
            let repaired = plannable(text);
            assert!(crate::sql::statements::parse_file(&repaired).is_ok(), "{repaired}");
        }
    }
}
