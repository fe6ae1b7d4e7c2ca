//! The quick ways from one YAML document to a JSON value. First its lines,
//! read straight into the value (`lines.rs`: plain manifests, most of
//! them); else granit-parser's events (the parser serde-saphyr reads with,
//! under the same options) built into a `serde_json::Value`. Each takes only
//! what it can read exactly as serde-saphyr would: mappings with string
//! keys, lists, untagged scalars, no anchors, aliases, tags or merge keys,
//! nothing near a limit. Anything else, and every error, is left to
//! serde-saphyr, so values, lines, messages and limits are serde-saphyr's
//! whatever the input.
//!
//! serde-saphyr records each mapping entry as events and replays it into the
//! value, which costs more than parsing itself; granit-parser's events cost
//! most of the rest.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

use super::limits::MAX_NESTING;

mod lines;

/// Limits of serde-saphyr's default budget that ours leaves as they are
/// (see [`super::limits::NodeBudget::yaml_options`]): a document this path
/// would take past one of them is left to serde-saphyr, which reports it.
const MAX_EVENTS: usize = 1_000_000;
const MAX_SCALAR_BYTES: usize = 64 * 1024 * 1024;
const MAX_COMMENT_BYTES: usize = 64 * 1024 * 1024;
/// serde-saphyr's defaults for the parser options it sets from its budget.
const SIMPLE_KEY_MAX_LOOKAHEAD: usize = 1024;
const MAX_BUFFERED_COMMENT_EVENTS: usize = 32;
const BLOCK_NESTING_LIMIT: usize = 255;

/// serde_json reads a mapping whose key is this as a raw JSON value.
const RAW_VALUE_KEY: &str = "$serde_json::private::RawValue";

/// What the quick path made of a document.
#[derive(Debug, PartialEq)]
pub enum Quick {
    /// No node at all: only comments, directives or markers.
    Empty,
    Value {
        value: Value,
        /// 1-based line of the document text where the value starts.
        line: usize,
        /// YAML nodes, counted as serde-saphyr's budget counts them.
        nodes: usize,
    },
    /// Not for this path: serde-saphyr is to read the document.
    Unsure,
}

/// Reads documents, keeping its buffers from one to the next.
#[derive(Default)]
pub struct Reader {
    lines: lines::Buffers,
    open: Vec<Open>,
    entries: Vec<(String, Value)>,
    items: Vec<Value>,
}

impl Reader {
    /// Reads `text` (one YAML document) when it is plain enough, with at
    /// most `max_nodes` nodes.
    pub fn read_document(&mut self, text: &str, max_nodes: usize) -> Quick {
        match lines::read(text, max_nodes, &mut self.lines) {
            Some((value, line, nodes)) => Quick::Value { value, line, nodes },
            None => self.read_events(text, max_nodes),
        }
    }

    /// The document read from granit-parser's events.
    fn read_events(&mut self, text: &str, max_nodes: usize) -> Quick {
        self.open.clear();
        self.entries.clear();
        self.items.clear();
        let builder = Builder {
            max_nodes,
            nodes: 0,
            events: 0,
            scalar_bytes: 0,
            comment_bytes: 0,
            documents: 0,
            open: &mut self.open,
            entries: &mut self.entries,
            items: &mut self.items,
            root: None,
        };
        builder.run(text).unwrap_or(Quick::Unsure)
    }
}

/// The options serde-saphyr gives granit-parser for our budget: the same
/// parser, set the same way, accepts and refuses the same documents.
fn parser_options() -> serde_saphyr::granit_parser::Options {
    let mut options = serde_saphyr::granit_parser::Options::default();
    options.simple_key_max_lookahead = SIMPLE_KEY_MAX_LOOKAHEAD;
    options.flow_nesting_limit = MAX_NESTING;
    options.block_nesting_limit = BLOCK_NESTING_LIMIT.max(MAX_NESTING + 1);
    options.emit_comments = true;
    options.max_buffered_comment_events = MAX_BUFFERED_COMMENT_EVENTS;
    options.strict_indentation = false;
    options.bom_inside_document_as_content = false;
    options
}

/// A mapping or list being filled: where its entries or items start in
/// the builder's buffers, which all open mappings and lists share so that
/// each is made once, at its full size.
enum Open {
    Map { first: usize, key: Option<String> },
    List { first: usize },
}

struct Builder<'r> {
    max_nodes: usize,
    nodes: usize,
    events: usize,
    scalar_bytes: usize,
    comment_bytes: usize,
    documents: usize,
    open: &'r mut Vec<Open>,
    entries: &'r mut Vec<(String, Value)>,
    items: &'r mut Vec<Value>,
    root: Option<(Value, usize)>,
}

