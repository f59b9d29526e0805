//! The vault text format, as ansible-core 2.19 writes and reads it (`VaultLib` with the
//! `AES256` cipher):
//!
//! ```text
//! $ANSIBLE_VAULT;1.1;AES256            (or $ANSIBLE_VAULT;1.2;AES256;LABEL)
//! hex( hex(salt) \n hex(hmac) \n hex(ciphertext) ), cut into lines of 80 characters
//! ```
//!
//! PBKDF2-HMAC-SHA256 (10000 iterations) turns the password and the 32-byte salt into 80 bytes:
//! the AES-256 key, the HMAC-SHA256 key and the 16-byte initial counter. The plaintext is
//! PKCS#7-padded to the AES block (CTR needs no padding, but Ansible pads, so we must too)
//! and encrypted with AES-256-CTR (the counter a 128-bit big-endian number); the HMAC is over
//! the ciphertext. It owns no notion of passwords' sources: see [`super::secrets`].

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The first bytes of every vault text.
pub const HEADER: &str = "$ANSIBLE_VAULT";
const ITERATIONS: u32 = 10_000;
const KEY_LEN: usize = 32;
const IV_LEN: usize = 16;
const BLOCK: usize = 16;
const SALT_LEN: usize = 32;
const LINE: usize = 80;

type Aes256Ctr = ctr::Ctr128BE<Aes256>;

/// Why a vault text could not be read or decrypted with one password. The messages are
/// Ansible's, so users can search for them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("Vault envelope format error.")]
    Envelope,
    #[error("Cipher '{0}' could not be found.")]
    Cipher(String),
    #[error("Vault format unhexlify error.")]
    Unhexlify,
    #[error("Vault vaulttext format error.")]
    Vaulttext,
    /// The HMAC does not match: a wrong password (or tampered data).
    #[error("HMAC verification failed")]
    Hmac,
    /// The HMAC matched but the padding is wrong: corrupt data.
    #[error("Invalid padding bytes.")]
    Padding,
}

/// The parts of a vault text's envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `1.1` or `1.2`.
    pub version: String,
    pub cipher: String,
    /// The label of a 1.2 envelope (`--vault-id LABEL@...` when it was encrypted).
    pub label: Option<String>,
    /// The hex payload, lines joined.
    payload: String,
}

/// Whether `text` is vault-encrypted data: it starts with the vault header, as Ansible's
/// `is_encrypted` checks (no leading whitespace allowed).
pub fn is_encrypted(text: &[u8]) -> bool {
    text.starts_with(HEADER.as_bytes())
}

/// Splits a vault text into its header fields and payload (Ansible's
/// `parse_vaulttext_envelope`): the header is the first line split on `;`, each field
/// stripped; the payload is every further line, joined.
pub fn parse_envelope(text: &str) -> Result<Envelope, FormatError> {
    let mut lines = text.lines();
    let header = lines.next().ok_or(FormatError::Envelope)?;
    let fields: Vec<&str> = header.trim().split(';').map(str::trim).collect();
    if fields.len() < 3 || fields[0] != HEADER {
        return Err(FormatError::Envelope);
    }
    // Python's splitlines also drops `\r`; `lines()` only drops a `\r` before `\n`.
    let payload: String = lines.flat_map(|l| l.split('\r')).collect();
    Ok(Envelope {
        version: fields[1].to_owned(),
        cipher: fields[2].to_owned(),
        label: fields.get(3).map(|l| (*l).to_owned()),
        payload,
    })
}

/// The three keys derived from a password and salt.
struct Keys {
    aes: [u8; KEY_LEN],
    mac: [u8; KEY_LEN],
    iv: [u8; IV_LEN],
}

fn derive(password: &[u8], salt: &[u8]) -> Keys {
    let mut out = [0u8; 2 * KEY_LEN + IV_LEN];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, ITERATIONS, &mut out);
    let mut keys = Keys {
        aes: [0; KEY_LEN],
        mac: [0; KEY_LEN],
        iv: [0; IV_LEN],
    };
    keys.aes.copy_from_slice(&out[..KEY_LEN]);
    keys.mac.copy_from_slice(&out[KEY_LEN..2 * KEY_LEN]);
    keys.iv.copy_from_slice(&out[2 * KEY_LEN..]);
    keys
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length; this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

/// Decrypts the payload of `envelope` with one password. [`FormatError::Hmac`] means the
/// password is not the one it was encrypted with.
pub fn decrypt(envelope: &Envelope, password: &[u8]) -> Result<Vec<u8>, FormatError> {
    if envelope.cipher != "AES256" {
        return Err(FormatError::Cipher(envelope.cipher.clone()));
    }
    let inner = unhex(envelope.payload.as_bytes())?;
    // bytes.split(b"\n", 2): the salt, the hmac and the rest.
    let mut parts = inner.splitn(3, |b| *b == b'\n');
    let (Some(salt), Some(hmac_hex), Some(cipher_hex)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(FormatError::Vaulttext);
    };
    let salt = unhex(salt)?;
    let mut data = unhex(cipher_hex)?;
    let expected = unhex(hmac_hex)?;
    let keys = derive(password, &salt);
    let mut check = mac(&keys.mac);
    check.update(&data);
    // verify_slice compares in constant time.
    check
        .verify_slice(&expected)
        .map_err(|_| FormatError::Hmac)?;
    Aes256Ctr::new(&keys.aes.into(), &keys.iv.into()).apply_keystream(&mut data);
    unpad(data)
}

