//! Ansible users' habits on the local connection: `-i` everywhere (and the inventory given
//! twice refused), ansible.cfg and `ANSIBLE_*` settings in Ansible's order and precedence,
//! `-v`/`-vvv`, `--list-hosts`/`--list-tasks`/`--list-tags`/`--syntax-check` against
//! ansible-playbook's own output (tests/golden/listing, regen.sh), `--start-at-task`,
//! `--step`, and settings hactl refuses.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Output, Stdio};

use common::local::Sandbox;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Three inventories whose one host tells which was read.
fn inventories(sb: &Sandbox) {
    for name in ["from_cli", "from_cfg", "from_env", "from_hactl_env"] {
        sb.write(
            &format!("{name}.ini"),
            &format!("{name} ansible_connection=local\n"),
        );
    }
    sb.write("inventory.ini", "from_default ansible_connection=local\n");
}

fn listed(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = sb.command(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("hactl");
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
    stdout(&out)
}

#[test]
fn the_inventory_comes_from_i_then_ansible_settings_then_hactl_defaults() {
    let sb = Sandbox::new();
    inventories(&sb);
    let list = ["inventory", "--list"];
    let hactl_env = [("HACTL_INVENTORY", "from_hactl_env.ini")];
    // No setting: HACTL_INVENTORY, then ./inventory.ini.
    assert!(listed(&sb, &list, &[]).contains("from_default"));
    assert!(listed(&sb, &list, &hactl_env).contains("from_hactl_env"));
    // ansible.cfg beats HACTL_INVENTORY; ANSIBLE_INVENTORY beats ansible.cfg; -i beats all.
    sb.write("ansible.cfg", "[defaults]\ninventory = from_cfg.ini\n");
    assert!(listed(&sb, &list, &hactl_env).contains("from_cfg"));
    let env = [
        ("HACTL_INVENTORY", "from_hactl_env.ini"),
        ("ANSIBLE_INVENTORY", "from_env.ini"),
    ];
    assert!(listed(&sb, &list, &env).contains("from_env"));
    let with_i = ["inventory", "--list", "-i", "from_cli.ini"];
    let out = listed(&sb, &with_i, &env);
    assert!(
        out.contains("from_cli") && !out.contains("from_env"),
        "{out}"
    );

    // -i on every subcommand that reads an inventory; apply with -i and one word takes it as
    // the playbook, and without -i a playbook alone takes the inventory from ansible.cfg.
    sb.write(
        "site.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n",
    );
    let hosts = |args: &[&str]| listed(&sb, args, &[]);
    assert!(
        hosts(&["apply", "-i", "from_cli.ini", "site.yml", "--list-hosts"])
            .contains("      from_cli")
    );
    assert!(hosts(&["apply", "site.yml", "--list-hosts"]).contains("      from_cfg"));
    assert!(
        hosts(&["apply", "from_cli.ini", "site.yml", "--list-hosts"]).contains("      from_cli")
    );
    assert!(hosts(&["run", "all", "-i", "from_cli.ini", "--list-hosts"]).contains("from_cli"));
    // (status exits 2 here: the local machine runs no VRRP; what counts is the host read.)
    for args in [
        &["status", "-i", "from_cli.ini", "--json"][..],
        &["status", "from_cli.ini", "--json"][..],
    ] {
        let out = sb.hactl(args);
        assert!(
            stdout(&out).contains("\"from_cli\""),
            "{args:?}: {}",
            text(&out)
        );
    }
    let lint = sb.hactl(&["lint", "-i", "from_cli.ini", "site.yml"]);
    assert_eq!(lint.status.code(), Some(0), "{}", text(&lint));
    let out = sb.out().join("r");
    let render = sb.hactl(&[
        "render",
        "-i",
        "from_cli.ini",
        "site.yml",
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(render.status.code(), Some(0), "{}", text(&render));

    // The inventory given twice, two ways: a clear error.
    for args in [
        &["apply", "-i", "from_cli.ini", "from_env.ini", "site.yml"][..],
        &["status", "-i", "from_cli.ini", "from_env.ini"][..],
        &["lint", "-i", "from_cli.ini", "from_env.ini", "site.yml"][..],
    ] {
        let out = sb.hactl(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(
            text(&out)
                .contains("ERROR: the inventory is given twice: -i from_cli.ini and from_env.ini"),
            "{args:?}: {}",
            text(&out)
        );
    }
}

#[test]
fn ansible_cfg_is_found_as_ansible_finds_it_and_unused_keys_are_named_once() {
    let sb = Sandbox::new();
    inventories(&sb);
    sb.write(
        "ansible.cfg",
        "[defaults]\ninventory = from_cfg.ini\nstdout_callback = yaml\n\
         [ssh_connection]\npipelining = True\n",
    );
    let out = sb
        .command(&["inventory", "--list"])
        .output()
        .expect("hactl");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        err.matches("[WARNING]: hactl does not use the setting [defaults] stdout_callback")
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("ansible.cfg:3); it is ignored"), "{err}");
    assert!(
        !err.contains("pipelining"),
        "pipelining is accepted silently: {err}"
    );
    let env_var = sb
        .command(&["inventory", "--list"])
        .env("ANSIBLE_STDOUT_CALLBACK", "yaml")
        .output()
        .expect("hactl");
    assert!(
        text(&env_var)
            .contains("hactl does not use the environment variable ANSIBLE_STDOUT_CALLBACK"),
        "{}",
        text(&env_var)
    );

    // A world-writable working folder's ansible.cfg is skipped, with Ansible's warning.
    sb.hand_over();
    std::fs::set_permissions(sb.path(""), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let out = sb
        .command(&["inventory", "--list"])
        .output()
        .expect("hactl");
    let all = text(&out);
    assert!(
        all.contains("from_default") && !all.contains("from_cfg"),
        "{all}"
    );
    assert!(
        all.contains("[WARNING]: Ansible is being run in a world writable directory")
            && all.contains("ignoring it as an ansible.cfg source"),
        "{all}"
    );
    // ANSIBLE_CONFIG names it anyway.
    let out = sb
        .command(&["inventory", "--list"])
        .env("ANSIBLE_CONFIG", sb.path("ansible.cfg"))
        .output()
        .expect("hactl");
    assert!(stdout(&out).contains("from_cfg"), "{}", text(&out));
    std::fs::set_permissions(sb.path(""), std::fs::Permissions::from_mode(0o700)).expect("chmod");
}

#[test]
fn settings_hactl_cannot_honour_are_refused() {
    let sb = Sandbox::new();
    inventories(&sb);
    sb.write(
        "site.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n",
    );
    sb.write(
        "ansible.cfg",
        "[privilege_escalation]\nbecome_method = su\n",
    );
    let out = sb.hactl(&["apply", "-i", "from_cli.ini", "site.yml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("become method 'su' (from become_method, ")
            && text(&out).contains("ansible.cfg:2) is not supported: hactl becomes with sudo only"),
        "{}",
        text(&out)
    );
    let out = sb.hactl(&[
        "run",
        "all",
        "-i",
        "from_cli.ini",
        "--become-method",
        "doas",
        "true",
    ]);
    assert!(
        text(&out).contains("become method 'doas' (from --become-method)"),
        "{}",
        text(&out)
    );
    // ... and in a play or in the inventory, with file and line or host.
    sb.write(
        "su.yml",
        "- hosts: all\n  gather_facts: false\n  become_method: su\n  tasks: []\n",
    );
    std::fs::remove_file(sb.path("ansible.cfg")).expect("rm");
    let out = sb.hactl(&["apply", "-i", "from_cli.ini", "su.yml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("su.yml:3")
            && text(&out).contains("become_method 'su' is not supported"),
        "{}",
        text(&out)
    );
    sb.write(
        "doas.ini",
        "h1 ansible_connection=local ansible_become_method=doas\n",
    );
    let out = sb.hactl(&["run", "all", "-i", "doas.ini", "true"]);
    assert!(
        text(&out).contains("h1: ansible_become_method 'doas' is not supported"),
        "{}",
        text(&out)
    );
    sb.write("ansible.cfg", "[defaults]\n\ntimeout = soon\n");
    let out = sb.hactl(&["run", "all", "-i", "from_cli.ini", "true"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("ansible.cfg:3: timeout 'soon' is not a whole number"),
        "{}",
        text(&out)
    );
    // ssh options that would take the control master away are refused, naming host and option.
    std::fs::remove_file(sb.path("ansible.cfg")).expect("rm");
    sb.write("ssh.ini", "h1 ansible_ssh_extra_args='-S /tmp/elsewhere'\n");
    let out = sb.hactl(&["run", "all", "-i", "ssh.ini", "true"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("h1: ansible_ssh_extra_args: the ssh option -S cannot be used"),
        "{}",
        text(&out)
    );
}

const PLAY: &str = r#"- hosts: all
  gather_facts: false
  vars_files: [secret.yml]
  tasks:
    - name: one
      command: echo first
    - name: two
      command: echo second
    - name: hidden
      command: echo TOPSECRET-no-log
      no_log: true
    - name: vaulted
      command: echo {{ vaulted }}
      changed_when: false
"#;

/// The playbook above, with a vaulted variable (password file `pw`).
fn vaulted_play(sb: &Sandbox) {
    sb.write("pw", "vault-pass\n");
    sb.hand_over();
    let out = sb.hactl(&[
        "vault",
        "encrypt_string",
        "--vault-password-file",
        "pw",
        "-n",
        "vaulted",
        "VAULTED-value-42",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    sb.write("secret.yml", &stdout(&out));
    sb.write("site.yml", PLAY);
    sb.write("inv", "h1 ansible_connection=local\n");
}

#[test]
fn verbose_output_shows_results_then_scripts_but_no_secret() {
    let sb = Sandbox::new();
    vaulted_play(&sb);
    let v = sb.hactl(&[
        "apply",
        "-i",
        "inv",
        "site.yml",
        "--vault-password-file",
        "pw",
        "-v",
    ]);
    let out = stdout(&v);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    assert!(
        out.starts_with("No config file found; using defaults\n"),
        "{out}"
    );
    assert!(
        out.contains("TASK [one] ***")
            && out.contains("changed: [h1] => {\"changed\": true, \"cmd\": ")
            && out.contains("\"stdout\": \"first\""),
        "{out}"
    );
    assert!(
        out.contains(
            "changed: [h1] => {\"censored\": \"the output has been hidden due to the fact that \
             'no_log: true' was specified for this result\", \"changed\": true}"
        ),
        "{out}"
    );
    assert!(!out.contains("<h1> EXEC"), "scripts only from -vvv: {out}");

    let vvv = sb.hactl(&[
        "apply",
        "-i",
        "inv",
        "site.yml",
        "--vault-password-file",
        "pw",
        "-vvv",
    ]);
    let out = text(&vvv);
    assert_eq!(vvv.status.code(), Some(0), "{out}");
    assert!(
        out.contains("<h1> EXEC sh -c ") && out.contains("first"),
        "{out}"
    );
    assert!(
        !out.contains("TOPSECRET"),
        "a no_log task shows nothing: {out}"
    );
    assert!(
        !out.contains("VAULTED-value-42"),
        "vault values are masked: {out}"
    );
    assert!(out.contains("********"), "{out}");
}

#[test]
fn start_at_task_and_step_pass_over_tasks_as_ansible_playbook() {
    let sb = Sandbox::new();
    vaulted_play(&sb);
    let run = |args: &[&str], answers: &str| -> Output {
        let mut cmd = sb.command(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("hactl");
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(answers.as_bytes()).expect("answers");
        drop(stdin);
        child.wait_with_output().expect("wait")
    };
    let base = [
        "apply",
        "-i",
        "inv",
        "site.yml",
        "--vault-password-file",
        "pw",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let args = with(&["--start-at-task", "tw?"]);
    let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>(), "");
    let o = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !o.contains("TASK [one]") && o.contains("TASK [two]") && o.contains("TASK [vaulted]"),
        "{o}"
    );
    assert!(
        o.contains("h1                         : ok=3    changed=2 "),
        "{o}"
    );

    let args = with(&["--start-at-task", "no such task"]);
    let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>(), "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(
            "ERROR: No matching task \"no such task\" found. Note: --start-at-task can only \
             follow static includes."
        ),
        "{}",
        text(&out)
    );

    // --step: no to `one`, yes to `two`, continue from `hidden` on.
    let args = with(&["--step"]);
    let out = run(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        "n\ny\nc\n",
    );
    let o = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(o.matches("(N)o/(y)es/(c)ontinue: *").count(), 3, "{o}");
    assert!(
        o.contains("Perform task: TASK: one (N)o/(y)es/(c)ontinue: "),
        "{o}"
    );
    assert!(
        !o.contains("TASK [one]") && o.contains("TASK [two]") && o.contains("TASK [vaulted]"),
        "{o}"
    );
}

#[test]
fn step_and_start_at_task_print_what_ansible_playbook_prints() {
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/step");
    let read = |f: &str| std::fs::read_to_string(golden.join(f)).expect("golden");
    let sb = Sandbox::new();
    sb.write("inventory.ini", &read("inventory.ini"));
    sb.write("step.yml", &read("step.yml"));
    for (args, answers, want) in [
        (&["--step"][..], read("answers"), read("step.out")),
        (
            &["--start-at-task", "thr*"][..],
            String::new(),
            read("start-at.out"),
        ),
    ] {
        let mut cmd = sb.command(&["apply", "-i", "inventory.ini", "step.yml"]);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("hactl");
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(answers.as_bytes()).expect("answers");
        drop(stdin);
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(text(&out), want, "{args:?}");
    }
}

/// Each play's host lines as a set: ansible-playbook prints them from a Python set.
fn hosts_as_sets(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut block: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("      ") && !line.contains('\t') && !line.contains("TASK TAGS") {
            block.push(line.to_string());
            continue;
        }
        block.sort();
        out.append(&mut block);
        out.push(line.to_string());
    }
    block.sort();
    out.append(&mut block);
    out
}

#[test]
fn listings_match_ansible_playbook() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/listing");
    for (golden, args) in [
        ("list-hosts.out", &["--list-hosts"][..]),
        ("list-tasks.out", &["--list-tasks"][..]),
        ("list-tags.out", &["--list-tags"][..]),
        ("syntax-check.out", &["--syntax-check"][..]),
        (
            "list-tasks-tags.out",
            &[
                "--list-tasks",
                "--tags",
                "config,check,debugging",
                "--skip-tags",
                "packages",
            ][..],
        ),
        (
            "list-all-limit.out",
            &[
                "--list-hosts",
                "--list-tasks",
                "--list-tags",
                "--limit",
                "lb1",
            ][..],
        ),
    ] {
        let want = std::fs::read_to_string(dir.join(golden)).expect("golden");
        let out = assert_cmd::Command::cargo_bin("hactl")
            .expect("hactl")
            .args(["apply", "-i", "inventory.ini", "site.yml"])
            .args(args)
            .current_dir(&dir)
            .env_remove("ANSIBLE_CONFIG")
            .env("HOME", "/nonexistent")
            .output()
            .expect("hactl");
        assert_eq!(out.status.code(), Some(0), "{golden}: {}", text(&out));
        // Warnings go to stderr, the listing to stdout (the golden file has both, warnings
        // first).
        let warnings: String = want
            .lines()
            .filter(|l| l.starts_with("[WARNING]"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(String::from_utf8_lossy(&out.stderr), warnings, "{golden}");
        let want: String = want
            .lines()
            .filter(|l| !l.starts_with("[WARNING]"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            hosts_as_sets(&stdout(&out)),
            hosts_as_sets(&want),
            "{golden}:\n{}",
            text(&out)
        );
    }
    // A playbook that does not load: the syntax check fails with the loader's error.
    let bad = tempfile::tempdir().expect("tmp");
    std::fs::write(bad.path().join("inv"), "h1\n").expect("inv");
    std::fs::write(
        bad.path().join("bad.yml"),
        "- hosts: all\n  tasks:\n    - nosuchmodule: x\n",
    )
    .expect("pb");
    let out = assert_cmd::Command::cargo_bin("hactl")
        .expect("hactl")
        .args(["apply", "-i", "inv", "bad.yml", "--syntax-check"])
        .current_dir(bad.path())
        .output()
        .expect("hactl");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("bad.yml"), "{}", text(&out));
}
