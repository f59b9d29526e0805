//! Ansible Vault compatibility: golden files written by the real ansible-vault (see
//! tests/golden/vault/regen.sh) decrypt and, with a fixed salt, are written byte for byte;
//! hactl and ansible-vault read each other's output when ansible-vault is installed; a
//! playbook with a vaulted group_vars file and an inline `!vault` value renders; a missing
//! or wrong password is a clear error naming the file and line.

#![allow(clippy::print_stderr)] // a skipped round trip says so on stderr

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::Command as Cmd;

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/vault")
}

fn hactl() -> Cmd {
    let mut cmd = Cmd::cargo_bin("hactl").expect("binary");
    cmd.env_remove("ANSIBLE_VAULT_PASSWORD_FILE");
    cmd
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `hactl vault view` of a golden file, with the given password options.
fn view(file: &str, opts: &[&str]) -> std::process::Output {
    hactl()
        .current_dir(golden())
        .args(["vault", "view", file])
        .args(opts)
        .output()
        .expect("run hactl")
}

#[test]
fn ansible_vault_files_decrypt() {
    let plain = read(&golden().join("plain.yml"));
    for (file, opts) in [
        ("v11.yml", vec!["--vault-password-file", "pw.txt"]),
        ("v12.yml", vec!["--vault-id", "prod@pw-prod.txt"]),
        // The label in the file need not match: every password is tried.
        (
            "v12.yml",
            vec!["--vault-id", "pw.txt", "--vault-id", "pw-prod.txt"],
        ),
        ("salted-v11.yml", vec!["--vault-password-file", "pw.txt"]),
    ] {
        let out = view(file, &opts);
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), plain, "{file}");
    }
    // A plaintext of exactly one AES block gets a whole block of padding.
    let out = hactl()
        .current_dir(golden())
        .args(["vault", "decrypt", "v11-16bytes.bin", "--output", "-"])
        .args(["--vault-password-file", "pw.txt"])
        .output()
        .expect("run hactl");
    assert_eq!(out.stdout, b"0123456789abcdef");
}

#[test]
fn a_fixed_salt_gives_ansible_vault_s_bytes() {
    let plain = std::fs::read(golden().join("plain.yml")).expect("plain");
    let salt = b"hactl-golden-salt";
    let v11 = hactl::vault::format::encrypt_with_salt(&plain, b"hactl-golden-pw", None, salt);
    assert_eq!(v11, read(&golden().join("salted-v11.yml")));
    let v12 = hactl::vault::format::encrypt_with_salt(&plain, b"prod-Pa55", Some("prod"), salt);
    assert_eq!(v12, read(&golden().join("salted-v12.yml")));
    let string =
        hactl::vault::format::encrypt_with_salt(b"S3cr3t!db", b"hactl-golden-pw", None, salt);
    let yaml: String = std::iter::once("db_password: !vault |".to_owned())
        .chain(string.lines().map(|l| format!("          {l}")))
        .map(|l| l + "\n")
        .collect();
    assert_eq!(yaml, read(&golden().join("salted-string.yml")));
}

#[test]
fn wrong_and_missing_passwords_name_the_file() {
    let out = view("v11.yml", &["--vault-password-file", "pw-prod.txt"]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ERROR: Decryption failed (no vault secrets were found that could decrypt). for v11.yml\n"
    );
    let out = view("v11.yml", &["--vault-password-file", "nope.txt"]);
    let missing = golden().join("nope.txt");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "ERROR: cannot read the vault password: The vault password file {} was not found\n",
            missing.display()
        )
    );
}

/// The passwords of the render fixture: group_vars and the inline value use `pw.txt`, the
/// `vars_files` file `pw-prod.txt` under the label `prod`.
const PASSWORDS: &[&str] = &[
    "--vault-password-file",
    "pw.txt",
    "--vault-id",
    "prod@pw-prod.txt",
];

/// What the fixture's template renders to.
const RENDERED: &str =
    "port 8443\nauth Kx7-vrrp-G0lden\ntoken=tok-Inline-42\ndb Db-Pw-vars-files\n";

/// The render fixture copied to a temporary folder (the test must not write into the repo).
fn render_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    copy_dir(&golden().join("render"), dir.path());
    std::fs::copy(golden().join("pw.txt"), dir.path().join("pw.txt")).expect("pw");
    std::fs::copy(golden().join("pw-prod.txt"), dir.path().join("pw-prod.txt")).expect("pw");
    std::fs::write(dir.path().join("wrong.txt"), "not-the-password\n").expect("pw");
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

fn render(dir: &Path, opts: &[&str]) -> std::process::Output {
    hactl()
        .current_dir(dir)
        .args([
            "render",
            "-i",
            "inventory.ini",
            "site.yml",
            "--facts",
            "facts",
            "--out",
            "out",
        ])
        .args(opts)
        .output()
        .expect("run hactl")
}

