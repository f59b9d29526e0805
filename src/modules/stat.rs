//! `stat`: what a path is, as Ansible's `stat` module reports it under `stat` (exists, mode,
//! the type and permission booleans, ids and names, size, times, inode, checksum, link
//! source, MIME type and file attributes), read on the host with GNU `stat` and coreutils
//! (`sha1sum`, `md5sum`, ... for `checksum_algorithm`; `file` and `lsattr` when present, as
//! Ansible uses them). Never changes anything, so check mode runs it too.

use serde_json::{Map, Value, json};

use super::args::Args;
use super::edit::{assign, flag};
use super::protocol::{self, field, field_b64};
use super::{ArgError, Outcome, Remote, Step};

const SCRIPT: &str = include_str!("stat.sh");

pub(crate) const PARAMS: &[&str] = &[
    "path",
    "dest",
    "name",
    "follow",
    "get_checksum",
    "get_mime",
    "mime",
    "mime_type",
    "mime-type",
    "get_attributes",
    "attr",
    "attributes",
    "checksum_algorithm",
    "checksum",
    "checksum_algo",
    "get_md5",
];

const ALGORITHMS: &[&str] = &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

/// Ansible's names of the `lsattr` flags (`module_utils/common/file.py`).
const FILE_ATTRIBUTES: &[(char, &str)] = &[
    ('A', "noatime"),
    ('a', "append"),
    ('c', "compressed"),
    ('C', "nocow"),
    ('d', "nodump"),
    ('D', "dirsync"),
    ('e', "extents"),
    ('E', "encrypted"),
    ('h', "blocksize"),
    ('i', "immutable"),
    ('I', "indexed"),
    ('j', "journalled"),
    ('N', "inline"),
    ('s', "zero"),
    ('S', "synchronous"),
    ('t', "notail"),
    ('T', "blockroot"),
    ('u', "undelete"),
    ('X', "compressedraw"),
    ('Z', "compresseddirty"),
];

/// A `type='path'` argument as Ansible's module expands it on the host: a leading `~` is the
/// user's home. (Shell snippet; `$1` names the variable to expand.)
pub(crate) const EXPAND_HOME: &str = include_str!("expand_home.sh");

pub fn plan(args: &Map<String, Value>) -> Result<Step, ArgError> {
    let a = Args::new("stat", args, PARAMS)?;
    let path = a.required(&["path", "dest", "name"])?;
    let algo = a
        .str(&["checksum_algorithm", "checksum", "checksum_algo"])?
        .unwrap_or_else(|| "sha1".into());
    if !ALGORITHMS.contains(&algo.as_str()) {
        return Err(ArgError(format!(
            "value of checksum_algorithm must be one of: {}, got: {algo}",
            ALGORITHMS.join(", ")
        )));
    }
    let follow = a.bool(&["follow"])?.unwrap_or(false);
    let checksum = a.bool(&["get_checksum"])?.unwrap_or(true);
    let mime = a
        .bool(&["get_mime", "mime", "mime_type", "mime-type"])?
        .unwrap_or(true);
    let attrs = a
        .bool(&["get_attributes", "attr", "attributes"])?
        .unwrap_or(true);
    let body = format!("{EXPAND_HOME}{SCRIPT}");
    let script = assign(
        &[
            ("path", &path),
            ("follow", flag(follow)),
            ("checksum", flag(checksum)),
            ("algo", &algo),
            ("mime", flag(mime)),
            ("attrs", flag(attrs)),
        ],
        &body,
    );
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(move |out| {
            if !out.success() {
                return protocol::failed_from(&out, "stat failed");
            }
            let fields = protocol::fields(&out.stdout);
            Outcome::changed(false).with("stat", Value::Object(parse(&fields, &path)))
        }),
    }))
}

