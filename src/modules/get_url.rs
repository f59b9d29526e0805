//! `get_url`: downloads a URL on the host (curl, else GNU wget) as Ansible's module does:
//! an existing `dest` with a matching `checksum` is not fetched again; otherwise the download
//! goes to a temp file, is compared with `dest` by SHA-1 and put in place atomically (a temp
//! file beside `dest`, renamed) only when it differs; `If-Modified-Since` is sent for an
//! existing file as Ansible sends it; check mode sends a HEAD request. `url_password` and a
//! password in the URL are never shown: they reach the host's tool in a config file read
//! from stdin and are masked in every result.

use serde_json::{Map, Value};

use super::args::Args;
use super::http::{self, Request, URL_PARAMS};
use super::protocol::{self, field, flag, with_vars};
use super::{ArgError, Mode, Outcome, Remote, Step};

const OWN_PARAMS: &[&str] = &[
    "dest",
    "backup",
    "checksum",
    "timeout",
    "headers",
    "tmp_dest",
    "mode",
    "owner",
    "group",
    "seuser",
    "serole",
    "selevel",
    "setype",
    "attributes",
    "unsafe_writes",
    "sha256sum",
];

const SCRIPT: &str = include_str!("get_url.sh");

/// Every parameter `get_url` takes.
pub fn params_list() -> Vec<&'static str> {
    URL_PARAMS.iter().chain(OWN_PARAMS).copied().collect()
}

pub fn plan(args: &Map<String, Value>, mode: Mode) -> Result<Step, ArgError> {
    let allowed = params_list();
    let a = Args::new("get_url", args, &allowed)?;
    let mut req = Request::from_args(
        &a,
        args,
        &["url_username", "username"],
        &["url_password", "password"],
        "ansible-httpget",
    )?;
    req.timeout = super::user::int(&a, &["timeout"])?.unwrap_or(10).max(1) as u64;
    let dest = a.required(&["dest"])?;
    let (algo, checksum) = match a.str(&["checksum"])?.filter(|c| !c.is_empty()) {
        None => (String::new(), String::new()),
        Some(c) => {
            let Some((algo, sum)) = c.split_once(':') else {
                return Err(ArgError(
                    "The checksum parameter has to be in format <algorithm>:<checksum>".into(),
                ));
            };
            if sum.contains("://") {
                return Err(ArgError(
                    "hactl does not support a checksum read from a URL yet".into(),
                ));
            }
            let sum: String = sum
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
                .to_lowercase();
            if sum.is_empty() || !sum.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(ArgError("The checksum format is invalid".into()));
            }
            let algo = algo.to_lowercase();
            if !["md5", "sha1", "sha224", "sha256", "sha384", "sha512"].contains(&algo.as_str()) {
                return Err(ArgError(format!(
                    "Could not hash file '{dest}' with algorithm '{algo}'. Available algorithms: md5, sha1, sha224, sha256, sha384, sha512"
                )));
            }
            (algo, sum)
        }
    };
    if args.get("tmp_dest").is_some_and(|v| !v.is_null()) {
        return Err(ArgError("hactl does not support tmp_dest yet".into()));
    }
    let timeout = req.timeout.to_string();
    let script = with_vars(
        &format!(
            "{}{}{}{SCRIPT}",
            super::file::ATTRS_SH,
            http::PATHINFO_SH,
            http::HTTP_SH
        ),
        &[
            ("dest", &dest),
            ("algo", &algo),
            ("checksum", &checksum),
            (
                "force",
                flag(a.bool(&["force", "thirsty"])?.unwrap_or(false)),
            ),
            ("backup", flag(a.bool(&["backup"])?.unwrap_or(false))),
            ("mode", &a.mode()?.unwrap_or_default()),
            ("owner", &a.owner()?.unwrap_or_default()),
            ("group", &a.group()?.unwrap_or_default()),
            ("h_timeout", &timeout),
            ("h_insecure", flag(req.insecure)),
            ("h_tool", ""),
            ("check", flag(mode.check)),
        ],
    );
    let stdin = req.stdin(None);
    let secrets = req.secrets();
    let url = http::mask_url(&req.url);
    Ok(Step::Remote(Remote {
        script,
        stdin,
        finish: Box::new(move |out| {
            let mut o = finish(&out, url);
            protocol::scrub(&mut o, &secrets);
            o
        }),
    }))
}

fn finish(out: &crate::transport::ExecOutput, url: String) -> Outcome {
    let f = protocol::fields(&out.stdout);
    if !out.success() {
        return protocol::failed_from(out, "get_url failed").with("url", url);
    }
    let failed = field(&f, "failed") == Some("1");
    let mut o = if failed {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        Outcome::failed(msg).with("changed", false)
    } else {
        Outcome::changed(field(&f, "changed") == Some("1"))
    };
    o = o.with("url", url);
    let early = field(&f, "early") == Some("1");
    if !failed && !early {
        o = o
            .with("checksum_dest", opt(field(&f, "checksum_dest")))
            .with("checksum_src", opt(field(&f, "checksum_src")));
    }
    for key in ["dest", "msg", "response", "md5sum", "backup_file"] {
        if let Some(v) = field(&f, key) {
            if !(failed && key == "msg") {
                o = o.with(key, v);
            }
        }
    }
    for key in ["elapsed", "status_code", "uid", "gid", "size"] {
        if let Some(v) = field(&f, key).and_then(|v| v.parse::<i64>().ok()) {
            o = o.with(key, v);
        }
    }
    if !failed {
        for key in ["owner", "group", "mode", "state"] {
            if let Some(v) = field(&f, key) {
                o = o.with(key, v);
            }
        }
    }
    o
}

fn opt(v: Option<&str>) -> Value {
    v.map(|s| Value::String(s.into())).unwrap_or(Value::Null)
}

