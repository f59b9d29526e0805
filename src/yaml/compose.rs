//! From saphyr-parser's events to a [`Node`] tree, doing what PyYAML's composer and Ansible's
//! constructor do between them: one document per file, anchors and aliases, explicit tags,
//! `!unsafe`, merge keys (`<<`) and duplicate keys (the last value wins, with Ansible's warning).
//!
//! It does not own scalar resolution ([`super::resolve`]) nor the JSON-first rule
//! ([`super::json`]), which only changes how plain scalars and a few mappings are read.

use std::borrow::Cow;
use std::collections::hash_map;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput};

use super::error::{Error, Warning};
use super::node::{Mark, Node, Yaml};
use super::resolve::{self, Tag};
use super::{Parsed, json, syntax};

/// Deeper nesting is refused rather than risking the stack (PyYAML stops near 1000 too).
const MAX_DEPTH: usize = 400;
/// Nodes that aliases may copy in all, so `&a [*a, *a, ...]` chains cannot exhaust memory.
const MAX_ALIAS_NODES: usize = 1_000_000;

/// How plain scalars are read: YAML 1.1, or JSON for a file that is valid JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Yaml,
    Json,
}

/// saphyr's tab-after-colon refusals worked around per file; more means a pathological file.
const MAX_TAB_FIXES: usize = 100;

pub(crate) fn load(src: &str, file: &Path, mode: Mode) -> Result<Parsed, Error> {
    if let Some(mark) = syntax::incompatible_version(src) {
        let message = "found incompatible YAML document (only version 1 is supported)".to_owned();
        return Err(Error {
            file: file.to_path_buf(),
            mark,
            message,
        });
    }
    let mut text = Cow::Borrowed(src);
    let mut fixes = 0;
    loop {
        let mut composer = Composer {
            parser: Parser::new_from_str(&text),
            src: &text,
            file,
            mode,
            anchors: HashMap::new(),
            unsafe_depth: 0,
            depth: 0,
            alias_nodes: 0,
            warnings: Vec::new(),
            tab_after_colon: None,
            event_start: 0,
            cursor: (0, 0),
            anchor_names: HashMap::new(),
            raw_pairs: HashMap::new(),
        };
        let error = match composer.document() {
            Ok(root) => {
                return Ok(Parsed {
                    root,
                    warnings: composer.warnings,
                });
            }
            Err(error) => error,
        };
        let retry = composer.tab_after_colon.filter(|_| fixes < MAX_TAB_FIXES);
        match retry.and_then(|index| syntax::untab_before(&text, index)) {
            Some(untabbed) => {
                text = Cow::Owned(untabbed);
                fixes += 1;
            }
            None => return Err(error),
        }
    }
}

/// One raw `key: value` pair of a mapping being built, before merging and de-duplication.
pub(crate) struct Entry {
    pub(crate) key: Node,
    pub(crate) value: Node,
    /// A plain `<<` (or `!!merge`) key: its value is merged, not stored.
    merge: bool,
}

struct Composer<'f, 'i> {
    parser: Parser<'i, StrInput<'i>>,
    src: &'i str,
    file: &'f Path,
    mode: Mode,
    /// Finished anchored nodes by saphyr's anchor id, with their node counts.
    anchors: HashMap<usize, (Node, usize)>,
    /// Above zero inside an `!unsafe` node: strings built there are [`Yaml::Unsafe`].
    unsafe_depth: usize,
    depth: usize,
    alias_nodes: usize,
    warnings: Vec<Warning>,
    /// Character index where the last event read starts (at its anchor or tag, if any).
    event_start: usize,
    /// A character index and its byte offset in `src`, so anchor names are found without
    /// rescanning from the start each time.
    cursor: (usize, usize),
    /// Anchor names seen, and where: PyYAML refuses to redefine one.
    anchor_names: HashMap<String, Mark>,
    /// The pairs of mappings that had repeated keys, before de-duplication, by the mapping's
    /// position: merging such a mapping repeats its duplicates, and Ansible's warnings with them.
    raw_pairs: HashMap<Mark, Vec<(Node, Node)>>,
    /// Set when saphyr refused `key:<TAB>value`, which PyYAML accepts: see [`super::syntax`].
    tab_after_colon: Option<usize>,
}

