//! Vault passwords and where they come from, as Ansible's CLI gathers them
//! (`setup_vault_secrets`): each `--vault-id [LABEL@]SOURCE` in order, then each
//! `--vault-password-file` and `ANSIBLE_VAULT_PASSWORD_FILE` (label `default`), then
//! `--ask-vault-pass`. A source is `prompt`, an executable (run, its stdout is the password;
//! a `NAME-client[.ext]` script is given `--vault-id LABEL`) or a plain file (its content,
//! stripped). Unlike Ansible, which warns and goes on when one of several sources fails, any
//! failing source is an error here: a run must not quietly lack a password it was given.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The label of passwords given without one.
pub const DEFAULT_LABEL: &str = "default";

/// One vault password and its label (vault id).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    pub label: String,
    pub password: Vec<u8>,
}

impl std::fmt::Debug for Secret {
    /// Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({:?}, <hidden>)", self.label)
    }
}

/// The vault passwords of a run, best first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VaultSecrets {
    pub secrets: Vec<Secret>,
}

/// Why a password could not be obtained. Messages follow Ansible's.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("The vault password file {0} was not found")]
    NotFound(PathBuf),
    #[error("The vault password file provided '{0}' can not be a directory")]
    Directory(PathBuf),
    #[error("Could not read vault password file '{0}': {1}")]
    Read(PathBuf, std::io::Error),
    #[error("Invalid vault password was provided from file ({0})")]
    EmptyFile(PathBuf),
    #[error("Invalid vault password was provided from script ({0})")]
    EmptyScript(PathBuf),
    #[error(
        "Problem running vault password script {0} ({1}). If this is not a script, remove the executable bit from the file."
    )]
    Run(PathBuf, std::io::Error),
    #[error("Vault password script {0} returned non-zero ({1}): {2}")]
    Script(PathBuf, i32, String),
    #[error("Vault password client script {0} did not find a secret for vault-id={1}: {2}")]
    ClientUnknown(PathBuf, String, String),
    #[error(
        "the vault password file {0} is itself vault-encrypted; hactl does not decrypt password files"
    )]
    Encrypted(PathBuf),
    #[error("Invalid vault password was provided")]
    EmptyPrompt,
    #[error("cannot read the vault password from the terminal: {0}")]
    Prompt(std::io::Error),
    #[error("Passwords do not match")]
    Mismatch,
}

/// Where the passwords come from, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// `--vault-id [LABEL@]SOURCE`, in order.
    pub vault_ids: Vec<String>,
    /// `--vault-password-file FILE`, in order.
    pub password_files: Vec<PathBuf>,
    /// `--ask-vault-pass`.
    pub ask: bool,
}

/// How passwords typed at a prompt are asked: once, or twice for a new password
/// (`ansible-vault encrypt`), with Ansible's prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Decrypt,
    Encrypt,
}

impl Sources {
    /// Whether no source at all was given (`ANSIBLE_VAULT_PASSWORD_FILE` aside).
    pub fn is_empty(&self) -> bool {
        self.vault_ids.is_empty() && self.password_files.is_empty() && !self.ask
    }

    /// Loads every password, in Ansible's order. `ANSIBLE_VAULT_PASSWORD_FILE` is read here
    /// (a password file after the command line's).
    pub fn load(&self, purpose: Purpose) -> Result<VaultSecrets, SecretError> {
        let mut slugs: Vec<(Option<String>, String)> =
            self.vault_ids.iter().map(|s| split_vault_id(s)).collect();
        let env_file = std::env::var_os("ANSIBLE_VAULT_PASSWORD_FILE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        for file in self.password_files.iter().chain(env_file.as_ref()) {
            slugs.push((
                Some(DEFAULT_LABEL.to_owned()),
                file.to_string_lossy().into_owned(),
            ));
        }
        if self.ask {
            slugs.push((None, ASK.to_owned()));
        }
        let mut secrets = Vec::new();
        for (label, source) in slugs {
            let password = match source.as_str() {
                "prompt" | ASK => prompt(label.as_deref(), source == ASK, purpose)?,
                _ => from_file(Path::new(&source), label.as_deref())?,
            };
            secrets.push(Secret {
                label: label.unwrap_or_else(|| DEFAULT_LABEL.to_owned()),
                password,
            });
        }
        Ok(VaultSecrets { secrets })
    }
}