impl Builder<'_> {
    /// `None` when the document is not for this path.
    fn run(mut self, text: &str) -> Option<Quick> {
        let mut root_line = 0;
        for item in Parser::new_from_str_with_options(text, parser_options()) {
            let (event, span) = item.ok()?;
            self.events += 1;
            if self.events > MAX_EVENTS {
                return None;
            }
            let line = span.start.line();
            match event {
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
                Event::DocumentStart(..) => {
                    // Our budget allows one document per parse.
                    self.documents += 1;
                    if self.documents > 1 {
                        return None;
                    }
                }
                Event::Comment(text, _) => {
                    self.comment_bytes += text.len();
                    if self.comment_bytes > MAX_COMMENT_BYTES {
                        return None;
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    if anchor != 0 || tag.is_some() {
                        return None;
                    }
                    self.count_node()?;
                    self.scalar_bytes += text.len();
                    if self.scalar_bytes > MAX_SCALAR_BYTES {
                        return None;
                    }
                    match self.open.last_mut() {
                        // A scalar document is left to serde-saphyr.
                        None => return None,
                        Some(Open::Map {
                            key: key @ None, ..
                        }) => {
                            *key = Some(map_key(text, style)?);
                        }
                        Some(_) => {
                            let value = scalar_value(text, style)?;
                            self.add(value)?;
                        }
                    }
                }
                Event::MappingStart(_, anchor, ref tag)
                | Event::SequenceStart(_, anchor, ref tag) => {
                    if anchor != 0 || tag.is_some() {
                        return None;
                    }
                    if let Some(Open::Map { key: None, .. }) = self.open.last() {
                        // A mapping or list as a key.
                        return None;
                    }
                    self.count_node()?;
                    if self.open.len() >= MAX_NESTING {
                        return None;
                    }
                    if self.open.is_empty() {
                        root_line = line;
                    }
                    self.open.push(match event {
                        Event::MappingStart(..) => Open::Map {
                            first: self.entries.len(),
                            key: None,
                        },
                        _ => Open::List {
                            first: self.items.len(),
                        },
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    let value = match (self.open.pop()?, event) {
                        (Open::Map { first, key: None }, Event::MappingEnd) => {
                            let mut map = Map::with_capacity(self.entries.len() - first);
                            for (key, value) in self.entries.drain(first..) {
                                // A repeated key is serde-saphyr's error to word.
                                if map.insert(key, value).is_some() {
                                    return None;
                                }
                            }
                            Value::Object(map)
                        }
                        (Open::List { first }, Event::SequenceEnd) => {
                            Value::Array(self.items.split_off(first))
                        }
                        _ => return None,
                    };
                    if self.open.is_empty() {
                        if self.root.is_some() {
                            return None;
                        }
                        self.root = Some((value, root_line));
                    } else {
                        self.add(value)?;
                    }
                }
                // Aliases, and any event this path does not know.
                _ => return None,
            }
        }
        if !self.open.is_empty() {
            return None;
        }
        Some(match self.root {
            None if self.nodes == 0 => Quick::Empty,
            None => return None,
            Some((value, line)) => Quick::Value {
                value,
                line,
                nodes: self.nodes,
            },
        })
    }

    fn count_node(&mut self) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= self.max_nodes).then_some(())
    }

    /// Puts a finished value into the open mapping or list.
    fn add(&mut self, value: Value) -> Option<()> {
        match self.open.last_mut()? {
            Open::List { .. } => self.items.push(value),
            Open::Map { key, .. } => self.entries.push((key.take()?, value)),
        }
        Some(())
    }
}

/// A mapping key as serde-saphyr gives it to a JSON value: the text of a
/// scalar, whatever it looks like, but null-like plain keys are its errors
/// and `<<` is a merge. It tells duplicate plain integer keys by value (`0`,
/// `-0` and `00` are one key), so an integer key spelled any other way than
/// plain decimal is left to it.
fn map_key(text: Cow<'_, str>, style: ScalarStyle) -> Option<String> {
    if style == ScalarStyle::Plain {
        if is_null(&text) || text == "<<" {
            return None;
        }
        // Integers hold a digit; most keys do not and need no more look.
        let reading = if text.bytes().any(|b| b.is_ascii_digit()) {
            number(&text)
        } else {
            Reading::Text
        };
        match reading {
            Reading::Text => {}
            Reading::Number(number) if number.is_f64() || number.to_string() == text => {}
            Reading::Number(_) | Reading::Unsure => return None,
        }
    }
    if text == RAW_VALUE_KEY {
        return None;
    }
    Some(text.into_owned())
}