impl<'i> Composer<'_, 'i> {
    fn error(&self, mark: Mark, message: impl Into<String>) -> Error {
        Error {
            file: self.file.to_path_buf(),
            mark,
            message: message.into(),
        }
    }

    fn next(&mut self) -> Result<(Event<'i>, Mark), Error> {
        match self.parser.next_event() {
            Some(Ok((event, span))) => {
                self.event_start = span.start.index();
                Ok((event, mark_of(&span)))
            }
            Some(Err(e)) => Err(self.scan_error(&e)),
            None => Err(self.error(Mark::START, "unexpected end of the stream")),
        }
    }

    fn scan_error(&mut self, e: &ScanError) -> Error {
        self.tab_after_colon = syntax::tab_after_colon(e);
        let (mark, message) = syntax::locate(self.src, e);
        self.error(mark, message)
    }

    /// The stream: nothing (a null document) or exactly one document, as PyYAML's
    /// `get_single_node` wants.
    fn document(&mut self) -> Result<Node, Error> {
        let (event, mark) = self.next()?;
        if !matches!(event, Event::StreamStart) {
            return Err(self.error(mark, "expected the start of the stream"));
        }
        let (event, mark) = self.next()?;
        let root = match event {
            Event::StreamEnd => return Ok(Node::new(Yaml::Null, Mark::START)),
            Event::DocumentStart(_) => {
                let (event, mark) = self.next()?;
                self.node(event, mark)?
            }
            _ => return Err(self.error(mark, "expected the start of a document")),
        };
        let (event, mark) = self.next()?;
        if !matches!(event, Event::DocumentEnd) {
            return Err(self.error(mark, "expected the end of the document"));
        }
        let (event, mark) = self.next()?;
        match event {
            Event::StreamEnd => Ok(root),
            _ => Err(self.error(
                mark,
                "expected a single document in the stream but found another document",
            )),
        }
    }

    fn node(&mut self, event: Event<'i>, mark: Mark) -> Result<Node, Error> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(mark, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let anchor = match &event {
            Event::Scalar(_, _, anchor, _)
            | Event::SequenceStart(anchor, _)
            | Event::MappingStart(anchor, _) => *anchor,
            _ => 0,
        };
        if anchor > 0 {
            self.check_anchor_name(mark)?;
        }
        self.depth += 1;
        let node = match event {
            Event::Alias(id) => self.alias(id, mark),
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                self.scalar(&text, style, tag.as_deref(), mark)
                    .and_then(|n| self.remember(anchor, n))
            }
            Event::SequenceStart(anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                self.sequence(tag.as_deref(), mark)
                    .and_then(|n| self.remember(anchor, n))
            }
            Event::MappingStart(anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                self.mapping(tag.as_deref(), mark)
                    .and_then(|n| self.remember(anchor, n))
            }
            _ => Err(self.error(mark, "expected a node")),
        };
        self.depth -= 1;
        node
    }

    /// PyYAML refuses a second anchor of the same name; saphyr silently rebinds it. saphyr's
    /// events carry no anchor names, but an anchored node's span starts at its properties.
    fn check_anchor_name(&mut self, mark: Mark) -> Result<(), Error> {
        let (mut chars, mut bytes) = self.cursor;
        if self.event_start < chars {
            (chars, bytes) = (0, 0);
        }
        for c in self.src[bytes..].chars().take(self.event_start - chars) {
            bytes += c.len_utf8();
        }
        self.cursor = (self.event_start, bytes);
        let Some(name) = syntax::anchor_name(&self.src[bytes..]) else {
            return Ok(());
        };
        if let Some(first) = self.anchor_names.insert(name.to_owned(), mark) {
            return Err(self.error(
                mark,
                format!(
                    "found duplicate anchor {name:?}; first occurrence at line {} column {}",
                    first.line, first.col
                ),
            ));
        }
        Ok(())
    }

    /// Keeps a copy of an anchored node for the aliases that follow it.
    fn remember(&mut self, anchor: usize, node: Node) -> Result<Node, Error> {
        if anchor > 0 {
            let count = count_nodes(&node);
            self.anchors.insert(anchor, (node.clone(), count));
        }
        Ok(node)
    }

    fn alias(&mut self, id: usize, mark: Mark) -> Result<Node, Error> {
        let Some((node, count)) = self.anchors.get(&id) else {
            // saphyr refuses unknown anchors itself; an id it knows but we lack is one whose
            // node is still being built.
            return Err(self.error(mark, "found a recursive alias, which is not supported"));
        };
        self.alias_nodes += count;
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(self.error(
                mark,
                format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
            ));
        }
        // The alias stands where it is written only for error messages; the value is the
        // anchored one, with its own positions, as PyYAML shares the object.
        Ok(node.clone())
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&str>,
        mark: Mark,
    ) -> Result<Node, Error> {
        let plain = style == ScalarStyle::Plain;
        let tag = match tag {
            None if plain => match self.mode {
                Mode::Yaml => resolve::implicit(text),
                Mode::Json => return Ok(Node::new(json::plain_scalar(text), mark)),
            },
            // PyYAML resolves a plain scalar tagged `!` as if untagged.
            Some("!") if plain => return self.scalar(text, style, None, mark),
            None | Some("!") => Tag::Str,
            Some("!unsafe") => {
                // Ansible re-resolves the scalar as if it were plain, even when quoted.
                self.unsafe_depth += 1;
                let node = self.scalar(text, ScalarStyle::Plain, None, mark);
                self.unsafe_depth -= 1;
                return node;
            }
            Some(full) => match Tag::from_core(full) {
                Some(tag) => tag,
                None => return Err(self.unknown_tag(full, mark)),
            },
        };
        let value = match tag {
            Tag::Str => self.string(text),
            tag => resolve::construct(tag, text).map_err(|m| self.error(mark, m))?,
        };
        Ok(Node::new(value, mark))
    }

    fn string(&self, text: &str) -> Yaml {
        if self.unsafe_depth > 0 {
            Yaml::Unsafe(text.to_owned())
        } else {
            Yaml::Str(text.to_owned())
        }
    }

    fn unknown_tag(&self, tag: &str, mark: Mark) -> Error {
        let message = match tag {
            "!vault" | "!vault-encrypted" => json::VAULT_UNSUPPORTED.to_owned(),
            _ => resolve::no_constructor(tag),
        };
        self.error(mark, message)
    }

    /// Enters `!unsafe` for a collection's contents when it is so tagged, or checks the tag.
    fn collection_tag(&mut self, tag: Option<&str>, core: &str, mark: Mark) -> Result<bool, Error> {
        match tag {
            None | Some("!") => Ok(false),
            Some("!unsafe") => {
                self.unsafe_depth += 1;
                Ok(true)
            }
            Some(full) if full.strip_prefix("tag:yaml.org,2002:") == Some(core) => Ok(false),
            Some(full) => Err(self.unknown_tag(full, mark)),
        }
    }

    fn sequence(&mut self, tag: Option<&str>, mark: Mark) -> Result<Node, Error> {
        let unsafe_tag = self.collection_tag(tag, "seq", mark)?;
        let items = self.sequence_items();
        if unsafe_tag {
            self.unsafe_depth -= 1;
        }
        Ok(Node::new(Yaml::Seq(items?), mark))
    }

    fn sequence_items(&mut self) -> Result<Vec<Node>, Error> {
        let mut items = Vec::new();
        loop {
            let (event, mark) = self.next()?;
            if matches!(event, Event::SequenceEnd) {
                return Ok(items);
            }
            items.push(self.node(event, mark)?);
        }
    }

    fn mapping(&mut self, tag: Option<&str>, mark: Mark) -> Result<Node, Error> {
        let unsafe_tag = self.collection_tag(tag, "map", mark)?;
        let entries = self.mapping_entries();
        if unsafe_tag {
            self.unsafe_depth -= 1;
        }
        let entries = entries?;
        if self.mode == Mode::Json {
            if let Some(node) = json::tagged_object(&entries, mark) {
                return node.map_err(|message| self.error(mark, message));
            }
        }
        let pairs = self.flatten(entries)?;
        let pairs = self.dedup(pairs, mark)?;
        Ok(Node::new(Yaml::Map(pairs), mark))
    }

    fn mapping_entries(&mut self) -> Result<Vec<Entry>, Error> {
        let mut entries = Vec::new();
        loop {
            let (event, key_mark) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                return Ok(entries);
            }
            let merge = match &event {
                Event::Scalar(text, ScalarStyle::Plain, _, None) => {
                    self.mode == Mode::Yaml && text.as_ref() == "<<"
                }
                Event::Scalar(_, _, _, Some(tag)) => {
                    tag.handle == "tag:yaml.org,2002:" && tag.suffix == "merge"
                }
                _ => false,
            };
            let key = if merge {
                // Not a value in its own right: PyYAML never constructs a merge key.
                Node::new(Yaml::Str("<<".to_owned()), key_mark)
            } else {
                let mut key = self.node(event, key_mark)?;
                if let (Mode::Json, Yaml::Str(text)) = (self.mode, &mut key.value) {
                    // Ansible's JSON decoder trusts string values as templates, never keys.
                    key.value = Yaml::Unsafe(std::mem::take(text));
                }
                key
            };
            let (event, value_mark) = self.next()?;
            let value = self.node(event, value_mark)?;
            entries.push(Entry { key, value, merge });
        }
    }

    /// PyYAML 6.0.4's `flatten_mapping`: the pairs of every merged mapping come first, in
    /// order (for `<<: [*a, *b]`, those of `a` then those of `b`), then the mapping's own; the
    /// dict built from them keeps the last value, so `b` wins over `a` and both over nothing.
    /// A merged pair is skipped when a pair with the same key object was merged already:
    /// PyYAML compares `id()`s, which are equal for the same source node and, through
    /// CPython's cache of one-character strings, for equal keys of at most one Latin-1 char.
    fn flatten(&self, entries: Vec<Entry>) -> Result<Vec<(Node, Node)>, Error> {
        if !entries.iter().any(|e| e.merge) {
            return Ok(entries.into_iter().map(|e| (e.key, e.value)).collect());
        }
        let mut merged = Vec::new();
        let mut merged_ids = HashSet::new();
        let mut merge = |pairs: Vec<(Node, Node)>| {
            for (key, value) in pairs {
                if merged_ids.insert(KeyObject::of(&key)) {
                    merged.push((key, value));
                }
            }
        };
        let mut own = Vec::new();
        for entry in entries {
            if !entry.merge {
                own.push((entry.key, entry.value));
                continue;
            }
            match entry.value.value {
                Yaml::Map(pairs) => merge(
                    self.raw_pairs
                        .get(&entry.value.mark)
                        .cloned()
                        .unwrap_or(pairs),
                ),
                Yaml::Seq(items) => {
                    for item in items {
                        let raw = self.raw_pairs.get(&item.mark).cloned();
                        let Yaml::Map(pairs) = item.value else {
                            let found = item.kind();
                            return Err(self.error(
                                item.mark,
                                format!("expected a mapping for merging, but found {found}"),
                            ));
                        };
                        merge(raw.unwrap_or(pairs));
                    }
                }
                _ => {
                    let found = entry.value.kind();
                    return Err(self.error(
                        entry.value.mark,
                        format!(
                            "expected a mapping or list of mappings for merging, but found {found}"
                        ),
                    ));
                }
            }
        }
        merged.extend(own);
        Ok(merged)
    }

    /// Builds the mapping as a Python dict would: a repeated key keeps its first place and
    /// takes the last value; Ansible warns (`DUPLICATE_YAML_DICT_KEY=warn`, the default).
    fn dedup(&mut self, pairs: Vec<(Node, Node)>, mark: Mark) -> Result<Vec<(Node, Node)>, Error> {
        // First find repeats without copying anything: most mappings have none.
        let mut first_of: Vec<Option<usize>> = Vec::with_capacity(pairs.len());
        let mut seen: HashMap<KeyId<'_>, usize> = HashMap::with_capacity(pairs.len());
        for (index, (key, _)) in pairs.iter().enumerate() {
            let Some(id) = KeyId::of(key) else {
                let kind = key.kind();
                return Err(self.error(
                    key.mark,
                    format!(
                        "while constructing a mapping found unhashable key ({kind} cannot be a key)"
                    ),
                ));
            };
            first_of.push(id.and_then(|id| match seen.entry(id) {
                hash_map::Entry::Occupied(first) => Some(*first.get()),
                hash_map::Entry::Vacant(slot) => {
                    slot.insert(index);
                    None
                }
            }));
        }
        drop(seen);
        if first_of.iter().all(Option::is_none) {
            return Ok(pairs);
        }
        self.raw_pairs.insert(mark, pairs.clone());
        // Where each first occurrence lands in the output.
        let mut slot_of: HashMap<usize, usize> = HashMap::new();
        let mut out: Vec<(Node, Node)> = Vec::with_capacity(pairs.len());
        for (index, ((key, value), first)) in pairs.into_iter().zip(first_of).enumerate() {
            let Some(first) = first else {
                slot_of.insert(index, out.len());
                out.push((key, value));
                continue;
            };
            if self.mode == Mode::Yaml {
                self.warnings.push(Warning {
                    file: self.file.to_path_buf(),
                    mark: key.mark,
                    message: format!(
                        "Found duplicate mapping key {}. Using last defined value only.",
                        key.py_repr()
                    ),
                });
            }
            if let Some(&slot) = slot_of.get(&first) {
                out[slot].1 = value;
            }
        }
        Ok(out)
    }
}

