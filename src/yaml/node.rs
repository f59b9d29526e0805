//! The loaded document: a tree of [`Node`]s, each a [`Yaml`] value with the position it
//! started at, plus the small accessors loaders need and the conversion to JSON.

use serde_json::Value;

/// A position in the source, both 1-based; the column counts characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mark {
    pub line: usize,
    pub col: usize,
}

impl Mark {
    /// The first character of a file.
    pub const START: Mark = Mark { line: 1, col: 1 };
}

impl std::fmt::Display for Mark {
    /// `line:col`, as in `file.yml:3:5`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A value as PyYAML constructs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A string Ansible will never template: tagged `!unsafe`, or inside an `!unsafe` collection.
    Unsafe(String),
    Seq(Vec<Node>),
    /// Keys in source order, unique in Python's sense (`1`, `1.0` and `true` are one key).
    Map(Vec<(Node, Node)>),
}

/// A value and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Yaml,
    pub mark: Mark,
}

impl Node {
    pub fn new(value: Yaml, mark: Mark) -> Node {
        Node { value, mark }
    }

    /// The value of the string key `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The text of a string, safe or `!unsafe`.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Yaml::Str(s) | Yaml::Unsafe(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Yaml::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Yaml::Int(i) => Some(i),
            _ => None,
        }
    }

    /// A float, or an integer widened to one.
    #[allow(clippy::cast_precision_loss)] // as Python's float(int) does
    pub fn as_f64(&self) -> Option<f64> {
        match self.value {
            Yaml::Float(f) => Some(f),
            Yaml::Int(i) => Some(i as f64),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Yaml::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Yaml::Map(pairs) => Some(pairs),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Yaml::Null)
    }

    pub fn is_unsafe(&self) -> bool {
        matches!(self.value, Yaml::Unsafe(_))
    }

    /// What the value is, in the words Ansible's errors use ("a mapping", "a string", ...).
    pub fn kind(&self) -> &'static str {
        match self.value {
            Yaml::Null => "null",
            Yaml::Bool(_) => "a boolean",
            Yaml::Int(_) => "an integer",
            Yaml::Float(_) => "a float",
            Yaml::Str(_) | Yaml::Unsafe(_) => "a string",
            Yaml::Seq(_) => "a list",
            Yaml::Map(_) => "a mapping",
        }
    }

    /// The value as JSON, as Python's `json.dumps` would write it: `!unsafe` strings are plain
    /// strings, mapping keys become strings (`true`, `null`, `1`, `1.5`), and the non-finite
    /// floats, which JSON lacks, become the strings `NaN`, `Infinity` and `-Infinity`.
    pub fn to_json(&self) -> Value {
        match &self.value {
            Yaml::Null => Value::Null,
            Yaml::Bool(b) => Value::Bool(*b),
            Yaml::Int(i) => Value::from(*i),
            Yaml::Float(f) => serde_json::Number::from_f64(*f).map_or_else(
                || Value::String(json_float_token(*f).to_owned()),
                Value::Number,
            ),
            Yaml::Str(s) | Yaml::Unsafe(s) => Value::String(s.clone()),
            Yaml::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Yaml::Map(pairs) => Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (k.json_key(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The key `json.dumps` writes for this mapping key.
    pub fn json_key(&self) -> String {
        match &self.value {
            Yaml::Null => "null".to_owned(),
            Yaml::Bool(b) => b.to_string(),
            Yaml::Int(i) => i.to_string(),
            Yaml::Float(f) if f.is_finite() => crate::python::float_repr(*f),
            Yaml::Float(f) => json_float_token(*f).to_owned(),
            Yaml::Str(s) | Yaml::Unsafe(s) => s.clone(),
            // Python refuses these as keys; the loader never builds them.
            Yaml::Seq(_) | Yaml::Map(_) => self.to_json().to_string(),
        }
    }

    /// The key as Python's `repr()` prints it, for messages worded like Ansible's.
    pub fn py_repr(&self) -> String {
        match &self.value {
            Yaml::Null => "None".to_owned(),
            Yaml::Bool(true) => "True".to_owned(),
            Yaml::Bool(false) => "False".to_owned(),
            Yaml::Int(i) => i.to_string(),
            Yaml::Float(f) if f.is_nan() => "nan".to_owned(),
            Yaml::Float(f) if f.is_infinite() => if *f > 0.0 { "inf" } else { "-inf" }.to_owned(),
            Yaml::Float(f) => crate::python::float_repr(*f),
            Yaml::Str(s) | Yaml::Unsafe(s) => crate::python::str_repr(s),
            Yaml::Seq(_) | Yaml::Map(_) => self.to_json().to_string(),
        }
    }
}

fn json_float_token(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}
