//! `authorized_key` (`ansible.posix.authorized_key`): SSH public keys present in or absent
//! from a user's `authorized_keys`, with `exclusive`, `key_options`, `comment`, `manage_dir`,
//! `path` and `follow`. The host is read in one round trip (the user's home and ids, the file,
//! a key URL fetched with curl or wget); the edit is computed here with the collection's own
//! rules (keys identified by their base64 blob, options and comments compared, new keys after
//! the existing ones, unparsable lines kept where they are, a key without a comment written
//! with a trailing space as Ansible writes it); a second round trip writes the file only when
//! it changes.

use std::collections::HashMap;

use base64::Engine as _;
use futures::future::BoxFuture;
use regex::Regex;
use serde_json::{Map, Value};

use super::args::Args;
use super::protocol::{self, field, flag, with_vars};
use super::registry::{Cx, Module, Runs, Spec, Unreachable};
use super::{ArgError, FileDiff, Outcome};

const PARAMS: &[&str] = &[
    "user",
    "key",
    "path",
    "manage_dir",
    "state",
    "key_options",
    "exclusive",
    "comment",
    "validate_certs",
    "follow",
];

const SCRIPT: &str = include_str!("authorized_key.sh");

const KEY_TYPES: &[&str] = &[
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "ssh-ed25519",
    "ssh-dss",
    "ssh-rsa",
];

/// What the task asks for.
#[derive(Debug, Clone)]
pub struct Params {
    pub user: String,
    pub key: String,
    pub path: Option<String>,
    pub manage_dir: bool,
    pub present: bool,
    pub key_options: Option<String>,
    pub exclusive: bool,
    pub comment: Option<String>,
    pub validate_certs: bool,
    pub follow: bool,
}

pub fn params(args: &Map<String, Value>) -> Result<Params, ArgError> {
    let a = Args::new("authorized_key", args, PARAMS)?;
    let state = a
        .choice("state", &["absent", "present"])?
        .unwrap_or_else(|| "present".into());
    Ok(Params {
        user: a.required(&["user"])?,
        key: a.required(&["key"])?,
        path: a.str(&["path"])?,
        manage_dir: a.bool(&["manage_dir"])?.unwrap_or(true),
        present: state == "present",
        key_options: a.str(&["key_options"])?,
        exclusive: a.bool(&["exclusive"])?.unwrap_or(false),
        comment: a.str(&["comment"])?,
        validate_certs: a.bool(&["validate_certs"])?.unwrap_or(true),
        follow: a.bool(&["follow"])?.unwrap_or(false),
    })
}

/// Key options in their order, a value or none each (`no-pty`, `from="10.0.0.1"`).
type Options = Vec<(String, Option<String>)>;

/// One entry of the file as the collection keeps it: a key (blob, type, options, comment) or
/// a line it could not parse, kept as it is; `rank` orders the output.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    id: String,
    kind: Option<String>,
    options: Options,
    comment: String,
    rank: usize,
}

impl Entry {
    /// Equal as the collection compares `parsed[:4]` (options as a dict: order aside).
    fn same(&self, other: &Entry) -> bool {
        let dict = |o: &Options| o.iter().cloned().collect::<HashMap<_, _>>();
        self.id == other.id
            && self.kind == other.kind
            && self.comment == other.comment
            && dict(&self.options) == dict(&other.options)
    }
}

