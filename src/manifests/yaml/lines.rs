//! The quickest way from a plain manifest to a JSON value: its lines read
//! straight into the value, without the events and tokens granit-parser
//! makes (about 100,000 instructions for an ordinary object, most of
//! loading). It takes the shapes manifests are written in: block mappings
//! and lists, flow collections on one line, one-line plain and quoted
//! scalars, comments. Anything else (text outside printable ASCII, tabs,
//! block scalars, anchors, aliases, tags, scalars or flow collections over
//! several lines, escapes, markers inside the document, every error) is
//! `None`, for the event path and serde-saphyr to read, so values, lines and
//! messages stay theirs. Scalars and keys are read by the event path's own
//! rules (`scalar_value`, `map_key`).

use std::borrow::Cow;

use serde_json::{Map, Value};
use serde_saphyr::granit_parser::ScalarStyle;

use super::{map_key, scalar_value};
use crate::manifests::limits::MAX_NESTING;

/// granit-parser fails on a run of comments longer than its buffer (32 with
/// our options); a run far shorter than that is left to it too.
const MAX_COMMENTS_IN_A_ROW: usize = 8;
/// granit-parser looks at most 1024 characters ahead for the `:` of a key.
const MAX_KEY_BYTES: usize = 1000;

/// The entries and items of the mappings and lists being read, which all
/// open ones share so that each is made once, at its full size.
#[derive(Default)]
pub(super) struct Buffers {
    entries: Vec<(String, Value)>,
    items: Vec<Value>,
}

/// The value of `text` (one YAML document), the 1-based line where it
/// starts and its nodes as serde-saphyr counts them; `None` when the
/// document is not for this path.
pub(super) fn read(
    text: &str,
    max_nodes: usize,
    buffers: &mut Buffers,
) -> Option<(Value, usize, usize)> {
    // Printable ASCII and newlines only: no tabs, carriage returns, BOMs or
    // characters YAML refuses, whose rules this path does not repeat.
    if !text
        .bytes()
        .all(|b| b == b'\n' || (b' '..=b'~').contains(&b))
    {
        return None;
    }
    buffers.entries.clear();
    buffers.items.clear();
    let mut lines = Lines {
        text,
        entries: &mut buffers.entries,
        items: &mut buffers.items,
        next: 0,
        number: 0,
        peeked: None,
        marker: false,
        started: false,
        comments_in_a_row: 0,
        trailing_comment: false,
        nodes: 0,
        max_nodes,
        depth: 0,
    };
    let first = lines.peek()?;
    let value = lines.node(first)?;
    // One node per document, and no marker inside it.
    if lines.peek().is_some() || lines.marker {
        return None;
    }
    Some((value, first.number, lines.nodes))
}

/// A line with content: its indentation, and the rest without the newline.
/// For the item of a block list, `rest` starts after `- ` and `indent` is
/// the column it starts at.
#[derive(Debug, Clone, Copy)]
struct Line<'t> {
    indent: usize,
    rest: &'t str,
    /// 1-based.
    number: usize,
}

impl<'t> Line<'t> {
    /// `- item` or a lone `-`.
    fn is_list_item(&self) -> bool {
        self.rest == "-" || self.rest.starts_with("- ")
    }
}

struct Lines<'t, 'b> {
    text: &'t str,
    entries: &'b mut Vec<(String, Value)>,
    items: &'b mut Vec<Value>,
    /// Byte offset of the first line not yet looked at.
    next: usize,
    /// The number of the last line looked at.
    number: usize,
    peeked: Option<Line<'t>>,
    /// A `---` or `...` line was met past the start: not one document.
    marker: bool,
    /// A line with content (or the `---` that starts the document) was met.
    started: bool,
    comments_in_a_row: usize,
    /// The line being read ends in a comment.
    trailing_comment: bool,
    nodes: usize,
    max_nodes: usize,
    /// Mappings and lists open.
    depth: usize,
}

