//! The command line, as clap types. No logic lives here: `commands` acts on these structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Run Ansible-style playbooks and roles against HA front ends, an order of magnitude faster.
#[derive(Debug, Parser)]
#[command(name = "hactl", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a playbook against an inventory (like ansible-playbook).
    Apply(ApplyArgs),
    /// Run an ad hoc command on every host matching a pattern (like ansible).
    Run(RunArgs),
    /// Show an inventory the way ansible-inventory does.
    Inventory(InventoryArgs),
    /// Render a playbook's templates for every host into a folder, without touching hosts.
    Render(RenderArgs),
    /// Show every host's VRRP state and who holds each VIP, as one table.
    ///
    /// Exit 0 when all is well, 2 when a VIP is held by no host or by several (or another
    /// problem shows), 4 when a host is unreachable.
    Status(StatusArgs),
    /// Check the keepalived.conf every host would get, without touching hosts.
    ///
    /// Exit 0 when clean (or warnings only), 1 on errors.
    Lint(LintArgs),
    /// Encrypt and decrypt files and strings with Ansible Vault (like ansible-vault).
    #[command(subcommand)]
    Vault(VaultCommand),
    /// A local lab of real hosts (systemd-nspawn containers) to run playbooks against.
    #[command(subcommand)]
    Lab(LabCommand),
    /// Print the shell completion script for hactl (bash, zsh, fish, elvish, powershell).
    Completions(crate::commands::completions::CompletionsArgs),
    /// Print hactl's man page (roff), or write every page into a folder.
    Man(crate::commands::man::ManArgs),
}

/// Vault passwords, as ansible-playbook takes them. ANSIBLE_VAULT_PASSWORD_FILE names one more
/// password file.
#[derive(Debug, Args, Clone, Default)]
pub struct VaultArgs {
    /// A vault password: [LABEL@]SOURCE, where SOURCE is a file, an executable (run, its output
    /// is the password) or `prompt`. May be given more than once.
    #[arg(long = "vault-id", value_name = "[LABEL@]SOURCE")]
    pub vault_ids: Vec<String>,
    /// Vault password file; an executable one is run and its output used.
    #[arg(
        long = "vault-password-file",
        visible_alias = "vault-pass-file",
        value_name = "FILE"
    )]
    pub vault_password_files: Vec<PathBuf>,
    /// Ask for the vault password (without echo).
    #[arg(
        short = 'J',
        long = "ask-vault-pass",
        visible_alias = "ask-vault-password"
    )]
    pub ask_vault_pass: bool,
}

/// How to reach hosts, shared by every subcommand that connects (`apply`, `run`, `status`).
/// Inventory variables (`ansible_user`, ...) win over these for their host; these win over
/// the `ANSIBLE_*` environment, which wins over ansible.cfg (see [`crate::config`]).
#[derive(Debug, Args, Clone, Default)]
pub struct ConnectionArgs {
    /// Connect as this user (default: `ansible_user`, else remote_user, else ssh's own choice).
    #[arg(short = 'u', long = "user", value_name = "USER")]
    pub user: Option<String>,
    /// Private key file (default: `ansible_ssh_private_key_file`, else private_key_file).
    #[arg(long = "private-key", visible_alias = "key-file", value_name = "FILE")]
    pub private_key: Option<PathBuf>,
    /// Arguments for ssh, passed as they are (`-F FILE`, `-J HOST`, `-o Key=Value`, ...), as
    /// Ansible passes them; `ansible_ssh_common_args` wins for its host.
    #[arg(
        long = "ssh-common-args",
        value_name = "ARGS",
        allow_hyphen_values = true
    )]
    pub ssh_common_args: Option<String>,
    /// More arguments for ssh, after the common ones; `ansible_ssh_extra_args` wins for its host.
    #[arg(
        long = "ssh-extra-args",
        value_name = "ARGS",
        allow_hyphen_values = true
    )]
    pub ssh_extra_args: Option<String>,
    /// Seconds to wait for a connection (default: timeout, else 10).
    #[arg(short = 'T', long = "timeout", value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Do not check host keys (also: host_key_checking = False, ANSIBLE_HOST_KEY_CHECKING).
    #[arg(long)]
    pub no_host_key_checking: bool,
    /// Run operations with become (sudo).
    #[arg(short = 'b', long = "become")]
    pub become_: bool,
    /// The user to become (default: become_user, else root).
    #[arg(long = "become-user", value_name = "USER")]
    pub become_user: Option<String>,
    /// How to become; hactl becomes with sudo only.
    #[arg(long = "become-method", value_name = "METHOD")]
    pub become_method: Option<String>,
    /// Ask for the sudo password (without echo); it goes to sudo on its standard input.
    #[arg(short = 'K', long = "ask-become-pass")]
    pub ask_become_pass: bool,
    /// Number of hosts to work on in parallel (default: forks, else all of them, up to 256).
    #[arg(short = 'f', long)]
    pub forks: Option<usize>,
    /// Keep each host's master connection up this many seconds after the run, for the next
    /// run to reuse (ssh's ControlPersist, as Ansible's 60s); 0 closes it at the end.
    #[arg(long = "ssh-persist", value_name = "SECONDS", default_value_t = 60)]
    pub ssh_persist: u64,
    /// More output: -v module results, -vvv also the ssh command line and the script sent to
    /// each host (secrets masked).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Settings that come from ansible.cfg or the environment only (see [`crate::config`]).
    #[arg(skip)]
    pub from_config: ConfigConnection,
}

