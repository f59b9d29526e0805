//! Ansible Vault: reading and writing vault-encrypted files and `!vault` values exactly as
//! `ansible-vault` from ansible-core 2.19 does, so either tool decrypts what the other wrote.
//!
//! - [`format`]: the vault text (1.1 and 1.2 envelopes, AES256 cipher);
//! - [`secrets`]: passwords and their sources (`--vault-id`, `--vault-password-file`,
//!   `ANSIBLE_VAULT_PASSWORD_FILE`, `--ask-vault-pass`);
//! - [`revealed`]: the values decrypted so far, which every output masks.
//!
//! Loading: a command gathers its passwords once and [`install`]s them for the process, as
//! Ansible's `DataLoader` holds one set of vault secrets for a run; [`crate::yaml`] then
//! decrypts a fully encrypted file, and each `!vault` value, as it reads them. Decryption is
//! eager (at load), where Ansible 2.19 decrypts a `!vault` value when it is first used: a file
//! holding a value nobody uses still needs its password here.

pub mod format;
pub mod revealed;
pub mod secrets;

use std::sync::OnceLock;

pub use format::{FormatError, is_encrypted};
pub use secrets::{Purpose, Secret, SecretError, Sources, VaultSecrets};

/// Why vault data could not be decrypted, in Ansible's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// Vault data, but no password was given at all.
    #[error("Attempting to decrypt but no vault secrets found.")]
    NoSecrets,
    /// No password given decrypts it: a wrong password.
    #[error("Decryption failed (no vault secrets were found that could decrypt).")]
    NoMatch,
    /// The data is damaged (or not vault data).
    #[error("{0}")]
    Format(#[from] FormatError),
    #[error("the decrypted data is not UTF-8 text")]
    NotText,
}

/// Decrypts a vault text with the first password that fits (those labelled as the text
/// first). Returns the plaintext and the label of the password that fit.
pub fn decrypt(text: &str, secrets: &VaultSecrets) -> Result<(Vec<u8>, String), DecryptError> {
    let envelope = format::parse_envelope(text)?;
    if envelope.cipher != "AES256" {
        return Err(FormatError::Cipher(envelope.cipher).into());
    }
    if secrets.is_empty() {
        return Err(DecryptError::NoSecrets);
    }
    for secret in secrets.candidates(envelope.label.as_deref()) {
        match format::decrypt(&envelope, &secret.password) {
            Ok(plain) => return Ok((plain, secret.label.clone())),
            // A wrong password: try the next, as Ansible does.
            Err(FormatError::Hmac) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(DecryptError::NoMatch)
}

/// As [`decrypt`], for text that must decode as UTF-8 (YAML files and values).
pub fn decrypt_text(text: &str, secrets: &VaultSecrets) -> Result<String, DecryptError> {
    let (plain, _) = decrypt(text, secrets)?;
    String::from_utf8(plain).map_err(|_| DecryptError::NotText)
}

static INSTALLED: OnceLock<VaultSecrets> = OnceLock::new();

/// Sets the vault passwords of this process (one command per process); the first call wins.
pub fn install(secrets: VaultSecrets) {
    let _ = INSTALLED.set(secrets);
}

/// The passwords [`install`]ed, or none.
pub fn installed() -> &'static VaultSecrets {
    static NONE: VaultSecrets = VaultSecrets {
        secrets: Vec::new(),
    };
    INSTALLED.get().unwrap_or(&NONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(label: &str, pw: &str) -> Secret {
        Secret {
            label: label.into(),
            password: pw.as_bytes().to_vec(),
        }
    }

    #[test]
    fn the_right_password_among_several() {
        let text = format::encrypt_with_salt(b"hello", b"two", Some("b"), b"salt");
        let secrets = VaultSecrets {
            secrets: vec![secret("a", "one"), secret("x", "two")],
        };
        // The label in the text names no secret we have: every secret is still tried.
        assert_eq!(
            decrypt(&text, &secrets),
            Ok((b"hello".to_vec(), "x".to_owned()))
        );
        let wrong = VaultSecrets {
            secrets: vec![secret("a", "one")],
        };
        assert_eq!(decrypt(&text, &wrong), Err(DecryptError::NoMatch));
        assert_eq!(
            decrypt(&text, &VaultSecrets::default()),
            Err(DecryptError::NoSecrets)
        );
    }
}
