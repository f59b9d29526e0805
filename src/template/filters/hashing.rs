//! Digest filters: `hash`, `md5`, `sha1`/`checksum`, `password_hash` (crypt(3) formats as
//! passlib writes them) and `to_uuid` (UUID5 in Ansible's namespace).

use md5::{Digest, Md5};
use minijinja::Error;
use minijinja::value::{Kwargs, Value};

use super::{invalid, text};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Python's `hashlib.new(name).hexdigest()` of the UTF-8 text.
pub(super) fn hash(value: &Value, kind: Option<String>) -> Result<String, Error> {
    let data = text(value)?;
    let data = data.as_bytes();
    let kind = kind.unwrap_or_else(|| "sha1".into());
    Ok(match kind.to_ascii_lowercase().as_str() {
        "md5" => hex(&Md5::digest(data)),
        "sha1" => hex(&sha1::Sha1::digest(data)),
        "sha224" => hex(&sha2::Sha224::digest(data)),
        "sha256" => hex(&sha2::Sha256::digest(data)),
        "sha384" => hex(&sha2::Sha384::digest(data)),
        "sha512" => hex(&sha2::Sha512::digest(data)),
        _ => return Err(invalid(format!("unsupported hash type {kind}"))),
    })
}

const CRYPT64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `password_hash(hashtype='sha512', salt=None, salt_size=None, rounds=None, ident=None)`.
pub(super) fn password_hash(
    value: &Value,
    hashtype: Option<String>,
    salt: Option<Value>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let secret = text(value)?;
    let hashtype = match hashtype {
        Some(h) => h,
        None => kwargs
            .get::<Option<String>>("hashtype")?
            .unwrap_or_else(|| "sha512".into()),
    };
    let salt = match salt {
        Some(s) => Some(s),
        None => kwargs.get::<Option<Value>>("salt")?,
    };
    let salt_size: Option<usize> = kwargs.get("salt_size")?;
    let rounds: Option<usize> = kwargs.get("rounds")?;
    let _ident: Option<String> = kwargs.get("ident")?;
    kwargs.assert_all_used()?;
    let algo = match hashtype.as_str() {
        "md5" | "md5_crypt" => "md5_crypt",
        "sha256" | "sha256_crypt" => "sha256_crypt",
        "sha512" | "sha512_crypt" => "sha512_crypt",
        "blowfish" | "bcrypt" => {
            return Err(invalid(
                "hactl does not support password_hash('bcrypt') (it has md5, sha256 and sha512)",
            ));
        }
        other => {
            return Err(invalid(format!(
                "{other} is not in the list of supported passlib algorithms: md5, blowfish, sha256, sha512"
            )));
        }
    };
    let max_salt = if algo == "md5_crypt" { 8 } else { 16 };
    let salt = match salt.filter(|s| s.is_true()) {
        Some(s) => {
            let s = super::super::pyrepr::py_str(&s);
            if !s.bytes().all(|b| CRYPT64.contains(&b)) {
                return Err(invalid(
                    "Could not hash the secret: invalid characters in salt",
                ));
            }
            if s.len() > max_salt {
                return Err(invalid("Could not hash the secret: salt too large"));
            }
            s
        }
        None => random_salt(salt_size.unwrap_or(max_salt).min(max_salt))?,
    };
    let pw = secret.as_bytes();
    let crypt_err = |e: sha_crypt::CryptError| invalid(format!("Could not hash the secret: {e:?}"));
    Ok(match algo {
        "md5_crypt" => format!("$1${salt}${}", md5_crypt(pw, salt.as_bytes())),
        "sha256_crypt" => {
            let rounds = rounds.unwrap_or(535_000);
            let params = sha_crypt::Sha256Params::new(rounds).map_err(crypt_err)?;
            let h = sha_crypt::sha256_crypt_b64(pw, salt.as_bytes(), &params).map_err(crypt_err)?;
            with_rounds("5", rounds, &salt, &h)
        }
        _ => {
            let rounds = rounds.unwrap_or(656_000);
            let params = sha_crypt::Sha512Params::new(rounds).map_err(crypt_err)?;
            let h = sha_crypt::sha512_crypt_b64(pw, salt.as_bytes(), &params).map_err(crypt_err)?;
            with_rounds("6", rounds, &salt, &h)
        }
    })
}