/// The connection settings with no command-line option: `ssh_args`, `remote_port` and
/// `control_path_dir` of ansible.cfg or the environment.
#[derive(Debug, Clone, Default)]
pub struct ConfigConnection {
    pub ssh_args: Option<String>,
    /// Where `ssh_args`, `ssh_common_args` and `ssh_extra_args` came from, for messages
    /// (absent: the command line).
    pub origins: std::collections::BTreeMap<&'static str, String>,
    pub remote_port: Option<u16>,
    pub control_path_dir: Option<PathBuf>,
}

impl ConnectionArgs {
    /// The user to become: `--become-user`, else become_user, else root.
    pub fn become_user(&self) -> &str {
        self.become_user.as_deref().unwrap_or("root")
    }

    /// Seconds to wait for a connection.
    pub fn timeout_secs(&self) -> u64 {
        self.timeout.unwrap_or(10)
    }
}

/// Where the inventory comes from: `-i`, else `ANSIBLE_INVENTORY`, else ansible.cfg's
/// `inventory`, else `HACTL_INVENTORY`, else `./inventory.ini`, else `./inventory/`.
#[derive(Debug, Args, Clone, Default)]
pub struct InventorySource {
    /// Inventory file or folder (may be given more than once).
    #[arg(
        short = 'i',
        long = "inventory",
        visible_alias = "inventory-file",
        value_name = "PATH"
    )]
    pub inventory: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// `[INVENTORY] [PLAYBOOK]`: with `-i`, the one word is the playbook; without, two words
    /// are the inventory and the playbook, and one word is the playbook if it is a YAML list
    /// of plays, else the inventory. The playbook defaults to site.yml next to the inventory,
    /// then ./site.yml.
    #[arg(value_name = "INVENTORY_OR_PLAYBOOK", num_args = 0..=2)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub source: InventorySource,
    /// Print the hosts each play would run on, and do nothing else.
    #[arg(long)]
    pub list_hosts: bool,
    /// Print the tasks each play would run (after --tags/--skip-tags), and do nothing else.
    #[arg(long)]
    pub list_tasks: bool,
    /// Print the tags of each play's tasks, and do nothing else.
    #[arg(long)]
    pub list_tags: bool,
    /// Check the playbook's syntax (load it, its roles and imports), and do nothing else.
    #[arg(long)]
    pub syntax_check: bool,
    /// Start at the first task of this name (as ansible-playbook: tasks before it are not run).
    #[arg(long, value_name = "NAME")]
    pub start_at_task: Option<String>,
    /// Ask before each task: (N)o/(y)es/(c)ontinue.
    #[arg(long)]
    pub step: bool,
    /// Don't change anything; report what would change.
    #[arg(short = 'C', long)]
    pub check: bool,
    /// Show a diff of every file that changes.
    #[arg(short = 'D', long)]
    pub diff: bool,
    /// Further limit the selected hosts with a pattern.
    #[arg(short = 'l', long)]
    pub limit: Option<String>,
    /// Extra variables: key=value, JSON, or @file.
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS")]
    pub extra_vars: Vec<String>,
    /// Only run tasks tagged with these tags.
    #[arg(short = 't', long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Skip tasks tagged with these tags.
    #[arg(long, value_delimiter = ',')]
    pub skip_tags: Vec<String>,
    /// Run notified handlers even on hosts that failed.
    #[arg(long)]
    pub force_handlers: bool,
    /// Show passwords, secrets, tokens and keys in diffs instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Do not lint the keepalived configs before the first task (see `hactl lint`).
    #[arg(long)]
    pub skip_lint: bool,
    /// Change VRRP pairs one host at a time without dropping requests: drain a host (its
    /// VIPs move to its peers), check, run the play on it, undrain, check; then the next.
    /// A play can ask for it with the variable `hactl_rolling: true`.
    #[arg(long)]
    pub rolling: bool,
    /// With --rolling: roll even though a pair is unhealthy before the start (the problems
    /// found then are tolerated, no others).
    #[arg(long)]
    pub force: bool,
    /// Print a JSONL event stream (one JSON object per line) instead of the human output.
    #[arg(long)]
    pub json: bool,
    /// Colour diffs: auto (a terminal without NO_COLOR), always or never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub vault: VaultArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Host pattern, e.g. `all`, `web*:&prod`, `~db[0-9]+`.
    pub pattern: String,
    /// Shell command to run on every matching host.
    pub command: Option<String>,
    #[command(flatten)]
    pub source: InventorySource,
    /// Print the matching hosts and do nothing else.
    #[arg(long)]
    pub list_hosts: bool,
    /// Further limit the selected hosts with a pattern.
    #[arg(short = 'l', long)]
    pub limit: Option<String>,
    /// A pattern term that matches nothing is an error instead of a warning.
    #[arg(long)]
    pub strict: bool,
    /// Module to run (default: shell, which runs COMMAND).
    #[arg(short = 'm', long = "module-name", default_value = "shell")]
    pub module: String,
    /// Module arguments (`key=value` words, or the command for command/shell/raw).
    #[arg(short = 'a', long = "args", value_name = "ARGS")]
    pub args: Option<String>,
    /// Print every host's output as it arrives but no grouped summary.
    #[arg(long)]
    pub no_summary: bool,
    /// Print a JSONL event stream (`host_result` per host, then `recap`) instead.
    #[arg(long)]
    pub json: bool,
    /// Print each host's output when the host is done, not line by line as it arrives.
    #[arg(long)]
    pub no_stream: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub vault: VaultArgs,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    #[command(flatten)]
    pub source: InventorySource,
    /// Print the whole inventory as JSON.
    #[arg(long, group = "action")]
    pub list: bool,
    /// Print the group tree.
    #[arg(long, group = "action")]
    pub graph: bool,
    /// Print the variables of one host as JSON.
    #[arg(long, group = "action", value_name = "HOST")]
    pub host: Option<String>,
    /// With --graph: show variables too.
    #[arg(long)]
    pub vars: bool,
    /// Group to start the graph from.
    #[arg(value_name = "GROUP")]
    pub group: Option<String>,
    /// Further limit the selected hosts with a pattern.
    #[arg(short = 'l', long)]
    pub limit: Option<String>,
    #[command(flatten)]
    pub vault: VaultArgs,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub source: InventorySource,
    /// Playbook whose templates to render.
    pub playbook: PathBuf,
    /// Output folder: DIR/<inventory_hostname>/<dest>.
    #[arg(long)]
    pub out: PathBuf,
    /// Facts for offline rendering: one JSON file per host (`HOST.json`, Ansible's setup
    /// output or a plain mapping of facts).
    #[arg(long, value_name = "DIR")]
    pub facts: Option<PathBuf>,
    /// Further limit the selected hosts with a pattern.
    #[arg(short = 'l', long)]
    pub limit: Option<String>,
    /// Extra variables: key=value, JSON, or @file.
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS")]
    pub extra_vars: Vec<String>,
    #[command(flatten)]
    pub vault: VaultArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Inventory file or folder (or `-i`; default: see `hactl apply --help`).
    #[arg(value_name = "INVENTORY")]
    pub inventory_path: Option<PathBuf>,
    #[command(flatten)]
    pub source: InventorySource,
    /// Only the hosts matching this pattern (default: every host of the inventory).
    #[arg(short = 'l', long)]
    pub limit: Option<String>,
    /// Print the fleet's status as one JSON document instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// `[INVENTORY] [PLAYBOOK]`, read as for `hactl apply`.
    #[arg(value_name = "INVENTORY_OR_PLAYBOOK", num_args = 0..=2)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub source: InventorySource,
    /// Facts: one JSON file per host (`HOST.json`), as for `hactl render`; hosts without one
    /// get placeholder facts.
    #[arg(long, value_name = "DIR")]
    pub facts: Option<PathBuf>,
    /// Further limit the selected hosts with a pattern.
    #[arg(short = 'l', long)]
    pub limit: Option<String>,
    /// Extra variables: key=value, JSON, or @file.
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS")]
    pub extra_vars: Vec<String>,
    /// Print the findings as one JSON document.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub vault: VaultArgs,
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Encrypt files in place (or to --output); no FILE or `-` reads standard input.
    Encrypt(VaultEncryptArgs),
    /// Decrypt files in place (or to --output, `-` for standard output).
    Decrypt(VaultDecryptArgs),
    /// Print the decrypted content of files.
    View(VaultViewArgs),
    /// Encrypt strings into `!vault |` YAML values to paste into a playbook or vars file.
    #[command(name = "encrypt_string", visible_alias = "encrypt-string")]
    EncryptString(VaultEncryptStringArgs),
}

