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

/// How to reach hosts; inventory variables (`ansible_user`, ...) win over these for their host.
#[derive(Debug, Args, Clone, Default)]
pub struct ConnectionArgs {
    /// Connect as this user (default: `ansible_user`, else ssh's own choice).
    #[arg(short = 'u', long = "user", value_name = "USER")]
    pub user: Option<String>,
    /// Private key file (default: `ansible_ssh_private_key_file`, else ssh's own choice).
    #[arg(long = "private-key", value_name = "FILE")]
    pub private_key: Option<PathBuf>,
    /// Extra ssh options, as `-o Key=Value` words.
    #[arg(
        long = "ssh-common-args",
        value_name = "ARGS",
        allow_hyphen_values = true
    )]
    pub ssh_common_args: Option<String>,
    /// Seconds to wait for a connection.
    #[arg(short = 'T', long = "timeout", default_value_t = 10)]
    pub timeout: u64,
    /// Do not check host keys (also: ANSIBLE_HOST_KEY_CHECKING=False).
    #[arg(long)]
    pub no_host_key_checking: bool,
    /// Run operations with become (sudo).
    #[arg(short = 'b', long = "become")]
    pub become_: bool,
    /// The user to become.
    #[arg(long = "become-user", default_value = "root")]
    pub become_user: String,
    /// Number of hosts to work on in parallel (default: all of them, up to 256).
    #[arg(short = 'f', long)]
    pub forks: Option<usize>,
    /// Keep each host's master connection up this many seconds after the run, for the next
    /// run to reuse (ssh's ControlPersist, as Ansible's 60s); 0 closes it at the end.
    #[arg(long = "ssh-persist", value_name = "SECONDS", default_value_t = 60)]
    pub ssh_persist: u64,
}

/// Where the inventory comes from: `-i`, else `HACTL_INVENTORY`, else `./inventory.ini`, else
/// `./inventory/`.
#[derive(Debug, Args, Clone, Default)]
pub struct InventorySource {
    /// Inventory file or folder (may be given more than once).
    #[arg(short = 'i', long = "inventory", value_name = "PATH")]
    pub inventory: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Inventory file or folder.
    pub inventory: PathBuf,
    /// Playbook to run (default: site.yml next to the inventory, then ./site.yml).
    pub playbook: Option<PathBuf>,
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
    /// Inventory file or folder (default: `HACTL_INVENTORY`, `./inventory.ini`, `./inventory/`).
    pub inventory: Option<PathBuf>,
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
    /// Inventory file or folder (default: `HACTL_INVENTORY`, `./inventory.ini`, `./inventory/`).
    pub inventory: Option<PathBuf>,
    /// Playbook (default: site.yml next to the inventory, then ./site.yml).
    pub playbook: Option<PathBuf>,
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
