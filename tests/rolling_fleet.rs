//! `hactl apply --rolling` on a real fleet with the shipped role (a copy of it, with a
//! `/health` location and a comment line to change): the plan in check mode touches nothing;
//! a change that restarts keepalived and nginx rolls lb1 then lb2 with both VIPs served
//! throughout; the same play again drains nobody (its check pass finds nothing to change); a health URL that answers 500 on lb2 after its change stops the rollout with
//! lb2 left drained and lb1 untouched (exit 2); an unhealthy pair (a VIP held twice) is
//! refused before anything runs, unless --force; a mixed keepalived/hactl-agent pair rolls.
//! Needs root.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::fleet::Fleet;
use common::pair::{VIP1, VIP2, holders, root, text, wait_holder};

/// The shipped playbook, role, templates and inventory in a folder of the test's own, with a
/// `/health` location that answers `health_code` (500 on the host named by `bad_host`).
fn playbook(dir: &Path, order: &str) {
    for part in ["roles", "templates", "inventory"] {
        let out = std::process::Command::new("cp")
            .arg("-r")
            .arg(root().join(part))
            .arg(dir)
            .output()
            .expect("cp");
        assert!(out.status.success());
    }
    let site = std::fs::read_to_string(root().join("site.yml")).expect("site.yml");
    assert!(
        site.contains("hactl_rolling: true"),
        "the shipped site.yml rolls"
    );
    let site = site.replace(
        "  remote_user: root\n",
        &format!("  remote_user: root\n  order: {order}\n"),
    );
    let site = site.replace(
        "    hactl_rolling: true\n",
        "    hactl_rolling: true\n    hactl_rolling_timeout: 20\n    hactl_rolling_health:\n    - http://198.51.100.100/health\n    - http://198.51.100.200/health\n",
    );
    std::fs::write(dir.join("site.yml"), site).expect("write site.yml");
    let nginx = dir.join("templates/nginx.conf.j2");
    let t = std::fs::read_to_string(&nginx).expect("nginx template");
    let t = t.replace(
        "        location / {",
        "        location = /health {\n            return {{ 500 if inventory_hostname == (bad_host | default('')) else 200 }};\n        }\n        location / {",
    );
    std::fs::write(&nginx, t).expect("write template");
}

/// Appends a comment to both templates: the next run restarts keepalived and nginx.
fn change(dir: &Path, n: u32) {
    for t in ["templates/nginx.conf.j2", "templates/keepalived.conf.j2"] {
        let p = dir.join(t);
        let mut s = std::fs::read_to_string(&p).expect("template");
        s.push_str(&format!("# change {n}\n"));
        std::fs::write(&p, s).expect("template");
    }
}

fn apply(fleet: &Fleet, dir: &Path, extra: &[&str]) -> Output {
    let mut cmd = fleet.ctl(env!("CARGO_BIN_EXE_hactl"));
    cmd.current_dir(dir)
        .args([
            "apply",
            "inventory/hosts.ini",
            "-e",
            "vrrp_engine=keepalived",
        ])
        .args(extra)
        .args(fleet.ssh_args());
    if let Some(agent) = std::env::var_os("HACTL_TEST_AGENT") {
        cmd.env("HACTL_AGENT", agent);
    }
    cmd.output().expect("run hactl")
}

fn rolling_lines(out: &Output) -> Vec<String> {
    text(out)
        .lines()
        .filter(|l| l.starts_with("ROLLING ") && !l.starts_with("ROLLING PLAN"))
        .map(String::from)
        .collect()
}

