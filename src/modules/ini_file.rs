//! `ini_file` (community.general): an option of a section set, added or removed, or a section
//! removed, following community.general's `do_ini` step by step: commented-out options
//! (`#opt = x`, `;opt`) are taken over, `exclusive` removes other occurrences, `values` sets
//! several, `allow_no_value`, `no_extra_spaces`, `ignore_spaces`, `section_has`, `create`,
//! a missing newline at the end added (which alone counts as a change, as in Ansible). The
//! file is read in one round trip, edited on the controller and written through `file_put`.
//!
//! Ansible reads the file with universal newlines (`\r\n` and `\r` become `\n`) and drops a
//! UTF-8 byte order mark; so does this module.

use futures::future::BoxFuture;
use regex::Regex;
use serde_json::{Map, Value};

use super::ArgError;
use super::args::Args;
use super::blockinfile::put_options;
use super::edit::{self, Read};
use super::file_put::PutOptions;
use super::registry::{Cx, Module, Runs, Spec, Unreachable};
use super::{Outcome, Status};

const PARAMS: &[&str] = &[
    "path",
    "dest",
    "section",
    "section_has",
    "option",
    "value",
    "values",
    "backup",
    "state",
    "exclusive",
    "no_extra_spaces",
    "ignore_spaces",
    "allow_no_value",
    "modify_inactive_option",
    "create",
    "follow",
    "owner",
    "group",
    "mode",
    "unsafe_writes",
    "attributes",
    "attr",
    "selevel",
    "serole",
    "setype",
    "seuser",
];

/// The section name `do_ini` uses for options before any section.
const FAKE_SECTION: &str = "ad01e11446efb704fcdbdb21f2c43757423d91c5";

#[derive(Debug, Clone, Default)]
pub struct Params {
    pub path: String,
    pub section: Option<String>,
    pub section_has: Vec<(String, String)>,
    pub option: Option<String>,
    pub values: Vec<String>,
    pub present: bool,
    pub exclusive: bool,
    pub no_extra_spaces: bool,
    pub ignore_spaces: bool,
    pub allow_no_value: bool,
    pub modify_inactive: bool,
    pub create: bool,
    pub put: PutOptions,
}

pub fn params(args: &Map<String, Value>) -> Result<Params, ArgError> {
    let a = Args::new("ini_file", args, PARAMS)?;
    let path = a.required(&["path", "dest"])?;
    let state = a
        .choice("state", &["absent", "present"])?
        .unwrap_or_else(|| "present".into());
    let value = a.str(&["value"])?;
    let values_set = args.get("values").is_some_and(|v| !v.is_null());
    if value.is_some() && values_set {
        return Err(ArgError(
            "parameters are mutually exclusive: value|values".into(),
        ));
    }
    let allow_no_value = a.bool(&["allow_no_value"])?.unwrap_or(false);
    let mut values = match value {
        Some(v) => vec![v],
        None => a.list(&["values"])?,
    };
    if state == "present" && !allow_no_value && values.is_empty() {
        return Err(ArgError(
            "Parameter 'value(s)' must be defined if state=present and allow_no_value=False."
                .into(),
        ));
    }
    let mut unique: Vec<String> = Vec::new();
    for v in values.drain(..) {
        if !unique.contains(&v) {
            unique.push(v);
        }
    }
    let section_has = match args.get("section_has") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                let get = |k: &str| match i.get(k) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(v) => v.to_string(),
                };
                (get("option"), get("value"))
            })
            .collect(),
        Some(_) => {
            return Err(ArgError(
                "section_has must be a list of dictionaries".into(),
            ));
        }
    };
    if a.bool(&["follow"])? == Some(true) {
        return Err(ArgError(
            "hactl's ini_file does not support follow yet".into(),
        ));
    }
    Ok(Params {
        section: a.str(&["section"])?,
        section_has,
        option: a.str(&["option"])?,
        values: unique,
        present: state == "present",
        exclusive: a.bool(&["exclusive"])?.unwrap_or(true),
        no_extra_spaces: a.bool(&["no_extra_spaces"])?.unwrap_or(false),
        ignore_spaces: a.bool(&["ignore_spaces"])?.unwrap_or(false),
        allow_no_value,
        modify_inactive: a.bool(&["modify_inactive_option"])?.unwrap_or(true),
        create: a.bool(&["create"])?.unwrap_or(true),
        put: put_options(&a, &path)?,
        path,
    })
}

/// `match_opt` (commented-out options too, unless `modify_inactive_option` is off) and
/// `match_active_opt`, on a line without its newline. Groups as in community.general:
/// the value is group 7 (active: group 6... here always `value`).
struct Matcher {
    any: Regex,
    active: Regex,
}

