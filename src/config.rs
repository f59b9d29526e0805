//! Ansible's configuration, read as ansible-core reads it: one `ansible.cfg` (the first of
//! `ANSIBLE_CONFIG`, `./ansible.cfg`, `~/.ansible.cfg`, `/etc/ansible/ansible.cfg` that exists
//! and can be read; a `./ansible.cfg` in a world-writable working folder is skipped with
//! Ansible's warning) and the `ANSIBLE_*` environment variables, which win over the file.
//! The command line wins over both; the commands apply that last step.
//!
//! Only the settings hactl acts on are read (see [`DEFS`]); every other key of the file, and
//! every other `ANSIBLE_*` variable, gets one warning, so nobody believes a setting took
//! effect when it did not. `pipelining` is accepted silently: hactl always pipelines.
//!
//! The file is INI as Python's `configparser` reads it for Ansible: `[section]` headers,
//! `key = value` or `key: value` (keys case-insensitive), `#` and `;` comment lines, ` ;`
//! inline comments, indented continuation lines, no interpolation, surrounding quotes removed
//! from values, a repeated section or key an error. Relative paths in the file are relative to
//! the file's folder, in the environment to the working folder; `~` and `$VAR` are expanded.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The Ansible documentation page the world-writable warning points to, as Ansible's does.
const WORLD_WRITABLE_URL: &str = "https://docs.ansible.com/ansible/devel/reference_appendices/config.html#cfg-in-world-writable-dir";

/// What a setting's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Bool,
    Int,
    /// One path, relative to the file it was set in.
    Path,
    /// One path relative to the working folder wherever it was set (`~`, `$VAR` expanded):
    /// the ssh plugin resolves `control_path_dir` itself.
    CwdPath,
    /// A path given to ssh as written (ssh expands `~`; a relative one is the working
    /// folder's): the ssh plugin's `private_key_file`.
    RawPath,
    /// Paths separated by commas (Ansible's `pathlist`).
    PathList,
    /// Paths separated by colons (Ansible's `pathspec`).
    PathSpec,
    /// Accepted and not used, without a warning.
    Ignored,
}

/// One setting: its name here, its environment variables and its INI keys, each list in
/// Ansible's order (the last one set wins, as in ansible-core's `_loop_entries`).
#[derive(Debug)]
struct Def {
    name: &'static str,
    env: &'static [&'static str],
    ini: &'static [(&'static str, &'static str)],
    kind: Kind,
}