/// The `stat` dictionary from the script's fields.
pub fn parse(fields: &[(String, String)], path: &str) -> Map<String, Value> {
    let mut s = Map::new();
    if field(fields, "exists") != Some("1") {
        s.insert("exists".into(), json!(false));
        return s;
    }
    let st: Vec<&str> = field(fields, "st").unwrap_or_default().split('|').collect();
    let num = |i: usize| -> u64 { st.get(i).and_then(|v| v.parse().ok()).unwrap_or(0) };
    let hex = |i: usize| -> u64 {
        st.get(i)
            .and_then(|v| u64::from_str_radix(v, 16).ok())
            .unwrap_or(0)
    };
    let time = |i: usize| -> Value {
        st.get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(Value::Null, |t| json!(t))
    };
    let raw = hex(0) as u32;
    let fmt = raw & 0o170000;
    let bit = |b: u32| raw & b != 0;
    s.insert("exists".into(), json!(true));
    s.insert("path".into(), json!(path));
    s.insert("mode".into(), json!(format!("{:04o}", raw & 0o7777)));
    for (key, kind) in [
        ("isdir", 0o040000),
        ("ischr", 0o020000),
        ("isblk", 0o060000),
        ("isreg", 0o100000),
        ("isfifo", 0o010000),
        ("islnk", 0o120000),
        ("issock", 0o140000),
    ] {
        s.insert(key.into(), json!(fmt == kind));
    }
    s.insert("uid".into(), json!(num(1)));
    s.insert("gid".into(), json!(num(2)));
    s.insert("size".into(), json!(num(3)));
    s.insert("inode".into(), json!(num(4)));
    s.insert("dev".into(), json!(num(5)));
    s.insert("nlink".into(), json!(num(6)));
    s.insert("atime".into(), time(11));
    s.insert("mtime".into(), time(12));
    s.insert("ctime".into(), time(13));
    for (key, b) in [
        ("wusr", 0o200),
        ("rusr", 0o400),
        ("xusr", 0o100),
        ("wgrp", 0o020),
        ("rgrp", 0o040),
        ("xgrp", 0o010),
        ("woth", 0o002),
        ("roth", 0o004),
        ("xoth", 0o001),
        ("isuid", 0o4000),
        ("isgid", 0o2000),
    ] {
        s.insert(key.into(), json!(bit(b)));
    }
    s.insert("blocks".into(), json!(num(7)));
    s.insert("block_size".into(), json!(num(8)));
    // st_rdev as Linux's makedev() builds it from the major and minor `stat` prints in hex.
    let (major, minor) = (hex(9), hex(10));
    let rdev = ((major & 0xfff) << 8)
        | ((major & !0xfff) << 32)
        | (minor & 0xff)
        | ((minor & !0xff) << 12);
    s.insert("device_type".into(), json!(rdev));
    let access = field(fields, "access").unwrap_or("000").as_bytes();
    for (i, key) in ["readable", "writeable", "executable"].iter().enumerate() {
        s.insert((*key).into(), json!(access.get(i) == Some(&b'1')));
    }
    if let Some(src) = field_b64(fields, "lnk_source_b64") {
        s.insert("lnk_source".into(), json!(src));
    }
    if let Some(target) = field_b64(fields, "lnk_target_b64") {
        s.insert("lnk_target".into(), json!(target));
    }
    for key in ["pw_name", "gr_name", "checksum"] {
        if let Some(v) = field(fields, key) {
            s.insert(key.into(), json!(v));
        }
    }
    if let Some(m) = field(fields, "mime") {
        // `TYPE; charset=CHARSET`, read as Ansible reads it.
        let (t, c) = m.split_once(';').unwrap_or((m, ""));
        let charset = c.split_once('=').map(|(_, v)| v.trim()).unwrap_or_default();
        s.insert("mimetype".into(), json!(t.trim()));
        s.insert("charset".into(), json!(charset));
    } else if fields.iter().any(|(k, _)| k == "mime") || mime_unknown(fields) {
        s.insert("mimetype".into(), json!("unknown"));
        s.insert("charset".into(), json!("unknown"));
    }
    if let Some(l) = field(fields, "lsattr") {
        s.insert("version".into(), Value::Null);
        s.insert("attributes".into(), json!([]));
        s.insert("attr_flags".into(), json!(""));
        if let Some((version, flags)) = l.split_once(' ') {
            let flags: String = flags.chars().filter(|c| *c != '-').collect();
            let names: Vec<&str> = flags
                .chars()
                .filter_map(|c| {
                    FILE_ATTRIBUTES
                        .iter()
                        .find(|(f, _)| *f == c)
                        .map(|(_, n)| *n)
                })
                .collect();
            s.insert("version".into(), json!(version));
            s.insert("attributes".into(), json!(names));
            s.insert("attr_flags".into(), json!(flags));
        }
    }
    s
}