#[derive(Debug, Args)]
pub struct VaultEncryptArgs {
    pub files: Vec<PathBuf>,
    /// Write here instead of in place (`-`: standard output); only with one input.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The vault id (label) whose password encrypts, when several are given.
    #[arg(long = "encrypt-vault-id", value_name = "LABEL")]
    pub encrypt_vault_id: Option<String>,
    #[command(flatten)]
    pub vault: VaultArgs,
}

#[derive(Debug, Args)]
pub struct VaultDecryptArgs {
    pub files: Vec<PathBuf>,
    /// Write here instead of in place (`-`: standard output); only with one input.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub vault: VaultArgs,
}

#[derive(Debug, Args)]
pub struct VaultViewArgs {
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub vault: VaultArgs,
}

#[derive(Debug, Args)]
pub struct VaultEncryptStringArgs {
    /// Strings to encrypt; none (or `-`) reads standard input.
    pub strings: Vec<String>,
    /// Variable names for the strings, in order.
    #[arg(short = 'n', long = "name", value_name = "NAME")]
    pub names: Vec<String>,
    /// Variable name for the string read from standard input.
    #[arg(long = "stdin-name", value_name = "NAME")]
    pub stdin_name: Option<String>,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The vault id (label) whose password encrypts, when several are given.
    #[arg(long = "encrypt-vault-id", value_name = "LABEL")]
    pub encrypt_vault_id: Option<String>,
    #[command(flatten)]
    pub vault: VaultArgs,
}

