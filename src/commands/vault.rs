//! `hactl vault encrypt|decrypt|view|encrypt_string`: ansible-vault's commands, writing and
//! reading the same files (see [`crate::vault`]). Also [`install`], with which every command
//! that loads playbooks or inventories takes its vault passwords.
//!
//! Plaintext goes straight to standard output here, not through [`crate::report`], which
//! masks decrypted values: showing them is the point of `view`.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::cli::{
    VaultArgs, VaultCommand, VaultDecryptArgs, VaultEncryptArgs, VaultEncryptStringArgs,
    VaultViewArgs,
};
use crate::vault::{self, Purpose, Secret, Sources, VaultSecrets, format};

impl VaultArgs {
    pub fn sources(&self) -> Sources {
        let mut password_files = self.vault_password_files.clone();
        // ansible.cfg's vault_password_file; ANSIBLE_VAULT_PASSWORD_FILE, which wins over it,
        // is read by `Sources::load` itself.
        if let Some(s) = crate::config::get()
            .ok()
            .and_then(|s| s.vault_password_file.as_ref())
        {
            if matches!(s.origin, crate::config::Origin::File { .. }) {
                password_files.push(s.value.clone());
            }
        }
        Sources {
            vault_ids: self.vault_ids.clone(),
            password_files,
            ask: self.ask_vault_pass,
        }
    }
}

/// Loads the passwords the command line (and ANSIBLE_VAULT_PASSWORD_FILE) gives and makes them
/// the process's: vault data met while loading is decrypted with them.
pub fn install(args: &VaultArgs) -> anyhow::Result<()> {
    let secrets = args
        .sources()
        .load(Purpose::Decrypt)
        .context("cannot read the vault password")?;
    vault::install(secrets);
    Ok(())
}

pub fn run(cmd: &VaultCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        VaultCommand::Encrypt(a) => encrypt(a),
        VaultCommand::Decrypt(a) => decrypt(a),
        VaultCommand::View(a) => view(a),
        VaultCommand::EncryptString(a) => encrypt_string(a),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// The passwords for `purpose`; with none given, ansible-vault asks at the terminal.
fn secrets(args: &VaultArgs, purpose: Purpose) -> anyhow::Result<VaultSecrets> {
    let mut sources = args.sources();
    let env = std::env::var_os("ANSIBLE_VAULT_PASSWORD_FILE").is_some_and(|v| !v.is_empty());
    if sources.is_empty() && !env {
        sources.ask = true;
    }
    let secrets = sources
        .load(purpose)
        .context("cannot read the vault password")?;
    if secrets.is_empty() {
        bail!("A vault password is required to use Ansible's Vault");
    }
    Ok(secrets)
}

/// The one password that encrypts: `--encrypt-vault-id`'s, else the only one given.
fn encrypt_secret(secrets: &VaultSecrets, label: Option<&str>) -> anyhow::Result<Secret> {
    let labels = || {
        secrets
            .secrets
            .iter()
            .map(|s| s.label.as_str())
            .collect::<Vec<_>>()
    };
    match label {
        Some(label) => secrets
            .secrets
            .iter()
            .find(|s| s.label == label)
            .cloned()
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "Did not find a match for --encrypt-vault-id={label} in the known vault-ids {:?}",
                    labels()
                )
            }),
        None if secrets.secrets.len() > 1 => bail!(
            "The vault-ids {} are available to encrypt. Specify the vault-id to encrypt with --encrypt-vault-id",
            labels().join(",")
        ),
        None => secrets
            .secrets
            .first()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("A vault password is required to use Ansible's Vault")),
    }
}

fn is_stdio(path: &Path) -> bool {
    path == Path::new("-")
}

fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut data = Vec::new();
    let result = if is_stdio(path) {
        std::io::stdin().read_to_end(&mut data).map(|_| ())
    } else {
        std::fs::read(path).map(|d| data = d)
    };
    result.with_context(|| format!("Unable to read source file ({})", path.display()))?;
    Ok(data)
}

/// Writes `data` to standard output or to a file created with mode 0600 (as ansible-vault
/// does), through a temporary file renamed over the target so no half-written file remains.
fn write_output(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    if is_stdio(path) {
        let mut out = std::io::stdout().lock();
        out.write_all(data)?;
        out.flush()?;
        return Ok(());
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // tempfile creates with mode 0600 on Unix.
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("Destination '{}' not writable", dir.display()))?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The inputs and where each goes: in place, or `--output` (only with one input).
fn targets(files: &[PathBuf], output: Option<&PathBuf>) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    if output.is_some() && files.len() > 1 {
        bail!("At most one input file may be used with the --output option");
    }
    let inputs = if files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        files.to_vec()
    };
    inputs
        .into_iter()
        .map(|input| {
            // In place follows a symlink, as ansible-vault does.
            let real = if is_stdio(&input) {
                input.clone()
            } else {
                std::fs::canonicalize(&input).unwrap_or_else(|_| input.clone())
            };
            let dest = output.cloned().unwrap_or_else(|| real.clone());
            Ok((real, dest))
        })
        .collect()
}

fn encrypt(a: &VaultEncryptArgs) -> anyhow::Result<()> {
    let secrets = secrets(&a.vault, Purpose::Encrypt)?;
    let secret = encrypt_secret(&secrets, a.encrypt_vault_id.as_deref())?;
    if a.files.is_empty() && std::io::stdin().is_terminal() {
        crate::report::warning("Reading plaintext input from stdin");
    }
    for (input, dest) in targets(&a.files, a.output.as_ref())? {
        let plain = read_input(&input)?;
        if vault::is_encrypted(&plain) {
            bail!("input is already encrypted");
        }
        let text = format::encrypt(&plain, &secret.password, Some(&secret.label))
            .context("cannot get random bytes for the salt")?;
        write_output(&dest, text.as_bytes())?;
    }
    success("Encryption successful");
    Ok(())
}