/// passlib leaves out `rounds=` when it is crypt(3)'s default, 5000.
fn with_rounds(id: &str, rounds: usize, salt: &str, hash: &str) -> String {
    if rounds == 5000 {
        format!("${id}${salt}${hash}")
    } else {
        format!("${id}$rounds={rounds}${salt}${hash}")
    }
}

fn random_salt(len: usize) -> Result<String, Error> {
    use std::io::Read;
    let mut bytes = vec![0u8; len];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| invalid(format!("password_hash: no random salt: {e}")))?;
    Ok(bytes
        .iter()
        .map(|b| CRYPT64[usize::from(b & 63)] as char)
        .collect())
}

/// The FreeBSD MD5-crypt (`$1$`) digest of `pw` with `salt`, in crypt's base-64.
fn md5_crypt(pw: &[u8], salt: &[u8]) -> String {
    let mut alt = Md5::new();
    alt.update(pw);
    alt.update(salt);
    alt.update(pw);
    let alt = alt.finalize();
    let mut ctx = Md5::new();
    ctx.update(pw);
    ctx.update(b"$1$");
    ctx.update(salt);
    let mut left = pw.len();
    while left > 0 {
        ctx.update(&alt[..left.min(16)]);
        left = left.saturating_sub(16);
    }
    let mut i = pw.len();
    while i > 0 {
        if i & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&pw[..1.min(pw.len())]);
        }
        i >>= 1;
    }
    let mut fin = ctx.finalize();
    for r in 0..1000 {
        let mut c = Md5::new();
        if r & 1 == 1 {
            c.update(pw);
        } else {
            c.update(fin);
        }
        if r % 3 != 0 {
            c.update(salt);
        }
        if r % 7 != 0 {
            c.update(pw);
        }
        if r & 1 == 1 {
            c.update(fin);
        } else {
            c.update(pw);
        }
        fin = c.finalize();
    }
    let mut out = String::with_capacity(22);
    let mut put = |v: u32, n: usize| {
        let mut v = v;
        for _ in 0..n {
            out.push(CRYPT64[(v & 63) as usize] as char);
            v >>= 6;
        }
    };
    let b = |i: usize| u32::from(fin[i]);
    put((b(0) << 16) | (b(6) << 8) | b(12), 4);
    put((b(1) << 16) | (b(7) << 8) | b(13), 4);
    put((b(2) << 16) | (b(8) << 8) | b(14), 4);
    put((b(3) << 16) | (b(9) << 8) | b(15), 4);
    put((b(4) << 16) | (b(10) << 8) | b(5), 4);
    put(b(11), 2);
    out
}

/// Ansible's namespace for `to_uuid`.
const ANSIBLE_NS: &str = "361E6D51-FAEC-444A-9079-341386DA8E2E";

fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let hexes: String = s
        .trim_start_matches("urn:")
        .trim_start_matches("uuid:")
        .trim_matches(|c| c == '{' || c == '}')
        .replace('-', "");
    if hexes.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(hexes.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// `to_uuid(namespace=...)`: Python's `uuid.uuid5`.
pub(super) fn to_uuid(
    value: &Value,
    namespace: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let name = text(value)?;
    let namespace = namespace.or(kwargs.get::<Option<String>>("namespace")?);
    kwargs.assert_all_used()?;
    let ns_text = namespace.unwrap_or_else(|| ANSIBLE_NS.into());
    let ns = parse_uuid(&ns_text).ok_or_else(|| {
        invalid(format!(
            "Invalid value '{ns_text}' for 'namespace': badly formed hexadecimal UUID string"
        ))
    })?;
    let mut h = sha1::Sha1::new();
    h.update(ns);
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut u = [0u8; 16];
    u.copy_from_slice(&d[..16]);
    u[6] = (u[6] & 0x0f) | 0x50;
    u[8] = (u[8] & 0x3f) | 0x80;
    let x = hex(&u);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_crypt_matches_passlib() {
        // passlib.hash.md5_crypt.using(salt='mysalt').hash('secret')
        assert_eq!(md5_crypt(b"secret", b"mysalt"), "n/EfEiV74OYgBdqhKQzSW/");
    }
}
