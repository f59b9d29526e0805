//! Reading module arguments the way Ansible's `AnsibleModule` validates them: unknown
//! parameters and wrong types are errors, booleans follow Ansible's rules, and `mode` may be an
//! octal string, a YAML octal integer or a symbolic mode.

use serde_json::{Map, Value};

use super::ArgError;

/// A module's arguments with the names it accepts.
#[derive(Debug)]
pub struct Args<'a> {
    module: &'a str,
    map: &'a Map<String, Value>,
}

impl<'a> Args<'a> {
    /// Checks that every argument is one the module takes (aliases included).
    pub fn new(
        module: &'a str,
        map: &'a Map<String, Value>,
        allowed: &[&str],
    ) -> Result<Self, ArgError> {
        let mut unknown: Vec<&str> = map
            .keys()
            .map(String::as_str)
            .filter(|k| !allowed.contains(k))
            .collect();
        if !unknown.is_empty() {
            unknown.sort_unstable();
            let mut supported = allowed.to_vec();
            supported.sort_unstable();
            return Err(ArgError(format!(
                "Unsupported parameters for ({module}) module: {}. Supported parameters include: {}.",
                unknown.join(", "),
                supported.join(", ")
            )));
        }
        Ok(Args { module, map })
    }

    /// The first of `names` that is set (a parameter and its aliases).
    fn get(&self, names: &[&str]) -> Option<&'a Value> {
        names
            .iter()
            .find_map(|n| self.map.get(*n))
            .filter(|v| !v.is_null())
    }

    pub fn str(&self, names: &[&str]) -> Result<Option<String>, ArgError> {
        match self.get(names) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(if *b { "True" } else { "False" }.into())),
            Some(other) => Err(ArgError(format!(
                "argument '{}' of module {} is of type {} and we were unable to convert to str",
                names[0],
                self.module,
                type_name(other)
            ))),
        }
    }

    pub fn required(&self, names: &[&str]) -> Result<String, ArgError> {
        self.str(names)?
            .ok_or_else(|| ArgError(format!("missing required arguments: {}", names[0])))
    }

    pub fn bool(&self, names: &[&str]) -> Result<Option<bool>, ArgError> {
        match self.get(names) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(Value::String(s)) => {
                crate::playbook::value::bool_str(s)
                    .map(Some)
                    .ok_or_else(|| {
                        ArgError(format!(
                            "argument '{}' is of type str and we were unable to convert to bool: \
                     The value '{s}' is not a valid boolean.",
                            names[0]
                        ))
                    })
            }
            Some(other) => Err(ArgError(format!(
                "argument '{}' is of type {} and we were unable to convert to bool",
                names[0],
                type_name(other)
            ))),
        }
    }

    /// A string or a list of strings; a string is split at commas, as Ansible's `list` type.
    pub fn list(&self, names: &[&str]) -> Result<Vec<String>, ArgError> {
        match self.get(names) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(ArgError(format!(
                        "'{}' must be a list of strings, not {}",
                        names[0],
                        type_name(other)
                    ))),
                })
                .collect(),
            Some(Value::String(s)) => Ok(s
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect()),
            Some(other) => Err(ArgError(format!(
                "'{}' must be a list, not {}",
                names[0],
                type_name(other)
            ))),
        }
    }

    /// `mode`: a YAML octal integer (0644 loads as 420), an octal string, or a symbolic mode.
    pub fn mode(&self) -> Result<Option<String>, ArgError> {
        match self.get(&["mode"]) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(|m| Some(format!("{m:04o}")))
                .ok_or_else(|| ArgError(format!("mode must be a positive integer, not {n}"))),
            Some(Value::String(s)) => {
                let octal = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() && c < '8');
                if octal {
                    return Ok(Some(s.clone()));
                }
                match symbolic_mode_error(s) {
                    None => Ok(Some(s.clone())),
                    Some(details) => Err(ArgError(format!(
                        "mode must be in octal or symbolic form: '{s}' ({details})"
                    ))),
                }
            }
            Some(other) => Err(ArgError(format!(
                "mode must be a string or an integer, not {}",
                type_name(other)
            ))),
        }
    }

    /// `owner`: a user name or a numeric uid (as a decimal number, which the host compares
    /// with the file's uid, as Ansible does).
    pub fn owner(&self) -> Result<Option<String>, ArgError> {
        self.account("owner", "chown", "user")
    }

    /// `group`: a group name or a numeric gid.
    pub fn group(&self) -> Result<Option<String>, ArgError> {
        self.account("group", "chgrp", "group")
    }

    /// A user or group: a name as `useradd`/`groupadd` and NSS services make them, or a number.
    /// Anything else (`--reference=/etc/shadow`, `root:shadow`, spaces) cannot name an
    /// account, so it never reaches `chown`/`chgrp`: it fails with Ansible's words (its
    /// lookup fails too) and the parameter named.
    fn account(&self, param: &str, tool: &str, kind: &str) -> Result<Option<String>, ArgError> {
        let Some(v) = self.str(&[param])? else {
            return Ok(None);
        };
        if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            // Ansible reads a number with int(): leading zeros do not make it octal.
            return match v.parse::<u32>() {
                Ok(id) => Ok(Some(id.to_string())),
                Err(_) => Err(ArgError(format!(
                    "{tool} failed: failed to look up {kind} {v} ({param} is not a valid id)"
                ))),
            };
        }
        let body = v.strip_suffix('$').unwrap_or(&v);
        let valid = body.len() <= 256
            && body.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            && body
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.@-".contains(c));
        if valid {
            Ok(Some(v))
        } else {
            Err(ArgError(format!(
                "{tool} failed: failed to look up {kind} {v} ({param} must be a {kind} name \
                 or a numeric id)"
            )))
        }
    }

    /// One of `choices`, or `default` when unset.
    pub fn choice(&self, name: &str, choices: &[&str]) -> Result<Option<String>, ArgError> {
        match self.str(&[name])? {
            None => Ok(None),
            Some(v) if choices.contains(&v.as_str()) => Ok(Some(v)),
            Some(v) => Err(ArgError(format!(
                "value of {name} must be one of: {}, got: {v}",
                choices.join(", ")
            ))),
        }
    }
}