/// The settings hactl honours, with ansible-core 2.19's names for them.
const DEFS: &[Def] = &[
    Def {
        name: "inventory",
        env: &["ANSIBLE_INVENTORY"],
        ini: &[("defaults", "inventory")],
        kind: Kind::PathList,
    },
    Def {
        name: "remote_user",
        env: &["ANSIBLE_REMOTE_USER"],
        ini: &[("defaults", "remote_user")],
        kind: Kind::Str,
    },
    Def {
        name: "remote_port",
        env: &["ANSIBLE_REMOTE_PORT"],
        ini: &[("defaults", "remote_port")],
        kind: Kind::Int,
    },
    Def {
        name: "private_key_file",
        env: &["ANSIBLE_PRIVATE_KEY_FILE"],
        ini: &[("defaults", "private_key_file")],
        kind: Kind::RawPath,
    },
    Def {
        name: "forks",
        env: &["ANSIBLE_FORKS"],
        ini: &[("defaults", "forks")],
        kind: Kind::Int,
    },
    Def {
        name: "host_key_checking",
        env: &["ANSIBLE_HOST_KEY_CHECKING", "ANSIBLE_SSH_HOST_KEY_CHECKING"],
        ini: &[
            ("defaults", "host_key_checking"),
            ("ssh_connection", "host_key_checking"),
        ],
        kind: Kind::Bool,
    },
    Def {
        name: "timeout",
        env: &["ANSIBLE_TIMEOUT", "ANSIBLE_SSH_TIMEOUT"],
        ini: &[("defaults", "timeout"), ("ssh_connection", "timeout")],
        kind: Kind::Int,
    },
    Def {
        name: "roles_path",
        env: &["ANSIBLE_ROLES_PATH"],
        ini: &[("defaults", "roles_path")],
        kind: Kind::PathSpec,
    },
    Def {
        name: "collections_path",
        env: &["ANSIBLE_COLLECTIONS_PATHS", "ANSIBLE_COLLECTIONS_PATH"],
        ini: &[
            ("defaults", "collections_paths"),
            ("defaults", "collections_path"),
        ],
        kind: Kind::PathSpec,
    },
    Def {
        name: "vault_password_file",
        env: &["ANSIBLE_VAULT_PASSWORD_FILE"],
        ini: &[("defaults", "vault_password_file")],
        kind: Kind::Path,
    },
    Def {
        name: "become",
        env: &["ANSIBLE_BECOME"],
        ini: &[("privilege_escalation", "become")],
        kind: Kind::Bool,
    },
    Def {
        name: "become_user",
        env: &["ANSIBLE_BECOME_USER"],
        ini: &[("privilege_escalation", "become_user")],
        kind: Kind::Str,
    },
    Def {
        name: "become_method",
        env: &["ANSIBLE_BECOME_METHOD"],
        ini: &[("privilege_escalation", "become_method")],
        kind: Kind::Str,
    },
    Def {
        name: "become_ask_pass",
        env: &["ANSIBLE_BECOME_ASK_PASS"],
        ini: &[("privilege_escalation", "become_ask_pass")],
        kind: Kind::Bool,
    },
    Def {
        name: "ssh_args",
        env: &["ANSIBLE_SSH_ARGS"],
        ini: &[("ssh_connection", "ssh_args")],
        kind: Kind::Str,
    },
    Def {
        name: "ssh_common_args",
        env: &["ANSIBLE_SSH_COMMON_ARGS"],
        ini: &[("ssh_connection", "ssh_common_args")],
        kind: Kind::Str,
    },
    Def {
        name: "ssh_extra_args",
        env: &["ANSIBLE_SSH_EXTRA_ARGS"],
        ini: &[("ssh_connection", "ssh_extra_args")],
        kind: Kind::Str,
    },
    Def {
        name: "control_path_dir",
        env: &["ANSIBLE_SSH_CONTROL_PATH_DIR"],
        ini: &[("ssh_connection", "control_path_dir")],
        kind: Kind::CwdPath,
    },
    Def {
        name: "pipelining",
        env: &["ANSIBLE_PIPELINING", "ANSIBLE_SSH_PIPELINING"],
        ini: &[
            ("defaults", "pipelining"),
            ("connection", "pipelining"),
            ("ssh_connection", "pipelining"),
        ],
        kind: Kind::Ignored,
    },
];

/// Environment variables hactl reads elsewhere or that choose the file: no warning for them.
const ENV_ELSEWHERE: &[&str] = &["ANSIBLE_CONFIG"];

/// Where a value came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Env(String),
    File { path: PathBuf, line: usize },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}:{line}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{origin}: {name} '{value}' is not {expected}")]
    Value {
        origin: Origin,
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "Unsupported configuration file extension for {}: {ext} (Ansible reads .cfg and .ini)",
        path.display()
    )]
    Extension { path: PathBuf, ext: String },
}

/// Ansible's settings as hactl uses them, after environment over file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// The config file read, if any.
    pub file: Option<PathBuf>,
    pub inventory: Option<Setting<Vec<PathBuf>>>,
    pub remote_user: Option<Setting<String>>,
    pub remote_port: Option<Setting<u16>>,
    pub private_key_file: Option<Setting<PathBuf>>,
    pub forks: Option<Setting<usize>>,
    pub host_key_checking: Option<Setting<bool>>,
    pub timeout: Option<Setting<u64>>,
    pub roles_path: Option<Setting<Vec<PathBuf>>>,
    /// Where Ansible finds collections (only to know which modules Ansible has).
    pub collections_path: Option<Setting<Vec<PathBuf>>>,
    pub vault_password_file: Option<Setting<PathBuf>>,
    pub become_: Option<Setting<bool>>,
    pub become_user: Option<Setting<String>>,
    pub become_method: Option<Setting<String>>,
    pub become_ask_pass: Option<Setting<bool>>,
    pub ssh_args: Option<Setting<String>>,
    pub ssh_common_args: Option<Setting<String>>,
    pub ssh_extra_args: Option<Setting<String>>,
    pub control_path_dir: Option<Setting<PathBuf>>,
    /// What Ansible would not have told: keys and variables hactl ignores, a skipped file.
    pub warnings: Vec<String>,
}

