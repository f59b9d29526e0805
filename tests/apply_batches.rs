//! `serial`, `max_fail_percentage` and `any_errors_fatal` as ansible-playbook runs them: on a
//! real fleet of four hosts, each playbook runs with hactl and with ansible-core, and both give
//! the same banners in the same order, the same per-host results under each, the same recap
//! and the same exit code. Failed hosts stay out of later batches and plays; a batch where
//! every host failed, or one over `max_fail_percentage`, ends the run.

mod common;

use std::path::Path;
use std::process::Output;

use common::fleet::Fleet;

/// A rolling play in batches of 1 then 50%; b2 fails in the second batch, the others go on,
/// and the next play runs without b2.
const ROLLING: &str = r#"- name: rolling
  hosts: fleet
  gather_facts: false
  serial: [1, "50%"]
  tasks:
    - name: first
      command: "true"
    - name: fail on b2
      command: "false"
      when: inventory_hostname == 'b2'
    - name: last
      command: "true"
- name: after
  hosts: fleet
  gather_facts: false
  tasks:
    - name: next play
      command: "true"
"#;

/// Batches of 2 with no failure allowed: b1 fails, so b2 stops too and b3, b4 never run.
const STRICT: &str = r#"- name: strict
  hosts: fleet
  gather_facts: false
  serial: 2
  max_fail_percentage: 0
  tasks:
    - name: first
      command: "true"
    - name: fail on b1
      command: "false"
      when: inventory_hostname == 'b1'
    - name: last
      command: "true"
- name: never
  hosts: fleet
  gather_facts: false
  tasks:
    - name: never runs
      command: "true"
"#;

/// Half may fail: 1 of 2 is not over 50%, so the run goes on.
const TOLERANT: &str = r#"- name: tolerant
  hosts: fleet
  gather_facts: false
  serial: 2
  max_fail_percentage: 50
  tasks:
    - name: fail on b1 and b3
      command: "false"
      when: inventory_hostname in ['b1', 'b3']
    - name: last
      command: "true"
"#;

/// A block with `any_errors_fatal`: b3 fails inside it, every host stops, no handler runs.
const FATAL: &str = r#"- name: fatal
  hosts: fleet
  gather_facts: false
  tasks:
    - name: change
      command: "true"
      notify: report
    - block:
        - name: fail on b3
          command: "false"
          when: inventory_hostname == 'b3'
      any_errors_fatal: true
    - name: last
      command: "true"
  handlers:
    - name: report
      command: "true"
- name: never
  hosts: fleet
  gather_facts: false
  tasks:
    - name: never runs
      command: "true"
"#;

/// Every host fails: "NO MORE HOSTS LEFT", and the next play does not run.
const ALL_FAIL: &str = r#"- name: doomed
  hosts: fleet
  gather_facts: false
  tasks:
    - name: fail everywhere
      command: "false"
    - name: never
      command: "true"
- name: next
  hosts: fleet
  gather_facts: false
  tasks:
    - name: never either
      command: "true"
"#;

/// `run_once`: the first host runs the task, every host sees its registered result; a
/// `run_once` failure stops every host.
const ONCE: &str = r#"- name: once
  hosts: fleet
  gather_facts: false
  tasks:
    - name: only once
      command: hostname
      run_once: true
      register: first
    - name: everyone sees it
      debug: msg="ran on {{ first.stdout }}"
    - name: fail once
      command: "false"
      run_once: true
    - name: never
      command: "true"
"#;

/// One host cannot be reached: reported under the first task, left out of the next play.
const PARTLY_DOWN: &str = r#"- name: partly down
  hosts: all
  gather_facts: false
  tasks:
    - name: first
      command: "true"
- name: later
  hosts: all
  gather_facts: false
  tasks:
    - name: second
      command: "true"
"#;

/// The run as a list of blocks: each banner, then the sorted `status: [host]` lines under it
/// (hosts finish in any order), then the recap lines.
fn shape(stdout: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut block: Vec<String> = Vec::new();
    let flush = |out: &mut Vec<String>, block: &mut Vec<String>| {
        block.sort();
        out.append(block);
    };
    let mut in_recap = false;
    for line in stdout.lines() {
        if in_recap {
            if !line.trim().is_empty() {
                out.push(line.split_whitespace().collect::<Vec<_>>().join(" "));
            }
        } else if let Some(banner) = line
            .strip_suffix('*')
            .map(|l| l.trim_end_matches('*').trim())
        {
            flush(&mut out, &mut block);
            in_recap = banner == "PLAY RECAP";
            out.push(banner.to_string());
        } else if let Some((status, rest)) = line.split_once(": [") {
            if ["ok", "changed", "skipping", "fatal"].contains(&status) {
                let host = rest.split(']').next().unwrap_or_default();
                block.push(format!("{status}: [{host}]"));
            }
        }
    }
    flush(&mut out, &mut block);
    out
}