/// Why Ansible's `_symbolic_mode_to_octal` rejects a symbolic mode (its `details`), or
/// `None` when it accepts it: comma-separated clauses, each who (empty, `a`, or letters of
/// `ugo`) followed by operators `+ - =` with permissions from `rwxXstugo`.
pub fn symbolic_mode_error(mode: &str) -> Option<String> {
    for clause in mode.split(',') {
        let bad = || Some(format!("bad symbolic permission for mode: {clause}"));
        let mut parts = clause.split(['+', '-', '=']);
        let who = parts.next().unwrap_or_default();
        if !(who.is_empty() || who == "a" || who.chars().all(|c| "ugo".contains(c))) {
            return bad();
        }
        if parts.any(|perms| !perms.chars().all(|c| "rwxXstugo".contains(c))) {
            return bad();
        }
    }
    None
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn unknown_parameters_are_named() {
        let m = map(json!({"name": "x", "stat": "started"}));
        let err = Args::new("service", &m, &["name", "state"]).expect_err("unknown");
        assert!(
            err.0
                .contains("Unsupported parameters for (service) module: stat."),
            "{err}"
        );
    }

    #[test]
    fn modes() {
        let m = map(json!({"mode": 420}));
        assert_eq!(
            Args::new("file", &m, &["mode"]).and_then(|a| a.mode()),
            Ok(Some("0644".into()))
        );
        let m = map(json!({"mode": "u=rw,g=r"}));
        assert_eq!(
            Args::new("file", &m, &["mode"]).and_then(|a| a.mode()),
            Ok(Some("u=rw,g=r".into()))
        );
        let m = map(json!({"mode": "0999"}));
        assert!(
            Args::new("file", &m, &["mode"])
                .and_then(|a| a.mode())
                .is_err()
        );
    }

    #[test]
    fn booleans_and_lists() {
        let m = map(json!({"enabled": "yes", "name": "a, b"}));
        let a = Args::new("x", &m, &["enabled", "name"]).expect("args");
        assert_eq!(a.bool(&["enabled"]), Ok(Some(true)));
        assert_eq!(
            a.list(&["name"]),
            Ok(vec!["a".to_string(), "b".to_string()])
        );
    }
}
