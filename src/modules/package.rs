//! `package` and its aliases `apt`, `yum`, `dnf`: names present, absent or latest, checked
//! with the package database on the host (`dpkg-query`, `rpm -q`) so nothing runs when
//! nothing would change. `package` picks the host's manager; `apt`/`yum`/`dnf` insist on theirs.

use serde_json::{Map, Value};

use super::args::Args;
use super::protocol::{self, field, with_args};
use super::{ArgError, Mode, Outcome, Remote, Step};

const PARAMS: &[&str] = &[
    "name",
    "pkg",
    "state",
    "update_cache",
    "cache_valid_time",
    "install_recommends",
    "use",
    "allow_downgrade",
    "autoremove",
    "purge",
    "enablerepo",
    "disablerepo",
    "disable_gpg_check",
    "force",
    "default_release",
    "only_upgrade",
];

const SCRIPT: &str = r#"mgr=$1 state=$2 check=$3 update=$4; shift 4
if [ "$mgr" = auto ]; then
    for m in apt-get dnf yum; do command -v $m >/dev/null 2>&1 && { mgr=$m; break; }; done
    [ "$mgr" = apt-get ] && mgr=apt
fi
case $mgr in
    apt) tool=apt-get ;;
    *) tool=$mgr ;;
esac
if ! command -v "$tool" >/dev/null 2>&1; then
    echo "hactl:missing_manager=$mgr"
    exit 3
fi
installed() {
    case $mgr in
        apt) dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q ' installed$' ;;
        *) rpm -q "$1" >/dev/null 2>&1 ;;
    esac
}
upgradable() {
    case $mgr in
        apt) apt-cache policy "$1" 2>/dev/null | awk '/Installed:/{i=$2} /Candidate:/{c=$2} END{exit !(i!=c && c!="(none)")}' ;;
        *) $tool -q check-update "$1" >/dev/null 2>&1; [ $? = 100 ] ;;
    esac
}
todo=
for p in "$@"; do
    case $state in
        present|installed) installed "$p" || todo="$todo $p" ;;
        absent|removed) installed "$p" && todo="$todo $p" ;;
        latest) if ! installed "$p" || upgradable "$p"; then todo="$todo $p"; fi ;;
    esac
done
if [ -z "$todo" ]; then echo hactl:changed=0; exit 0; fi
echo "hactl:changed=1"
echo "hactl:packages=$todo"
[ "$check" = 1 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
case $mgr:$state in
    apt:absent|apt:removed) apt-get remove -y -q $todo ;;
    apt:*) [ "$update" = 1 ] && apt-get update -q; apt-get install -y -q -o Dpkg::Options::=--force-confold $todo ;;
    *:absent|*:removed) $tool remove -y $todo ;;
    *) $tool install -y $todo ;;
esac >&2 || exit 4
"#;

pub fn plan(
    module: &str,
    args: &Map<String, Value>,
    mode: Mode,
    facts: &Map<String, Value>,
) -> Result<Step, ArgError> {
    let a = Args::new(module, args, PARAMS)?;
    let names = a.list(&["name", "pkg"])?;
    let update = a.bool(&["update_cache"])?.unwrap_or(false);
    if names.is_empty() && !update {
        return Err(ArgError("missing required arguments: name".into()));
    }
    let state = a
        .choice(
            "state",
            &["present", "installed", "absent", "removed", "latest"],
        )?
        .unwrap_or_else(|| "present".into());
    let mgr = match module {
        "apt" => "apt".to_string(),
        "yum" | "dnf" => "dnf".to_string(),
        _ => match facts.get("ansible_pkg_mgr").and_then(Value::as_str) {
            Some(m) if m != "unknown" => m.to_string(),
            _ => "auto".to_string(),
        },
    };
    let flag = |b: bool| if b { "1" } else { "0" };
    let mut argv: Vec<&str> = vec![&mgr, &state, flag(mode.check), flag(update)];
    argv.extend(names.iter().map(String::as_str));
    let script = with_args(SCRIPT, &argv);
    let module = module.to_string();
    Ok(Step::Remote(Remote {
        script,
        stdin: Vec::new(),
        finish: Box::new(move |out| {
            let fields = protocol::fields(&out.stdout);
            if let Some(m) = field(&fields, "missing_manager") {
                return missing_manager(&module, m);
            }
            if !out.success() {
                return protocol::failed_from(&out, "package operation failed")
                    .with("changed", false);
            }
            let changed = field(&fields, "changed") == Some("1");
            let mut outcome = Outcome::changed(changed);
            if let Some(p) = field(&fields, "packages") {
                let list: Vec<Value> = p
                    .split_whitespace()
                    .map(|s| Value::String(s.into()))
                    .collect();
                outcome = outcome.with("packages", list);
            }
            outcome
        }),
    }))
}

/// The failure Ansible reports when a manager-specific module meets a host without it.
fn missing_manager(module: &str, mgr: &str) -> Outcome {
    let msg = match mgr {
        "dnf" | "yum" => format!(
            "Could not import the dnf python module. Please install `python3-dnf` package or \
             ensure you have specified the correct ansible_python_interpreter. ({module} on a \
             host without dnf)"
        ),
        "apt" => "Could not import python modules: apt, apt_pkg. Please install python3-apt \
                  package. (apt on a host without apt)"
            .to_string(),
        _ => format!("Could not find a package manager on the host ({module})"),
    };
    Outcome::failed(msg).with("changed", false)
}

super::registry::host_module!(Package, "package", aliases: &[], free_form: false,
    params: PARAMS, about: "install or remove packages with the host's package manager",
    plan: |cx| plan("package", &cx.args, cx.mode, cx.facts));
super::registry::host_module!(Apt, "apt", aliases: &[], free_form: false,
    params: PARAMS, about: "install or remove packages with apt",
    plan: |cx| plan("apt", &cx.args, cx.mode, cx.facts));
super::registry::host_module!(Yum, "yum", aliases: &[], free_form: false,
    params: PARAMS, about: "install or remove packages with yum",
    plan: |cx| plan("yum", &cx.args, cx.mode, cx.facts));
super::registry::host_module!(Dnf, "dnf", aliases: &[], free_form: false,
    params: PARAMS, about: "install or remove packages with dnf",
    plan: |cx| plan("dnf", &cx.args, cx.mode, cx.facts));