/// `get_mime` was asked for but `file` is missing or failed: Ansible reports `unknown`.
fn mime_unknown(fields: &[(String, String)]) -> bool {
    field(fields, "mime_asked") == Some("1")
}

super::registry::host_module!(Stat, "stat", aliases: &[], free_form: false,
    params: PARAMS, about: "what a path is: type, owner, mode, size, times, checksum",
    plan: |cx| plan(&cx.args));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::Status;
    use crate::modules::testutil::{Host, args};

    fn stat(host: &Host, a: Value) -> Map<String, Value> {
        let out = host.run(plan(&args(a)).expect("plan"));
        assert_eq!(out.status, Status::Ok, "{out:?}");
        out.result["stat"].as_object().cloned().expect("stat dict")
    }

    #[test]
    fn a_file_a_link_a_folder_and_nothing() {
        let host = Host::new();
        std::fs::write(host.path("f"), "hello\n").expect("write");
        std::os::unix::fs::symlink("f", host.path("l")).expect("symlink");
        std::fs::create_dir(host.path("d")).expect("mkdir");
        let f = host.path("f").to_string_lossy().into_owned();
        let s = stat(&host, json!({"path": f}));
        assert_eq!(s["exists"], json!(true));
        assert_eq!(s["isreg"], json!(true));
        assert_eq!(s["size"], json!(6));
        // sha1 of "hello\n", as Ansible's default checksum.
        assert_eq!(
            s["checksum"],
            json!("f572d396fae9206628714fb2ce00f72e94f2258f")
        );
        assert!(s["mtime"].is_f64(), "{s:?}");
        assert!(s["pw_name"].is_string(), "{s:?}");
        let s = stat(&host, json!({"path": f, "checksum_algorithm": "md5"}));
        assert_eq!(s["checksum"], json!("b1946ac92492d2347c6235b4d2611184"));

        let l = host.path("l").to_string_lossy().into_owned();
        let s = stat(&host, json!({"path": l}));
        assert_eq!((&s["islnk"], &s["isreg"]), (&json!(true), &json!(false)));
        assert_eq!(s["lnk_source"], json!(f));
        assert_eq!(s["lnk_target"], json!("f"));
        assert!(s.get("checksum").is_none(), "a link has no checksum: {s:?}");
        let s = stat(&host, json!({"path": l, "follow": true}));
        assert_eq!((&s["islnk"], &s["isreg"]), (&json!(false), &json!(true)));

        let d = host.path("d").to_string_lossy().into_owned();
        let s = stat(&host, json!({"path": d, "get_mime": false}));
        assert_eq!(s["isdir"], json!(true));
        assert!(s.get("mimetype").is_none());
        let s = stat(&host, json!({"path": host.path("nope").to_string_lossy()}));
        assert_eq!(Value::Object(s), json!({"exists": false}));
    }

    #[test]
    fn modes_and_bits() {
        use std::os::unix::fs::PermissionsExt as _;
        let host = Host::new();
        let f = host.path("f");
        std::fs::write(&f, "").expect("write");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o4751)).expect("chmod");
        let s = stat(&host, json!({"path": f.to_string_lossy()}));
        assert_eq!(s["mode"], json!("4751"));
        assert_eq!(
            (&s["isuid"], &s["xoth"], &s["woth"], &s["rgrp"]),
            (&json!(true), &json!(true), &json!(false), &json!(true))
        );
    }

    #[test]
    fn a_bad_algorithm_is_refused_as_ansible_words_it() {
        let err =
            plan(&args(json!({"path": "/f", "checksum_algorithm": "crc"}))).expect_err("algo");
        assert!(
            err.0
                .starts_with("value of checksum_algorithm must be one of: md5, sha1")
        );
    }
}