impl Matcher {
    fn new(option: &str, modify_inactive: bool) -> Matcher {
        let o = regex::escape(option);
        let lead = if modify_inactive { "([#;]?)" } else { "()" };
        let build = |p: String| Regex::new(&p).unwrap_or_else(|_| Regex::new("$^").expect("re"));
        Matcher {
            any: build(format!(
                r"^{lead}(?: |\t)*({o})(?: |\t)*(=|$)(?: |\t)*(?P<value>.*)"
            )),
            active: build(format!(
                r"^(?: |\t)*({o})(?: |\t)*(=|$)(?: |\t)*(?P<value>.*)"
            )),
        }
    }

    /// The value of a matching line (commented or not), and whether it was commented.
    fn opt<'a>(&self, line: &'a str) -> Option<(&'a str, bool)> {
        let text = line.strip_suffix('\n').unwrap_or(line);
        self.any.captures(text).map(|c| {
            let commented = c.get(1).is_some_and(|m| !m.is_empty());
            (c.name("value").map_or("", |m| m.as_str()), commented)
        })
    }

    fn active<'a>(&self, line: &'a str) -> Option<&'a str> {
        let text = line.strip_suffix('\n').unwrap_or(line);
        self.active
            .captures(text)
            .map(|c| c.name("value").map_or("", |m| m.as_str()))
    }
}

/// Python's `readlines()` on text read with universal newlines.
fn read_lines(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.split_inclusive('\n').map(str::to_string).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub after: Vec<u8>,
    pub changed: bool,
    pub msg: String,
}

