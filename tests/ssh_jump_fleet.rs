//! ssh arguments as Ansible passes them, through a real jump host: the inner hosts sit on a
//! second bridge (203.0.113.0/24) that only the jump host is on, so the controller reaches
//! them through the jump host or not at all. `-F` (on the command line and in ansible.cfg),
//! `-J`, `ansible_ssh_common_args` with a ProxyCommand, errors that name the host (a missing
//! `-F` file, an unreachable jump host), `-vvv` showing the ssh command line; and `-K`, a
//! sudo password typed once and fed to sudo on standard input, never shown.

mod common;

use std::process::{Command, Output, Stdio};

use common::fleet::Fleet;

const INNER_NET: &str = "203.0.113";
const PASSWORD: &str = "s3cret-Become-pw";

fn sh(cmd: &str) {
    let out = Command::new("sh").args(["-c", cmd]).output().expect("sh");
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Moves `host` off the fleet's bridge onto a second one (`PREFIX-br2`, inside the fleet's own
/// namespaces: `tests/fleet down` deletes it), with address 203.0.113.`octet`.
fn move_inside(fleet: &Fleet, host: &str, octet: u8) {
    let p = &fleet.prefix;
    let old = fleet.addr(host);
    let port = format!("p{}", old.rsplit('.').next().expect("octet"));
    sh(&format!(
        "ip -n {p}-br link set {port} nomaster && ip -n {p}-br link set {port} netns {p}-br2 && \
         ip -n {p}-br2 link set {port} master br0 up && \
         ip -n {p}-{host} addr flush dev eth0 && \
         ip -n {p}-{host} addr add {INNER_NET}.{octet}/24 dev eth0 && \
         ip -n {p}-{host} route replace default via {INNER_NET}.1"
    ));
}

struct Setup {
    fleet: Fleet,
    dir: tempfile::TempDir,
}

impl Setup {
    fn path(&self, rel: &str) -> String {
        self.dir.path().join(rel).display().to_string()
    }

    fn hactl(&self, args: &[&str]) -> Output {
        self.fleet
            .ctl(env!("CARGO_BIN_EXE_hactl"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("ANSIBLE_CONFIG")
            .output()
            .expect("run hactl")
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn setup() -> Setup {
    let fleet = Fleet::up(&["jump", "in1", "in2"]);
    let p = fleet.prefix.clone();
    // The second bridge, and the jump host's leg on it.
    sh(&format!(
        "ip netns add {p}-br2 && ip -n {p}-br2 link add br0 type bridge && \
         ip -n {p}-br2 link set br0 up && \
         ip -n {p}-br2 link add q1 type veth peer name eth1 netns {p}-jump && \
         ip -n {p}-br2 link set q1 master br0 up && \
         ip -n {p}-jump addr add {INNER_NET}.1/24 dev eth1 && ip -n {p}-jump link set eth1 up"
    ));
    let st = &fleet.state;
    // The inner hosts' keys, under their new addresses.
    let mut known = std::fs::read_to_string(st.join("known_hosts")).expect("known_hosts");
    for (host, octet) in [("in1", 11), ("in2", 12)] {
        let old = fleet.addr(host);
        known = known.replace(&format!("{old} "), &format!("{INNER_NET}.{octet} "));
        move_inside(&fleet, host, octet);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("known_hosts"), known).expect("known_hosts");
    let defaults = format!(
        "Host *\n    User root\n    IdentityFile {key}\n    IdentitiesOnly yes\n    \
         UserKnownHostsFile {known}\n    StrictHostKeyChecking yes\n    \
         GlobalKnownHostsFile /dev/null\n    LogLevel ERROR\n",
        key = st.join("id_ed25519").display(),
        known = dir.path().join("known_hosts").display(),
    );
    // base_config: no route to the inner hosts; bastion_config: through the jump host.
    std::fs::write(dir.path().join("base_config"), &defaults).expect("config");
    std::fs::write(
        dir.path().join("bastion_config"),
        format!(
            "Host jump\n    HostName {}\nHost {INNER_NET}.*\n    ProxyJump jump\n{defaults}",
            fleet.addr("jump")
        ),
    )
    .expect("config");
    std::fs::write(
        dir.path().join("inner.ini"),
        format!("[inner]\nin1 ansible_host={INNER_NET}.11\nin2 ansible_host={INNER_NET}.12\n"),
    )
    .expect("inventory");
    std::fs::write(
        dir.path().join("site.yml"),
        "- hosts: inner\n  gather_facts: false\n  tasks:\n    - name: write through the jump host\n      \
         copy: content='{{ inventory_hostname }}' dest=/tmp/jump-test\n",
    )
    .expect("playbook");
    Setup { fleet, dir }
}

#[test]
fn ssh_arguments_reach_hosts_behind_a_jump_host() {
    let s = setup();
    let base = s.path("base_config");
    let bastion = s.path("bastion_config");

    // Without the jump host the inner hosts cannot be reached at all.
    let direct = s.hactl(&[
        "run",
        "inner",
        "-i",
        "inner.ini",
        "--ssh-common-args",
        &format!("-F {base}"),
        "hostname",
    ]);
    assert_eq!(direct.status.code(), Some(4), "{}", text(&direct));

    // -F on the command line (the config routes through the jump host).
    let run = s.hactl(&[
        "run",
        "inner",
        "-i",
        "inner.ini",
        "--no-stream",
        "--ssh-common-args",
        &format!("-F {bastion}"),
        "hostname",
    ]);
    let out = text(&run);
    assert_eq!(run.status.code(), Some(0), "{out}");
    assert!(
        out.contains("in1 | CHANGED | rc=0 >>\nin1")
            && out.contains("in2 | CHANGED | rc=0 >>\nin2"),
        "{out}"
    );

    // -J on the command line, with the plain config; ansible_port and ansible_user too.
    let jump = format!("-F {base} -J root@{}", s.fleet.addr("jump"));
    std::fs::write(
        s.dir.path().join("ports.ini"),
        format!("in1 ansible_host={INNER_NET}.11 ansible_port=22 ansible_user=root\n"),
    )
    .expect("inventory");
    let run = s.hactl(&[
        "run",
        "in1",
        "-i",
        "ports.ini",
        "--ssh-common-args",
        &jump,
        "-vvv",
        "id -un",
    ]);
    let out = text(&run);
    assert_eq!(run.status.code(), Some(0), "{out}");
    assert!(
        out.contains("in1 | root") || out.contains("in1 | CHANGED | rc=0 >>\nroot"),
        "{out}"
    );
    // -vvv shows the ssh command line (Ansible's order: port, user, then the common args)
    // and the script.
    let exec = out
        .lines()
        .find(|l| l.starts_with(&format!("<{INNER_NET}.11> SSH: EXEC ssh ")))
        .unwrap_or_else(|| panic!("no ssh command line in:\n{out}"));
    let port = exec.find("Port=22").expect("port");
    let user = exec.find("User=").expect("user");
    let j = exec.find(" -J ").expect("-J");
    assert!(port < user && user < j, "{exec}");
    assert!(out.contains("<in1> EXEC sh -c "), "{out}");

    // ansible_ssh_common_args with a ProxyCommand, per host, beats the command line.
    std::fs::write(
        s.dir.path().join("proxy.ini"),
        format!(
            "in2 ansible_host={INNER_NET}.12 ansible_ssh_common_args='-F {base} -o \"ProxyCommand=ssh -F {base} -W %h:%p root@{}\"'\n",
            s.fleet.addr("jump")
        ),
    )
    .expect("inventory");
    let run = s.hactl(&[
        "run",
        "in2",
        "-i",
        "proxy.ini",
        "--no-stream",
        "--ssh-common-args",
        "-F /nonexistent/but/overridden",
        "hostname",
    ]);
    let out = text(&run);
    assert_eq!(run.status.code(), Some(0), "{out}");
    assert!(out.contains("in2 | CHANGED | rc=0 >>\nin2"), "{out}");

    // ansible.cfg's ssh_common_args, found as ./ansible.cfg; a playbook through the jump host.
    std::fs::write(
        s.dir.path().join("ansible.cfg"),
        format!("[defaults]\ninventory = inner.ini\n[ssh_connection]\nssh_common_args = -F {bastion}\npipelining = True\n"),
    )
    .expect("ansible.cfg");
    std::fs::set_permissions(
        s.dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let apply = s.hactl(&["apply", "site.yml"]);
    let out = text(&apply);
    assert_eq!(apply.status.code(), Some(0), "{out}");
    assert!(
        !out.contains("[WARNING]"),
        "pipelining is accepted silently:\n{out}"
    );
    assert!(
        out.contains("changed: [in1]") && out.contains("changed: [in2]"),
        "{out}"
    );
    let status = s.hactl(&["status", "-i", "inner.ini", "--json"]);
    assert!(
        !text(&status).contains("unreachable"),
        "status reaches them too:\n{}",
        text(&status)
    );

    // The fleet's own ansible.cfg, as ansible-core uses it (ssh_args with -F, ControlMaster
    // and ControlPersist of its own): hactl's master options come first and win.
    let run = s
        .fleet
        .ctl(env!("CARGO_BIN_EXE_hactl"))
        .args([
            "run",
            "jump",
            "-i",
            &s.fleet.inventory().display().to_string(),
            "--no-stream",
            "hostname",
        ])
        .current_dir(s.dir.path())
        .env("ANSIBLE_CONFIG", s.fleet.state.join("ansible.cfg"))
        .output()
        .expect("hactl");
    let out = text(&run);
    assert_eq!(run.status.code(), Some(0), "{out}");
    assert!(out.contains("jump | CHANGED | rc=0 >>\njump"), "{out}");
    assert!(
        out.contains("[WARNING]: hactl does not use the setting [defaults] interpreter_python"),
        "{out}"
    );

    // A missing -F file: refused before any host is contacted, naming host and option.
    std::fs::remove_file(s.dir.path().join("ansible.cfg")).expect("rm");
    let run = s.hactl(&[
        "run",
        "inner",
        "-i",
        "inner.ini",
        "--ssh-common-args",
        "-F missing_config",
        "hostname",
    ]);
    let out = text(&run);
    assert_eq!(run.status.code(), Some(1), "{out}");
    assert!(
        out.contains(
            "in1: --ssh-common-args: the ssh config file 'missing_config' (-F) does not exist"
        ),
        "{out}"
    );

    // An unreachable jump host: the host's error names the jump host.
    let run = s.hactl(&[
        "run",
        "in1",
        "-i",
        "inner.ini",
        "-T",
        "3",
        "--ssh-common-args",
        &format!("-F {base} -J root@198.51.100.99"),
        "hostname",
    ]);
    let out = text(&run);
    assert_eq!(run.status.code(), Some(4), "{out}");
    assert!(out.contains("in1 | UNREACHABLE!"), "{out}");
    assert!(
        out.contains("cannot connect: through jump host root@") && out.contains("198.51.100.99"),
        "{out}"
    );

    become_password(&s);
}

/// `-K`: the password is read once (standard input here: no terminal), sudo gets it on stdin,
/// the script still gets its own stdin (a copy's content), and it shows nowhere.
fn become_password(s: &Setup) {
    let setup = s.fleet.ssh(
        "jump",
        &format!(
            "useradd -m -s /bin/sh deploy && echo 'deploy:{PASSWORD}' | chpasswd && \
             install -d -o deploy -m 700 ~deploy/.ssh && \
             install -o deploy -m 600 /root/.ssh/authorized_keys ~deploy/.ssh/ && \
             echo 'deploy ALL=(ALL) ALL' > /etc/sudoers.d/deploy && chmod 440 /etc/sudoers.d/deploy"
        ),
    );
    assert!(
        setup.status.success(),
        "{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    std::fs::write(
        s.dir.path().join("jump.ini"),
        format!(
            "jump ansible_host={} ansible_user=deploy\n",
            s.fleet.addr("jump")
        ),
    )
    .expect("inventory");
    std::fs::write(
        s.dir.path().join("become.yml"),
        "- hosts: jump\n  gather_facts: false\n  become: true\n  tasks:\n    - copy: content='from stdin\\n' dest=/etc/become-k mode=0600\n    \
         - command: id -un\n      register: who\n    - assert:\n        that: who.stdout == 'root'\n",
    )
    .expect("playbook");
    let base = s.path("base_config");
    let with_password = |args: &[&str], password: &str| -> Output {
        let mut child = s
            .fleet
            .ctl("setsid")
            .arg("-w")
            .arg(env!("CARGO_BIN_EXE_hactl"))
            .args(args)
            .args(["--ssh-common-args", &format!("-F {base}"), "-K", "-vvv"])
            .current_dir(s.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hactl");
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{password}").expect("password");
        drop(stdin);
        child.wait_with_output().expect("wait")
    };
    let run = with_password(
        &[
            "run",
            "jump",
            "-i",
            "jump.ini",
            "--no-stream",
            "-b",
            "id -un",
        ],
        PASSWORD,
    );
    let out = text(&run);
    assert_eq!(run.status.code(), Some(0), "{out}");
    assert!(out.contains("jump | CHANGED | rc=0 >>\nroot"), "{out}");
    assert!(!out.contains(PASSWORD), "{out}");

    let apply = with_password(&["apply", "-i", "jump.ini", "become.yml"], PASSWORD);
    let out = text(&apply);
    assert_eq!(apply.status.code(), Some(0), "{out}");
    assert!(!out.contains(PASSWORD), "{out}");
    let file = s
        .fleet
        .ssh("jump", "stat -c '%U %a' /etc/become-k && cat /etc/become-k");
    assert_eq!(
        String::from_utf8_lossy(&file.stdout),
        "root 600\nfrom stdin\n"
    );

    // A wrong password: sudo's refusal, said once, the password shown nowhere.
    let wrong = "not-the-Password";
    let run = with_password(
        &[
            "run",
            "jump",
            "-i",
            "jump.ini",
            "--no-stream",
            "-b",
            "id -un",
        ],
        wrong,
    );
    let out = text(&run);
    assert_eq!(run.status.code(), Some(2), "{out}");
    assert!(out.contains("incorrect become password"), "{out}");
    assert!(!out.contains(wrong), "{out}");
}