fn sums(fleet: &Fleet, host: &str) -> String {
    let out = fleet.ssh(
        host,
        "sha256sum /etc/nginx/nginx.conf /etc/keepalived/keepalived.conf; systemctl show -p MainPID --value nginx",
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn curl(fleet: &Fleet, url: &str) -> bool {
    fleet
        .ctl("curl")
        .args(["-sf", "--max-time", "3", "-o", "/dev/null", url])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn position(lines: &[String], needle: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{}", lines.join("\n")))
}

fn setup(fleet: &Fleet) -> (tempfile::TempDir, PathBuf) {
    let web = common::pair::hactl(
        fleet,
        &[
            "run",
            "web:nginx",
            "-i",
            "inventory/hosts.ini",
            "--no-stream",
            "systemctl unmask keepalived; hostname > /var/www/html/index.html; systemctl start nginx; echo up",
        ],
    );
    assert!(web.status.success(), "{}", text(&web));
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    (tmp, dir)
}

#[test]
fn rolling_changes_one_load_balancer_at_a_time() {
    let fleet = Fleet::up_with(&["lb1", "lb2", "web1", "web2"], true);
    let (_tmp, dir) = setup(&fleet);
    playbook(&dir, "inventory");

    // 1. A first run on hosts where nothing serves yet: no drain, no gates, host by host.
    let first = apply(&fleet, &dir, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert!(
        text(&first).contains("not in service yet"),
        "{}",
        text(&first)
    );
    wait_holder(&fleet, VIP1, "lb1", Duration::from_secs(15));
    wait_holder(&fleet, VIP2, "lb2", Duration::from_secs(15));

    // 2. --check --rolling: the plan, and nothing drained or changed.
    change(&dir, 1);
    let before = (sums(&fleet, "lb1"), sums(&fleet, "lb2"));
    let check = apply(&fleet, &dir, &["--check"]);
    let out = text(&check);
    assert_eq!(check.status.code(), Some(0), "{out}");
    assert!(
        out.contains("ROLLING PLAN order: [lb1] then [lb2]"),
        "{out}"
    );
    assert!(
        out.contains("[lb1] gate healthy; drain by systemctl stop keepalived"),
        "{out}"
    );
    assert!(out.contains("[lb1] check mode: would drain"), "{out}");
    assert!(!out.contains("ROLLING [lb1] drain"), "{out}");
    assert_eq!((sums(&fleet, "lb1"), sums(&fleet, "lb2")), before);
    assert_eq!(holders(&fleet, VIP1), ["lb1"]);
    assert_eq!(holders(&fleet, VIP2), ["lb2"]);

    // 3. The change rolls: lb1 drained, changed, back; then lb2. Both VIPs serve all along
    // (a curl loop in the background counts failures).
    let probe = fleet
        .ctl("sh")
        .arg("-c")
        .arg(format!(
            "fails=0; end=$(($(date +%s) + 25)); while [ $(date +%s) -lt $end ]; do \
             for v in {VIP1} {VIP2}; do curl -sf --max-time 3 -o /dev/null http://$v/ || fails=$((fails + 1)); done; \
             sleep 0.05; done; echo $fails"
        ))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("curl loop");
    let run = apply(&fleet, &dir, &[]);
    let out = text(&run);
    assert_eq!(run.status.code(), Some(0), "{out}");
    let lines = rolling_lines(&run);
    let order = [
        "[lb1] check pass: changed=",
        "[lb1] gate healthy",
        "[lb1] drain VI_1 -> lb2",
        "[lb1] gate drained: VIP 198.51.100.100 on lb2, VIP 198.51.100.200 on lb2",
        "[lb1] gate host: GET http://198.51.100.100/health via 198.51.100.11 200",
        "[lb1] undrain VI_1 <- lb2",
        "[lb1] gate back: VIP 198.51.100.100 on lb1, VIP 198.51.100.200 on lb2",
        "[lb2] gate healthy",
        "[lb2] drain VI_2 -> lb1",
        "[lb2] undrain VI_2 <- lb1",
        "[lb2] gate back: VIP 198.51.100.100 on lb1, VIP 198.51.100.200 on lb2",
    ];
    let at: Vec<usize> = order.iter().map(|n| position(&lines, n)).collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "out of order:\n{}",
        lines.join("\n")
    );
    // lb1's handlers ran between its drain and its undrain, before lb2 was drained.
    let all: Vec<&str> = out.lines().collect();
    let find = |needle: &str| {
        all.iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} not in:\n{out}"))
    };
    let restart_lb1 = find("RUNNING HANDLER [nginx : restart nginx]");
    assert!(
        find("ROLLING [lb1] drain") < restart_lb1 && restart_lb1 < find("ROLLING [lb1] undrain")
    );
    assert!(find("ROLLING [lb2] drain") > find("ROLLING [lb1] gate back"));
    let fails = probe.wait_with_output().expect("curl loop");
    assert_eq!(
        String::from_utf8_lossy(&fails.stdout).trim(),
        "0",
        "requests failed during the rollout:\n{out}"
    );
    assert_eq!(holders(&fleet, VIP1), ["lb1"]);
    assert_eq!(holders(&fleet, VIP2), ["lb2"]);

    // 3b. The same play again changes nothing: the check pass before each host says so and
    // neither load balancer is drained (no VIP moves, no gate waits).
    let again = apply(&fleet, &dir, &[]);
    let out = text(&again);
    assert_eq!(again.status.code(), Some(0), "{out}");
    for h in ["lb1", "lb2"] {
        assert!(
            out.contains(&format!("ROLLING [{h}] check pass: nothing to change")),
            "{out}"
        );
        assert!(!out.contains(&format!("ROLLING [{h}] drain")), "{out}");
        let recap = out
            .lines()
            .find(|l| l.starts_with(&format!("{h} ")) && l.contains("changed="))
            .unwrap_or_else(|| panic!("no recap for {h}:\n{out}"));
        assert!(recap.contains("changed=0"), "{recap}");
    }
    assert_eq!(holders(&fleet, VIP1), ["lb1"]);
    assert_eq!(holders(&fleet, VIP2), ["lb2"]);

    // 4. A health URL answering 500 on lb2 after its change: lb2 goes first (reverse
    // inventory order), fails its own check, stays drained; lb1 is never touched.
    playbook(&dir, "reverse_inventory");
    change(&dir, 2);
    let lb1_before = sums(&fleet, "lb1");
    let bad = apply(&fleet, &dir, &["-e", "bad_host=lb2"]);
    let out = text(&bad);
    assert_eq!(bad.status.code(), Some(2), "{out}");
    assert!(
        out.contains("ROLLING PLAN order: [lb2] then [lb1]"),
        "{out}"
    );
    assert!(
        out.contains("ROLLING [lb2] gate host: FAILED")
            && out.contains("GET http://198.51.100.200/health via 198.51.100.12: HTTP 500"),
        "{out}"
    );
    assert!(
        out.contains("ROLLING STOPPED at [lb2]")
            && out.contains("lb2 is left drained")
            && out.contains("Not touched: lb1."),
        "{out}"
    );
    assert!(
        !out.lines().any(|l| l.starts_with("lb1 ")),
        "lb1 is not in the recap:\n{out}"
    );
    assert_eq!(sums(&fleet, "lb1"), lb1_before, "lb1 untouched");
    assert_eq!(holders(&fleet, VIP1), ["lb1"]);
    assert_eq!(holders(&fleet, VIP2), ["lb1"], "lb2 stays drained");
    assert!(
        curl(&fleet, "http://198.51.100.200/health"),
        "VIP 2 serves through lb1"
    );

    // 5. Pre-flight: lb2 is drained (VIP 2 on lb1 only, fine), so make the pair unhealthy:
    // VIP 1 added by hand on lb2 is held twice. The rollout is refused, nothing runs.
    fleet.ssh("lb2", &format!("ip addr add {VIP1}/32 dev eth0"));
    let refused = apply(&fleet, &dir, &[]);
    let out = text(&refused);
    assert_eq!(refused.status.code(), Some(2), "{out}");
    assert!(
        out.contains("ROLLING REFUSED: refusing to roll")
            && out.contains("VIP 198.51.100.100 (VRID 14) held by 2 host(s): lb2, lb1")
            && out.contains("--force rolls anyway"),
        "{out}"
    );
    assert!(!out.contains("TASK ["), "nothing ran:\n{out}");
    let del = fleet.ssh("lb2", &format!("ip addr del {VIP1}/32 dev eth0"));
    assert!(
        del.status.success(),
        "{}",
        String::from_utf8_lossy(&del.stderr)
    );
    assert_eq!(holders(&fleet, VIP1), ["lb1"]);

    // The fixed health check lets lb2 roll back into service.
    let fixed = apply(&fleet, &dir, &[]);
    assert_eq!(fixed.status.code(), Some(0), "{}", text(&fixed));
    wait_holder(&fleet, VIP2, "lb2", Duration::from_secs(10));
}

/// A mixed pair: lb1 on keepalived, lb2 on hactl-agent (drained with `hactl-agent drain`).
/// Needs an agent with the drain command: the one built beside hactl, or HACTL_TEST_AGENT.
#[test]
fn a_mixed_pair_rolls() {
    let fleet = Fleet::up_with(&["lb1", "lb2", "web1", "web2"], true);
    let (_tmp, dir) = setup(&fleet);
    playbook(&dir, "inventory");
    let host_vars = dir.join("inventory/host_vars");
    std::fs::create_dir_all(&host_vars).expect("host_vars");
    std::fs::write(host_vars.join("lb2.yml"), "vrrp_engine: hactl-agent\n").expect("host var");
    // No -e (it would win over the host var): the engine comes from the inventory.
    let mut cmd = fleet.ctl(env!("CARGO_BIN_EXE_hactl"));
    let run = |cmd: &mut std::process::Command| {
        cmd.current_dir(&dir)
            .args(["apply", "inventory/hosts.ini"])
            .args(fleet.ssh_args());
        if let Some(agent) = std::env::var_os("HACTL_TEST_AGENT") {
            cmd.env("HACTL_AGENT", agent);
        }
        cmd.output().expect("run hactl")
    };
    std::fs::write(
        dir.join("inventory/group_vars/all.yml"),
        std::fs::read_to_string(dir.join("inventory/group_vars/all.yml"))
            .expect("group vars")
            .replace("vrrp_engine: hactl-agent", "vrrp_engine: keepalived"),
    )
    .expect("group vars");
    let first = run(&mut cmd);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    wait_holder(&fleet, VIP1, "lb1", Duration::from_secs(15));
    wait_holder(&fleet, VIP2, "lb2", Duration::from_secs(15));
    change(&dir, 1);
    let mut cmd = fleet.ctl(env!("CARGO_BIN_EXE_hactl"));
    let second = run(&mut cmd);
    let out = text(&second);
    assert_eq!(second.status.code(), Some(0), "{out}");
    assert!(
        out.contains("[lb1] gate healthy; drain by systemctl stop keepalived"),
        "{out}"
    );
    assert!(
        out.contains("[lb2] gate healthy; drain by hactl-agent drain all"),
        "{out}"
    );
    let lines = rolling_lines(&second);
    let at: Vec<usize> = [
        "[lb1] drain VI_1 -> lb2",
        "[lb1] gate back: VIP 198.51.100.100 on lb1, VIP 198.51.100.200 on lb2",
        "[lb2] drain VI_2 -> lb1",
        "[lb2] gate back: VIP 198.51.100.100 on lb1, VIP 198.51.100.200 on lb2",
    ]
    .iter()
    .map(|n| position(&lines, n))
    .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{}", lines.join("\n"));
    assert_eq!(holders(&fleet, VIP1), ["lb1"]);
    assert_eq!(holders(&fleet, VIP2), ["lb2"]);
}
