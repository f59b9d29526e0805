//! From saphyr-parser's events to a [`Node`] tree, doing what PyYAML's composer and Ansible's
//! constructor do between them: one document per file, anchors and aliases, explicit tags,
//! `!unsafe`, merge keys (`<<`) and duplicate keys (the last value wins, with Ansible's warning).
//!
//! Mappings (merge keys, repeated keys) are built in [`mapping`].
//!
//! It does not own scalar resolution ([`super::resolve`]) nor the JSON-first rule
//! ([`super::json`]), which only changes how plain scalars and a few mappings are read.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput};

use super::error::{Error, Warning};
use super::node::{Mark, Node, Yaml};
use super::resolve::{self, Tag};
use super::{Parsed, json, syntax};
use crate::vault::VaultSecrets;

mod mapping;

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

pub(crate) fn load(
    src: &str,
    file: &Path,
    mode: Mode,
    secrets: &VaultSecrets,
) -> Result<Parsed, Error> {
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
            secrets,
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
    /// Passwords for `!vault` values.
    secrets: &'f VaultSecrets,
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
                self.scalar(text, style, tag.as_deref(), mark)
                    .map(|n| self.remember(anchor, n))
            }
            Event::SequenceStart(anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                self.sequence(tag.as_deref(), mark)
                    .map(|n| self.remember(anchor, n))
            }
            Event::MappingStart(anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                self.mapping(tag.as_deref(), mark)
                    .map(|n| self.remember(anchor, n))
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
    fn remember(&mut self, anchor: usize, node: Node) -> Node {
        if anchor > 0 {
            let count = count_nodes(&node);
            self.anchors.insert(anchor, (node.clone(), count));
        }
        node
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
        text: Cow<'i, str>,
        style: ScalarStyle,
        tag: Option<&str>,
        mark: Mark,
    ) -> Result<Node, Error> {
        let plain = style == ScalarStyle::Plain;
        let tag = match tag {
            None if plain => match self.mode {
                Mode::Yaml => resolve::implicit(&text),
                Mode::Json => return Ok(Node::new(json::plain_scalar(&text), mark)),
            },
            // PyYAML resolves a plain scalar tagged `!` as if untagged.
            Some("!") if plain => return self.scalar(text, style, None, mark),
            None | Some("!") => Tag::Str,
            Some("!vault" | "!vault-encrypted") => {
                let plain = json::decrypt_value(&text, self.secrets)
                    .map_err(|message| self.error(mark, message))?;
                return Ok(Node::new(plain, mark));
            }
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
            tag => resolve::construct(tag, &text).map_err(|m| self.error(mark, m))?,
        };
        Ok(Node::new(value, mark))
    }

    fn string(&self, text: Cow<'_, str>) -> Yaml {
        // saphyr usually hands over an owned string already: no copy then.
        if self.unsafe_depth > 0 {
            Yaml::Unsafe(text.into_owned())
        } else {
            Yaml::Str(text.into_owned())
        }
    }

    fn unknown_tag(&self, tag: &str, mark: Mark) -> Error {
        let message = match tag {
            "!vault" | "!vault-encrypted" => format!("The '{tag}' tag requires a string value."),
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
            // A core tag of another kind: PyYAML's "expected a scalar node, but found ...".
            Some(full) if is_core_kind(full) => {
                let found = if core == "seq" { "sequence" } else { "mapping" };
                Err(self.error(
                    mark,
                    format!("the tag '{full}' does not apply to a {found}"),
                ))
            }
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
}

/// A core tag we construct: a scalar kind, `seq` or `map`.
fn is_core_kind(full: &str) -> bool {
    Tag::from_core(full).is_some()
        || matches!(full.strip_prefix("tag:yaml.org,2002:"), Some("seq" | "map"))
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