impl<'t> Lines<'t, '_> {
    /// The next line with content, past blank and comment lines.
    fn peek(&mut self) -> Option<Line<'t>> {
        if self.peeked.is_some() {
            return self.peeked;
        }
        while self.next < self.text.len() {
            let rest_of_text = &self.text[self.next..];
            let line = rest_of_text.split('\n').next().unwrap_or_default();
            self.next += line.len() + 1;
            self.number += 1;
            let content = line.trim_start_matches(' ');
            if content.trim_end_matches(' ').is_empty() {
                continue;
            }
            if content.starts_with('#') {
                self.comments_in_a_row += 1;
                if self.comments_in_a_row > MAX_COMMENTS_IN_A_ROW {
                    self.marker = true;
                    return None;
                }
                continue;
            }
            let indent = line.len() - content.len();
            let is_marker = |m: &str| {
                content
                    .strip_prefix(m)
                    .is_some_and(|after| after.is_empty() || after.starts_with(' '))
            };
            if indent == 0 && (is_marker("---") || is_marker("...")) {
                if !self.started && content.trim_end_matches(' ') == "---" {
                    self.started = true;
                    continue;
                }
                self.marker = true;
                return None;
            }
            self.started = true;
            self.peeked = Some(Line {
                indent,
                rest: content,
                number: self.number,
            });
            return self.peeked;
        }
        None
    }

    /// Done with the line `peek` gave.
    fn advance(&mut self) {
        self.peeked = None;
        self.comments_in_a_row = usize::from(self.trailing_comment);
        self.trailing_comment = false;
    }

    fn count_node(&mut self) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= self.max_nodes).then_some(())
    }

    /// A mapping or list starts.
    fn open(&mut self) -> Option<()> {
        self.count_node()?;
        if self.depth >= MAX_NESTING {
            return None;
        }
        self.depth += 1;
        Some(())
    }

    /// A node that starts at `line` (peeked) and takes lines of its own: a
    /// block mapping or list, or a flow collection.
    fn node(&mut self, line: Line<'t>) -> Option<Value> {
        if line.is_list_item() {
            self.list(line)
        } else if line.rest.starts_with(['[', '{']) {
            let value = self.flow_on_line(line.rest)?;
            self.advance();
            Some(value)
        } else if key(line.rest).is_some() {
            self.mapping(line)
        } else {
            // A scalar on lines of its own (or over several).
            None
        }
    }

    /// A block list whose first item is `first`.
    fn list(&mut self, first: Line<'t>) -> Option<Value> {
        self.open()?;
        let column = first.indent;
        let start = self.items.len();
        let mut line = first;
        loop {
            let item = self.value_after(line, &line.rest[1..], false)?;
            self.items.push(item);
            match self.peek() {
                Some(next) if next.indent == column && next.is_list_item() => line = next,
                Some(next) if next.indent > column => return None,
                // The end of the list; what comes next is for its parent.
                _ => break,
            }
        }
        self.depth -= 1;
        Some(Value::Array(self.items.split_off(start)))
    }

    /// A block mapping whose first entry is `first`.
    fn mapping(&mut self, first: Line<'t>) -> Option<Value> {
        self.open()?;
        let column = first.indent;
        let start = self.entries.len();
        let mut line = first;
        loop {
            let (text, style, after) = key(line.rest)?;
            self.count_node()?;
            let name = map_key(Cow::Borrowed(text), style)?;
            let value = self.value_after(line, after, true)?;
            self.entries.push((name, value));
            match self.peek() {
                Some(next) if next.indent == column => line = next,
                Some(next) if next.indent > column => return None,
                _ => break,
            }
        }
        self.depth -= 1;
        self.map_from(start)
    }

    /// The value of a key (`of_key`) or list item at `line`, where `after`
    /// is the rest of the line past the `:` or `-`.
    fn value_after(&mut self, line: Line<'t>, after: &'t str, of_key: bool) -> Option<Value> {
        let content = after.trim_start_matches(' ');
        if content.is_empty() {
            self.advance();
            return self.nested_or_null(line.indent, of_key);
        }
        let item = Line {
            indent: line.indent + line.rest.len() - content.len(),
            rest: content,
            number: line.number,
        };
        // `key: - a` and `key: a: b` are errors, for serde-saphyr to word.
        if of_key && (item.is_list_item() || key(content).is_some()) {
            return None;
        }
        self.inline(item)
    }

    /// The value of a key or list item with nothing after it on its line:
    /// a node on the lines below, more indented, or for a key a list at the
    /// key's own indentation; else null.
    fn nested_or_null(&mut self, column: usize, of_key: bool) -> Option<Value> {
        match self.peek() {
            Some(next) if next.indent > column => self.node(next),
            Some(next) if of_key && next.indent == column && next.is_list_item() => self.list(next),
            _ => {
                self.count_node()?;
                Some(Value::Null)
            }
        }
    }

    /// A node that starts inside its line, after `key: ` or `- `: a
    /// mapping whose first key is there (a list item's), a flow
    /// collection, or a scalar.
    fn inline(&mut self, item: Line<'t>) -> Option<Value> {
        if item.is_list_item() {
            return None;
        }
        if key(item.rest).is_some() {
            return self.mapping(item);
        }
        let value = if item.rest.starts_with(['[', '{']) {
            self.flow_on_line(item.rest)?
        } else {
            let (text, style, after) = scalar(item.rest, false)?;
            self.end_of_line(after)?;
            self.count_node()?;
            scalar_value(text, style)?
        };
        self.advance();
        Some(value)
    }

    /// A flow collection that ends on its line.
    fn flow_on_line(&mut self, text: &'t str) -> Option<Value> {
        let (value, after) = self.flow(text)?;
        self.end_of_line(after)?;
        Some(value)
    }

    /// What may follow a node on its line: spaces, then a comment.
    fn end_of_line(&mut self, after: &str) -> Option<()> {
        let comment = after.trim_start_matches(' ');
        if comment.is_empty() {
            return Some(());
        }
        if comment.starts_with('#') && comment.len() < after.len() {
            self.trailing_comment = true;
            return Some(());
        }
        None
    }

    /// The mapping of the entries from `start` on.
    fn map_from(&mut self, start: usize) -> Option<Value> {
        let mut map = Map::with_capacity(self.entries.len() - start);
        for (key, value) in self.entries.drain(start..) {
            // A repeated key is serde-saphyr's error to word.
            if map.insert(key, value).is_some() {
                return None;
            }
        }
        Some(Value::Object(map))
    }

    /// A flow mapping or list (`text` starts with its bracket), and what
    /// follows it.
    fn flow(&mut self, text: &'t str) -> Option<(Value, &'t str)> {
        self.open()?;
        let (value, after) = if let Some(inner) = text.strip_prefix('{') {
            let start = self.entries.len();
            let after = self.flow_entries(inner, '}', Self::flow_mapping_entry)?;
            (self.map_from(start)?, after)
        } else {
            let start = self.items.len();
            let after = self.flow_entries(text.strip_prefix('[')?, ']', Self::flow_list_item)?;
            (Value::Array(self.items.split_off(start)), after)
        };
        self.depth -= 1;
        Some((value, after))
    }

    /// The entries of a flow collection up to its `close` bracket, each read
    /// by `entry`; what follows the bracket. A comma before the bracket is
    /// left to the event path.
    fn flow_entries(
        &mut self,
        inner: &'t str,
        close: char,
        entry: fn(&mut Self, &'t str) -> Option<&'t str>,
    ) -> Option<&'t str> {
        let mut rest = inner.trim_start_matches(' ');
        if let Some(after) = rest.strip_prefix(close) {
            return Some(after);
        }
        loop {
            rest = entry(self, rest)?.trim_start_matches(' ');
            if let Some(after) = rest.strip_prefix(close) {
                return Some(after);
            }
            rest = rest.strip_prefix(',')?.trim_start_matches(' ');
        }
    }

    /// `key: value` of a flow mapping, into `entries`.
    fn flow_mapping_entry(&mut self, text: &'t str) -> Option<&'t str> {
        let (key_text, style, after) = key(text)?;
        if !after.starts_with(' ') {
            return None;
        }
        self.count_node()?;
        let name = map_key(Cow::Borrowed(key_text), style)?;
        let (value, after) = self.flow_node(after.trim_start_matches(' '))?;
        self.entries.push((name, value));
        Some(after)
    }

    /// An item of a flow list, into `items`.
    fn flow_list_item(&mut self, text: &'t str) -> Option<&'t str> {
        let (item, after) = self.flow_node(text)?;
        self.items.push(item);
        Some(after)
    }

    /// A value inside a flow collection, and what follows it.
    fn flow_node(&mut self, text: &'t str) -> Option<(Value, &'t str)> {
        if text.starts_with(['[', '{']) {
            return self.flow(text);
        }
        let (scalar, style, after) = scalar(text, true)?;
        // `[a: b]` is a mapping inside a list: not for this path.
        if after.trim_start_matches(' ').starts_with(':') {
            return None;
        }
        self.count_node()?;
        Some((scalar_value(scalar, style)?, after))
    }
}

/// A key at the start of `text` followed by `:` and a space or the end of
/// the line: its text, style and what follows the `:`. Plain keys of the
/// characters Kubernetes keys are made of, and quoted keys without escapes.
fn key(text: &str) -> Option<(&str, ScalarStyle, &str)> {
    let (key, style, after) = match text.as_bytes().first()? {
        b'"' | b'\'' => quoted(text)?,
        first if first.is_ascii_alphanumeric() || b"._/".contains(first) => {
            let end = text
                .bytes()
                .position(|b| !(b.is_ascii_alphanumeric() || b"._/-".contains(&b)))
                .unwrap_or(text.len());
            (
                Cow::Borrowed(&text[..end]),
                ScalarStyle::Plain,
                &text[end..],
            )
        }
        _ => return None,
    };
    let Cow::Borrowed(key) = key else {
        return None;
    };
    if key.len() > MAX_KEY_BYTES {
        return None;
    }
    let after = after.strip_prefix(':')?;
    (after.is_empty() || after.starts_with(' ')).then_some((key, style, after))
}

/// A quoted scalar at the start of `text` that ends on its line, without
/// escapes: its text, style and what follows it.
fn quoted(text: &str) -> Option<(Cow<'_, str>, ScalarStyle, &str)> {
    let quote = text.as_bytes().first()?;
    let inner = &text[1..];
    let end = inner.bytes().position(|b| b == *quote)?;
    let content = &inner[..end];
    let after = &inner[end + 1..];
    match quote {
        b'"' if !content.contains('\\') => {
            Some((Cow::Borrowed(content), ScalarStyle::DoubleQuoted, after))
        }
        // `''` is a quote inside the text: left to the event path.
        b'\'' if !after.starts_with('\'') => {
            Some((Cow::Borrowed(content), ScalarStyle::SingleQuoted, after))
        }
        _ => None,
    }
}

/// A scalar at the start of `text`, plain or quoted, and what follows it on
/// its line (a plain scalar takes the line up to a comment, or in a flow
/// collection up to the next indicator).
fn scalar(text: &str, in_flow: bool) -> Option<(Cow<'_, str>, ScalarStyle, &str)> {
    let bytes = text.as_bytes();
    let first = *bytes.first()?;
    if first == b'"' || first == b'\'' {
        return quoted(text);
    }
    // Indicators that start something else; `-` starts a plain scalar
    // such as `-v` or `--flag` when a character of the word follows it.
    let plain_dash = first == b'-'
        && bytes
            .get(1)
            .is_some_and(|b| b.is_ascii_alphanumeric() || b".-".contains(b));
    if b"-?:,[]{}#&*!|>%@`".contains(&first) && !plain_dash {
        return None;
    }
    let end = if in_flow {
        let end = bytes
            .iter()
            .position(|b| b",[]{}:#".contains(b))
            .unwrap_or(bytes.len());
        // A `:` or `#` inside a flow scalar: left to the event path.
        if bytes.get(end).is_some_and(|b| b":#".contains(b)) {
            return None;
        }
        end
    } else {
        text.find(" #").unwrap_or(text.len())
    };
    let plain = text[..end].trim_end_matches(' ');
    if plain.is_empty() || plain.contains(": ") || plain.ends_with(':') {
        return None;
    }
    Some((Cow::Borrowed(plain), ScalarStyle::Plain, &text[end..]))
}