/// The source name `--ask-vault-pass` stands for, with Ansible's older prompt.
const ASK: &str = "prompt_ask_vault_pass";

/// `LABEL@SOURCE`, or just `SOURCE` (split at the first `@`, as Ansible does).
pub fn split_vault_id(slug: &str) -> (Option<String>, String) {
    match slug.split_once('@') {
        Some((label, source)) => (Some(label.to_owned()), source.to_owned()),
        None => (None, slug.to_owned()),
    }
}

impl VaultSecrets {
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The secrets to try on a vault text labelled `label`: those with that label first, then
    /// the others (Ansible's default, `DEFAULT_VAULT_ID_MATCH = False`, lets any password try).
    pub fn candidates<'a>(&'a self, label: Option<&'a str>) -> impl Iterator<Item = &'a Secret> {
        let first = self
            .secrets
            .iter()
            .filter(move |s| Some(s.label.as_str()) == label);
        let rest = self
            .secrets
            .iter()
            .filter(move |s| Some(s.label.as_str()) != label);
        first.chain(rest)
    }
}

fn from_file(path: &Path, label: Option<&str>) -> Result<Vec<u8>, SecretError> {
    // Absolute, as Ansible's unfrackpath makes it: a script named `pw.sh` runs from the current
    // folder, not from PATH.
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let path = absolute.as_path();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => SecretError::NotFound(path.to_path_buf()),
        _ => SecretError::Read(path.to_path_buf(), e),
    })?;
    if meta.is_dir() {
        return Err(SecretError::Directory(path.to_path_buf()));
    }
    if meta.permissions().mode() & 0o111 != 0 {
        return script(path, label);
    }
    let mut raw = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut raw))
        .map_err(|e| SecretError::Read(path.to_path_buf(), e))?;
    // Ansible strips all surrounding whitespace from a password file (then CR/LF again).
    let password = raw.trim_ascii().to_vec();
    if super::format::is_encrypted(&password) {
        return Err(SecretError::Encrypted(path.to_path_buf()));
    }
    if password.is_empty() {
        return Err(SecretError::EmptyFile(path.to_path_buf()));
    }
    Ok(password)
}

/// Runs a password script; `NAME-client` scripts are told the label (`--vault-id LABEL`) and
/// exit 2 when they have no password for it.
fn script(path: &Path, label: Option<&str>) -> Result<Vec<u8>, SecretError> {
    let mut cmd = Command::new(path);
    let client = is_client(path);
    if let (true, Some(label)) = (client, label) {
        cmd.arg("--vault-id").arg(label);
    }
    // A plain script's stderr stays on the terminal so it can prompt, as in Ansible.
    cmd.stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(if client {
            Stdio::piped()
        } else {
            Stdio::inherit()
        });
    let out = cmd
        .output()
        .map_err(|e| SecretError::Run(path.to_path_buf(), e))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    if client && code == 2 {
        return Err(SecretError::ClientUnknown(
            path.to_path_buf(),
            label.unwrap_or_default().to_owned(),
            stderr,
        ));
    }
    if !out.status.success() {
        return Err(SecretError::Script(path.to_path_buf(), code, stderr));
    }
    let password = trim_crlf(&out.stdout).to_vec();
    if password.is_empty() {
        return Err(SecretError::EmptyScript(path.to_path_buf()));
    }
    Ok(password)
}

/// `something-client` or `something-client.ext`: Ansible's `script_is_client`.
fn is_client(path: &Path) -> bool {
    let name = path.to_string_lossy();
    let stem = match name.rfind('.') {
        Some(i) if !name[i..].contains('/') && i > name.rfind('/').map_or(0, |s| s + 1) => {
            &name[..i]
        }
        _ => &name[..],
    };
    stem.ends_with("-client")
}