#[test]
fn render_decrypts_group_vars_and_inline_values() {
    let dir = render_fixture();
    let out = render(dir.path(), PASSWORDS);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The inline value is not templated again ({{ }} would be), the group_vars one is.
    assert_eq!(read(&dir.path().join("out/lb1/etc/app.conf")), RENDERED);
    // The same through ANSIBLE_VAULT_PASSWORD_FILE and through an executable password file.
    let out = hactl()
        .current_dir(dir.path())
        .env("ANSIBLE_VAULT_PASSWORD_FILE", dir.path().join("pw.txt"))
        .args([
            "render",
            "-i",
            "inventory.ini",
            "site.yml",
            "--facts",
            "facts",
            "--out",
            "out2",
        ])
        .args(["--vault-id", "prod@pw-prod.txt"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read(&dir.path().join("out2/lb1/etc/app.conf")), RENDERED);
    // Without the vars_files password, that file is named (it is read per host, at render).
    let out = render(dir.path(), &["--vault-password-file", "pw.txt"]);
    assert!(!out.status.success());
    insta::assert_snapshot!("wrong_password_vars_files", stderr_of(&out, dir.path()));
    let script = dir.path().join("pw.sh");
    std::fs::write(&script, "#!/bin/sh\necho hactl-golden-pw\n").expect("write");
    let exec = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&script, exec).expect("chmod");
    let out = render(
        dir.path(),
        &["--vault-id", "lbs@pw.sh", "--vault-id", "pw-prod.txt"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read(&dir.path().join("out/lb1/etc/app.conf")), RENDERED);
}

/// An error message with the temporary folder replaced, for a stable snapshot.
fn stderr_of(out: &std::process::Output, dir: &Path) -> String {
    let real = std::fs::canonicalize(dir).expect("canonical");
    String::from_utf8_lossy(&out.stderr)
        .replace(&real.display().to_string(), "[DIR]")
        .replace(&dir.display().to_string(), "[DIR]")
}

#[test]
fn render_without_or_with_a_wrong_password_fails_clearly() {
    let dir = render_fixture();
    let out = render(dir.path(), &[]);
    assert!(!out.status.success());
    insta::assert_snapshot!("no_password", stderr_of(&out, dir.path()));
    let out = render(dir.path(), &["--vault-password-file", "wrong.txt"]);
    assert!(!out.status.success());
    insta::assert_snapshot!("wrong_password_inline", stderr_of(&out, dir.path()));
    // Without the inline value, the vaulted group_vars file is the one named.
    let site = read(&dir.path().join("site.yml"));
    let start = site.find("    api_token").expect("inline value");
    let end = site.find("  tasks:").expect("tasks");
    let plain = format!("{}    api_token: plain\n{}", &site[..start], &site[end..]);
    std::fs::write(dir.path().join("site.yml"), plain).expect("write");
    let out = render(dir.path(), &["--vault-password-file", "wrong.txt"]);
    assert!(!out.status.success());
    insta::assert_snapshot!("wrong_password_file", stderr_of(&out, dir.path()));
}

#[test]
fn decrypted_values_never_reach_the_output() {
    let dir = render_fixture();
    let out = hactl()
        .current_dir(dir.path())
        .args([
            "inventory",
            "-i",
            "inventory.ini",
            "--host",
            "lb1",
            "--vault-password-file",
            "pw.txt",
        ])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("Kx7-vrrp-G0lden"), "{stdout}");
    assert!(
        stdout.contains("\"vault_vrrp_password\": \"********\""),
        "{stdout}"
    );
}