fn run_both(fleet: &Fleet, dir: &Path, name: &str, play: &str) -> (Vec<String>, Output, Output) {
    run_both_on(fleet, &fleet.inventory(), dir, name, play)
}

fn run_both_on(
    fleet: &Fleet,
    inventory: &Path,
    dir: &Path,
    name: &str,
    play: &str,
) -> (Vec<String>, Output, Output) {
    let file = dir.join(format!("{name}.yml"));
    std::fs::write(&file, play).expect("playbook");
    let ours = fleet
        .ctl(env!("CARGO_BIN_EXE_hactl"))
        .arg("apply")
        .arg(inventory)
        .arg(&file)
        .args(["-T", "2"])
        .args(fleet.ssh_args())
        .output()
        .expect("run hactl");
    let theirs = fleet
        .ctl("/opt/ansible-venv/bin/ansible-playbook")
        .arg("-i")
        .arg(inventory)
        .arg(&file)
        .env("ANSIBLE_CONFIG", fleet.state.join("ansible.cfg"))
        .env("ANSIBLE_TIMEOUT", "2")
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .expect("run ansible-playbook");
    let (a, b) = (
        String::from_utf8_lossy(&ours.stdout).into_owned(),
        String::from_utf8_lossy(&theirs.stdout).into_owned(),
    );
    assert_eq!(
        shape(&a),
        shape(&b),
        "{name}: hactl\n{a}\nansible-playbook\n{b}"
    );
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "{name}: exit codes\n{a}\n{b}"
    );
    (shape(&a), ours, theirs)
}

#[test]
fn batches_and_failure_limits_as_ansible_runs_them() {
    let fleet = Fleet::up(&["b1", "b2", "b3", "b4"]);
    let dir = tempfile::tempdir().expect("tempdir");

    let (rolling, ours, _) = run_both(&fleet, dir.path(), "rolling", ROLLING);
    assert_eq!(ours.status.code(), Some(2));
    assert_eq!(
        rolling.iter().filter(|l| *l == "PLAY [rolling]").count(),
        3,
        "three batches: {rolling:?}"
    );
    let after = rolling
        .iter()
        .skip_while(|l| *l != "TASK [next play]")
        .take_while(|l| *l != "PLAY RECAP")
        .cloned()
        .collect::<Vec<_>>();
    assert!(!after.iter().any(|l| l.contains("[b2]")), "{after:?}");

    let (strict, ours, _) = run_both(&fleet, dir.path(), "strict", STRICT);
    assert_eq!(ours.status.code(), Some(2));
    assert!(
        strict.contains(&"NO MORE HOSTS LEFT".to_string()),
        "{strict:?}"
    );
    assert!(
        !strict
            .iter()
            .any(|l| l.contains("[b3]") && !l.starts_with("b3 ")),
        "{strict:?}"
    );

    let (tolerant, _, _) = run_both(&fleet, dir.path(), "tolerant", TOLERANT);
    assert!(
        tolerant.contains(&"changed: [b4]".to_string()),
        "{tolerant:?}"
    );

    let (fatal, _, _) = run_both(&fleet, dir.path(), "fatal", FATAL);
    assert!(!fatal.contains(&"TASK [last]".to_string()), "{fatal:?}");

    let (all, _, _) = run_both(&fleet, dir.path(), "all_fail", ALL_FAIL);
    assert!(!all.contains(&"PLAY [next]".to_string()), "{all:?}");

    let (once, ours, _) = run_both(&fleet, dir.path(), "once", ONCE);
    let text = String::from_utf8_lossy(&ours.stdout);
    assert_eq!(text.matches("\"msg\": \"ran on b1\"").count(), 4, "{text}");
    assert!(!once.contains(&"TASK [never]".to_string()), "{once:?}");

    let mut inv = std::fs::read_to_string(fleet.inventory()).expect("inventory");
    inv.push_str("ghost ansible_host=198.51.100.99\n");
    let with_ghost = dir.path().join("ghost.ini");
    std::fs::write(&with_ghost, inv).expect("inventory");
    let (down, ours, _) = run_both_on(&fleet, &with_ghost, dir.path(), "partly_down", PARTLY_DOWN);
    assert_eq!(ours.status.code(), Some(4));
    assert!(down.contains(&"fatal: [ghost]".to_string()), "{down:?}");
}