super::registry::host_module!(GetUrl, "get_url", aliases: &[], free_form: false,
    params: &[
        "url", "force", "thirsty", "http_agent", "use_proxy", "validate_certs", "url_username",
        "username", "user", "url_password", "password", "force_basic_auth", "client_cert",
        "client_key", "use_gssapi", "use_netrc", "ciphers", "unredirected_headers", "decompress",
        "dest", "backup", "checksum", "timeout", "headers", "tmp_dest", "mode", "owner", "group",
        "seuser", "serole", "selevel", "setype", "attributes", "unsafe_writes", "sha256sum",
    ],
    about: "download a file on the host (curl or wget)",
    plan: |cx| plan(&cx.args, cx.mode));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::Status;
    use crate::modules::testutil::{Host, args};
    use serde_json::json;

    /// A curl that serves `body` for any URL and records its config (read from `-K`).
    fn host_with_curl(body: &str, status: u16) -> Host {
        let h = Host::new();
        std::fs::write(h.path("served"), body).expect("served");
        h.recording(
            "curl",
            &format!(
                r#"cfg= out= hdr=
while [ $# -gt 0 ]; do case $1 in -K) cfg=$2; shift ;; -o) out=$2; shift ;; -D) hdr=$2; shift ;; esac; shift; done
cp "$cfg" "$PWD/curl.cfg"
cp "$PWD/served" "$out"
printf 'HTTP/1.1 {status} X\r\nContent-Length: %s\r\n\r\n' "$(wc -c < "$PWD/served")" > "$hdr"
printf '{status}\nhttp://h.example/f.txt\n'"#
            ),
        );
        h
    }

    fn run(h: &Host, a: Value, check: bool) -> Outcome {
        match plan(&args(a), Mode { check, diff: false }) {
            Ok(step) => h.run(step),
            Err(e) => Outcome::failed(e.0),
        }
    }

    #[test]
    fn downloads_once_then_ok_and_hides_the_password() {
        let h = host_with_curl("hello\n", 200);
        let dest = h.path("out.txt").display().to_string();
        let a = json!({"url": "http://h.example/f.txt", "dest": dest, "mode": "0640",
                       "url_username": "u", "url_password": "pw-secret",
                       "headers": {"X-Token": "t1"}});
        let out = run(&h, a.clone(), false);
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(std::fs::read_to_string(&dest).expect("dest"), "hello\n");
        assert_eq!(
            crate::modules::testutil::mode_of(h.path("out.txt").as_path()),
            0o640
        );
        assert_eq!(out.result["msg"], "OK (6 bytes)");
        assert_eq!(out.result["status_code"], 200);
        assert_eq!(out.result["mode"], "0640");
        assert_eq!(
            out.result["checksum_src"],
            "f572d396fae9206628714fb2ce00f72e94f2258f"
        );
        let cfg = std::fs::read_to_string(h.path("curl.cfg")).expect("cfg");
        assert!(cfg.contains("user = \"u:pw-secret\""), "{cfg}");
        assert!(cfg.contains("header = \"X-Token: t1\""), "{cfg}");
        // The password is in no argument curl got.
        assert!(!format!("{:?}", h.calls("curl")).contains("pw-secret"));
        let again = run(&h, a, false);
        assert_eq!(again.status, Status::Ok, "{again:?}");
        assert!(!format!("{again:?}{out:?}").contains("pw-secret"));
    }

    #[test]
    fn a_matching_checksum_skips_the_download_and_a_wrong_one_fails() {
        let h = host_with_curl("hello\n", 200);
        let dest = h.path("f.txt");
        std::fs::write(&dest, "hello\n").expect("dest");
        let sum = "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
        let out = run(
            &h,
            json!({"url": "http://h.example/f.txt", "dest": dest, "checksum": sum}),
            false,
        );
        assert_eq!(out.status, Status::Ok, "{out:?}");
        assert_eq!(out.result["msg"], "file already exists");
        assert!(h.calls("curl").is_empty());
        std::fs::remove_file(&dest).expect("rm");
        let bad = "sha256:00";
        let out = run(
            &h,
            json!({"url": "http://h.example/f.txt", "dest": dest, "checksum": bad}),
            false,
        );
        assert_eq!(out.status, Status::Failed, "{out:?}");
        assert!(
            out.msg().unwrap_or_default().contains("did not match 00"),
            "{out:?}"
        );
        assert!(!dest.exists());
    }

    #[test]
    fn a_folder_dest_takes_the_urls_name_and_check_mode_writes_nothing() {
        let h = host_with_curl("x", 200);
        let dir = h.path("d");
        std::fs::create_dir(&dir).expect("dir");
        let out = run(
            &h,
            json!({"url": "http://h.example/f.txt", "dest": dir}),
            true,
        );
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert!(!dir.join("f.txt").exists());
        let out = run(
            &h,
            json!({"url": "http://h.example/f.txt", "dest": dir}),
            false,
        );
        assert_eq!(out.status, Status::Changed, "{out:?}");
        assert_eq!(out.result["dest"], format!("{}/f.txt", dir.display()));
        assert!(dir.join("f.txt").exists());
    }

    #[test]
    fn an_http_error_is_request_failed() {
        let h = host_with_curl("nope", 404);
        let dest = h.path("f");
        let out = run(
            &h,
            json!({"url": "http://u:pw@h.example/f.txt", "dest": dest}),
            false,
        );
        assert_eq!(out.status, Status::Failed, "{out:?}");
        assert_eq!(out.msg(), Some("Request failed"));
        assert_eq!(out.result["status_code"], 404);
        assert_eq!(out.result["response"], "HTTP Error 404: X");
        assert_eq!(out.result["url"], "http://u:********@h.example/f.txt");
    }
}