/// `parseoptions`: split at commas outside quotes; stray separators (`,,`) count as option
/// names, as the collection's `re.split` leaves them.
fn parse_options(text: &str) -> Options {
    static RUN: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let run = RUN
        .get_or_init(|| Regex::new(r#"((?:[^,"']|"[^"]*"|'[^']*')+)"#).expect("a valid pattern"));
    // The pieces `re.split` returns, without the first and the last.
    let mut pieces = Vec::new();
    let mut at = 0;
    for m in run.find_iter(text) {
        pieces.push(&text[at..m.start()]);
        pieces.push(m.as_str());
        at = m.end();
    }
    pieces.push(&text[at..]);
    let inner = if pieces.len() >= 2 {
        &pieces[1..pieces.len() - 1]
    } else {
        &[][..]
    };
    let mut out: Options = Vec::new();
    for part in inner {
        let (k, v) = match part.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None if *part != "," => (part.to_string(), None),
            None => continue,
        };
        // A dict: a repeated name keeps its first place and takes the last value.
        match out.iter_mut().find(|(name, _)| *name == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

/// `parsekey`: `None` for a line with no known key type.
fn parse_key(raw: &str, rank: usize) -> Option<Entry> {
    let raw = raw.replace("\\#", "#");
    let parts: Vec<&str> = raw
        .split([' ', '\t', '\r', '\n'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.first() == Some(&"#") {
        return Some(skipped(&raw, rank));
    }
    let at = parts.iter().position(|p| KEY_TYPES.contains(p))?;
    let blob = parts.get(at + 1)?;
    Some(Entry {
        id: blob.to_string(),
        kind: Some(parts[at].to_string()),
        options: parse_options(&parts[..at].join(" ")),
        comment: parts.get(at + 2..).unwrap_or_default().join(" "),
        rank,
    })
}

fn skipped(line: &str, rank: usize) -> Entry {
    Entry {
        id: line.to_string(),
        kind: None,
        options: Vec::new(),
        comment: String::new(),
        rank,
    }
}

/// Python's dict as the collection uses it: insertion order, assignment in place.
#[derive(Debug, Default)]
struct Keys(Vec<Entry>);

impl Keys {
    fn get(&self, id: &str) -> Option<&Entry> {
        self.0.iter().find(|e| e.id == id)
    }
    fn set(&mut self, e: Entry) {
        match self.0.iter_mut().find(|x| x.id == e.id) {
            Some(slot) => *slot = e,
            None => self.0.push(e),
        }
    }
    fn remove(&mut self, id: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|e| e.id != id);
        before != self.0.len()
    }
}

/// `splitlines(True)`: lines with their ends (`\n`, `\r\n`, `\r` and Python's other breaks
/// that matter in text files).
fn split_lines_keep(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let end = match b[i] {
            b'\r' if b.get(i + 1) == Some(&b'\n') => Some(i + 2),
            b'\n' | b'\r' | b'\x0b' | b'\x0c' | b'\x1c' | b'\x1d' | b'\x1e' => Some(i + 1),
            _ => None,
        };
        if let Some(e) = end {
            out.push(&text[start..e]);
            start = e;
            i = e;
        } else {
            i += 1;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn parse_file(content: &str) -> Keys {
    let mut keys = Keys::default();
    for (rank, line) in split_lines_keep(content).into_iter().enumerate() {
        keys.set(parse_key(line, rank).unwrap_or_else(|| skipped(line, rank)));
    }
    keys
}

fn serialize(keys: &Keys) -> String {
    let mut sorted: Vec<&Entry> = keys.0.iter().collect();
    sorted.sort_by_key(|e| e.rank);
    let mut out = String::new();
    for e in sorted {
        let Some(kind) = &e.kind else {
            out.push_str(&e.id);
            continue;
        };
        if !e.options.is_empty() {
            let opts: Vec<String> = e
                .options
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("{k}={v}"),
                    None => k.clone(),
                })
                .collect();
            out.push_str(&opts.join(","));
            out.push(' ');
        }
        out.push_str(&format!("{kind} {} {}\n", e.id, e.comment));
    }
    out
}

/// `enforce_state`'s edit: the new content, or `None` when nothing changes.
pub fn enforce(existing: &str, key: &str, p: &Params) -> Result<Option<String>, String> {
    let mut keys = parse_file(existing);
    let max_rank = keys.0.len();
    let mut to_exist = Vec::new();
    let mut write = false;
    let new: Vec<&str> = key
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for (i, line) in new.iter().enumerate() {
        let Some(mut k) = parse_key(line, i) else {
            return Err(format!("invalid key specified: {line}"));
        };
        if let Some(o) = &p.key_options {
            k.options = parse_options(o);
        }
        if let Some(c) = &p.comment {
            k.comment = c.clone();
        }
        let mut matched = false;
        let mut stale = false;
        if let Some(old) = keys.get(&k.id) {
            if !k.same(old) && p.present {
                stale = true;
            } else {
                matched = true;
            }
        }
        if p.present {
            to_exist.push(k.id.clone());
            if stale && keys.remove(&k.id) {
                write = true;
            }
            if !matched {
                k.rank += max_rank;
                keys.set(k);
                write = true;
            }
        } else if matched {
            keys.remove(&k.id);
            write = true;
        }
    }
    if p.present && p.exclusive {
        let before = keys.0.len();
        keys.0.retain(|e| to_exist.contains(&e.id));
        write |= keys.0.len() != before;
    }
    Ok(write.then(|| serialize(&keys)))
}

fn b64(s: &str) -> Option<String> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn script(p: &Params, step: &str, url: &str, check: bool) -> String {
    with_vars(
        SCRIPT,
        &[
            ("step", step),
            ("user", &p.user),
            ("path", p.path.as_deref().unwrap_or_default()),
            ("manage_dir", flag(p.manage_dir)),
            ("follow", flag(p.follow)),
            ("url", url),
            ("check", flag(check)),
        ],
    )
}

/// The result as the collection returns it: every parameter, `keyfile` and `changed`.
fn result(p: &Params, keyfile: &str, changed: bool) -> Outcome {
    let opt = |v: &Option<String>| v.clone().map(Value::String).unwrap_or(Value::Null);
    Outcome::changed(changed)
        .with("user", p.user.clone())
        .with("key", p.key.clone())
        .with("path", opt(&p.path))
        .with("manage_dir", p.manage_dir)
        .with("state", if p.present { "present" } else { "absent" })
        .with("key_options", opt(&p.key_options))
        .with("exclusive", p.exclusive)
        .with("comment", opt(&p.comment))
        .with("validate_certs", p.validate_certs)
        .with("follow", p.follow)
        .with("keyfile", keyfile.to_string())
}

async fn run(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    let p = match params(&cx.args) {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    let check = cx.mode.check;
    let url = if p.key.starts_with("http") {
        p.key.clone()
    } else {
        String::new()
    };
    let Some(read) = cx.exec(&script(&p, "read", &url, check), b"").await? else {
        return Ok(Outcome::offline(cx.module));
    };
    if !read.success() {
        return Ok(protocol::failed_from(&read, "could not read the keys file"));
    }
    let f = protocol::fields(&read.stdout);
    if field(&f, "no_user") == Some("1") {
        return Ok(Outcome::failed(if check && p.path.is_none() {
            "Either user must exist or you must provide full path to key file in check mode"
                .to_string()
        } else {
            format!(
                "Failed to lookup user {}: \"getpwnam(): name not found: '{}'\"",
                p.user, p.user
            )
        }));
    }
    if field(&f, "user_found").is_none() && !check {
        return Ok(Outcome::failed(format!(
            "Failed to lookup user {}: \"getpwnam(): name not found: '{}'\"",
            p.user, p.user
        )));
    }
    let key = if url.is_empty() {
        p.key.clone()
    } else {
        match field(&f, "url_b64").and_then(b64) {
            Some(k) => k,
            None => return Ok(Outcome::failed(format!("Error getting key from: {url}"))),
        }
    };
    let keyfile = field(&f, "keyfile").unwrap_or_default().to_string();
    let existing = field(&f, "content_b64").and_then(b64).unwrap_or_default();
    let after = match enforce(&existing, &key, &p) {
        Ok(a) => a,
        Err(msg) => return Ok(Outcome::failed(msg)),
    };
    let Some(after) = after else {
        return Ok(if check {
            Outcome::changed(false)
        } else {
            result(&p, &keyfile, false)
        });
    };
    let diff = cx.mode.diff.then(|| FileDiff {
        path: keyfile.clone(),
        before: Some(existing.clone()),
        after: after.clone(),
    });
    if check {
        let mut o = Outcome::changed(true);
        o.diff = diff;
        return Ok(o);
    }
    let Some(wrote) = cx
        .exec(&script(&p, "write", "", false), after.as_bytes())
        .await?
    else {
        return Ok(Outcome::offline(cx.module));
    };
    if !wrote.success() || field(&protocol::fields(&wrote.stdout), "written").is_none() {
        return Ok(protocol::failed_from(
            &wrote,
            "could not write the keys file",
        ));
    }
    let mut o = result(&p, &keyfile, true);
    o.diff = diff;
    Ok(o)
}

#[derive(Debug)]
pub struct AuthorizedKey;

static SPEC: Spec = Spec {
    name: "authorized_key",
    aliases: &["ansible.posix.authorized_key"],
    runs: Runs::Host,
    free_form: false,
    params: Some(PARAMS),
    check_mode: true,
    about: "add or remove SSH keys in a user's authorized_keys",
};

impl Module for AuthorizedKey {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(run(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::testutil::{Host, args};
    use serde_json::json;

    const A: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA user@a";
    const B: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ bob@b";

    fn p(v: Value) -> Params {
        params(&args(v)).expect("params")
    }

    #[test]
    fn adds_after_existing_keys_and_is_idempotent() {
        let pa = p(json!({"user": "u", "key": B}));
        let before = format!("# keys\n{A}\n");
        let after = enforce(&before, B, &pa).expect("ok").expect("changed");
        assert_eq!(after, format!("# keys\n{A}\n{B}\n"));
        assert_eq!(enforce(&after, B, &pa), Ok(None));
    }

    #[test]
    fn a_key_without_comment_gets_a_trailing_space_as_in_ansible() {
        let pa = p(json!({"user": "u", "key": "ssh-ed25519 AAAAX"}));
        assert_eq!(
            enforce("", "ssh-ed25519 AAAAX", &pa),
            Ok(Some("ssh-ed25519 AAAAX \n".into()))
        );
    }

    #[test]
    fn options_comment_exclusive_and_absent() {
        let pa = p(
            json!({"user": "u", "key": A, "key_options": "no-pty,from=\"10.0.0.1,10.0.0.2\"",
                          "comment": "deploy"}),
        );
        let after = enforce(&format!("{A}\n{B}\n"), A, &pa)
            .expect("ok")
            .expect("changed");
        // The old entry goes; the new one comes after the others.
        assert_eq!(
            after,
            format!(
                "{B}\nno-pty,from=\"10.0.0.1,10.0.0.2\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA deploy\n"
            )
        );
        assert_eq!(enforce(&after, A, &pa), Ok(None));
        let ex = p(json!({"user": "u", "key": A, "exclusive": true}));
        assert_eq!(
            enforce(&format!("#c\n{B}\n{A}\n"), A, &ex),
            Ok(Some(format!("{A}\n")))
        );
        let gone = p(json!({"user": "u", "key": format!("{A}\n{B}"), "state": "absent"}));
        assert_eq!(
            enforce(&format!("{A}\n# x\n{B}\n"), &format!("{A}\n{B}"), &gone),
            Ok(Some("# x\n".into()))
        );
        assert_eq!(enforce("# x\n", A, &gone), Ok(None));
        let bad = p(json!({"user": "u", "key": "nonsense"}));
        assert_eq!(
            enforce("", "nonsense", &bad),
            Err("invalid key specified: nonsense".into())
        );
    }

    #[test]
    fn the_host_script_writes_with_the_users_ids_and_modes() {
        let h = Host::new();
        let home = h.path("home");
        std::fs::create_dir(&home).expect("home");
        let me = |flag: &str| {
            let out = std::process::Command::new("id")
                .arg(flag)
                .output()
                .expect("id");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        h.fake(
            "getent",
            &format!(
                "echo 'u:x:{}:{}::{}:/bin/sh'",
                me("-u"),
                me("-g"),
                home.display()
            ),
        );
        let pa = p(json!({"user": "u", "key": A}));
        let read = h.exec(&script(&pa, "read", "", false), b"");
        let f = protocol::fields(&read.stdout);
        let keyfile = format!("{}/.ssh/authorized_keys", home.display());
        assert_eq!(field(&f, "keyfile"), Some(keyfile.as_str()));
        assert_eq!(field(&f, "content_b64"), None);
        let wrote = h.exec(&script(&pa, "write", "", false), b"x\n");
        assert!(wrote.success(), "{wrote:?}");
        assert_eq!(std::fs::read_to_string(&keyfile).expect("keys"), "x\n");
        use crate::modules::testutil::mode_of;
        assert_eq!(mode_of(&home.join(".ssh")), 0o700);
        assert_eq!(mode_of(std::path::Path::new(&keyfile)), 0o600);
        let read = h.exec(&script(&pa, "read", "", false), b"");
        let f = protocol::fields(&read.stdout);
        assert_eq!(
            field(&f, "content_b64").and_then(b64).as_deref(),
            Some("x\n")
        );
    }
}