static INSTALLED: OnceLock<Settings> = OnceLock::new();

/// The settings of this process: read once (from the real environment and files) on first
/// use, their warnings printed then.
pub fn get() -> Result<&'static Settings, ConfigError> {
    if let Some(s) = INSTALLED.get() {
        return Ok(s);
    }
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    let settings = load(&env, &cwd)?;
    let first = INSTALLED.set(settings).is_ok();
    let s = INSTALLED.get().ok_or_else(|| ConfigError::Read {
        path: PathBuf::new(),
        message: "settings not installed".into(),
    })?;
    if first {
        for w in &s.warnings {
            crate::report::warning(w);
        }
    }
    Ok(s)
}

/// The file Ansible would read, and the warning about a skipped world-writable `./ansible.cfg`.
pub fn find_file(env: &BTreeMap<String, String>, cwd: &Path) -> (Option<PathBuf>, Option<String>) {
    let mut candidates = Vec::new();
    let from_env = env.get("ANSIBLE_CONFIG").map(|p| {
        let p = expand(p, env, cwd);
        if p.is_dir() { p.join("ansible.cfg") } else { p }
    });
    candidates.extend(from_env.clone());
    let mut skipped_public = false;
    let here = cwd.join("ansible.cfg");
    match std::fs::metadata(cwd) {
        Ok(m) if m.permissions().mode() & 0o002 != 0 => skipped_public = here.exists(),
        Ok(_) => candidates.push(here),
        Err(_) => {}
    }
    if let Some(home) = env.get("HOME") {
        candidates.push(Path::new(home).join(".ansible.cfg"));
    }
    candidates.push(PathBuf::from("/etc/ansible/ansible.cfg"));
    let found = candidates
        .into_iter()
        .find(|p| std::fs::File::open(p).is_ok() && p.is_file());
    let warning = (skipped_public && (from_env.is_none() || found != from_env)).then(|| {
        format!(
            "Ansible is being run in a world writable directory ({}), ignoring it as an \
             ansible.cfg source. For more information see {WORLD_WRITABLE_URL}",
            cwd.display()
        )
    });
    (found, warning)
}

