//! Values that come from hosts (gathered facts, registered results) and `!unsafe` values are
//! data: Jinja inside them is never evaluated on the controller, whatever path the value takes
//! (a fact, `ansible_facts`, `hostvars[other]`, a `set_fact` copy, a loop item, `to_json`, a
//! registered result read by a later task or by `changed_when`). ansible-core marks them unsafe
//! for the same reason (CVE-2016-9587): a host that prints `{{ lookup('env', 'SECRET') }}`
//! must not read the controller's secrets.

use std::path::Path;

use assert_cmd::Command;
use minijinja::Value;
use serde_json::json;

use hactl::inventory::Inventory;
use hactl::run::context::{self, Dynamic, Scope};
use hactl::template::{PlayInfo, Templar};

const SECRET_VAR: &str = "HACTL_TEST_CONTROLLER_SECRET";
const SECRET: &str = "s3cr3t-on-the-controller";
const EVIL: &str = "{{ lookup('env', 'HACTL_TEST_CONTROLLER_SECRET') }}";

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

/// `hactl render --facts`: a host whose os-release (here its facts file) holds Jinja.
#[test]
fn facts_from_a_host_are_never_templated_in_render() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    write(d, "hosts.ini", "[lb]\nh1\nh2\n");
    // The unsafe group variable tries to close its raw block early.
    write(
        d,
        "group_vars/lb.yml",
        &format!("sneaky: !unsafe \"a{{% endraw %}}{EVIL}{{% raw %}}b\"\n"),
    );
    let facts = json!({"ansible_facts": {
        "ansible_distribution_release": EVIL,
        "ansible_hostname": "h",
    }});
    write(d, "facts/h1.json", &facts.to_string());
    write(d, "facts/h2.json", &facts.to_string());
    write(
        d,
        "site.yml",
        r#"- hosts: lb
  tasks:
    - set_fact:
        copied: "{{ ansible_distribution_release }}"
        listed: "{{ [ansible_distribution_release] }}"
    - template: src=t.j2 dest=/out/{{ inventory_hostname }}.txt
    - template: src=item.j2 dest=/out/item-{{ inventory_hostname }}.txt
      loop: "{{ [ansible_distribution_release] }}"
"#,
    );
    write(
        d,
        "t.j2",
        "fact={{ ansible_distribution_release }}\n\
         dict={{ ansible_facts.distribution_release }}\n\
         other={{ hostvars['h2'].ansible_distribution_release }}\n\
         copied={{ copied }}\n\
         listed={{ listed[0] }}\n\
         json={{ copied | to_json }}\n\
         sneaky={{ sneaky }}\n",
    );
    write(d, "item.j2", "item={{ item }}\n");
    let out = d.join("rendered");
    Command::cargo_bin("hactl")
        .expect("binary")
        .env(SECRET_VAR, SECRET)
        .current_dir(d)
        .args([
            "render",
            "-i",
            "hosts.ini",
            "site.yml",
            "--facts",
            "facts",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(out.join("h1/out/h1.txt")).expect("rendered");
    assert!(
        !text.contains(SECRET),
        "a host's value was templated:\n{text}"
    );
    for key in ["fact", "dict", "other", "copied", "listed"] {
        assert!(
            text.contains(&format!("{key}={EVIL}\n")),
            "{key} should print the host's text as it is:\n{text}"
        );
    }
    assert!(text.contains(&format!("json=\"{EVIL}\"")), "{text}");
    assert!(
        text.contains(&format!("sneaky=a{{% endraw %}}{EVIL}{{% raw %}}b\n")),
        "!unsafe text comes out as written:\n{text}"
    );
    let item = std::fs::read_to_string(out.join("h1/out/item-h1.txt")).expect("rendered");
    assert_eq!(item, format!("item={EVIL}\n"));
}

/// A registered result (`r.stdout`) read by a later task, through `hostvars`, and by
/// `changed_when`'s view of the result, as the apply runner builds them.
#[test]
fn registered_results_are_never_templated() {
    let dir = tempfile::tempdir().expect("tmp");
    write(dir.path(), "hosts.ini", "h1\n");
    let inv: Inventory = hactl::inventory::load(&[dir.path().join("hosts.ini")])
        .expect("inventory")
        .inventory;
    let pb_path = dir.path().join("site.yml");
    write(dir.path(), "site.yml", "- hosts: all\n  tasks: []\n");
    let pb = hactl::playbook::load(&pb_path).expect("playbook").playbook;
    let info = PlayInfo {
        hosts: vec!["h1".into()],
        ..PlayInfo::default()
    };
    let pv = context::play_vars(&inv, &context::Facts::new(), &info);
    // A lookup of a controller file, which the test makes.
    let secret_file = dir.path().join("secret");
    write(dir.path(), "secret", SECRET);
    let evil = format!("{{{{ lookup('file', '{}') }}}}", secret_file.display());
    let registered = json!({"r": {"stdout": evil, "stdout_lines": [evil]}})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let extra = hactl::playbook::Vars::new();
    let item = json!(evil);
    let data = hactl::template::to_value(&registered);
    let included = serde_json::Map::new();
    let ctx = context::task_context(
        &pv,
        &pb,
        &[],
        "h1",
        &Scope::default(),
        None,
        Dynamic {
            play_layers: &[],
            included: &included,
            data: &data,
            extra_vars: &extra,
            item: Some(hactl::template::Data::layer(Value::from_pairs([(
                "item",
                hactl::template::to_value(&item),
            )]))),
        },
    )
    .expect("context");
    let templar = Templar::new();
    for expr in [
        "{{ r.stdout }}",
        "{{ r.stdout_lines | first }}",
        "{{ item }}",
        "{{ r | to_json }}",
    ] {
        let v: Value = templar
            .template_value(expr, "test", &ctx, "h1")
            .expect("renders");
        let text = v.to_string();
        assert!(!text.contains(SECRET), "{expr} was templated: {text}");
        assert!(
            text.contains("lookup('file'"),
            "{expr} lost the text: {text}"
        );
    }
}
