//! `apt_key` (ansible.builtin): adds or removes an apt signing key by id, from `data`, a host
//! `file`, a `url` or a `keyserver`, in `keyring` (default `/etc/apt/trusted.gpg`; listing and
//! removal also read `/etc/apt/trusted.gpg.d/`), with the module's id rules (8, 16 or more
//! hex characters, `0x` allowed; 8 compares short ids) and results (`id`, `short_id`, `fp`,
//! `key_id`, `before`, `after`).
//!
//! Ansible's module runs `apt-key`, which Debian deprecated and removed in Debian 13 (Ansible
//! points to `deb822_repository` and signed-by keyrings instead). hactl does what apt-key did
//! with `gpg` directly: the keys are imported in a temporary GnuPG home and the keyring is
//! written back as exported keys (binary; armored for a `.asc` name), a format apt reads.
//! The keyring file's bytes can therefore differ from what apt-key would write; the keys in
//! it are the same. See apt_key.sh.

use serde_json::{Value, json};

use super::Outcome;
use super::args::Args;
use super::edit::{assign, flag};
use super::protocol::{self, field};
use super::registry::{Cx, Unreachable};

const SCRIPT: &str = include_str!("apt_key.sh");

const PARAMS: &[&str] = &[
    "id",
    "url",
    "data",
    "file",
    "keyring",
    "validate_certs",
    "keyserver",
    "state",
];

/// The module's `parse_key_id`: (short id, the 16-character fingerprint part, the id).
pub fn parse_key_id(id: &str) -> Option<(String, String, String)> {
    let upper = id.to_uppercase();
    let key = upper.strip_prefix("0X").unwrap_or(&upper).to_string();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let n = key.len();
    if n != 8 && n != 16 && n <= 16 {
        return None;
    }
    let short = key[n - 8..].to_string();
    let fp = if n > 16 {
        key[n - 16..].to_string()
    } else {
        key.clone()
    };
    Some((short, fp, key))
}

fn ids(v: Option<&str>) -> Value {
    Value::Array(
        v.unwrap_or_default()
            .split_whitespace()
            .map(|s| json!(s))
            .collect(),
    )
}