/// Encrypts `plaintext` with `password` into a complete vault text (ending in a newline),
/// format 1.2 with `label` when one is given other than `default`, else 1.1, as
/// `ansible-vault` writes it.
pub fn encrypt(
    plaintext: &[u8],
    password: &[u8],
    label: Option<&str>,
) -> Result<String, getrandom::Error> {
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt)?;
    Ok(encrypt_with_salt(plaintext, password, label, &salt))
}

/// As [`encrypt`] with a given salt: for tests that compare with `ansible-vault`'s output
/// (its `VAULT_ENCRYPT_SALT` setting).
pub fn encrypt_with_salt(
    plaintext: &[u8],
    password: &[u8],
    label: Option<&str>,
    salt: &[u8],
) -> String {
    let keys = derive(password, salt);
    let mut data = pad(plaintext);
    Aes256Ctr::new(&keys.aes.into(), &keys.iv.into()).apply_keystream(&mut data);
    let mut sign = mac(&keys.mac);
    sign.update(&data);
    let tag = sign.finalize().into_bytes();
    let inner = format!("{}\n{}\n{}", hex(salt), hex(&tag), hex(&data));
    let payload = hex(inner.as_bytes());
    let mut out = match label.filter(|l| *l != "default") {
        Some(label) => format!("{HEADER};1.2;AES256;{label}\n"),
        None => format!("{HEADER};1.1;AES256\n"),
    };
    for chunk in payload.as_bytes().chunks(LINE) {
        // Hex digits are ASCII, so every chunk is valid UTF-8.
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

/// PKCS#7 to the AES block size: 1 to 16 bytes, each holding the count.
fn pad(data: &[u8]) -> Vec<u8> {
    let n = BLOCK - data.len() % BLOCK;
    let mut out = Vec::with_capacity(data.len() + n);
    out.extend_from_slice(data);
    // n is 1..=16, so it fits a byte.
    out.extend(std::iter::repeat_n(u8::try_from(n).unwrap_or(16), n));
    out
}

fn unpad(mut data: Vec<u8>) -> Result<Vec<u8>, FormatError> {
    let n = usize::from(*data.last().ok_or(FormatError::Padding)?);
    if n == 0 || n > BLOCK || n > data.len() || data.len() % BLOCK != 0 {
        return Err(FormatError::Padding);
    }
    if data[data.len() - n..].iter().any(|b| usize::from(*b) != n) {
        return Err(FormatError::Padding);
    }
    data.truncate(data.len() - n);
    Ok(data)
}

fn hex(data: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(data.len() * 2);
    for b in data {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// Python's `binascii.unhexlify`: an even number of hex digits, either case, nothing else.
fn unhex(text: &[u8]) -> Result<Vec<u8>, FormatError> {
    if text.len() % 2 != 0 {
        return Err(FormatError::Unhexlify);
    }
    let digit = |c: u8| -> Result<u8, FormatError> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(FormatError::Unhexlify),
        }
    };
    text.chunks(2)
        .map(|pair| Ok(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_password() {
        for len in [0, 1, 15, 16, 17, 100] {
            let plain = vec![b'x'; len];
            let text = encrypt_with_salt(&plain, b"pw", None, b"0123456789abcdef0123456789abcdef");
            assert!(text.starts_with("$ANSIBLE_VAULT;1.1;AES256\n"));
            assert!(text.lines().skip(1).all(|l| l.len() <= 80));
            let env = parse_envelope(&text).expect("envelope");
            assert_eq!(decrypt(&env, b"pw").expect("decrypts"), plain);
            assert_eq!(decrypt(&env, b"pw2"), Err(FormatError::Hmac));
        }
    }

    #[test]
    fn label_makes_format_1_2_except_default() {
        let text = encrypt_with_salt(b"a", b"pw", Some("prod"), b"salt");
        let env = parse_envelope(&text).expect("envelope");
        assert_eq!(
            (env.version.as_str(), env.label.as_deref()),
            ("1.2", Some("prod"))
        );
        let text = encrypt_with_salt(b"a", b"pw", Some("default"), b"salt");
        assert!(text.starts_with("$ANSIBLE_VAULT;1.1;AES256\n"));
    }

    #[test]
    fn padding_is_pkcs7() {
        assert_eq!(pad(b""), vec![16u8; 16]);
        assert_eq!(pad(b"abc").len(), 16);
        assert_eq!(pad(b"abc")[15], 13);
        assert_eq!(unpad(pad(b"abc")), Ok(b"abc".to_vec()));
        assert_eq!(unpad(vec![1, 2, 3, 0]), Err(FormatError::Padding));
    }

    #[test]
    fn malformed_texts_are_format_errors() {
        assert_eq!(
            parse_envelope("$ANSIBLE_VAULT;1.1"),
            Err(FormatError::Envelope)
        );
        let env = parse_envelope("$ANSIBLE_VAULT;1.1;AES256\nzz\n").expect("envelope");
        assert_eq!(decrypt(&env, b"pw"), Err(FormatError::Unhexlify));
        let env = parse_envelope("$ANSIBLE_VAULT;1.1;AES256\n6162\n").expect("envelope");
        assert_eq!(decrypt(&env, b"pw"), Err(FormatError::Vaulttext));
        let env = parse_envelope("$ANSIBLE_VAULT;1.1;DES\n6162\n").expect("envelope");
        assert_eq!(decrypt(&env, b"pw"), Err(FormatError::Cipher("DES".into())));
    }
}
