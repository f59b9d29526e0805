//! The host side of `template` and `copy`: put bytes at `dest` atomically (temp file in the
//! target folder, validate, rename), keep owner and mode of a file it replaces, and compare by
//! SHA-256 on the host so an unchanged file is never rewritten.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::args::Args;
use super::protocol::{self, field, field_b64, with_args};
use super::{ArgError, FileDiff, Mode, Outcome, Remote, Status, Step};

const SCRIPT: &str = include_str!("file_put.sh");

/// Where and how to put the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutOptions {
    pub dest: String,
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub backup: bool,
    /// A command with `%s` standing for the new file, run before it replaces the old one.
    pub validate: Option<String>,
    /// The file name used when `dest` is a folder (the basename of `src`).
    pub name: String,
}

/// Parameters `template` and `copy` take.
const TEMPLATE_PARAMS: &[&str] = &[
    "src",
    "dest",
    "owner",
    "group",
    "mode",
    "backup",
    "validate",
    "force",
    "follow",
    "newline_sequence",
    "trim_blocks",
    "lstrip_blocks",
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "output_encoding",
    "unsafe_writes",
    "attributes",
    "selevel",
    "serole",
    "setype",
    "seuser",
];
const COPY_PARAMS: &[&str] = &[
    "src",
    "content",
    "dest",
    "owner",
    "group",
    "mode",
    "backup",
    "validate",
    "force",
    "follow",
    "directory_mode",
    "remote_src",
    "local_follow",
    "checksum",
    "decrypt",
    "unsafe_writes",
    "attributes",
    "selevel",
    "serole",
    "setype",
    "seuser",
];

