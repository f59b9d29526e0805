//! `uri`: an HTTP request from the host (curl, else GNU wget), with Ansible's results: the
//! status, the final `url`, `redirected`, every response header as a key (lowercased, `-` as
//! `_`), `cookies`, `json` for a JSON response, `content` with `return_content`, and a failure
//! naming the status when it is not in `status_code`. Like Ansible's, the module has no
//! check mode (it is skipped). The body (`raw`, `json`, `form-urlencoded`), URL, headers and
//! credentials reach the tool on stdin; passwords are masked in every result.

use base64::Engine as _;
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::args::Args;
use super::http::{self, Request};
use super::protocol::{self, field, flag, with_vars};
use super::registry::{Cx, Module, Runs, Spec, Unreachable};
use super::{ArgError, Outcome, Remote, Step};

const PARAMS: &[&str] = &[
    "url",
    "force",
    "thirsty",
    "http_agent",
    "use_proxy",
    "validate_certs",
    "url_username",
    "user",
    "url_password",
    "password",
    "force_basic_auth",
    "client_cert",
    "client_key",
    "use_gssapi",
    "use_netrc",
    "ciphers",
    "unredirected_headers",
    "decompress",
    "follow_redirects",
    "dest",
    "body",
    "body_format",
    "src",
    "method",
    "return_content",
    "creates",
    "removes",
    "status_code",
    "timeout",
    "headers",
    "unix_socket",
    "remote_src",
    "ca_path",
    "mode",
    "owner",
    "group",
    "seuser",
    "serole",
    "selevel",
    "setype",
    "attributes",
    "unsafe_writes",
];

const SCRIPT: &str = include_str!("uri.sh");

/// JSON as Python's `json.dumps` writes it by default: `", "` and `": "` separators, keys in
/// their order, non-ASCII as `\uXXXX`.
pub fn py_dumps(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), py_dumps(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(py_dumps).collect::<Vec<_>>().join(", ")
        ),
        Value::String(s) => py_str(s),
        other => other.to_string(),
    }
}

fn py_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Python's `urlencode(..., doseq=True)` of a mapping: `quote_plus` on names and values.
fn form_urlencoded(v: &Value) -> Result<String, ArgError> {
    fn quote_plus(s: &str) -> String {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                    out.push(b as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    }
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    };
    let Value::Object(m) = v else {
        return Err(ArgError(
            "failed to parse body as form_urlencoded: the body must be a mapping".into(),
        ));
    };
    let mut parts = Vec::new();
    for (k, v) in m {
        match v {
            Value::Array(items) => {
                for i in items {
                    parts.push(format!("{}={}", quote_plus(k), quote_plus(&text(i))));
                }
            }
            other => parts.push(format!("{}={}", quote_plus(k), quote_plus(&text(other)))),
        }
    }
    Ok(parts.join("&"))
}

/// What the finish needs to know about the task.
struct Plan {
    url: String,
    status_codes: Vec<i64>,
    return_content: bool,
    creates: String,
    removes: String,
    dest: Option<String>,
    secrets: Vec<String>,
}

