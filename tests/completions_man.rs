//! `hactl completions SHELL` and `hactl man`: the scripts the shells load are valid for them
//! (`bash -n`, `zsh -n`, `fish --no-execute`) and complete hactl's subcommands; the man pages
//! render with `man -l` and name every subcommand. The shells and man-db are Debian packages
//! that .ci/run installs.

use std::process::{Command, Output};

fn hactl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hactl"))
        .args(args)
        .output()
        .expect("run hactl")
}

/// Runs `shell` with `check` on `script` (a file), asserting it accepts the syntax.
fn assert_parses(shell: &str, check: &[&str], script: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("completion");
    std::fs::write(&file, script).expect("write script");
    let out = Command::new(shell)
        .args(check)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{shell} is needed (.ci/run installs it): {e}"));
    assert!(
        out.status.success(),
        "{shell} rejects the completion script: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn completions_for_bash_zsh_and_fish_parse_and_name_the_subcommands() {
    for (shell, check) in [
        ("bash", &["-n"][..]),
        ("zsh", &["-n"][..]),
        ("fish", &["--no-execute"][..]),
    ] {
        let out = hactl(&["completions", shell]);
        assert!(out.status.success(), "{out:?}");
        let script = String::from_utf8(out.stdout).expect("UTF-8");
        for sub in ["apply", "render", "status", "lint", "vault", "completions"] {
            assert!(script.contains(sub), "{shell}: no {sub} in the script");
        }
        assert_parses(shell, check, &script);
    }
    // bash: loading the script registers the completion function for hactl.
    let out = hactl(&["completions", "bash"]);
    let loaded = Command::new("bash")
        .args(["-c", "eval \"$1\"; complete -p hactl", "bash"])
        .arg(String::from_utf8_lossy(&out.stdout).as_ref())
        .output()
        .expect("run bash");
    assert!(
        String::from_utf8_lossy(&loaded.stdout).contains("hactl"),
        "{loaded:?}"
    );
}

#[test]
fn an_unknown_shell_is_refused() {
    let out = hactl(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'tcsh'"));
}

/// `man -l FILE` rendered as plain text.
fn render(page: &std::path::Path) -> String {
    let out = Command::new("man")
        .arg("-l")
        .arg(page)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .output()
        .expect("man is needed (.ci/run installs man-db)");
    assert!(out.status.success(), "man -l {}: {out:?}", page.display());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn man_pages_render() {
    let dir = tempfile::tempdir().expect("temp dir");
    let printed = hactl(&["man"]);
    assert!(printed.status.success(), "{printed:?}");
    let page = dir.path().join("printed.1");
    std::fs::write(&page, &printed.stdout).expect("write page");
    let text = render(&page);
    assert!(text.contains("NAME") && text.contains("hactl - "), "{text}");
    for sub in ["hactl-apply(1)", "hactl-status(1)", "hactl-man(1)"] {
        assert!(text.contains(sub), "no {sub} in:\n{text}");
    }

    let out_dir = dir.path().join("man1");
    let wrote = hactl(&["man", "--out-dir", out_dir.to_str().expect("UTF-8 path")]);
    assert!(wrote.status.success(), "{wrote:?}");
    assert!(
        std::fs::read(out_dir.join("hactl.1")).expect("hactl.1") == printed.stdout,
        "the printed page and the written one differ"
    );
    let apply = render(&out_dir.join("hactl-apply.1"));
    assert!(apply.contains("--check"), "{apply}");
    assert!(out_dir.join("hactl-vault-encrypt.1").is_file());
}