/// Reads the arguments of `template` or `copy`. Returns the options and `src` (if any).
pub fn options(
    module: &str,
    args: &Map<String, Value>,
) -> Result<(PutOptions, Option<String>), ArgError> {
    let allowed = if module == "template" {
        TEMPLATE_PARAMS
    } else {
        COPY_PARAMS
    };
    let a = Args::new(module, args, allowed)?;
    let dest = a.required(&["dest"])?;
    let src = a.str(&["src"])?;
    if module == "copy" && src.is_none() && a.str(&["content"])?.is_none() {
        return Err(ArgError("src (or content) is required".into()));
    }
    if module == "template" && src.is_none() {
        return Err(ArgError("missing required arguments: src".into()));
    }
    if a.bool(&["remote_src"])? == Some(true) {
        return Err(ArgError("hactl does not support remote_src yet".into()));
    }
    let name = src
        .as_deref()
        .and_then(|s| std::path::Path::new(s).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let opts = PutOptions {
        dest,
        mode: a.mode()?,
        owner: a.owner()?,
        group: a.group()?,
        backup: a.bool(&["backup"])?.unwrap_or(false),
        validate: a.str(&["validate"])?,
        name,
    };
    if let Some(v) = &opts.validate {
        if !v.contains("%s") {
            return Err(ArgError(format!("validate must contain %s: {v}")));
        }
    }
    if opts.dest.ends_with('/') && opts.name.is_empty() {
        return Err(ArgError("can not use content with a dir as dest".into()));
    }
    Ok((opts, src))
}

/// Plans putting `content` in place on the host.
pub fn plan(content: Vec<u8>, opts: &PutOptions, mode: Mode) -> Step {
    let sha = hex(&Sha256::digest(&content));
    let validate = opts
        .validate
        .as_deref()
        .map(validate_words)
        .unwrap_or_default();
    let flag = |b: bool| if b { "1" } else { "0" };
    let body = format!("{}{SCRIPT}", super::file::ATTRS_SH);
    let script = with_args(
        &body,
        &[
            &opts.dest,
            &sha,
            opts.mode.as_deref().unwrap_or_default(),
            opts.owner.as_deref().unwrap_or_default(),
            opts.group.as_deref().unwrap_or_default(),
            flag(opts.backup),
            &validate,
            flag(mode.check),
            flag(mode.diff),
            &opts.name,
        ],
    );
    let after = mode
        .diff
        .then(|| String::from_utf8_lossy(&content).into_owned());
    Step::Remote(Remote {
        script,
        stdin: content,
        finish: Box::new(move |out| finish(out, after, sha)),
    })
}

/// The `validate` command as the host's shell will `eval` it: split into words as Ansible
/// splits it (`shlex`, no shell: pipes and `$VARS` are plain words), each word quoted, and
/// `%s` inside any word standing for the temp file (`"$tmp"`). Unbalanced quotes leave the
/// command as one word, which then fails to run, as it would under Ansible.
fn validate_words(command: &str) -> String {
    let words = shlex::split(command).unwrap_or_else(|| vec![command.to_string()]);
    words
        .iter()
        .map(|w| {
            w.split("%s")
                .map(crate::transport::shell_quote)
                .collect::<Vec<_>>()
                .join("\"$tmp\"")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn finish(out: crate::transport::ExecOutput, after: Option<String>, sha: String) -> Outcome {
    let fields = protocol::fields(&out.stdout);
    if !out.success() {
        return protocol::failed_from(&out, "could not write the file");
    }
    let changed = field(&fields, "changed") == Some("1");
    let dest = field(&fields, "dest").unwrap_or_default().to_string();
    let mut outcome = Outcome::changed(changed)
        .with("dest", dest.clone())
        .with("checksum", sha);
    if let Some(b) = field(&fields, "backup_file") {
        outcome = outcome.with("backup_file", b);
    }
    if changed && outcome.status == Status::Changed {
        if let Some(after) = after {
            outcome.diff = Some(FileDiff {
                path: dest,
                before: field_b64(&fields, "before_b64"),
                after,
            });
        }
    }
    outcome
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seed_copy_to_a_folder() {
        let args = json!({"src": "notify.sh", "dest": "/etc/keepalived/"});
        let (opts, src) = options("copy", args.as_object().expect("map")).expect("valid");
        assert_eq!(src.as_deref(), Some("notify.sh"));
        assert_eq!(opts.name, "notify.sh");
        assert_eq!(opts.dest, "/etc/keepalived/");
    }

    #[test]
    fn validate_needs_a_placeholder() {
        let args = json!({"src": "a", "dest": "/b", "validate": "nginx -t"});
        let err = options("template", args.as_object().expect("map")).expect_err("no %s");
        assert!(err.0.contains("%s"));
    }

    #[test]
    fn validate_runs_without_a_shell_as_ansibles_does() {
        assert_eq!(validate_words("nginx -t -c %s"), "nginx -t -c ''\"$tmp\"''");
        // Ansible hands `sh -c '...%s...'` the path inside the quoted word.
        assert_eq!(
            validate_words("sh -c '! grep -q bad %s'"),
            "sh -c '! grep -q bad '\"$tmp\"''"
        );
        assert_eq!(
            validate_words("visudo -cf %s.new"),
            "visudo -cf ''\"$tmp\".new"
        );
    }

    #[test]
    fn unknown_parameter() {
        let args = json!({"src": "a", "dest": "/b", "mod": "0644"});
        assert!(options("template", args.as_object().expect("map")).is_err());
    }

    use crate::modules::testutil::{Host, args, mode_of};
    use std::os::unix::fs::PermissionsExt as _;

    fn put(host: &Host, a: Value) -> Outcome {
        let (opts, _) = options("copy", &args(a.clone())).expect("options");
        let content = a["content"]
            .as_str()
            .unwrap_or_default()
            .as_bytes()
            .to_vec();
        host.run(plan(content, &opts, Mode::default()))
    }

    #[test]
    fn symbolic_modes_and_numeric_ids_are_ok_the_second_time() {
        let host = Host::new();
        let dest = host.path("f").to_string_lossy().into_owned();
        for spec in ["u=rw,g=r,o=r", "u+x", "a-w", "g=u", "u=rwX,go=rX"] {
            let a = json!({"content": format!("{spec}\n"), "dest": dest, "mode": spec,
                           "owner": 0, "group": "0"});
            let first = put(&host, a.clone());
            assert_eq!(first.status, Status::Changed, "{spec}: {first:?}");
            let again = put(&host, a);
            assert_eq!(again.status, Status::Ok, "{spec} a second time: {again:?}");
        }
        // The last mode on a file the umask made 0644 (or so): rw for u, r for g and o.
        assert_eq!(mode_of(&host.path("f")) & 0o7666, 0o644);
    }

    #[test]
    fn a_symbolic_mode_applies_to_the_new_files_bits() {
        let host = Host::new();
        let f = host.path("f");
        std::fs::write(&f, "old\n").expect("write");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let dest = f.to_string_lossy();
        let out = put(
            &host,
            json!({"content": "new\n", "dest": dest, "mode": "g+r"}),
        );
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(mode_of(&f), 0o640);
        let out = put(
            &host,
            json!({"content": "new\n", "dest": dest, "mode": "g+r"}),
        );
        assert_eq!(out.status, Status::Ok, "{out:?}");
    }

    #[test]
    fn owner_and_group_that_are_options_are_refused() {
        for param in ["owner", "group"] {
            let a = json!({"content": "x", "dest": "/f", param: "--reference=/etc/shadow"});
            let err = options("copy", &args(a)).expect_err(param);
            assert!(err.0.contains(param), "{err}");
            assert!(err.0.contains("failed to look up"), "{err}");
        }
        let a = json!({"path": "/f", "line": "x", "owner": "--reference=/etc/shadow"});
        let err = crate::modules::lineinfile::params(&args(a)).expect_err("lineinfile");
        assert!(err.0.contains("owner"), "{err}");
    }

    #[test]
    fn chown_chgrp_and_chmod_get_double_dash() {
        let host = Host::new();
        for tool in ["chown", "chgrp", "chmod"] {
            host.recording(tool, &format!("exec /bin/{tool} \"$@\""));
        }
        let dest = host.path("f").to_string_lossy().into_owned();
        let out = put(
            &host,
            json!({"content": "x", "dest": dest, "owner": "root", "group": "root", "mode": "0600"}),
        );
        assert_eq!(out.status, Status::Changed, "{out:?}");
        for tool in ["chown", "chgrp", "chmod"] {
            let calls = host.calls(tool);
            assert!(!calls.is_empty(), "{tool} was not called");
            for call in calls {
                assert!(call.contains(&"--".to_string()), "{tool} {call:?}");
            }
        }
    }

    #[test]
    fn replacing_a_setuid_file_keeps_its_mode() {
        let host = Host::new();
        let f = host.path("f");
        std::fs::write(&f, "old\n").expect("write");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o4755)).expect("chmod");
        let dest = f.to_string_lossy();
        let out = put(&host, json!({"content": "new\n", "dest": dest}));
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(mode_of(&f), 0o4755);
    }
}