/// The real ansible-vault, or None (the round-trip tests then say they were skipped).
fn ansible_vault() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("HACTL_ANSIBLE_VAULT").map(PathBuf::from),
        Some(PathBuf::from("/opt/ansible-venv/bin/ansible-vault")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

#[test]
fn round_trips_with_ansible_vault() {
    let Some(av) = ansible_vault() else {
        eprintln!("SKIPPED: ansible-vault not found (set HACTL_ANSIBLE_VAULT)");
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    std::fs::copy(golden().join("pw.txt"), d.join("pw.txt")).expect("pw");
    std::fs::copy(golden().join("pw-prod.txt"), d.join("pw-prod.txt")).expect("pw");
    let plain = read(&golden().join("plain.yml"));
    let ansible = |args: &[&str]| {
        let out = Command::new(&av)
            .current_dir(d)
            .args(args)
            .output()
            .expect("ansible-vault");
        assert!(
            out.status.success(),
            "ansible-vault {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let ours = |args: &[&str]| {
        let out = hactl()
            .current_dir(d)
            .arg("vault")
            .args(args)
            .output()
            .expect("hactl");
        assert!(
            out.status.success(),
            "hactl vault {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for (opts, label) in [
        (["--vault-password-file", "pw.txt"], "1.1"),
        (["--vault-id", "prod@pw-prod.txt"], "1.2"),
    ] {
        // hactl encrypts in place, ansible-vault decrypts.
        std::fs::write(d.join("a.yml"), &plain).expect("write");
        ours(&[&["encrypt", "a.yml"][..], &opts].concat());
        let text = read(&d.join("a.yml"));
        assert!(
            text.starts_with(&format!("$ANSIBLE_VAULT;{label};AES256")),
            "{text}"
        );
        assert_eq!(ansible(&[&["view", "a.yml"][..], &opts].concat()), plain);
        // ansible-vault encrypts, hactl decrypts in place.
        std::fs::write(d.join("b.yml"), &plain).expect("write");
        ansible(&[&["encrypt", "b.yml"][..], &opts].concat());
        ours(&[&["decrypt", "b.yml"][..], &opts].concat());
        assert_eq!(read(&d.join("b.yml")), plain);
        // --output - and view.
        ansible(&[&["encrypt", "b.yml", "--output", "c.yml"][..], &opts].concat());
        assert_eq!(
            ours(&[&["decrypt", "c.yml", "--output", "-"][..], &opts].concat()),
            plain
        );
        assert_eq!(ours(&[&["view", "c.yml"][..], &opts].concat()), plain);
    }
    // encrypt_string: hactl's output is a vars file Ansible reads.
    let yaml = ours(&[
        "encrypt_string",
        "--vault-id",
        "prod@pw-prod.txt",
        "-n",
        "db_pass",
        "p4ss: {{ x }}",
    ]);
    std::fs::write(d.join("vars.yml"), &yaml).expect("write");
    let ansible_bin = av.with_file_name("ansible");
    if ansible_bin.is_file() {
        let out = Command::new(&ansible_bin)
            .current_dir(d)
            .env("ANSIBLE_LOCALHOST_WARNING", "False")
            .args([
                "localhost",
                "-m",
                "debug",
                "-a",
                "var=db_pass",
                "-e",
                "@vars.yml",
            ])
            .args(["--vault-id", "prod@pw-prod.txt"])
            .output()
            .expect("ansible");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("\"db_pass\": \"p4ss: {{ x }}\""),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        eprintln!(
            "SKIPPED: ansible not found beside ansible-vault; encrypt_string checked with ansible-vault only"
        );
    }
    // ...and ansible-vault decrypts its vault text on its own.
    let block: String = yaml
        .lines()
        .skip(1)
        .map(|l| format!("{}\n", l.trim()))
        .collect();
    std::fs::write(d.join("block.txt"), block).expect("write");
    assert_eq!(
        ansible(&["view", "block.txt", "--vault-id", "prod@pw-prod.txt"]),
        "p4ss: {{ x }}\n"
    );
    assert_eq!(
        ours(&["view", "block.txt", "--vault-id", "prod@pw-prod.txt"]),
        "p4ss: {{ x }}\n"
    );
    // ansible-vault's encrypt_string is read by hactl's YAML loader.
    let theirs = ansible(&[
        "encrypt_string",
        "--vault-password-file",
        "pw.txt",
        "--name",
        "tok",
        "a\"b'c é",
    ]);
    let secrets = hactl::vault::Sources {
        password_files: vec![d.join("pw.txt")],
        ..Default::default()
    }
    .load(hactl::vault::Purpose::Decrypt)
    .expect("password");
    let parsed = hactl::yaml::parse_str_with(&theirs, Path::new("s.yml"), &secrets).expect("loads");
    assert_eq!(
        parsed.root.get("tok").and_then(|n| n.as_str()),
        Some("a\"b'c é")
    );
}

/// `hactl apply --check --diff` (and `--json`) on the local connection: the template's new
/// content holds a decrypted value and the file on disk the old one; neither shows.
#[test]
fn apply_diffs_and_json_mask_decrypted_values() {
    let dir = render_fixture();
    let d = dir.path();
    let dest = d.join("app.conf");
    std::fs::write(
        &dest,
        "port 8443\nauth Old-vrrp-Pw9\ntoken=Old-tok-77\ndb Db-Pw-vars-files\n",
    )
    .expect("write");
    std::fs::write(d.join("local.ini"), "[lbs]\nlb1 ansible_connection=local\n").expect("write");
    let site = read(&d.join("site.yml")).replace("/etc/app.conf", &dest.display().to_string());
    std::fs::write(d.join("site.yml"), site).expect("write");
    for extra in [&[][..], &["--json"][..]] {
        let out = hactl()
            .current_dir(d)
            .env("HOME", d)
            .args([
                "apply",
                "local.ini",
                "site.yml",
                "--check",
                "--diff",
                "--show-secrets",
            ])
            .args(PASSWORDS)
            .args(["--color", "never"])
            .args(extra)
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("port 8443") || stdout.contains("auth "),
            "no diff: {stdout}"
        );
        for secret in [
            "Kx7-vrrp-G0lden",
            "tok-Inline-42",
            "Old-vrrp-Pw9",
            "Old-tok-77",
        ] {
            assert!(
                !stdout.contains(secret),
                "{secret} shows in {extra:?}: {stdout}"
            );
        }
        assert!(stdout.contains("hidden vault value"), "{stdout}");
    }
    assert_eq!(
        read(&dest),
        "port 8443\nauth Old-vrrp-Pw9\ntoken=Old-tok-77\ndb Db-Pw-vars-files\n",
        "check mode wrote the file"
    );
}