/// A mapping key as Python's dict compares it: `1`, `1.0` and `True` are one key; NaN is
/// never equal to anything.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KeyId<'a> {
    Null,
    Int(i64),
    Float(u64),
    Str(&'a str),
}

impl<'a> KeyId<'a> {
    /// `None` for an unhashable key; `Some(None)` for a key equal to no other (NaN).
    fn of(node: &'a Node) -> Option<Option<KeyId<'a>>> {
        Some(Some(match &node.value {
            Yaml::Null => KeyId::Null,
            Yaml::Bool(b) => KeyId::Int(i64::from(*b)),
            Yaml::Int(i) => KeyId::Int(*i),
            Yaml::Float(f) if f.is_nan() => return Some(None),
            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
            Yaml::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => KeyId::Int(*f as i64),
            // +0.0 and -0.0 are equal but differ in bits; the branch above catches both.
            Yaml::Float(f) => KeyId::Float(f.to_bits()),
            Yaml::Str(s) | Yaml::Unsafe(s) => KeyId::Str(s),
            Yaml::Seq(_) | Yaml::Map(_) => return None,
        }))
    }
}

/// The identity PyYAML's merge compares (`id()` of a key node's text): the source node, which
/// aliases share and which its position names, or the text itself for CPython's cached
/// one-character strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KeyObject {
    Cached(String),
    Node(Mark),
}

impl KeyObject {
    fn of(key: &Node) -> KeyObject {
        match key.as_str() {
            Some(text) if text.chars().count() <= 1 && text.chars().all(|c| (c as u32) < 256) => {
                KeyObject::Cached(text.to_owned())
            }
            _ => KeyObject::Node(key.mark),
        }
    }
}

fn mark_of(span: &Span) -> Mark {
    Mark {
        line: span.start.line(),
        col: span.start.col() + 1,
    }
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.value {
        Yaml::Seq(items) => items.iter().map(count_nodes).sum(),
        Yaml::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| count_nodes(k) + count_nodes(v))
            .sum(),
        _ => 0,
    }
}
