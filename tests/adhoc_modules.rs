//! `hactl run -m MODULE -a ARGS` runs every module of the registry (on a local host: no root,
//! no fleet). Each module has an example here; a module added to the registry without one
//! fails the test, so the ad hoc path can never fall behind the playbook path again.
//!
//! The examples are harmless on the machine running the tests: files go to the sandbox,
//! packages and services are only queried (already installed, or missing and so failing
//! cleanly), and the run is as `nobody` when the tests run as root.

mod common;

use common::local::Sandbox;

/// An example for each module: arguments, and whether the module must succeed with them
/// (others must at least run and report their own failure).
fn example(module: &str, out: &str) -> Option<(String, bool)> {
    let e = |args: String, ok: bool| Some((args, ok));
    match module {
        "command" => e("echo hi".into(), true),
        "shell" => e("echo hi | tr h H".into(), true),
        "raw" => e("echo hi".into(), true),
        "copy" => e(format!("content=x dest={out}/copy.txt"), true),
        "template" => e(format!("src=t.j2 dest={out}/t.txt"), true),
        "lineinfile" => e(format!("path={out}/l.txt line=a create=true"), true),
        "file" => e(format!("path={out}/dir state=directory"), true),
        "service" | "systemd" => e("name=hactl-no-such-unit state=started".into(), false),
        "package" | "apt" | "yum" | "dnf" => e("name=coreutils state=present".into(), false),
        "ping" => e(String::new(), true),
        "debug" => e("msg={{ inventory_hostname }}".into(), true),
        "set_fact" => e("x=1".into(), true),
        "assert" => e("that=inventory_hostname=='h1'".into(), true),
        "fail" => e("msg=boom".into(), false),
        "setup" => e("filter=ansible_os_family".into(), true),
        "include_vars" => e("vars.yml".into(), true),
        "add_host" => e("name=h9 groups=extra".into(), true),
        "group_by" => e("key=by_name".into(), true),
        "async_status" => e("jid=j1.no-such-job".into(), false),
        "user" => e("name=hactl-no-such-user state=absent".into(), false),
        "group" => e("name=hactl-no-such-group state=absent".into(), false),
        "authorized_key" => e(
            "user=hactl-no-such-user key='ssh-ed25519 AAAA x'".into(),
            false,
        ),
        "get_url" => e(
            format!("url=http://127.0.0.1:9/x dest={out}/g.txt timeout=2"),
            false,
        ),
        "uri" => e("url=http://127.0.0.1:9/ timeout=2".into(), false),
        "yum_repository" => e(
            format!("name=x description=x baseurl=http://x.invalid/ reposdir={out}"),
            true,
        ),
        "debconf" => e("name=hactl-no-such-package".into(), false),
        "stat" => e(format!("path={out}"), true),
        "slurp" => e("src=/etc/hostname".into(), true),
        "fetch" => e(
            format!("src=/etc/hostname dest={out}/fetched/ flat=true"),
            true,
        ),
        "blockinfile" => e(format!("path={out}/b.txt block=x create=true"), true),
        "replace" => e(format!("path={out}/missing regexp=a replace=b"), false),
        "ini_file" => e(format!("path={out}/i.ini section=s option=o value=v"), true),
        "sysctl" => e(
            format!(
                "name=hactl.no.such value=1 sysctl_file={out}/s.conf reload=false sysctl_set=false"
            ),
            true,
        ),
        "cron" => e(
            format!("name=x job=true cron_file={out}/cronfile user=nobody"),
            false,
        ),
        // Never the machine's own name: `use: redhat` is refused before anything runs.
        "hostname" => e("name=hactl-test use=redhat".into(), false),
        "wait_for" => e(format!("path={out} timeout=1"), true),
        "pause" => e("seconds=0".into(), true),
        "tempfile" => e(format!("path={out}"), true),
        "find" => e(format!("paths={out}"), true),
        "unarchive" => e(format!("src={out}/nope.tgz dest={out}"), false),
        "service_facts" => e(String::new(), false),
        "package_facts" => e(String::new(), false),
        "make" => e(format!("chdir={out} target=hactl-nothing"), false),
        // Never the machine's zone: an unknown zone fails before anything changes.
        "timezone" => e("name=Mars/Olympus".into(), false),
        "apt_key" => e(
            format!("id=B49F6B46 keyring={out}/k.gpg state=absent"),
            false,
        ),
        "git" => e(format!("repo={out}/no-such-repo dest={out}/clone"), false),
        "pip" => e(
            "name=hactl-no-such-package executable=hactl-no-pip".into(),
            false,
        ),
        // Never a mount on the test machine: `present` only writes an fstab in the sandbox.
        "mount" => e(
            format!("path={out}/mnt src=none fstype=tmpfs state=present fstab={out}/fstab"),
            true,
        ),
        "apt_repository" => e("repo=ppa:hactl/none".into(), false),
        _ => None,
    }
}

#[test]
fn every_module_runs_ad_hoc() {
    let sb = Sandbox::new();
    let out = sb.out().display().to_string();
    sb.write("hosts.ini", "h1 ansible_connection=local\n");
    sb.write("t.j2", "hello {{ inventory_hostname }}\n");
    sb.write("vars.yml", "a: 1\n");
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    for m in hactl::modules::registry::MODULES {
        let spec = m.spec();
        if spec.runs == hactl::modules::registry::Runs::Engine {
            continue;
        }
        let Some((args, must_succeed)) = example(spec.name, &out) else {
            missing.push(spec.name);
            continue;
        };
        let mut cmd = vec![
            "run",
            "h1",
            "-i",
            "hosts.ini",
            "-m",
            spec.name,
            "--no-summary",
        ];
        if !args.is_empty() {
            cmd.extend(["-a", args.as_str()]);
        }
        let run = sb.hactl(&cmd);
        let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
        let text = format!("{stdout}{}", String::from_utf8_lossy(&run.stderr));
        // SKIPPED: service_facts on a host with no service tool skips itself, as Ansible.
        let answered = ["SUCCESS", "CHANGED", "FAILED", "SKIPPED"]
            .iter()
            .any(|s| stdout.contains(&format!("h1 | {s}")));
        let ok = run.status.code() == Some(0);
        if !answered || text.contains("cannot run") || (must_succeed && !ok) {
            wrong.push(format!("-m {} -a '{args}':\n{text}", spec.name));
        }
    }
    assert!(
        missing.is_empty(),
        "modules without an ad hoc example here: {missing:?}"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let rendered = std::fs::read_to_string(sb.out().join("t.txt")).expect("template ran");
    assert_eq!(rendered, "hello h1\n");
}
