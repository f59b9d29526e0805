//! One function per subcommand. `main` calls [`run()`], which dispatches here.

use std::process::ExitCode;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::cli::{Cli, Command, ConfigConnection, ConnectionArgs, InventorySource};
use crate::config;

pub mod apply;
pub mod completions;
pub mod gate;
pub mod inventory;
pub mod lab;
pub mod lint;
pub mod listing;
pub mod man;
pub mod render;
pub mod run;
pub mod status;
pub mod vault;

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Apply(args) => apply::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Inventory(args) => inventory::run(args),
        Command::Render(args) => render::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Vault(cmd) => vault::run(&cmd),
        Command::Lab(cmd) => lab::run(&cmd),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
    }
}

/// The inventory sources: `-i`, else `ANSIBLE_INVENTORY`, else ansible.cfg's `inventory`,
/// else `HACTL_INVENTORY`, `./inventory.ini`, `./inventory/`.
pub(crate) fn inventory_sources(cli: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let settings = config::get()?;
    let configured = settings.inventory.as_ref().map(|s| s.value.as_slice());
    Ok(crate::inventory::resolve_sources(cli, configured)?)
}

/// The inventory and the playbook of `hactl apply|lint [INVENTORY] [PLAYBOOK]` with `-i`:
/// with `-i`, one word is the playbook (two are an error: the inventory given twice); without,
/// two words are inventory and playbook, and one word is the playbook when it reads as a list
/// of plays, else the inventory.
pub(crate) fn inventory_and_playbook(
    source: &InventorySource,
    words: &[PathBuf],
) -> anyhow::Result<(Vec<PathBuf>, Option<PathBuf>)> {
    let given = &source.inventory;
    match words {
        [] => Ok((inventory_sources(given)?, None)),
        [inv, pb] if given.is_empty() => Ok((vec![inv.clone()], Some(pb.clone()))),
        [inv, _] => bail!(
            "the inventory is given twice: -i {} and {}; give it one way",
            given
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" -i "),
            inv.display()
        ),
        [one] if !given.is_empty() || is_playbook(one) => {
            Ok((inventory_sources(given)?, Some(one.clone())))
        }
        [one] => Ok((vec![one.clone()], None)),
        _ => bail!("at most two words: [INVENTORY] [PLAYBOOK]"),
    }
}

/// The inventory of `hactl status [INVENTORY]` or `-i`, not both.
pub(crate) fn one_inventory(
    source: &InventorySource,
    word: Option<&PathBuf>,
) -> anyhow::Result<Vec<PathBuf>> {
    match word {
        Some(w) if !source.inventory.is_empty() => bail!(
            "the inventory is given twice: -i {} and {}; give it one way",
            source.inventory[0].display(),
            w.display()
        ),
        Some(w) => Ok(vec![w.clone()]),
        None => inventory_sources(&source.inventory),
    }
}

/// Whether `path` is a playbook: a `.yml`/`.yaml` file whose first line of content starts a
/// YAML list (a YAML inventory is a mapping).
fn is_playbook(path: &Path) -> bool {
    let yaml = path.extension().is_some_and(|e| e == "yml" || e == "yaml");
    if !yaml || !path.is_file() {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    text.lines()
        .map(str::trim_end)
        .find(|l| !l.trim().is_empty() && !l.starts_with('#') && *l != "---")
        .is_some_and(|l| l == "-" || l.starts_with("- ") || l.starts_with("["))
}

/// The command line's connection options completed from the environment and ansible.cfg
/// (command line > environment > ansible.cfg > hactl's defaults). `--become-method` (or
/// become_method) other than sudo is an error; `-K` (or become_ask_pass) asks for the sudo
/// password now, before any host is contacted.
pub(crate) fn connection(args: &ConnectionArgs) -> anyhow::Result<ConnectionArgs> {
    let s = config::get()?;
    let mut c = args.clone();
    let value = |o: &Option<config::Setting<String>>| o.as_ref().map(|s| s.value.clone());
    c.user = c.user.or_else(|| value(&s.remote_user));
    c.private_key = c
        .private_key
        .or_else(|| s.private_key_file.as_ref().map(|k| k.value.clone()));
    let mut origins = std::collections::BTreeMap::new();
    let from = |name: &str, o: &Option<config::Setting<String>>| {
        o.as_ref().map(|s| format!("{name} ({})", s.origin))
    };
    if c.ssh_common_args.is_none() {
        c.ssh_common_args = value(&s.ssh_common_args);
        origins.extend(from("ssh_common_args", &s.ssh_common_args).map(|o| ("ssh_common_args", o)));
    }
    if c.ssh_extra_args.is_none() {
        c.ssh_extra_args = value(&s.ssh_extra_args);
        origins.extend(from("ssh_extra_args", &s.ssh_extra_args).map(|o| ("ssh_extra_args", o)));
    }
    origins.extend(from("ssh_args", &s.ssh_args).map(|o| ("ssh_args", o)));
    c.timeout = c.timeout.or(s.timeout.as_ref().map(|t| t.value));
    if s.host_key_checking.as_ref().is_some_and(|h| !h.value) {
        c.no_host_key_checking = true;
    }
    c.become_ = c.become_ || s.become_.as_ref().is_some_and(|b| b.value);
    c.become_user = c.become_user.or_else(|| value(&s.become_user));
    c.ask_become_pass = c.ask_become_pass || s.become_ask_pass.as_ref().is_some_and(|b| b.value);
    c.forks = c.forks.or(s.forks.as_ref().map(|f| f.value));
    if c.forks == Some(0) {
        bail!("--forks must be above 0");
    }
    let method = match (&c.become_method, &s.become_method) {
        (Some(m), _) => Some((m.clone(), "--become-method".to_string())),
        (None, Some(m)) => Some((m.value.clone(), format!("become_method, {}", m.origin))),
        (None, None) => None,
    };
    if let Some((m, from)) = method {
        let name = m
            .trim()
            .strip_prefix("ansible.builtin.")
            .unwrap_or(m.trim());
        if name != "sudo" {
            bail!(
                "become method '{m}' (from {from}) is not supported: hactl becomes with sudo only"
            );
        }
        c.become_method = Some("sudo".into());
    }
    c.from_config = ConfigConnection {
        ssh_args: value(&s.ssh_args),
        origins,
        remote_port: s.remote_port.as_ref().map(|p| p.value),
        control_path_dir: s.control_path_dir.as_ref().map(|d| d.value.clone()),
    };
    crate::report::set_verbosity(c.verbose);
    if c.ask_become_pass {
        let password =
            ask_password("BECOME password: ").context("cannot read the become password")?;
        crate::run::target::set_become_password(password);
    }
    Ok(c)
}

/// At `-v`, the line ansible-playbook and ansible print first: which config file is read.
pub(crate) fn announce_config() -> anyhow::Result<()> {
    if crate::report::verbosity() >= 1 {
        crate::report::out(&match &config::get()?.file {
            Some(f) => format!("Using {} as config file", f.display()),
            None => "No config file found; using defaults".to_string(),
        });
    }
    Ok(())
}

/// Asks for a password at the terminal without echo; with no terminal at all (a script, a
/// pipe), reads one line of standard input instead, as Python's getpass falls back.
fn ask_password(prompt: &str) -> std::io::Result<String> {
    use std::io::IsTerminal as _;
    match rpassword::prompt_password(prompt) {
        Ok(p) => Ok(p),
        Err(_) if !std::io::stdin().is_terminal() => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            Ok(line.trim_end_matches(['\n', '\r']).to_string())
        }
        Err(e) => Err(e),
    }
}
