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

/// Writes `value` as serde_json's `to_writer_pretty` does, faster on deep values,
/// for a value `depth` containers down (0 for a whole document): its lines
/// indented as they are in the whole document.
pub fn write_pretty_at<W: Write, T: Serialize + ?Sized>(out: W, value: &T, depth: usize) -> serde_json::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, Indented { depth, has_value: false });
    value.serialize(&mut serializer)
}

/// A JSON object or array written item by item, laid out as [`write_pretty_at`]
/// lays out the whole: for a document some of whose values were written
/// beforehand, elsewhere (the JSON of a plan of 100,000 nodes, written on a
/// thread of its own while the plan is diagnosed).
pub struct Container<'w, W: Write> {
    out: &'w mut W,
    /// Containers around this one.
    depth: usize,
    items: usize,
    close: &'static [u8],
}

impl<'w, W: Write> Container<'w, W> {
    pub fn object(out: &'w mut W, depth: usize) -> io::Result<Self> {
        out.write_all(b"{")?;
        Ok(Container { out, depth, items: 0, close: b"}" })
    }

    pub fn array(out: &'w mut W, depth: usize) -> io::Result<Self> {
        out.write_all(b"[")?;
        Ok(Container { out, depth, items: 0, close: b"]" })
    }

    /// Starts the next item of an array; the writer is where its value goes.
    pub fn item(&mut self) -> io::Result<&mut W> {
        if self.items > 0 {
            self.out.write_all(b",")?;
        }
        self.items += 1;
        newline_and_indent(self.out, self.depth + 1)?;
        Ok(self.out)
    }

    /// Starts the next field of an object; the writer is where its value goes.
    pub fn key(&mut self, name: &str) -> io::Result<&mut W> {
        let out = self.item()?;
        serde_json::to_writer(&mut *out, name)?;
        out.write_all(b": ")?;
        Ok(out)
    }

    /// A field whose value is serialized here.
    pub fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> serde_json::Result<()> {
        let depth = self.depth + 1;
        write_pretty_at(self.key(name).map_err(serde_json::Error::io)?, value, depth)
    }

    /// How deep this container's values are: what [`write_pretty_at`] takes for them.
    pub fn value_depth(&self) -> usize {
        self.depth + 1
    }

    pub fn end(self) -> io::Result<()> {
        if self.items > 0 {
            newline_and_indent(self.out, self.depth)?;
        }
        self.out.write_all(self.close)
    }
}

/// Bytes kept in blocks of a fixed size: a document of hundreds of MB is never
/// copied into a larger buffer as it grows (nor held twice while it is).
#[derive(Default)]
pub struct Blocks {
    full: Vec<Vec<u8>>,
    current: Vec<u8>,
}

/// The size of a block: large enough that a block's overhead is nothing, small
/// enough that the last one's unused room is nothing either.
const BLOCK: usize = 1 << 20;

impl Blocks {
    pub fn write_to<W: ?Sized + Write>(&self, out: &mut W) -> io::Result<()> {
        for block in self.full.iter().chain([&self.current]) {
            out.write_all(block)?;
        }
        Ok(())
    }
}

impl Write for Blocks {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.current.capacity() - self.current.len() < bytes.len() {
            let next = Vec::with_capacity(BLOCK.max(bytes.len()));
            let full = std::mem::replace(&mut self.current, next);
            if !full.is_empty() {
                self.full.push(full);
            }
        }
        self.current.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn newline_and_indent<W: ?Sized + Write>(out: &mut W, depth: usize) -> io::Result<()> {
    out.write_all(b"\n")?;
    let mut left = depth * INDENT.len();
    while left > 0 {
        let now = left.min(SPACES.len());
        out.write_all(&SPACES[..now])?;
        left -= now;
    }
    Ok(())
}

#[derive(Default)]
struct Indented {
    depth: usize,
    has_value: bool,
}

impl Indented {
    fn newline_and_indent<W: ?Sized + Write>(&self, out: &mut W) -> io::Result<()> {
        newline_and_indent(out, self.depth)
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
        write_pretty_at(&mut out, value, 0).unwrap();
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
    fn blocks_give_back_what_was_written_in_order() {
        let mut blocks = Blocks::default();
        let mut expected = Vec::new();
        // Small writes across block boundaries, one larger than a block, an empty one.
        let pieces = [vec![b'a'; BLOCK - 3], vec![b'b'; 7], vec![b'c'; BLOCK * 2 + 1], Vec::new(), vec![b'd'; 5]];
        for piece in &pieces {
            blocks.write_all(piece).unwrap();
            expected.extend_from_slice(piece);
        }
        let mut out = Vec::new();
        blocks.write_to(&mut out).unwrap();
        assert!(out == expected, "{} bytes back of {}", out.len(), expected.len());
        assert!(blocks.full.iter().all(|block| !block.is_empty()));
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