/// Reads the settings from `env` and the file [`find_file`] picks (`cwd` is the working
/// folder, for relative paths in the environment and for `./ansible.cfg`).
pub fn load(env: &BTreeMap<String, String>, cwd: &Path) -> Result<Settings, ConfigError> {
    let (file, warning) = find_file(env, cwd);
    let mut warnings: Vec<String> = warning.into_iter().collect();
    let ini = match &file {
        Some(path) => {
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_default();
            if ext != "cfg" && ext != "ini" {
                return Err(ConfigError::Extension {
                    path: path.clone(),
                    ext: if ext.is_empty() {
                        ext
                    } else {
                        format!(".{ext}")
                    },
                });
            }
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
                path: path.clone(),
                message: e.to_string(),
            })?;
            parse_ini(&text, path)?
        }
        None => Ini::default(),
    };
    // Keys of the file and variables of the environment that no setting reads.
    let known_ini: BTreeSet<(&str, &str)> =
        DEFS.iter().flat_map(|d| d.ini.iter().copied()).collect();
    for ((section, key), (_, line)) in &ini.values {
        if section != "DEFAULT" && !known_ini.contains(&(section.as_str(), key.as_str())) {
            warnings.push(format!(
                "hactl does not use the setting [{section}] {key} ({}:{line}); it is ignored",
                file.as_deref().unwrap_or(Path::new("")).display()
            ));
        }
    }
    let known_env: BTreeSet<&str> = DEFS
        .iter()
        .flat_map(|d| d.env.iter().copied())
        .chain(ENV_ELSEWHERE.iter().copied())
        .collect();
    for name in env.keys() {
        if name.starts_with("ANSIBLE_") && !known_env.contains(name.as_str()) {
            warnings.push(format!(
                "hactl does not use the environment variable {name}; it is ignored"
            ));
        }
    }
    let mut s = Settings {
        file: file.clone(),
        warnings,
        ..Settings::default()
    };
    for def in DEFS {
        let Some((raw, origin)) = lookup(def, env, &ini, file.as_deref()) else {
            continue;
        };
        let base = match &origin {
            Origin::File { path, .. } => path.parent().map(Path::to_path_buf).unwrap_or_default(),
            Origin::Env(_) => cwd.to_path_buf(),
        };
        let bad = |expected| ConfigError::Value {
            origin: origin.clone(),
            name: def.name,
            value: raw.clone(),
            expected,
        };
        let text = || Setting {
            value: raw.clone(),
            origin: origin.clone(),
        };
        let int = || -> Result<u64, ConfigError> {
            raw.trim().parse::<u64>().map_err(|_| bad("a whole number"))
        };
        let path = || Setting {
            value: expand(raw.trim(), env, &base),
            origin: origin.clone(),
        };
        let paths = |sep: char| Setting {
            value: raw
                .split(sep)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| expand(p, env, &base))
                .collect(),
            origin: origin.clone(),
        };
        let boolean = || Setting {
            // Ansible's non-strict boolean: anything not true is false.
            value: crate::playbook::value::bool_str(&raw).unwrap_or(false),
            origin: origin.clone(),
        };
        debug_assert!(def.kind != Kind::Ignored || def.name == "pipelining");
        match def.name {
            "inventory" => s.inventory = Some(paths(',')),
            "remote_user" => s.remote_user = Some(text()),
            "remote_port" => {
                let p = u16::try_from(int()?).map_err(|_| bad("a port number"))?;
                s.remote_port = Some(setting(p, &origin));
            }
            "private_key_file" => {
                s.private_key_file = Some(setting(PathBuf::from(raw.trim()), &origin))
            }
            "forks" => {
                let n = usize::try_from(int()?).map_err(|_| bad("a whole number"))?;
                if n == 0 {
                    return Err(bad("a number of forks above 0"));
                }
                s.forks = Some(setting(n, &origin));
            }
            "host_key_checking" => s.host_key_checking = Some(boolean()),
            "timeout" => s.timeout = Some(setting(int()?, &origin)),
            "roles_path" => s.roles_path = Some(paths(':')),
            "collections_path" => s.collections_path = Some(paths(':')),
            "vault_password_file" => s.vault_password_file = Some(path()),
            "become" => s.become_ = Some(boolean()),
            "become_user" => s.become_user = Some(text()),
            "become_method" => s.become_method = Some(text()),
            "become_ask_pass" => s.become_ask_pass = Some(boolean()),
            "ssh_args" => s.ssh_args = Some(text()),
            "ssh_common_args" => s.ssh_common_args = Some(text()),
            "ssh_extra_args" => s.ssh_extra_args = Some(text()),
            "control_path_dir" => {
                s.control_path_dir = Some(setting(expand(raw.trim(), env, cwd), &origin));
            }
            _ => {}
        }
    }
    Ok(s)
}

fn setting<T>(value: T, origin: &Origin) -> Setting<T> {
    Setting {
        value,
        origin: origin.clone(),
    }
}

/// The value of `def`: its last environment variable that is set, else its last INI key that
/// is set in the file (ansible-core's order).
fn lookup(
    def: &Def,
    env: &BTreeMap<String, String>,
    ini: &Ini,
    file: Option<&Path>,
) -> Option<(String, Origin)> {
    let from_env = def.env.iter().rev().find_map(|name| {
        env.get(*name)
            .map(|v| (v.clone(), Origin::Env((*name).into())))
    });
    if from_env.is_some() {
        return from_env;
    }
    let path = file?;
    def.ini
        .iter()
        .rev()
        .find_map(|(section, key)| ini.get(section, key))
        .map(|(value, line)| {
            (
                value,
                Origin::File {
                    path: path.to_path_buf(),
                    line,
                },
            )
        })
}