/// An untagged scalar value, read as serde-saphyr reads it into a JSON value
/// with YAML 1.1 booleans and legacy octal; `None` for the spellings this
/// path leaves to it (other radixes, underscores, leading zeros, signs,
/// infinities, numbers out of range).
fn scalar_value(text: Cow<'_, str>, style: ScalarStyle) -> Option<Value> {
    if style != ScalarStyle::Plain {
        return Some(Value::String(text.into_owned()));
    }
    if is_null(&text) {
        return Some(Value::Null);
    }
    if let Some(flag) = yaml11_bool(&text) {
        return Some(Value::Bool(flag));
    }
    match number(&text) {
        Reading::Number(number) => Some(Value::Number(number)),
        Reading::Text => Some(Value::String(text.into_owned())),
        Reading::Unsure => None,
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// `y`, `yes`, `true`, `on` and their opposites, in any case.
fn yaml11_bool(text: &str) -> Option<bool> {
    let trimmed = text.trim_matches([' ', '\t', '\r', '\n']);
    if trimmed.len() > 5 {
        return None;
    }
    let is = |word: &str| trimmed.eq_ignore_ascii_case(word);
    if is("true") || is("yes") || is("y") || is("on") {
        Some(true)
    } else if is("false") || is("no") || is("n") || is("off") {
        Some(false)
    } else {
        None
    }
}

enum Reading {
    Number(Number),
    Text,
    Unsure,
}

/// Whether a plain scalar is a number. Only decimal integers and finite
/// decimal floats are read here; the other spellings serde-saphyr knows
/// (radix prefixes, legacy octal, underscores, explicit signs, `.inf` and
/// `.nan`) are left to it.
fn number(text: &str) -> Reading {
    let bytes = text.as_bytes();
    if !bytes.iter().any(u8::is_ascii_digit) {
        // Without a digit only YAML's own infinities and NaNs can be numbers
        // (serde-saphyr keeps `inf`, `nan` and `infinity` bare as text), so
        // `info`, `infra` or `nano` stay on this path.
        return if is_non_finite_spelling(text) {
            Reading::Unsure
        } else {
            Reading::Text
        };
    }
    // Numbers hold only these characters; everything else, `100m` and `10Gi`
    // among them, is text.
    let numeric_char = |b: &u8| b.is_ascii_hexdigit() || b"xXoObB_+-.".contains(b);
    if !bytes.iter().all(numeric_char) {
        return Reading::Text;
    }
    // Other radixes (`0x1F`) and legacy octal (`0644`) start the text after
    // its sign.
    let unsigned = bytes
        .strip_prefix(b"-")
        .or_else(|| bytes.strip_prefix(b"+"))
        .unwrap_or(bytes);
    let after_zero = match unsigned {
        [b'0', next, ..] => Some(next),
        _ => None,
    };
    if after_zero.is_some_and(|next| b"xXoObB".contains(next)) {
        return Reading::Unsure;
    }
    // Past a radix prefix, serde-saphyr's integers (legacy octal too) take
    // only digits and `_`, and its floats (Rust's parser) no letter but `e`:
    // a hex digest such as `3fb2a1c` or `04ab9e`, or `DB_1`, is text.
    if bytes
        .iter()
        .any(|b| b.is_ascii_alphabetic() && !b"eE".contains(b))
    {
        return Reading::Text;
    }
    // Explicit signs, exponent signs, digit separators and legacy octal.
    if bytes.iter().any(|b| b"_+".contains(b)) || after_zero.is_some_and(u8::is_ascii_digit) {
        return Reading::Unsure;
    }
    if !unsigned.is_empty() && unsigned.iter().all(u8::is_ascii_digit) {
        let integer = if bytes[0] == b'-' {
            text.parse::<i64>().ok().map(Number::from)
        } else {
            text.parse::<u64>().ok().map(Number::from)
        };
        return integer.map_or(Reading::Unsure, Reading::Number);
    }
    match text.parse::<f64>() {
        Ok(float) => Number::from_f64(float).map_or(Reading::Unsure, Reading::Number),
        Err(_) => Reading::Text,
    }
}

/// The spellings serde-saphyr reads as infinities or NaN (signed NaN it
/// keeps as text, but that is for it to say), after the same trim.
fn is_non_finite_spelling(text: &str) -> bool {
    let trimmed = text.trim_matches([' ', '\t', '\r', '\n']);
    let unsigned = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    matches!(
        unsigned,
        ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN"
    )
}

#[cfg(test)]
mod tests;