async fn run(cx: &Cx<'_>) -> Result<Outcome, Unreachable> {
    let a = match Args::new("apt_key", &cx.args, PARAMS) {
        Ok(a) => a,
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    let get = |n: &str| a.str(&[n]).map(Option::unwrap_or_default);
    let (id, url, data, file, keyring, keyserver) = match (
        get("id"),
        get("url"),
        get("data"),
        get("file"),
        get("keyring"),
        get("keyserver"),
    ) {
        (Ok(i), Ok(u), Ok(d), Ok(f), Ok(k), Ok(s)) => (i, u, d, f, k, s),
        _ => return Ok(Outcome::failed("arguments of apt_key must be strings")),
    };
    let given = [&data, &file, &keyserver, &url]
        .iter()
        .filter(|v| !v.is_empty())
        .count();
    if given > 1 {
        return Ok(Outcome::failed(
            "parameters are mutually exclusive: data|file|keyserver|url",
        ));
    }
    let state = match a.choice("state", &["absent", "present"]) {
        Ok(s) => s.unwrap_or_else(|| "present".into()),
        Err(e) => return Ok(Outcome::failed(e.0)),
    };
    let insecure = matches!(a.bool(&["validate_certs"]), Ok(Some(false)));
    let run_script = |key_id: &str, short_id: &str, fp: &str, short: bool| {
        assign(
            &[
                ("keyring", &keyring),
                ("state", &state),
                ("check", flag(cx.mode.check)),
                ("short", flag(short)),
                ("short_id", short_id),
                ("fp", fp),
                ("key_id", key_id),
                ("file", &file),
                ("url", &url),
                ("insecure", flag(insecure)),
                ("keyserver", &keyserver),
                ("data", flag(!data.is_empty())),
            ],
            SCRIPT,
        )
    };
    let mut id = id;
    if id.is_empty() {
        if !keyserver.is_empty() {
            return Ok(Outcome::failed("Missing key_id, required with keyserver."));
        }
        let Some(out) = cx
            .exec(&run_script("", "", "", false), data.as_bytes())
            .await?
        else {
            return Ok(Outcome::offline(cx.module));
        };
        if !out.success() {
            let mut o = protocol::failed_from(&out, "apt_key failed");
            o.result.remove("rc");
            return Ok(o);
        }
        id = field(&protocol::fields(&out.stdout), "id")
            .unwrap_or_default()
            .to_string();
    }
    let mut o = Outcome::changed(false).with("id", id.clone());
    let Some((short_id, fp, key_id)) = parse_key_id(&id) else {
        let mut f = Outcome::failed("Invalid key_id");
        f.result.insert("id".into(), json!(id));
        return Ok(f);
    };
    o = o
        .with("short_id", short_id.clone())
        .with("fp", fp.clone())
        .with("key_id", key_id.clone());
    let short = key_id.len() == 8;
    let script = run_script(&key_id, &short_id, &fp, short);
    let Some(out) = cx.exec(&script, data.as_bytes()).await? else {
        return Ok(Outcome::offline(cx.module));
    };
    let f = protocol::fields(&out.stdout);
    let before = ids(field(&f, "before"));
    if !out.success() {
        let mut failed = protocol::failed_from(&out, "apt_key failed");
        failed.result.remove("rc");
        for (k, v) in o.result {
            if k != "changed" {
                failed.result.insert(k, v);
            }
        }
        if field(&f, "before").is_some() {
            failed.result.insert("before".into(), before);
        }
        if field(&f, "changed") == Some("1") {
            failed.result.insert("changed".into(), json!(true));
        }
        return Ok(failed);
    }
    let changed = field(&f, "changed") == Some("1");
    let mut o = Outcome {
        status: if changed {
            super::Status::Changed
        } else {
            super::Status::Ok
        },
        ..o
    }
    .with("changed", changed)
    .with("before", before);
    if field(&f, "after").is_some() {
        o = o.with("after", ids(field(&f, "after")));
    }
    Ok(o)
}

#[derive(Debug)]
pub struct AptKey;

impl super::registry::Module for AptKey {
    fn spec(&self) -> &'static super::registry::Spec {
        static SPEC: super::registry::Spec = super::registry::Spec {
            name: "apt_key",
            aliases: &[],
            runs: super::registry::Runs::Host,
            free_form: false,
            params: Some(PARAMS),
            check_mode: true,
            about: "apt signing keys in a keyring (with gpg; apt-key is deprecated)",
        };
        &SPEC
    }

    fn run<'a>(
        &'a self,
        cx: &'a mut Cx<'_>,
    ) -> futures::future::BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(run(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::testutil::Host;

    #[test]
    fn key_ids_as_the_module_reads_them() {
        assert_eq!(
            parse_key_id("0x2fd21310b49f6b46"),
            Some((
                "B49F6B46".into(),
                "2FD21310B49F6B46".into(),
                "2FD21310B49F6B46".into()
            ))
        );
        let fpr = "8540A6F18833A80E9C1653A42FD21310B49F6B46";
        assert_eq!(
            parse_key_id(fpr).map(|k| k.1),
            Some("2FD21310B49F6B46".into())
        );
        assert_eq!(
            parse_key_id("B49F6B46").map(|k| k.0),
            Some("B49F6B46".into())
        );
        assert_eq!(parse_key_id("B49F6B4"), None);
        assert_eq!(parse_key_id("nothex00"), None);
    }

    /// The keyring step with a key id (a keyserver key, never fetched: check mode).
    fn listing(h: &Host, ring: &str) -> crate::transport::ExecOutput {
        let s = assign(
            &[
                ("keyring", ring),
                ("state", "present"),
                ("check", "1"),
                ("short", "0"),
                ("short_id", "CF4EFE96"),
                ("fp", "0F14D8B0CF4EFE96"),
                ("key_id", "3D653970FBAB0A890E4E4E9A0F14D8B0CF4EFE96"),
                ("file", ""),
                ("url", ""),
                ("insecure", "0"),
                ("keyserver", "keyserver.example.org"),
                ("data", "0"),
            ],
            SCRIPT,
        );
        h.exec(&s, b"")
    }

    /// apt-key (which Ansible's module runs) creates a missing `keyring` empty, mode 0644,
    /// when it lists it, even in check mode (oefenweb.haproxy's offline run leaves it so);
    /// in a missing folder the listing fails.
    #[test]
    fn a_missing_keyring_is_created_empty_as_apt_key_does() {
        let h = Host::new();
        let ring = h.path("haproxy.gpg");
        let out = listing(&h, &ring.display().to_string());
        assert!(out.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(field(&protocol::fields(&out.stdout), "changed"), Some("1"));
        assert_eq!(std::fs::read(&ring).expect("created"), b"");
        assert_eq!(crate::modules::testutil::mode_of(&ring), 0o644);
        let out = listing(&h, &h.path("none/haproxy.gpg").display().to_string());
        assert_eq!(out.code, Some(3));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).trim(),
            "Unable to list public keys"
        );
        assert!(!h.path("none").exists());
    }

    /// A real key made with gpg in a temp home, added to and removed from a keyring in the
    /// test's folder (the machine's apt keys are never touched).
    #[test]
    fn adds_and_removes_a_key_in_a_keyring_file() {
        let h = Host::new();
        let home = h.path("gnupg");
        std::fs::create_dir_all(&home).expect("mkdir");
        let made = std::process::Command::new("gpg")
            .args([
                "--homedir",
                &home.display().to_string(),
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                "hactl test <t@example.org>",
                "ed25519",
                "sign",
                "never",
            ])
            .output()
            .expect("gpg is installed");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let armored = std::process::Command::new("gpg")
            .args([
                "--homedir",
                &home.display().to_string(),
                "--armor",
                "--export",
            ])
            .output()
            .expect("export");
        let key = String::from_utf8_lossy(&armored.stdout).into_owned();
        std::fs::create_dir_all(h.path("keyrings")).expect("mkdir");
        let ring = h.path("keyrings/test.gpg").display().to_string();
        let step = |state: &str, check: bool| {
            let s = assign(
                &[
                    ("keyring", ring.as_str()),
                    ("state", state),
                    ("check", flag(check)),
                    ("short", "0"),
                    ("short_id", ""),
                    ("fp", ""),
                    ("key_id", ""),
                    ("file", ""),
                    ("url", ""),
                    ("insecure", "0"),
                    ("keyserver", ""),
                    ("data", "1"),
                ],
                SCRIPT,
            );
            h.exec(&s, key.as_bytes())
        };
        let first = step("present", false);
        let id = field(&protocol::fields(&first.stdout), "id")
            .expect("id")
            .to_string();
        let (short_id, fp, key_id) = parse_key_id(&id).expect("id");
        let with_id = |state: &str, check: bool| {
            let s = assign(
                &[
                    ("keyring", ring.as_str()),
                    ("state", state),
                    ("check", flag(check)),
                    ("short", "0"),
                    ("short_id", &short_id),
                    ("fp", &fp),
                    ("key_id", &key_id),
                    ("file", ""),
                    ("url", ""),
                    ("insecure", "0"),
                    ("keyserver", ""),
                    ("data", "1"),
                ],
                SCRIPT,
            );
            let out = h.exec(&s, key.as_bytes());
            assert!(out.success(), "{}", String::from_utf8_lossy(&out.stderr));
            protocol::fields(&out.stdout)
        };
        let add = with_id("present", false);
        assert_eq!(field(&add, "changed"), Some("1"));
        assert_eq!(field(&add, "before"), Some(""));
        assert!(field(&add, "after").expect("after").contains(&fp));
        // A binary keyring apt reads (not armored, not a keybox).
        let bytes = std::fs::read(&ring).expect("ring");
        assert!(
            !bytes.starts_with(b"-----") && !bytes[..8].ends_with(b"KBXf"),
            "{:?}",
            &bytes[..8]
        );
        assert_eq!(field(&with_id("present", false), "changed"), Some("0"));
        assert_eq!(field(&with_id("absent", true), "changed"), Some("1"));
        let gone = with_id("absent", false);
        assert_eq!(field(&gone, "after"), Some(""));
        assert_eq!(field(&with_id("absent", false), "changed"), Some("0"));
    }
}
