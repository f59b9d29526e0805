//! `package_facts` (ansible.builtin): `ansible_facts.packages`, a list per package name of
//! the installed versions, in the module's shape: apt (`name`, `version`, `arch`, `category`,
//! `origin`, `source: apt`) from `dpkg-query` and the apt lists' Release `Origin`, as
//! python-apt gives them; rpm (`name`, `version`, `release`, `epoch`, `arch`, `source: rpm`)
//! from `rpm -qa`. `manager` (auto, apt, rpm, or the module's aliases dnf, yum, ...) and
//! `strategy` (first, all) as the module. Other managers (pacman, apk, pkg, portage, ...) are
//! refused. See package_facts.sh.

use serde_json::{Map, Value, json};

use super::args::Args;
use super::edit::assign;
use super::protocol;
use super::{ArgError, Outcome, Remote, Step};

const SCRIPT: &str = include_str!("package_facts.sh");

const PARAMS: &[&str] = &["manager", "strategy"];

/// Every manager name the module knows (the canonical ones and the aliases).
const KNOWN: &[&str] = &[
    "apk",
    "apt",
    "pacman",
    "pkg",
    "pkg_info",
    "portage",
    "rpm",
    "dnf",
    "dnf5",
    "yum",
    "zypper",
    "pkg5",
    "pkgng",
    "openbsd_pkg",
];

pub fn plan(args: &Map<String, Value>) -> Result<Step, ArgError> {
    let a = Args::new("package_facts", args, PARAMS)?;
    let mut asked: Vec<String> = a
        .list(&["manager"])?
        .iter()
        .map(|m| m.to_lowercase())
        .collect();
    if asked.is_empty() {
        asked.push("auto".into());
    }
    let strategy = a
        .choice("strategy", &["first", "all"])?
        .unwrap_or_else(|| "first".into());
    let unsupported: Vec<&String> = asked
        .iter()
        .filter(|m| *m != "auto" && !KNOWN.contains(&m.as_str()))
        .collect();
    if !unsupported.is_empty() {
        let list: Vec<&str> = unsupported.iter().map(|s| s.as_str()).collect();
        return Err(ArgError(format!(
            "Unsupported package managers requested: {}",
            list.join(", ")
        )));
    }
    let mut managers: Vec<&str> = Vec::new();
    for m in &asked {
        let canonical = match m.as_str() {
            "auto" => {
                // The module tries them in sorted order; hactl reads apt and rpm.
                for c in ["apt", "rpm"] {
                    if !managers.contains(&c) {
                        managers.push(c);
                    }
                }
                continue;
            }
            "rpm" | "dnf" | "dnf5" | "yum" | "zypper" => "rpm",
            "apt" => "apt",
            other => {
                return Err(ArgError(format!(
                    "hactl's package_facts reads apt and rpm packages, not {other}"
                )));
            }
        };
        if !managers.contains(&canonical) {
            managers.push(canonical);
        }
    }
    let auto = asked.iter().any(|m| m == "auto");
    let list = managers.join(" ");
    let script = assign(&[("managers", &list), ("strategy", &strategy)], SCRIPT);
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(move |out| {
            if !out.success() {
                return protocol::failed_from(&out, "package_facts failed");
            }
            finish(&out.stdout, &managers, auto)
        }),
    }))
}

fn finish(stdout: &[u8], managers: &[&str], auto: bool) -> Outcome {
    let text = String::from_utf8_lossy(stdout);
    let mut packages: Map<String, Value> = Map::new();
    let mut manager = "";
    let mut found = 0;
    let mut warnings = Vec::new();
    for line in text.lines() {
        if let Some(m) = line.strip_prefix("hactl:manager=") {
            manager = if m == "apt" { "apt" } else { "rpm" };
            found += 1;
            continue;
        }
        if let Some(m) = line.strip_prefix("hactl:missing=") {
            if !auto {
                warnings.push(json!(format!(
                    "Requested package manager {m} was not usable by this module: Unable to \
                     find a usable {m} binary"
                )));
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("P\t") else {
            continue;
        };
        let f: Vec<&str> = rest.split('\t').collect();
        let entry = match (manager, f.as_slice()) {
            ("apt", [name, version, arch, section, origin]) => json!({
                "name": name, "version": version, "arch": arch, "category": section,
                "origin": origin, "source": "apt"}),
            ("rpm", [name, version, release, epoch, arch]) => json!({
                "name": name, "version": version, "release": release,
                "epoch": if *epoch == "(none)" { Value::Null } else { json!(epoch) },
                "arch": arch, "source": "rpm"}),
            _ => continue,
        };
        let name = f[0].to_string();
        match packages.get_mut(&name) {
            Some(Value::Array(list)) => list.push(entry),
            _ => {
                packages.insert(name, json!([entry]));
            }
        }
    }
    if found == 0 {
        let names: Vec<String> = managers.iter().map(|m| format!("'{m}'")).collect();
        return Outcome::failed(format!(
            "Could not detect a supported package manager from the following list: [{}], or \
             the required Python library is not installed. Check warnings for details.",
            names.join(", ")
        ));
    }
    let mut o = Outcome::changed(false).with(
        "ansible_facts",
        json!({"packages": Value::Object(packages)}),
    );
    if !warnings.is_empty() {
        o = o.with("warnings", Value::Array(warnings));
    }
    o
}

super::registry::host_module!(PackageFacts, "package_facts", aliases: &[], free_form: false,
    params: PARAMS, about: "the installed packages as facts (apt, rpm)",
    plan: |cx| plan(&cx.args));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::Status;
    use crate::modules::testutil::{Host, args};

    #[test]
    fn rpm_packages_through_a_fake_rpm() {
        let h = Host::new();
        h.fake(
            "rpm",
            "printf 'P\\tbash\\t5.1.8\\t6.el9\\t(none)\\tx86_64\\nP\\tkernel\\t5.14\\t1\\t(none)\\tx86_64\\nP\\tkernel\\t5.15\\t2\\t1\\tx86_64\\n'",
        );
        let o = h.run(plan(&args(json!({"manager": "rpm"}))).expect("plan"));
        assert_eq!(o.status, Status::Ok, "{o:?}");
        let p = &o.result["ansible_facts"]["packages"];
        assert_eq!(
            p["bash"],
            json!([{"name": "bash", "version": "5.1.8", "release": "6.el9", "epoch": null,
                    "arch": "x86_64", "source": "rpm"}])
        );
        assert_eq!(p["kernel"].as_array().map(Vec::len), Some(2));
        assert_eq!(p["kernel"][1]["epoch"], "1");
    }

    #[test]
    fn unknown_and_unsupported_managers() {
        let e = plan(&args(json!({"manager": ["apt", "nope"]}))).expect_err("nope");
        assert_eq!(e.0, "Unsupported package managers requested: nope");
        let e = plan(&args(json!({"manager": "pacman"}))).expect_err("pacman");
        assert!(e.0.contains("not pacman"), "{e}");
    }
}