fn trim_crlf(data: &[u8]) -> &[u8] {
    let start = data
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(data.len());
    let end = data
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n'))
        .map_or(start, |i| i + 1);
    &data[start..end]
}

/// Reads a password from the terminal without echo, with Ansible's prompts.
fn prompt(label: Option<&str>, ask: bool, purpose: Purpose) -> Result<Vec<u8>, SecretError> {
    let label = label.unwrap_or(DEFAULT_LABEL);
    let prompts: Vec<String> = match (ask, purpose) {
        (true, Purpose::Decrypt) => vec!["Vault password: ".into()],
        (true, Purpose::Encrypt) => {
            vec![
                "New Vault password: ".into(),
                "Confirm New Vault password: ".into(),
            ]
        }
        (false, Purpose::Decrypt) => vec![format!("Vault password ({label}): ")],
        (false, Purpose::Encrypt) => vec![
            format!("New vault password ({label}): "),
            format!("Confirm new vault password ({label}): "),
        ],
    };
    let mut answers = Vec::new();
    for p in &prompts {
        let answer = rpassword::prompt_password(p).map_err(SecretError::Prompt)?;
        if answer.is_empty() {
            return Err(SecretError::EmptyPrompt);
        }
        answers.push(answer.trim().as_bytes().to_vec());
    }
    if answers.iter().any(|a| *a != answers[0]) {
        return Err(SecretError::Mismatch);
    }
    Ok(answers.swap_remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_id_splits_at_the_first_at() {
        assert_eq!(split_vault_id("pw"), (None, "pw".into()));
        assert_eq!(
            split_vault_id("prod@a@b"),
            (Some("prod".into()), "a@b".into())
        );
    }

    #[test]
    fn client_scripts_are_named_so() {
        assert!(is_client(Path::new("/x/pass-client")));
        assert!(is_client(Path::new("/x/pass-client.py")));
        assert!(!is_client(Path::new("/x/pass.py")));
        assert!(!is_client(Path::new("/x-client.d/pass")));
    }

    #[test]
    fn files_and_scripts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("pw");
        std::fs::write(&file, "  s3cret \n").expect("write");
        assert_eq!(from_file(&file, None).expect("reads"), b"s3cret");
        std::fs::write(&file, "\n").expect("write");
        assert!(matches!(
            from_file(&file, None),
            Err(SecretError::EmptyFile(_))
        ));
        let script_path = dir.path().join("pw.sh");
        std::fs::write(&script_path, "#!/bin/sh\nprintf ' from script \\r\\n'\n").expect("write");
        std::fs::set_permissions(&script_path, std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        // A script's output loses only CR and LF, as Ansible's strip(b'\r\n').
        assert_eq!(
            from_file(&script_path, None).expect("runs"),
            b" from script "
        );
        let client = dir.path().join("pw-client");
        std::fs::write(
            &client,
            "#!/bin/sh\n[ \"$2\" = prod ] && echo p-$2 && exit 0\necho none >&2; exit 2\n",
        )
        .expect("write");
        std::fs::set_permissions(&client, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(from_file(&client, Some("prod")).expect("runs"), b"p-prod");
        let err = from_file(&client, Some("dev")).expect_err("no secret for dev");
        assert!(err.to_string().contains("vault-id=dev"), "{err}");
        assert!(matches!(
            from_file(&dir.path().join("nope"), None),
            Err(SecretError::NotFound(_))
        ));
    }

    #[test]
    fn label_matches_are_tried_first() {
        let s = |l: &str| Secret {
            label: l.into(),
            password: l.as_bytes().to_vec(),
        };
        let all = VaultSecrets {
            secrets: vec![s("a"), s("b"), s("c")],
        };
        let order: Vec<_> = all
            .candidates(Some("b"))
            .map(|s| s.label.as_str())
            .collect();
        assert_eq!(order, ["b", "a", "c"]);
    }
}