/// `~`, `$VAR` and `${VAR}` expanded (as Python's `expanduser(expandvars(...))`: an unset
/// variable stays as written), then made absolute against `base`.
fn expand(path: &str, env: &BTreeMap<String, String>, base: &Path) -> PathBuf {
    let re = regex::Regex::new(r"\$(\w+|\{[^}]*\})").ok();
    let vars = match &re {
        Some(re) => re
            .replace_all(path, |c: &regex::Captures<'_>| {
                let name = c[1].trim_start_matches('{').trim_end_matches('}');
                env.get(name).cloned().unwrap_or_else(|| c[0].to_string())
            })
            .into_owned(),
        None => path.to_string(),
    };
    let home = env.get("HOME").map(PathBuf::from);
    let expanded = match (vars.strip_prefix('~'), home) {
        (Some(""), Some(h)) => h,
        (Some(rest), Some(h)) if rest.starts_with('/') => h.join(&rest[1..]),
        _ => PathBuf::from(vars),
    };
    let joined = if expanded.is_absolute() {
        expanded
    } else {
        base.join(expanded)
    };
    normalize(&joined)
}

/// `os.path.normpath` of an absolute path, as Ansible's `unfrackpath` leaves it: no `.`, no
/// `..` (taken lexically), no trailing or doubled `/`.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if out.parent().is_some() {
                    out.pop();
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// An INI file: `(section, key)` to the value and the line of its key.
#[derive(Debug, Default)]
pub struct Ini {
    values: BTreeMap<(String, String), (String, usize)>,
}

impl Ini {
    /// The value of `key` in `section`, else in `[DEFAULT]`, as configparser looks it up.
    pub fn get(&self, section: &str, key: &str) -> Option<(String, usize)> {
        self.values
            .get(&(section.to_string(), key.to_string()))
            .or_else(|| self.values.get(&("DEFAULT".to_string(), key.to_string())))
            .cloned()
    }
}

