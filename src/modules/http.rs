//! What `get_url` and `uri` share: the request as the host's curl or GNU wget reads it from
//! a config file (URL, headers, credentials: none of them in a process list), and the
//! arguments of Ansible's `url_argument_spec`. The host side is `http.sh`.

use serde_json::{Map, Value};

use super::ArgError;
use super::args::Args;

pub const HTTP_SH: &str = include_str!("http.sh");
pub const PATHINFO_SH: &str = include_str!("pathinfo.sh");

/// Ansible's `url_argument_spec` names (aliases included).
pub const URL_PARAMS: &[&str] = &[
    "url",
    "force",
    "thirsty",
    "http_agent",
    "use_proxy",
    "validate_certs",
    "url_username",
    "username",
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
];

/// A request as the tools' configs carry it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub force_basic_auth: bool,
    pub agent: String,
    pub insecure: bool,
    pub timeout: u64,
}

impl Request {
    /// Reads the shared arguments (`user_names`: the module's names for the user name).
    pub fn from_args(
        a: &Args<'_>,
        args: &Map<String, Value>,
        user_names: &[&str],
        password_names: &[&str],
        default_agent: &str,
    ) -> Result<Request, ArgError> {
        for p in ["client_cert", "client_key", "ciphers"] {
            if args.get(p).is_some_and(|v| !v.is_null()) {
                return Err(ArgError(format!("hactl does not support {p} yet")));
            }
        }
        if a.bool(&["use_gssapi"])? == Some(true) {
            return Err(ArgError("hactl does not support use_gssapi".into()));
        }
        let url = a.required(&["url"])?;
        let mut headers = Vec::new();
        match args.get("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    headers.push((k.clone(), v));
                }
            }
            Some(Value::String(s)) if s.is_empty() => {}
            Some(_) => {
                return Err(ArgError(
                    "argument 'headers' is of type str and we were unable to convert to dict"
                        .into(),
                ));
            }
        }
        let req = Request {
            url,
            headers,
            username: a.str(user_names)?,
            password: a.str(password_names)?,
            force_basic_auth: a.bool(&["force_basic_auth"])?.unwrap_or(false),
            agent: a
                .str(&["http_agent"])?
                .unwrap_or_else(|| default_agent.to_string()),
            insecure: !a.bool(&["validate_certs"])?.unwrap_or(true),
            timeout: 0,
        };
        let bad = |s: &str| s.contains(['\n', '\r', '\0']);
        if bad(&req.url)
            || req
                .headers
                .iter()
                .any(|(k, v)| bad(k) || bad(v) || k.contains(':'))
            || req.username.as_deref().is_some_and(bad)
            || req.password.as_deref().is_some_and(bad)
            || bad(&req.agent)
        {
            return Err(ArgError(
                "url, headers and credentials cannot contain line breaks (or ':' in a header name)"
                    .into(),
            ));
        }
        Ok(req)
    }

    /// The secrets to scrub from results: the password, and the URL's own `user:password@`.
    pub fn secrets(&self) -> Vec<String> {
        let mut s: Vec<String> = self.password.iter().cloned().collect();
        if let Some(p) = url_password(&self.url) {
            s.push(p);
        }
        s
    }

    /// The script's stdin: curl's config, wget's, then `body`.
    pub fn stdin(&self, body: Option<&[u8]>) -> Vec<u8> {
        let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let mut curl = format!("url = {}\n", q(&self.url));
        let mut wget = format!("#url = {}\n", self.url);
        curl.push_str(&format!("user-agent = {}\n", q(&self.agent)));
        wget.push_str(&format!("user_agent = {}\n", self.agent));
        for (k, v) in &self.headers {
            curl.push_str(&format!("header = {}\n", q(&format!("{k}: {v}"))));
            wget.push_str(&format!("header = {k}: {v}\n"));
        }
        if let Some(u) = &self.username {
            let p = self.password.as_deref().unwrap_or_default();
            curl.push_str(&format!("user = {}\n", q(&format!("{u}:{p}"))));
            wget.push_str(&format!("user = {u}\npassword = {p}\n"));
            if self.force_basic_auth {
                wget.push_str("auth_no_challenge = on\n");
            }
        }
        let mut out = curl.into_bytes();
        out.extend_from_slice(b"#--hactl-wget--\n");
        out.extend_from_slice(wget.as_bytes());
        out.extend_from_slice(b"#--hactl-body--\n");
        if let Some(b) = body {
            out.extend_from_slice(b);
        }
        out
    }
}

/// The password in a URL's `user:password@`, if any.
pub fn url_password(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let auth = rest.split(['/', '?', '#']).next()?.rsplit_once('@')?.0;
    auth.split_once(':').map(|(_, p)| p.to_string())
}

/// Ansible's `mask_url`: the URL with its password shown as `********`.
pub fn mask_url(url: &str) -> String {
    match url_password(url) {
        Some(p) if !p.is_empty() => url.replacen(&format!(":{p}@"), ":********@", 1),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(
            mask_url("https://u:s3cr3t@h.example/x?a=b"),
            "https://u:********@h.example/x?a=b"
        );
        assert_eq!(mask_url("https://h.example/x@y"), "https://h.example/x@y");
        assert_eq!(url_password("http://u@h/"), None);
    }
}