/// Decrypts one input, naming it in the error as ansible-vault does.
fn decrypt_input(input: &Path, secrets: &VaultSecrets) -> anyhow::Result<Vec<u8>> {
    let data = read_input(input)?;
    let name = if is_stdio(input) {
        "<stdin>".to_owned()
    } else {
        input.display().to_string()
    };
    let text = String::from_utf8(data)
        .map_err(|_| anyhow::anyhow!("Input is not vault encrypted data. for {name}"))?;
    if !vault::is_encrypted(text.as_bytes()) {
        bail!("Input is not vault encrypted data. for {name}");
    }
    vault::decrypt(&text, secrets)
        .map(|(plain, _)| plain)
        .map_err(|e| anyhow::anyhow!("{e} for {name}"))
}

fn decrypt(a: &VaultDecryptArgs) -> anyhow::Result<()> {
    let secrets = secrets(&a.vault, Purpose::Decrypt)?;
    for (input, dest) in targets(&a.files, a.output.as_ref())? {
        let plain = decrypt_input(&input, &secrets)?;
        write_output(&dest, &plain)?;
    }
    success("Decryption successful");
    Ok(())
}

fn view(a: &VaultViewArgs) -> anyhow::Result<()> {
    let secrets = secrets(&a.vault, Purpose::Decrypt)?;
    for file in &a.files {
        let mut plain = decrypt_input(file, &secrets)?;
        // ansible-vault's pager ends the text with a newline when it lacks one.
        if !plain.ends_with(b"\n") {
            plain.push(b'\n');
        }
        write_output(Path::new("-"), &plain)?;
    }
    Ok(())
}

/// `!vault |` and the vault text indented by ten spaces, after `NAME: ` when named: the YAML
/// ansible-vault prints.
fn vault_yaml(text: &str, name: Option<&str>) -> String {
    let mut out = match name {
        Some(n) => format!("{n}: !vault |"),
        None => "!vault |".to_owned(),
    };
    for line in text.lines() {
        out.push('\n');
        out.push_str("          ");
        out.push_str(line);
    }
    out
}

fn encrypt_string(a: &VaultEncryptStringArgs) -> anyhow::Result<()> {
    let secrets = secrets(&a.vault, Purpose::Encrypt)?;
    let secret = encrypt_secret(&secrets, a.encrypt_vault_id.as_deref())?;
    let args: Vec<&String> = a.strings.iter().filter(|s| *s != "-").collect();
    let from_stdin =
        a.strings.iter().any(|s| s == "-") || a.stdin_name.is_some() || args.is_empty();
    // (plaintext, where it came from, name)
    let mut inputs: Vec<(Vec<u8>, &str, Option<String>)> = Vec::new();
    if from_stdin {
        let mut text = Vec::new();
        std::io::stdin()
            .read_to_end(&mut text)
            .context("cannot read standard input")?;
        if text.is_empty() {
            bail!("stdin was empty, not encrypting");
        }
        inputs.push((text, "stdin", a.stdin_name.clone()));
    }
    if args.len() > a.names.len() && !a.names.is_empty() {
        crate::report::warning("The number of --name options do not match the number of args.");
    }
    for (i, text) in args.iter().enumerate() {
        if text.is_empty() {
            bail!("The plaintext provided from the command line args was empty, not encrypting");
        }
        inputs.push((
            text.as_bytes().to_vec(),
            "the command line args",
            a.names.get(i).cloned(),
        ));
    }
    let several = inputs.len() > 1;
    let mut outs = Vec::new();
    for (i, (plain, source, name)) in inputs.iter().enumerate() {
        let text = format::encrypt(plain, &secret.password, Some(&secret.label))
            .context("cannot get random bytes for the salt")?;
        if several {
            // The same comments as ansible-vault, on stderr so stdout stays pasteable YAML.
            let n = i + 1;
            let comment = match name {
                Some(name) => format!(
                    "# The encrypted version of variable (\"{name}\", the string #{n} from {source})."
                ),
                None => format!("# The encrypted version of the string #{n} from {source}.)"),
            };
            let mut err = std::io::stderr().lock();
            writeln!(err, "{comment}")?;
        }
        outs.push(vault_yaml(&text, name.as_deref()));
    }
    outs.push(String::new());
    let dest = a.output.clone().unwrap_or_else(|| PathBuf::from("-"));
    write_output(&dest, outs.join("\n").as_bytes())?;
    success("Encryption successful");
    Ok(())
}

/// ansible-vault's closing line on stderr, only when stdout is a terminal.
fn success(message: &str) {
    if std::io::stdout().is_terminal() {
        let _ = writeln!(std::io::stderr(), "{message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypt_string_yaml_matches_ansible_vault_layout() {
        let text = "$ANSIBLE_VAULT;1.1;AES256\n3132\n3334\n";
        assert_eq!(
            vault_yaml(text, Some("db_pass")),
            "db_pass: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n          3132\n          3334"
        );
    }

    #[test]
    fn the_encrypting_password_must_be_unambiguous() {
        let s = |l: &str| Secret {
            label: l.into(),
            password: b"x".to_vec(),
        };
        let two = VaultSecrets {
            secrets: vec![s("a"), s("b")],
        };
        assert!(encrypt_secret(&two, None).is_err());
        assert_eq!(
            encrypt_secret(&two, Some("b")).map(|s| s.label).ok(),
            Some("b".into())
        );
        assert!(encrypt_secret(&two, Some("c")).is_err());
    }
}