/// Parses `text` as configparser does for Ansible (see the module docs).
pub fn parse_ini(text: &str, path: &Path) -> Result<Ini, ConfigError> {
    let err = |line: usize, message: String| ConfigError::Syntax {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut ini = Ini::default();
    let mut sections: BTreeSet<String> = BTreeSet::new();
    let mut section: Option<String> = None;
    // The key being read, its indentation and its lines (for continuation lines).
    let mut current: Option<((String, String), usize, Vec<String>)> = None;
    let finish = |ini: &mut Ini, current: &mut Option<((String, String), usize, Vec<String>)>| {
        if let Some((k, _, lines)) = current.take() {
            let value = lines.join("\n").trim_end().to_string();
            if let Some(v) = ini.values.get_mut(&k) {
                v.0 = unquote(&value);
            }
        }
    };
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let stripped = raw.trim();
        if stripped.starts_with('#') || stripped.starts_with(';') {
            continue;
        }
        // An inline comment starts at a `;` after whitespace.
        let line = match raw
            .char_indices()
            .find(|&(j, c)| c == ';' && j > 0 && raw[..j].ends_with(char::is_whitespace))
        {
            Some((j, _)) => &raw[..j],
            None => raw,
        };
        if line.trim().is_empty() {
            if let Some((_, _, lines)) = current.as_mut() {
                lines.push(String::new());
            }
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if let Some((_, key_indent, lines)) = current.as_mut() {
            if indent > *key_indent {
                lines.push(line.trim().to_string());
                continue;
            }
        }
        finish(&mut ini, &mut current);
        let body = line.trim();
        if let Some(name) = body.strip_prefix('[').and_then(|b| b.strip_suffix(']')) {
            if !sections.insert(name.to_string()) {
                return Err(err(line_no, format!("section '{name}' already exists")));
            }
            section = Some(name.to_string());
            continue;
        }
        let Some(sect) = &section else {
            return Err(err(
                line_no,
                "File contains no section headers (a key before any [section])".into(),
            ));
        };
        let Some(split) = body.find(['=', ':']) else {
            return Err(err(line_no, format!("'{body}' is not 'key = value'")));
        };
        let key = body[..split].trim().to_lowercase();
        let value = body[split + 1..].trim().to_string();
        let k = (sect.clone(), key.clone());
        if ini.values.contains_key(&k) {
            return Err(err(
                line_no,
                format!("option '{key}' in section '{sect}' already exists"),
            ));
        }
        ini.values.insert(k.clone(), (value.clone(), line_no));
        current = Some((k, indent, vec![value]));
    }
    finish(&mut ini, &mut current);
    Ok(ini)
}

/// Ansible's `unquote` of INI values: one pair of matching surrounding quotes goes.
fn unquote(s: &str) -> String {
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return s[1..s.len() - 1].to_string();
        }
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn private_dir() -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tmp");
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
        d
    }

    #[test]
    fn ini_reads_as_configparser() {
        let text = "# comment\n; another\n[defaults]\nInventory = hosts.ini ; inline\n\
                    forks: 7\nremote_user = \"deploy\"\n[ssh_connection]\nssh_args = -C\n  \
                    -o ControlPersist=30s\n\n[DEFAULT]\ntimeout = 3\n";
        let ini = parse_ini(text, Path::new("/x/ansible.cfg")).expect("parses");
        assert_eq!(
            ini.get("defaults", "inventory"),
            Some(("hosts.ini".into(), 4))
        );
        assert_eq!(ini.get("defaults", "forks"), Some(("7".into(), 5)));
        assert_eq!(
            ini.get("defaults", "remote_user"),
            Some(("deploy".into(), 6))
        );
        assert_eq!(
            ini.get("ssh_connection", "ssh_args"),
            Some(("-C\n-o ControlPersist=30s".into(), 8))
        );
        assert_eq!(ini.get("ssh_connection", "timeout"), Some(("3".into(), 12)));
        let dup = parse_ini("[a]\nk=1\nK=2\n", Path::new("f.cfg")).expect_err("dup");
        assert_eq!(
            dup.to_string(),
            "f.cfg:3: option 'k' in section 'a' already exists"
        );
        assert!(parse_ini("k=1\n", Path::new("f.cfg")).is_err());
        assert!(parse_ini("[a]\n[a]\n", Path::new("f.cfg")).is_err());
        assert!(parse_ini("[a]\njust words\n", Path::new("f.cfg")).is_err());
    }

    #[test]
    fn file_order_env_precedence_and_paths() {
        let d = private_dir();
        let cwd = d.path().join("proj");
        std::fs::create_dir(&cwd).expect("mkdir");
        let home = d.path().join("home");
        std::fs::create_dir(&home).expect("mkdir");
        std::fs::write(
            home.join(".ansible.cfg"),
            "[defaults]\nremote_user = homeuser\n",
        )
        .expect("write");
        let e = env(&[("HOME", home.to_str().expect("utf8"))]);
        let s = load(&e, &cwd).expect("loads");
        assert_eq!(s.file, Some(home.join(".ansible.cfg")));
        assert_eq!(s.remote_user.expect("set").value, "homeuser");

        // ./ansible.cfg comes before ~/.ansible.cfg; relative paths are the file's.
        std::fs::write(
            cwd.join("ansible.cfg"),
            "[defaults]\ninventory = inv/a.ini, /abs/b\nprivate_key_file = ~/k\n\
             roles_path = r1:/r2\nforks = 3\nhost_key_checking = False\nunused_key = 1\n\
             [privilege_escalation]\nbecome = yes\nbecome_user = app\n\
             [ssh_connection]\npipelining = True\nssh_common_args = -F cfg\n",
        )
        .expect("write");
        let s = load(&e, &cwd).expect("loads");
        assert_eq!(s.file, Some(cwd.join("ansible.cfg")));
        assert_eq!(
            s.inventory.expect("set").value,
            vec![cwd.join("inv/a.ini"), PathBuf::from("/abs/b")]
        );
        assert_eq!(
            s.private_key_file.expect("set").value,
            PathBuf::from("~/k"),
            "given to ssh as written"
        );
        assert_eq!(
            s.roles_path.expect("set").value,
            vec![cwd.join("r1"), PathBuf::from("/r2")]
        );
        assert_eq!(s.forks.expect("set").value, 3);
        assert_eq!(s.host_key_checking.map(|h| h.value), Some(false));
        assert_eq!(s.become_.map(|h| h.value), Some(true));
        assert_eq!(s.ssh_common_args.map(|h| h.value), Some("-F cfg".into()));
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert!(
            s.warnings[0].contains("[defaults] unused_key") && s.warnings[0].contains(":7)"),
            "{:?}",
            s.warnings
        );

        // The environment beats the file; its relative paths are the working folder's.
        let mut e2 = e.clone();
        e2.insert("ANSIBLE_FORKS".into(), "9".into());
        e2.insert("ANSIBLE_INVENTORY".into(), "other.ini".into());
        e2.insert("ANSIBLE_STDOUT_CALLBACK".into(), "yaml".into());
        let s = load(&e2, &cwd).expect("loads");
        assert_eq!(s.forks.as_ref().map(|f| f.value), Some(9));
        assert_eq!(
            s.forks.map(|f| f.origin),
            Some(Origin::Env("ANSIBLE_FORKS".into()))
        );
        assert_eq!(s.inventory.expect("set").value, vec![cwd.join("other.ini")]);
        assert!(
            s.warnings
                .iter()
                .any(|w| w.contains("ANSIBLE_STDOUT_CALLBACK")),
            "{:?}",
            s.warnings
        );

        // ANSIBLE_CONFIG comes first, a folder meaning its ansible.cfg.
        let other = d.path().join("other");
        std::fs::create_dir(&other).expect("mkdir");
        std::fs::write(other.join("ansible.cfg"), "[defaults]\nforks = 2\n").expect("write");
        let mut e3 = e.clone();
        e3.insert("ANSIBLE_CONFIG".into(), other.display().to_string());
        assert_eq!(
            load(&e3, &cwd).expect("loads").forks.map(|f| f.value),
            Some(2)
        );

        // A bad number names the file and line.
        std::fs::write(other.join("ansible.cfg"), "[defaults]\n\nforks = many\n").expect("write");
        let err = load(&e3, &cwd).expect_err("bad forks").to_string();
        assert!(
            err.ends_with("ansible.cfg:3: forks 'many' is not a whole number"),
            "{err}"
        );
    }

    #[test]
    fn a_world_writable_working_folder_is_skipped_with_a_warning() {
        let d = private_dir();
        let cwd = d.path().join("public");
        std::fs::create_dir(&cwd).expect("mkdir");
        std::fs::set_permissions(&cwd, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        std::fs::write(cwd.join("ansible.cfg"), "[defaults]\nforks = 4\n").expect("write");
        let e = env(&[("HOME", "/nonexistent")]);
        let s = load(&e, &cwd).expect("loads");
        assert_eq!(s.file, None);
        assert_eq!(s.forks, None);
        assert_eq!(
            s.warnings,
            [format!(
                "Ansible is being run in a world writable directory ({}), ignoring it as an \
                 ansible.cfg source. For more information see {WORLD_WRITABLE_URL}",
                cwd.display()
            )]
        );
        // Named by ANSIBLE_CONFIG, the same file is read, without the warning.
        let mut e2 = e.clone();
        e2.insert(
            "ANSIBLE_CONFIG".into(),
            cwd.join("ansible.cfg").display().to_string(),
        );
        let s = load(&e2, &cwd).expect("loads");
        assert_eq!(s.forks.map(|f| f.value), Some(4));
        assert!(s.warnings.is_empty());
    }
}