/// `do_ini` on the file's bytes (`None`: no file).
pub fn edit(before: Option<&[u8]>, p: &Params) -> Edit {
    let mut ini: Vec<String> = before.map(read_lines).unwrap_or_default();
    let mut values = p.values.clone();
    let mut changed = false;
    if ini.is_empty() {
        ini.push("\n".into());
    }
    if let Some(last) = ini.last_mut() {
        if !last.ends_with('\n') {
            last.push('\n');
            changed = true;
        }
    }
    ini.insert(0, format!("[{FAKE_SECTION}]"));
    ini.push("[".into());
    let section = match &p.section {
        Some(s) if !s.is_empty() => s.clone(),
        _ => FAKE_SECTION.to_string(),
    };
    let option = p.option.clone().filter(|o| !o.is_empty());
    let m = Matcher::new(option.as_deref().unwrap_or_default(), p.modify_inactive);
    let fmt = |o: &str, v: &str| {
        if p.no_extra_spaces {
            format!("{o}={v}\n")
        } else {
            format!("{o} = {v}\n")
        }
    };
    let section_has = |lines: &[String]| {
        p.section_has.iter().all(|(o, v)| {
            let mm = Matcher::new(o, p.modify_inactive);
            lines
                .iter()
                .any(|l| mm.opt(l).is_some_and(|(val, _)| val == v))
        })
    };
    let mut within = false;
    let (mut start, mut end) = (0, 0);
    let header = format!("[{section}]");
    for (i, line) in ini.iter().enumerate() {
        if within && line.starts_with('[') {
            if section_has(&ini[start..i]) {
                end = i;
                break;
            }
            within = false;
            start = 0;
            end = 0;
        }
        if line.starts_with(&header) {
            within = true;
            start = i;
        }
    }
    let after_part: Vec<String> = ini[end..].to_vec();
    let mut sl: Vec<String> = ini[start..end].to_vec();
    let before_part: Vec<String> = ini[..start].to_vec();
    let mut done = vec![false; sl.len()];
    let mut msg = "OK".to_string();
    let mut no_value_present = false;
    let update = |sl: &mut Vec<String>,
                  i: usize,
                  newline: String,
                  done: &mut Vec<bool>,
                  changed: &mut bool,
                  msg: &mut String| {
        let mut option_changed = None;
        if p.ignore_spaces {
            if let Some((old, false)) = m.opt(&sl[i]) {
                let new = m
                    .opt(&newline)
                    .map(|(v, _)| v.to_string())
                    .unwrap_or_default();
                option_changed = Some(old != new);
            }
        }
        let option_changed = option_changed.unwrap_or(sl[i] != newline);
        if option_changed {
            sl[i] = newline;
            *changed = true;
            *msg = "option changed".into();
        }
        done[i] = true;
    };
    if p.present {
        if let Some(o) = &option {
            for i in 0..sl.len() {
                let Some((val, _)) = m.opt(&sl[i]) else {
                    continue;
                };
                let val = val.to_string();
                if !values.is_empty() && values.contains(&val) {
                    let newline = if val.is_empty() && p.allow_no_value {
                        no_value_present = true;
                        format!("{o}\n")
                    } else {
                        fmt(o, &val)
                    };
                    update(&mut sl, i, newline, &mut done, &mut changed, &mut msg);
                    values.retain(|v| *v != val);
                } else if values.is_empty() && p.allow_no_value {
                    update(
                        &mut sl,
                        i,
                        format!("{o}\n"),
                        &mut done,
                        &mut changed,
                        &mut msg,
                    );
                    no_value_present = true;
                    break;
                }
            }
        }
    }
    if p.present && p.exclusive && !p.allow_no_value {
        let o = option.clone().unwrap_or_default();
        if !values.is_empty() {
            for i in 0..sl.len() {
                if !done[i] && m.opt(&sl[i]).is_some() {
                    let v = values.remove(0);
                    update(&mut sl, i, fmt(&o, &v), &mut done, &mut changed, &mut msg);
                    if values.is_empty() {
                        break;
                    }
                }
            }
        }
        let mut i = sl.len();
        while i > 1 {
            i -= 1;
            if !done[i] && m.opt(&sl[i]).is_some() {
                sl.remove(i);
                done.remove(i);
                changed = true;
                msg = "option changed".into();
            }
        }
    }
    if p.present {
        let blank_or_comment = |l: &str| {
            let t = l.strip_suffix('\n').unwrap_or(l);
            let t = t.trim_start_matches([' ', '\t']);
            t.is_empty() || t.starts_with('#') || t.starts_with(';')
        };
        let mut i = sl.len();
        while i > 0 {
            if !blank_or_comment(&sl[i - 1]) {
                if let (Some(o), false) = (&option, values.is_empty()) {
                    for v in values.iter().rev() {
                        sl.insert(i, fmt(o, v));
                        msg = "option added".into();
                        changed = true;
                    }
                } else if let (Some(o), true) = (&option, values.is_empty()) {
                    if p.allow_no_value && !no_value_present {
                        sl.insert(i, format!("{o}\n"));
                        msg = "option added".into();
                        changed = true;
                    }
                }
                break;
            }
            i -= 1;
        }
    }
    if !p.present {
        if let Some(_o) = &option {
            if p.exclusive {
                let kept: Vec<String> = sl
                    .iter()
                    .filter(|l| m.active(l).is_none())
                    .cloned()
                    .collect();
                if kept != sl {
                    changed = true;
                    msg = "option changed".into();
                    sl = kept;
                }
            } else if !values.is_empty() {
                let kept: Vec<String> = sl
                    .iter()
                    .filter(|l| !m.active(l).is_some_and(|v| values.iter().any(|x| x == v)))
                    .cloned()
                    .collect();
                if kept != sl {
                    changed = true;
                    msg = "option changed".into();
                    sl = kept;
                }
            }
        } else if !sl.is_empty() {
            sl.clear();
            msg = "section removed".into();
            changed = true;
        }
    }
    let mut out: Vec<String> = before_part;
    out.extend(sl);
    out.extend(after_part);
    out.remove(0);
    out.pop();
    if !within && p.present {
        out.push(format!("[{section}]\n"));
        msg = "section and option added".into();
        for (o, v) in &p.section_has {
            out.push(fmt(o, v));
        }
        match &option {
            Some(o) if !values.is_empty() => {
                for v in &values {
                    out.push(fmt(o, v));
                }
            }
            Some(o) if p.allow_no_value => out.push(format!("{o}\n")),
            _ => msg = "only section added".into(),
        }
        changed = true;
    }
    Edit {
        after: out.concat().into_bytes(),
        changed,
        msg,
    }
}

#[derive(Debug)]
pub struct IniFile;

static SPEC: Spec = Spec {
    name: "ini_file",
    aliases: &["community.general.ini_file"],
    runs: Runs::Host,
    free_form: false,
    params: Some(PARAMS),
    check_mode: true,
    about: "an option in a section of an INI file",
};

impl Module for IniFile {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(run(cx))
    }
}

