//! `-e`/`--extra-vars`: `key=value` words, a JSON or YAML mapping, or `@file`, merged left to
//! right as ansible-playbook does. They win over every other variable.

use std::path::Path;

use serde_json::Value;

use super::model::Vars;
use super::{Error, kv, value};
use crate::yaml::{self, Mark};

/// Parses every `-e` value, in order.
pub fn parse(values: &[String]) -> Result<Vars, Error> {
    let mut out = Vars::new();
    for raw in values {
        out.extend(one(raw)?);
    }
    Ok(out)
}

fn one(raw: &str) -> Result<Vars, Error> {
    let cli = Path::new("<extra vars>");
    if let Some(file) = raw.strip_prefix('@') {
        let path = Path::new(file);
        let parsed = yaml::parse_file(path)?;
        return value::vars(&parsed.root, path, "an extra vars file");
    }
    let trimmed = raw.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let parsed = yaml::parse_str(raw, cli)?;
        return value::vars(&parsed.root, cli, "extra vars");
    }
    let pairs = kv::parse_kv(raw, false).map_err(|e| Error::at(cli, Mark::START, e.to_string()))?;
    if let Some(rest) = pairs.get("_raw_params") {
        return Err(Error::at(
            cli,
            Mark::START,
            format!("extra vars must be key=value, JSON or @file, not '{rest}'"),
        ));
    }
    Ok(pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms_merge_in_order() {
        let vars = parse(&["a=1 b='x y'".into(), r#"{"b": 2, "c": [1]}"#.into()]).expect("ok");
        assert_eq!(vars["a"], json!("1"));
        assert_eq!(vars["b"], json!(2));
        assert_eq!(vars["c"], json!([1]));
        assert!(parse(&["justaword".into()]).is_err());
    }
}
