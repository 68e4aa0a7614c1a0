//! Indented JSON, byte for byte as `serde_json::to_writer_pretty` writes it, for
//! reports too large to hold twice.
//!
//! serde_json's pretty formatter writes a line's indentation one level at a time,
//! a separate write for each; a node deep in a plan of 10,000 partitions is a
//! dozen levels down on each of its lines, and those writes were a fifth of the
//! time of `explain --format json`. Here each indentation is one write.

use serde::Serialize;
use serde_json::ser::Formatter;
use std::io::{self, Write};

/// Two spaces a level, as serde_json's pretty printer indents.
const INDENT: &[u8] = b"  ";
/// Spaces written at once; deeper indentation takes several writes.
const SPACES: &[u8; 128] = &[b' '; 128];

/// Writes `value` as serde_json's `to_writer_pretty` does, faster on deep values.
pub fn write_pretty<W: Write, T: Serialize + ?Sized>(out: W, value: &T) -> serde_json::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, Indented::default());
    value.serialize(&mut serializer)
}

#[derive(Default)]
struct Indented {
    depth: usize,
    has_value: bool,
}

impl Indented {
    fn newline_and_indent<W: ?Sized + Write>(&self, out: &mut W) -> io::Result<()> {
        out.write_all(b"\n")?;
        let mut left = self.depth * INDENT.len();
        while left > 0 {
            let now = left.min(SPACES.len());
            out.write_all(&SPACES[..now])?;
            left -= now;
        }
        Ok(())
    }

    fn open<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        out.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.newline_and_indent(out)?;
        }
        out.write_all(bracket)
    }

    fn item<W: ?Sized + Write>(&self, out: &mut W, first: bool) -> io::Result<()> {
        if !first {
            out.write_all(b",")?;
        }
        self.newline_and_indent(out)
    }
}

impl Formatter for Indented {
    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.item(out, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.item(out, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn ours(value: &Value) -> String {
        let mut out = Vec::new();
        write_pretty(&mut out, value).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_what_serde_json_pretty_writes() {
        let cases = [
            json!(null),
            json!([]),
            json!({}),
            json!([[], {}, [[]], {"a": {}}]),
            json!({"a": 1, "b": [1, 2.5, "x\"y\n"], "c": {"d": null, "e": [true, false]}, "f": []}),
        ];
        for value in cases {
            assert_eq!(ours(&value), serde_json::to_string_pretty(&value).unwrap(), "{value}");
        }
    }

    #[test]
    fn indents_past_the_spaces_it_writes_at_once() {
        // 100 levels: 200 spaces on the innermost line, more than one write's 128.
        let mut value = json!(["leaf"]);
        for level in 0..100 {
            value = if level % 2 == 0 { json!({ "k": value }) } else { json!([value, 1]) };
        }
        let written = ours(&value);
        assert_eq!(written, serde_json::to_string_pretty(&value).unwrap());
        assert!(written.lines().any(|line| line.len() - line.trim_start().len() > SPACES.len()));
    }
}