async fn run(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    let mut p = match params(&cx.args) {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    let before = match edit::read(cx, &p.path).await? {
        Err(o) => return Ok(o),
        Ok(Read::Folder) => {
            // Python's open() of a folder: IsADirectoryError.
            return Ok(Outcome::failed(format!(
                "[Errno 21] Is a directory: '{}'",
                p.path
            )));
        }
        Ok(Read::Missing) if !p.create => {
            return Ok(edit::failed_rc(
                format!("Destination {} does not exist!", p.path),
                257,
            ));
        }
        Ok(Read::Missing) => None,
        Ok(Read::File { bytes, real, .. }) => {
            if !real.is_empty() {
                p.put.dest = real;
            }
            Some(bytes)
        }
    };
    let e = edit(before.as_deref(), &p);
    // Ansible sets owner, group and mode only outside check mode and on an existing file.
    let mut put = p.put.clone();
    if cx.mode.check {
        put.mode = None;
        put.owner = None;
        put.group = None;
    }
    let wrote = edit::write(cx, &put, before.is_some() || e.changed, e.after, e.changed).await?;
    if wrote.status == Status::Failed {
        return Ok(wrote);
    }
    Ok(wrote.with("msg", e.msg).with("path", p.path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run_edit(before: Option<&str>, v: Value) -> (String, bool, String) {
        let p = params(v.as_object().expect("map")).expect("params");
        let e = edit(before.map(str::as_bytes), &p);
        (String::from_utf8(e.after).expect("utf8"), e.changed, e.msg)
    }

    #[test]
    fn sets_an_option_and_is_stable() {
        let text = "[drinks]\nfav = lemonade\n\n[food]\nfav = pizza\n";
        let (after, changed, msg) = run_edit(
            Some(text),
            json!({"path": "/f", "section": "drinks", "option": "fav", "value": "coke"}),
        );
        assert_eq!(after, "[drinks]\nfav = coke\n\n[food]\nfav = pizza\n");
        assert_eq!((changed, msg.as_str()), (true, "option changed"));
        let (again, changed, msg) = run_edit(
            Some(&after),
            json!({"path": "/f", "section": "drinks", "option": "fav", "value": "coke"}),
        );
        assert_eq!(
            (again.as_str(), changed, msg.as_str()),
            (after.as_str(), false, "OK")
        );
    }

    #[test]
    fn adds_options_and_sections() {
        let (after, changed, msg) = run_edit(
            Some("[a]\nx = 1\n\n# end\n"),
            json!({"path": "/f", "section": "a", "option": "y", "value": "2", "no_extra_spaces": true}),
        );
        assert_eq!(after, "[a]\nx = 1\ny=2\n\n# end\n");
        assert_eq!((changed, msg.as_str()), (true, "option added"));
        let (after, _, msg) = run_edit(
            Some("[a]\nx = 1"),
            json!({"path": "/f", "section": "b", "option": "y", "value": "2"}),
        );
        assert_eq!(after, "[a]\nx = 1\n[b]\ny = 2\n");
        assert_eq!(msg, "section and option added");
        let (after, changed, msg) = run_edit(
            None,
            json!({"path": "/f", "section": "s", "option": "k", "value": "v"}),
        );
        assert_eq!(
            (after.as_str(), changed, msg.as_str()),
            ("\n[s]\nk = v\n", true, "section and option added")
        );
    }

    #[test]
    fn commented_options_are_taken_over_and_duplicates_removed() {
        let (after, _, _) = run_edit(
            Some("[a]\n#k = old\nk = 1\nk = 2\n"),
            json!({"path": "/f", "section": "a", "option": "k", "value": "3"}),
        );
        assert_eq!(after, "[a]\nk = 3\n");
    }

    #[test]
    fn removes_options_and_sections() {
        let text = "[a]\nk = 1\nj = 2\n[b]\nk = 1\n";
        let (after, changed, msg) = run_edit(
            Some(text),
            json!({"path": "/f", "section": "a", "option": "k", "state": "absent"}),
        );
        assert_eq!(
            (after.as_str(), changed, msg.as_str()),
            ("[a]\nj = 2\n[b]\nk = 1\n", true, "option changed")
        );
        let (after, _, msg) = run_edit(
            Some(text),
            json!({"path": "/f", "section": "a", "state": "absent"}),
        );
        assert_eq!(
            (after.as_str(), msg.as_str()),
            ("[b]\nk = 1\n", "section removed")
        );
    }

    #[test]
    fn values_and_no_value() {
        let (after, _, _) = run_edit(
            Some("[a]\n"),
            json!({"path": "/f", "section": "a", "option": "k", "values": ["1", "2"]}),
        );
        assert_eq!(after, "[a]\nk = 1\nk = 2\n");
        let (after, _, _) = run_edit(
            Some("[a]\n"),
            json!({"path": "/f", "section": "a", "option": "flag", "allow_no_value": true}),
        );
        assert_eq!(after, "[a]\nflag\n");
        let err = params(
            json!({"path": "/f", "option": "k"})
                .as_object()
                .expect("map"),
        )
        .expect_err("no value");
        assert!(err.0.starts_with("Parameter 'value(s)' must be defined"));
    }
}
