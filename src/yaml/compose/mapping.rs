//! Mappings as PyYAML's `SafeConstructor` and Ansible's constructor build them: merge keys
//! (`<<`) flattened as PyYAML 6.0.4 does, then a Python dict's rules for repeated keys, with
//! Ansible's duplicate-key warning.

use std::collections::{HashMap, HashSet, hash_map};

use saphyr_parser::{Event, ScalarStyle};

use super::super::error::{Error, Warning};
use super::super::json;
use super::super::node::{Mark, Node, Yaml};
use super::{Composer, Entry, Mode};

impl Composer<'_, '_> {
    pub(super) fn mapping(&mut self, tag: Option<&str>, mark: Mark) -> Result<Node, Error> {
        let unsafe_tag = self.collection_tag(tag, "map", mark)?;
        let entries = self.mapping_entries();
        if unsafe_tag {
            self.unsafe_depth -= 1;
        }
        let entries = entries?;
        if self.mode == Mode::Json {
            if let Some(node) = json::tagged_object(&entries, mark, self.secrets) {
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
        let mut ids = Vec::with_capacity(pairs.len());
        for (key, _) in &pairs {
            let Some(id) = KeyId::of(key) else {
                let kind = key.kind();
                return Err(self.error(
                    key.mark,
                    format!(
                        "while constructing a mapping found unhashable key ({kind} cannot be a key)"
                    ),
                ));
            };
            ids.push(id);
        }
        let first_of = earlier_equal(&ids);
        drop(ids);
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

/// For each key, the index of the first earlier key equal to it.
fn earlier_equal(ids: &[Option<KeyId<'_>>]) -> Vec<Option<usize>> {
    // Comparing pairwise beats hashing for the small mappings that make up most files.
    if ids.len() <= 16 {
        return ids
            .iter()
            .enumerate()
            .map(|(index, id)| {
                let id = id.as_ref()?;
                ids[..index]
                    .iter()
                    .position(|other| other.as_ref() == Some(id))
            })
            .collect();
    }
    let mut seen: HashMap<&KeyId<'_>, usize> = HashMap::with_capacity(ids.len());
    ids.iter()
        .enumerate()
        .map(|(index, id)| match seen.entry(id.as_ref()?) {
            hash_map::Entry::Occupied(first) => Some(*first.get()),
            hash_map::Entry::Vacant(slot) => {
                slot.insert(index);
                None
            }
        })
        .collect()
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
