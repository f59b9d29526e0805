//! Lists and dicts that templates change in place, as Python's do:
//! `{% set groups = [] %}{% set _ = groups.extend(user.groups) %}` (a common idiom in roles).
//!
//! minijinja's values are immutable, so the source pass turns the literal of a `{% set %}`
//! into one of these objects (`{% set groups = __pylist([]) %}`): they behave as a list or a
//! dict everywhere (iteration, filters, printing) and also have Python's changing methods
//! (`append`, `extend`, `insert`, `pop`, `remove`, `clear`, `reverse`, `sort`, `update`,
//! `setdefault`), which return what Python returns.

use std::sync::{Arc, Mutex, MutexGuard};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind, from_args};
use minijinja::{Error, ErrorKind, State};

use super::pyrepr::py_repr;

fn fail(msg: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means another render panicked; the data is still whole.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A Python list that methods may change.
#[derive(Debug, Default)]
pub struct PyList(Mutex<Vec<Value>>);

impl PyList {
    pub fn value(items: Vec<Value>) -> Value {
        Value::from_object(PyList(Mutex::new(items)))
    }
}

impl Object for PyList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = lock(&self.0);
        let i = i64::try_from(key.clone()).ok()?;
        let i = if i < 0 { i + items.len() as i64 } else { i };
        items.get(usize::try_from(i).ok()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(lock(&self.0).clone())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(lock(&self.0).len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let mut items = lock(&self.0);
        let none = Value::from(());
        match method {
            "append" => {
                let (v,): (Value,) = from_args(args)?;
                items.push(v);
                Ok(none)
            }
            "extend" => {
                let (v,): (Value,) = from_args(args)?;
                super::filters::defined(&v)?;
                let new: Vec<Value> = v.try_iter()?.collect();
                items.extend(new);
                Ok(none)
            }
            "insert" => {
                let (at, v): (i64, Value) = from_args(args)?;
                let n = items.len() as i64;
                let at = if at < 0 { (at + n).max(0) } else { at.min(n) };
                items.insert(at as usize, v);
                Ok(none)
            }
            "pop" => {
                let (at,): (Option<i64>,) = from_args(args)?;
                let n = items.len() as i64;
                let at = at.unwrap_or(-1);
                let at = if at < 0 { at + n } else { at };
                if items.is_empty() {
                    return Err(fail("pop from empty list".into()));
                }
                if at < 0 || at >= n {
                    return Err(fail("pop index out of range".into()));
                }
                Ok(items.remove(at as usize))
            }
            "remove" => {
                let (v,): (Value,) = from_args(args)?;
                match items.iter().position(|x| *x == v) {
                    Some(i) => {
                        items.remove(i);
                        Ok(none)
                    }
                    None => Err(fail("list.remove(x): x not in list".into())),
                }
            }
            "clear" => {
                let () = from_args(args)?;
                items.clear();
                Ok(none)
            }
            "reverse" => {
                let () = from_args(args)?;
                items.reverse();
                Ok(none)
            }
            "sort" => {
                let () = from_args(args)?;
                items.sort();
                Ok(none)
            }
            "copy" => {
                let () = from_args(args)?;
                Ok(PyList::value(items.clone()))
            }
            "index" => {
                let (v,): (Value,) = from_args(args)?;
                items
                    .iter()
                    .position(|x| *x == v)
                    .map(Value::from)
                    .ok_or_else(|| fail(format!("{} is not in list", py_repr(&v))))
            }
            "count" => {
                let (v,): (Value,) = from_args(args)?;
                Ok(Value::from(items.iter().filter(|x| **x == v).count()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// A Python dict that methods may change.
#[derive(Debug, Default)]
pub struct PyDict(Mutex<IndexMap<Value, Value>>);

impl PyDict {
    pub fn value(items: IndexMap<Value, Value>) -> Value {
        Value::from_object(PyDict(Mutex::new(items)))
    }
}

impl Object for PyDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        lock(&self.0).get(key).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(lock(&self.0).keys().cloned().collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(lock(&self.0).len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let mut map = lock(&self.0);
        let none = Value::from(());
        match method {
            "update" => {
                let (other,): (Value,) = from_args(args)?;
                super::filters::defined(&other)?;
                if other.kind() != ValueKind::Map {
                    return Err(fail(format!(
                        "dict.update() wants a dict, got {}",
                        super::filters::python_type(&other)
                    )));
                }
                for k in other.try_iter()? {
                    let v = other.get_item(&k)?;
                    map.insert(k, v);
                }
                Ok(none)
            }
            "pop" => {
                let (k, default): (Value, Option<Value>) = from_args(args)?;
                match map.shift_remove(&k) {
                    Some(v) => Ok(v),
                    None => default.ok_or_else(|| fail(format!("KeyError: {}", py_repr(&k)))),
                }
            }
            "setdefault" => {
                let (k, default): (Value, Option<Value>) = from_args(args)?;
                Ok(map
                    .entry(k)
                    .or_insert_with(|| default.unwrap_or_default())
                    .clone())
            }
            "clear" => {
                let () = from_args(args)?;
                map.clear();
                Ok(none)
            }
            "get" => {
                let (k, default): (Value, Option<Value>) = from_args(args)?;
                Ok(map.get(&k).cloned().or(default).unwrap_or(none))
            }
            "keys" => Ok(Value::from(map.keys().cloned().collect::<Vec<_>>())),
            "values" => Ok(Value::from(map.values().cloned().collect::<Vec<_>>())),
            "items" => Ok(Value::from(
                map.iter()
                    .map(|(k, v)| Value::from(vec![k.clone(), v.clone()]))
                    .collect::<Vec<_>>(),
            )),
            "copy" => Ok(PyDict::value(map.clone())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `__pylist(x)`: a changeable copy of a list literal.
pub fn pylist(v: Value) -> Result<Value, Error> {
    Ok(PyList::value(v.try_iter()?.collect()))
}

/// `__pydict(x)`: a changeable copy of a dict literal.
pub fn pydict(v: Value) -> Result<Value, Error> {
    let mut map = IndexMap::new();
    for k in v.try_iter()? {
        let item = v.get_item(&k)?;
        map.insert(k, item);
    }
    Ok(PyDict::value(map))
}