/// `hactl lab`: real hosts booted on this machine, each in a network namespace of its own,
/// reached from the lab's controller namespace only. Needs root (except `list`).
#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Boot a lab; prints its inventory, ssh config and state folder (the last line).
    ///
    /// Without N or --names, the hosts are lb1, lb2, web1 and web2 at .11 to .14 of
    /// 198.51.100.0/24: the shipped inventory/hosts.ini works unchanged against them.
    Up(LabUpArgs),
    /// Tear a lab down: containers, mounts, namespaces and state (default: the only lab up).
    Down(LabDownArgs),
    /// The labs that are up.
    List,
    /// ssh to a host of the lab, from the lab's controller namespace.
    Ssh(LabSshArgs),
    /// Run a command in the lab's controller namespace, where the lab's hosts (and nothing
    /// else) are reachable: `hactl lab exec -- hactl apply inventory/hosts.ini`.
    Exec(LabExecArgs),
}

#[derive(Debug, Args)]
pub struct LabUpArgs {
    /// Boot N hosts named h1..hN.
    #[arg(value_name = "N", conflicts_with = "names")]
    pub count: Option<usize>,
    /// The hosts' names, in address order (the first gets .11).
    #[arg(long, value_name = "A,B,...")]
    pub names: Option<String>,
    /// The lab's name: 2 to 8 lowercase letters and digits (its namespaces are NAME-ctl, ...).
    #[arg(short = 'n', long, default_value = "lab")]
    pub name: String,
    /// The lab's /24: 198.51.100 or 203.0.113.
    #[arg(long, value_name = "A.B.C", default_value = "198.51.100")]
    pub net: String,
    /// Leave keepalived's unit enabled on the hosts (for -e vrrp_engine=keepalived).
    #[arg(long)]
    pub keepalived: bool,
}

#[derive(Debug, Args)]
pub struct LabDownArgs {
    /// The lab to tear down (default: the only lab up).
    pub name: Option<String>,
    /// Tear down every lab.
    #[arg(long, conflicts_with = "name")]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct LabSshArgs {
    /// The lab (default: the only lab up).
    #[arg(short = 'n', long)]
    pub name: Option<String>,
    /// The host, by its name in the lab.
    pub host: String,
    /// A command to run there (default: a login shell).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LabExecArgs {
    /// The lab (default: the only lab up).
    #[arg(short = 'n', long)]
    pub name: Option<String>,
    /// The command and its arguments (after `--`).
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}