pub fn plan(args: &Map<String, Value>, check: bool) -> Result<Step, ArgError> {
    let a = Args::new("uri", args, PARAMS)?;
    let mut req = Request::from_args(
        &a,
        args,
        &["url_username", "user"],
        &["url_password", "password"],
        "ansible-httpget",
    )?;
    for p in ["src", "unix_socket", "ca_path"] {
        if args.get(p).is_some_and(|v| !v.is_null()) {
            return Err(ArgError(format!("hactl's uri does not support {p} yet")));
        }
    }
    req.timeout = super::user::int(&a, &["timeout"])?.unwrap_or(30).max(1) as u64;
    let method = a
        .str(&["method"])?
        .unwrap_or_else(|| "GET".into())
        .to_uppercase();
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(ArgError(
            "Parameter 'method' needs to be a single word in uppercase, like GET or POST.".into(),
        ));
    }
    let body_format = a
        .choice(
            "body_format",
            &["form-urlencoded", "json", "raw", "form-multipart"],
        )?
        .unwrap_or_else(|| "raw".into());
    let has_ct = req
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    let body = match (args.get("body"), body_format.as_str()) {
        (None | Some(Value::Null), _) => None,
        (_, "form-multipart") => {
            return Err(ArgError(
                "hactl's uri does not support body_format=form-multipart yet".into(),
            ));
        }
        (Some(Value::String(s)), _) => Some(s.clone()),
        (Some(v), "json") => Some(py_dumps(v)),
        (Some(v), "form-urlencoded") => Some(form_urlencoded(v)?),
        (Some(v), _) => Some(crate::template::py_str(&crate::template::to_value(v))),
    };
    match body_format.as_str() {
        "json" if !has_ct => req
            .headers
            .push(("Content-Type".into(), "application/json".into())),
        "form-urlencoded" if !has_ct => req.headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        )),
        _ => {}
    }
    let follow = match a
        .choice(
            "follow_redirects",
            &["all", "no", "none", "safe", "urllib2", "yes"],
        )?
        .as_deref()
        .unwrap_or("safe")
    {
        "all" | "yes" | "urllib2" => true,
        "safe" => method == "GET" || method == "HEAD",
        _ => false,
    };
    let status_codes: Vec<i64> = match args.get("status_code") {
        None | Some(Value::Null) => vec![200],
        Some(_) => a
            .list(&["status_code"])?
            .iter()
            .map(|s| {
                s.trim().parse::<i64>().map_err(|_| {
                    ArgError(format!(
                        "Elements value for option 'status_code' is of type str and we were unable to convert to int: invalid literal for int() with base 10: '{s}'"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let dest = a.str(&["dest"])?;
    let codes: Vec<String> = status_codes.iter().map(|c| c.to_string()).collect();
    let p = Plan {
        url: req.url.clone(),
        status_codes,
        return_content: a.bool(&["return_content"])?.unwrap_or(false),
        creates: a.str(&["creates"])?.unwrap_or_default(),
        removes: a.str(&["removes"])?.unwrap_or_default(),
        dest: dest.clone(),
        secrets: req.secrets(),
    };
    let timeout = req.timeout.to_string();
    let script = with_vars(
        &format!(
            "{}{}{}{SCRIPT}",
            super::file::ATTRS_SH,
            http::PATHINFO_SH,
            http::HTTP_SH
        ),
        &[
            ("method", &method),
            ("dest", dest.as_deref().unwrap_or_default()),
            ("write_dest", flag(!check)),
            ("status_codes", &codes.join(" ")),
            ("creates", &p.creates),
            ("removes", &p.removes),
            ("has_body", flag(body.is_some())),
            ("h_follow", flag(follow)),
            ("h_timeout", &timeout),
            ("h_insecure", flag(req.insecure)),
            ("h_tool", ""),
            ("mode", &a.mode()?.unwrap_or_default()),
            ("owner", &a.owner()?.unwrap_or_default()),
            ("group", &a.group()?.unwrap_or_default()),
        ],
    );
    let stdin = req.stdin(body.as_deref().map(str::as_bytes));
    Ok(Step::Remote(Remote {
        script,
        stdin,
        finish: Box::new(move |out| {
            let secrets = p.secrets.clone();
            let mut o = finish(&out, p);
            protocol::scrub(&mut o, &secrets);
            o
        }),
    }))
}

fn b64(s: Option<&str>) -> Vec<u8> {
    s.and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .unwrap_or_default()
}

/// Python's `urljoin` for a `Location` header, as far as servers send them.
fn urljoin(base: &str, loc: &str) -> String {
    if loc.contains("://") {
        return loc.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let host = rest.split('/').next().unwrap_or_default();
    if let Some(abs) = loc.strip_prefix('/') {
        return format!("{scheme}://{host}/{abs}");
    }
    let path = rest[host.len()..]
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or_default();
    format!("{scheme}://{host}{dir}/{loc}")
}

fn finish(out: &crate::transport::ExecOutput, p: Plan) -> Outcome {
    if !out.success() {
        return protocol::failed_from(out, "uri failed");
    }
    let f = protocol::fields(&out.stdout);
    if field(&f, "skipped_creates").is_some() {
        return Outcome::changed(false)
            .with("stdout", format!("skipped, since '{}' exists", p.creates));
    }
    if field(&f, "skipped_removes").is_some() {
        return Outcome::changed(false).with(
            "stdout",
            format!("skipped, since '{}' does not exist", p.removes),
        );
    }
    if field(&f, "no_tool").is_some() {
        return Outcome::failed(
            "neither curl nor GNU wget is installed on the host (hactl's uri makes requests with one of them)",
        );
    }
    let masked = http::mask_url(&p.url);
    let status: i64 = field(&f, "status")
        .and_then(|s| s.parse().ok())
        .unwrap_or(-1);
    let final_url = http::mask_url(field(&f, "final_url").unwrap_or(&p.url));
    let mut r = Map::new();
    let reason = field(&f, "reason").unwrap_or_default();
    let headers = String::from_utf8_lossy(&b64(field(&f, "headers_b64"))).into_owned();
    let mut cookies = Map::new();
    let mut joined: Vec<(String, String)> = Vec::new();
    for line in headers.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_lowercase(), v.trim().to_string());
        if k == "set-cookie" {
            if let Some((n, val)) = v.split(';').next().and_then(|c| c.split_once('=')) {
                cookies.insert(n.trim().into(), Value::String(val.trim().into()));
            }
        }
        match joined.iter_mut().find(|(n, _)| *n == k) {
            Some(slot) => slot.1 = format!("{}, {v}", slot.1),
            None => joined.push((k, v)),
        }
    }
    let content_type = joined
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.clone());
    for (k, v) in joined {
        r.insert(k.replace('-', "_"), Value::String(v));
    }
    let cookies_string = cookies
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("; ");
    r.insert("cookies_string".into(), cookies_string.into());
    r.insert("cookies".into(), Value::Object(cookies));
    let msg = if status == -1 {
        format!(
            "Request failed: {}",
            String::from_utf8_lossy(&b64(field(&f, "error_b64"))).trim()
        )
    } else if status >= 400 || status == 304 {
        format!("HTTP Error {status}: {reason}")
    } else {
        let len = r
            .get("content_length")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        format!("OK ({len} bytes)")
    };
    r.insert("url".into(), final_url.clone().into());
    r.insert("redirected".into(), Value::Bool(final_url != masked));
    r.insert("status".into(), status.into());
    r.insert("msg".into(), msg.clone().into());
    r.insert(
        "elapsed".into(),
        field(&f, "elapsed")
            .and_then(|e| e.parse::<i64>().ok())
            .unwrap_or(0)
            .into(),
    );
    if let Some(loc) = r.get("location").and_then(Value::as_str) {
        let joined = urljoin(&masked, loc);
        r.insert("location".into(), joined.into());
    }
    let mut changed = false;
    if p.dest.is_some() && status != -1 {
        if let Some(path) = field(&f, "path") {
            changed = field(&f, "written").is_some();
            r.insert("path".into(), path.into());
        } else if let Some(d) = &p.dest {
            r.insert("path".into(), d.clone().into());
        }
    }
    r.insert("changed".into(), changed.into());
    let body = b64(field(&f, "body_b64"));
    let sub = content_type
        .as_deref()
        .and_then(|ct| ct.split(';').next())
        .and_then(|mt| mt.split_once('/'))
        .map(|(_, s)| s.trim().to_lowercase())
        .unwrap_or_default();
    let sub = sub
        .rsplit_once('+')
        .map(|(_, s)| s.to_string())
        .unwrap_or(sub);
    let maybe_json = content_type.is_some() && (sub == "json" || sub == "javascript");
    let ok = p.status_codes.contains(&status);
    let text = String::from_utf8_lossy(&body).into_owned();
    if maybe_json && p.dest.is_none() {
        if let Ok(js) = serde_json::from_str::<Value>(&text) {
            r.insert("json".into(), js);
        }
    }
    if p.return_content {
        r.insert("content".into(), text.into());
    }
    let mut o = Outcome::changed(changed);
    o.result = r;
    if !ok {
        let codes = format!(
            "[{}]",
            p.status_codes
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        o.status = super::Status::Failed;
        o.result.insert("failed".into(), true.into());
        o.result.insert(
            "msg".into(),
            format!("Status code was {status} and not {codes}: {msg}").into(),
        );
    }
    o
}

#[derive(Debug)]
pub struct Uri;

static SPEC: Spec = Spec {
    name: "uri",
    aliases: &[],
    runs: Runs::Host,
    free_form: false,
    params: Some(PARAMS),
    // Ansible's uri has no check mode: it is skipped.
    check_mode: false,
    about: "make an HTTP request from the host (curl or wget)",
};

impl Module for Uri {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
        Box::pin(async move {
            // The engine does not read `Spec::check_mode` (yet): skip here, as Ansible does.
            if cx.mode.check {
                return Ok(Outcome::new(super::Status::Skipped)
                    .with("skipped", true)
                    .with("msg", "remote module (uri) does not support check mode"));
            }
            let step = plan(&cx.args, cx.mode.check);
            cx.planned(step).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_as_python_writes_them() {
        assert_eq!(
            py_dumps(&json!({"a": 1, "b": ["x", true, null], "é": "ü"})),
            r#"{"a": 1, "b": ["x", true, null], "\u00e9": "\u00fc"}"#
        );
        assert_eq!(
            form_urlencoded(&json!({"q": "a b&c", "n": [1, 2]})).expect("form"),
            "q=a+b%26c&n=1&n=2"
        );
        assert_eq!(urljoin("http://h/a/b", "/c"), "http://h/c");
        assert_eq!(urljoin("http://h/a/b", "c"), "http://h/a/c");
    }
}
