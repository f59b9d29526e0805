//! The one list of modules. Every module is a type implementing [`Module`] in its own file under
//! `src/modules/`, and one line in [`MODULES`] below. The playbook loader (which modules
//! exist, which take a free-form string), `hactl apply`, `hactl render`, `hactl lint` and
//! `hactl run -m` all read this list; nothing else names modules.
//!
//! To add a module: write `src/modules/NAME.rs` with a unit struct implementing [`Module`]
//! (its [`Spec`] and its `run`), declare it in `src/modules/mod.rs`, and add it to
//! [`MODULES`]. The README's contributor section says the same.

use std::path::Path;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::{Mode, Outcome, Status, Step};
use crate::transport::{ExecOutput, Transport, TransportError};

/// Where a module does its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    /// Only on the controller (`debug`, `set_fact`, `assert`, ...): `hactl render` and
    /// `hactl lint` run it too.
    Controller,
    /// One or more scripts on the host.
    Host,
    /// Both: the controller prepares (renders a template), the host applies.
    Both,
    /// Not a module but control flow the engine carries out (`include_tasks`, `meta`, ...).
    Engine,
}

/// What a module is: its names, where it runs, and the arguments it takes.
#[derive(Debug)]
pub struct Spec {
    pub name: &'static str,
    /// Other names that run the same module (legacy names, collection names).
    pub aliases: &'static [&'static str],
    pub runs: Runs,
    /// Whether a string argument is a free-form command (`shell: ls`) rather than `k=v` pairs.
    pub free_form: bool,
    /// The parameters it accepts (checked when it runs); `None` takes any (`set_fact`).
    pub params: Option<&'static [&'static str]>,
    /// Whether it honours check mode by reporting what it would change (otherwise it is
    /// skipped in check mode, as Ansible skips modules without check-mode support).
    pub check_mode: bool,
    /// One line for `hactl run -m` help and error hints.
    pub about: &'static str,
}

/// A module: its [`Spec`] and what it does on one host for one loop item.
pub trait Module: Send + Sync + std::fmt::Debug {
    fn spec(&self) -> &'static Spec;

    /// Runs the module with the rendered arguments in `cx`.
    fn run<'a>(&'a self, cx: &'a mut Cx<'_>) -> BoxFuture<'a, Result<Outcome, Unreachable>>;
}

/// The host could not be reached while running a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable(pub String);

/// A connection that can run scripts, as a trait object (the [`Transport`] trait itself is
/// not object-safe).
pub trait Exec: Send + Sync {
    fn exec_boxed<'a>(
        &'a self,
        script: &'a str,
        stdin: &'a [u8],
    ) -> BoxFuture<'a, Result<ExecOutput, TransportError>>;

    /// As [`Exec::exec_boxed`], handing each stdout line to `on_line` as it arrives.
    fn exec_streaming_boxed<'a>(
        &'a self,
        script: &'a str,
        stdin: &'a [u8],
        on_line: &'a (dyn Fn(&str) + Send + Sync),
    ) -> BoxFuture<'a, Result<ExecOutput, TransportError>>;
}

impl<T: Transport> Exec for T {
    fn exec_boxed<'a>(
        &'a self,
        script: &'a str,
        stdin: &'a [u8],
    ) -> BoxFuture<'a, Result<ExecOutput, TransportError>> {
        Box::pin(self.exec(script, stdin))
    }

    fn exec_streaming_boxed<'a>(
        &'a self,
        script: &'a str,
        stdin: &'a [u8],
        on_line: &'a (dyn Fn(&str) + Send + Sync),
    ) -> BoxFuture<'a, Result<ExecOutput, TransportError>> {
        Box::pin(self.exec_streaming(script, stdin, on_line))
    }
}

/// A file `hactl render` or `hactl lint` produced instead of pushing it.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub host: String,
    /// The destination path on the host.
    pub dest: String,
    /// The task's `src`, when it has one.
    pub src: Option<String>,
    /// The `mode` the task asks for, as written.
    pub mode: Option<String>,
    /// Which task rendered it: `task 'NAME' at FILE:LINE:COL`.
    pub task: String,
    pub bytes: Vec<u8>,
}

/// Where a task runs.
pub enum Where<'a> {
    /// On a live host, through its connection; scripts run as `become_user` when set.
    Host {
        conn: &'a dyn Exec,
        become_user: Option<&'a str>,
        /// Where the lines a command prints go as they come (`hactl run`), if anywhere.
        stream: Option<&'a (dyn Fn(&str) + Send + Sync)>,
        /// `environment`: variables exported for the module's scripts.
        env: &'a [(String, String)],
    },
    /// The recorded output of a finished `async` job, read back through its module
    /// (`async_status`): the module's first script "runs" and gets it.
    Replay(std::sync::Mutex<Option<ExecOutput>>),
    /// Nowhere: `hactl render` and `hactl lint`. Controller modules run, files are rendered
    /// into `rendered` (when `keep` says so), host modules report [`Outcome::offline`].
    Offline {
        rendered: &'a mut Vec<Rendered>,
        keep: Option<fn(&str) -> bool>,
    },
}

impl std::fmt::Debug for Where<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Where::Host { become_user, .. } => f
                .debug_struct("Host")
                .field("become_user", become_user)
                .finish_non_exhaustive(),
            Where::Offline { rendered, .. } => f
                .debug_struct("Offline")
                .field("rendered", &rendered.len())
                .finish_non_exhaustive(),
            Where::Replay(_) => f.write_str("Replay"),
        }
    }
}

/// Everything a module sees for one run on one host.
#[derive(Debug)]
pub struct Cx<'a> {
    /// The module's name as the task gave it (an alias stays an alias: `yum`, `apt`).
    pub module: &'a str,
    /// The arguments, rendered, `omit` removed.
    pub args: Map<String, Value>,
    pub mode: Mode,
    /// The inventory name of the host.
    pub host: &'a str,
    /// The host's gathered facts.
    pub facts: &'a Map<String, Value>,
    /// The task's variables, for modules that evaluate expressions (`assert`, `debug var=`).
    pub vars: &'a minijinja::Value,
    pub templar: &'a crate::template::Templar,
    /// The task being run.
    pub task: &'a crate::playbook::Task,
    /// The role the task belongs to (its folder), for finding `templates/` and `files/`.
    pub role_path: Option<&'a Path>,
    pub playbook_dir: &'a Path,
    pub at: Where<'a>,
    /// `async`/`poll`: run the host script as a background job.
    pub async_job: Option<super::async_job::AsyncJob>,
    /// Where a job's progress goes while the controller polls it.
    pub on_async: Option<super::async_job::OnProgress<'a>>,
}

impl Cx<'_> {
    /// Runs a planned step on the host (as the become user), or reports that it cannot run
    /// offline.
    pub async fn step(&self, step: Step) -> Result<Outcome, Unreachable> {
        match step {
            Step::Done(o) => Ok(o),
            Step::Remote(remote) => {
                if let (Some(job), Where::Host { .. }) = (self.async_job, &self.at) {
                    return self.step_async(job, remote).await;
                }
                let Some(out) = self.exec(&remote.script, &remote.stdin).await? else {
                    return Ok(Outcome::offline(self.module));
                };
                let mut outcome = (remote.finish)(out);
                if self.mode.check && outcome.status != Status::Skipped {
                    outcome
                        .result
                        .insert("check_mode".into(), Value::Bool(true));
                }
                Ok(outcome)
            }
        }
    }

    /// Runs a script on the host as the become user; `None` offline.
    pub async fn exec(
        &self,
        script: &str,
        stdin: &[u8],
    ) -> Result<Option<ExecOutput>, Unreachable> {
        match &self.at {
            Where::Offline { .. } => Ok(None),
            Where::Replay(recorded) => match recorded.lock().ok().and_then(|mut r| r.take()) {
                Some(out) => Ok(Some(out)),
                None => Err(Unreachable(
                    "async_status can read back only a module that runs one script".into(),
                )),
            },
            Where::Host {
                conn,
                become_user,
                stream,
                env,
            } => {
                let with_env;
                let script = if env.is_empty() {
                    script
                } else {
                    let exports: String = env
                        .iter()
                        .map(|(k, v)| format!("export {k}={}\n", crate::transport::shell_quote(v)))
                        .collect();
                    with_env = format!("{exports}{script}");
                    with_env.as_str()
                };
                let (script, stdin) = crate::run::target::wrap(script, stdin, *become_user);
                // A no_log task shows nothing of itself, its script included.
                if self.task.keywords.no_log != Some(true) {
                    crate::transport::trace_script(self.host, &script);
                }
                let out = match stream {
                    Some(on_line) => conn.exec_streaming_boxed(&script, &stdin, *on_line).await,
                    None => conn.exec_boxed(&script, &stdin).await,
                };
                out.map(Some).map_err(|e| Unreachable(e.to_string()))
            }
        }
    }

    /// Whether the task runs without a host (`hactl render`, `hactl lint`).
    pub fn offline(&self) -> bool {
        matches!(self.at, Where::Offline { .. })
    }
}

/// Runs `module` on a connection outside any play (tests, tools): its arguments as given, no
/// variables but the host's `facts`.
pub async fn run_on(
    conn: &dyn Exec,
    module: &str,
    args: Map<String, Value>,
    mode: Mode,
    facts: &Map<String, Value>,
) -> Result<Outcome, Unreachable> {
    let Some(m) = find(module) else {
        return Ok(Outcome::failed(format!("hactl has no module '{module}'")));
    };
    let task = crate::playbook::Task::adhoc(module, args.clone().into_iter().collect());
    let templar = crate::template::Templar::new();
    let vars = minijinja::Value::from_pairs(std::iter::empty::<(String, minijinja::Value)>());
    let dir = std::env::current_dir().unwrap_or_default();
    let mut cx = Cx {
        module,
        args,
        mode,
        host: "",
        facts,
        vars: &vars,
        templar: &templar,
        task: &task,
        role_path: None,
        playbook_dir: &dir,
        at: Where::Host {
            conn,
            become_user: None,
            stream: None,
            env: &[],
        },
        async_job: None,
        on_async: None,
    };
    m.run(&mut cx).await
}

/// Every module hactl runs, in the order `hactl run -m` lists them.
pub static MODULES: &[&dyn Module] = &[
    &super::command::Command,
    &super::command::Shell,
    &super::command::Raw,
    &super::copy::Copy,
    &super::template::Template,
    &super::lineinfile::LineInFile,
    &super::file::File,
    &super::service::Service,
    &super::service::Systemd,
    &super::package::Package,
    &super::package::Apt,
    &super::package::Yum,
    &super::package::Dnf,
    &super::ping::Ping,
    &super::debug::Debug,
    &super::set_fact::SetFact,
    &super::assert::Assert,
    &super::fail::Fail,
    &super::setup::Setup,
    &super::add_host::AddHost,
    &super::async_job::AsyncStatus,
    &super::group_by::GroupBy,
    &super::engine::Meta,
    &super::engine::IncludeTasks,
    &super::engine::ImportTasks,
    &super::engine::IncludeRole,
    &super::engine::ImportRole,
    &super::include_vars::IncludeVars,
    &super::user::User,
    &super::group::Group,
    &super::authorized_key::AuthorizedKey,
    &super::get_url::GetUrl,
    &super::uri::Uri,
    &super::yum_repository::YumRepository,
    &super::debconf::Debconf,
    &super::stat::Stat,
    &super::slurp::Slurp,
    &super::fetch::Fetch,
    &super::blockinfile::BlockInFile,
    &super::replace::Replace,
    &super::ini_file::IniFile,
    &super::sysctl::Sysctl,
    &super::cron::Cron,
    &super::hostname::Hostname,
    &super::wait_for::WaitFor,
    &super::pause::Pause,
    &super::tempfile::Tempfile,
    &super::find::Find,
    &super::unarchive::Unarchive,
    &super::service_facts::ServiceFacts,
    &super::package_facts::PackageFacts,
    &super::make::Make,
    &super::timezone::Timezone,
    &super::apt_key::AptKey,
    &super::apt_repository::AptRepository,
    &super::git::Git,
    &super::pip::Pip,
    &super::mount::Mount,
];

/// Whether a module runs once for the whole batch, on its first host (Ansible's
/// BYPASS_HOST_LOOP): `add_host` and `pause`.
pub fn once_per_batch(name: &str) -> bool {
    matches!(canonical(name), Some("add_host" | "pause"))
}

/// Prefixes that name builtin modules: `ansible.builtin.copy` is `copy`.
const BUILTIN_PREFIXES: &[&str] = &["ansible.builtin.", "ansible.legacy."];

/// The module called `name` (a builtin's short or long name, or an alias).
pub fn find(name: &str) -> Option<&'static dyn Module> {
    let short = BUILTIN_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    MODULES.iter().copied().find(|m| {
        let s = m.spec();
        s.name == short || s.aliases.contains(&short) || s.aliases.contains(&name)
    })
}

/// The canonical name of the module called `name`, if hactl has it.
pub fn canonical(name: &str) -> Option<&'static str> {
    find(name).map(|m| m.spec().name)
}

/// Every name a module can be called by, short names only (for hints).
pub fn names() -> Vec<&'static str> {
    MODULES.iter().map(|m| m.spec().name).collect()
}

impl Outcome {
    /// What a host-side module reports when there is no host (`hactl render`, `hactl lint`).
    pub fn offline(module: &str) -> Outcome {
        Outcome::changed(false).with("skipped_offline", module.to_string())
    }
}

impl Cx<'_> {
    /// Runs a host module's planned step, or reports its argument error as a failed task.
    pub async fn planned(
        &self,
        plan: Result<Step, super::ArgError>,
    ) -> Result<Outcome, Unreachable> {
        match plan {
            Ok(step) => self.step(step).await,
            Err(e) => Ok(Outcome::failed(e.0)),
        }
    }
}

/// Declares a host module whose work is one planned [`Step`]: its type, its [`Spec`] and a
/// function from the [`Cx`] to the plan.
macro_rules! host_module {
    ($ty:ident, $name:literal, aliases: $aliases:expr, free_form: $free:literal,
     params: $params:expr, about: $about:literal, plan: $plan:expr) => {
        $crate::modules::registry::host_module!($ty, $name, aliases: $aliases, free_form: $free,
            params: $params, check_mode: true, about: $about, plan: $plan);
    };
    ($ty:ident, $name:literal, aliases: $aliases:expr, free_form: $free:literal,
     params: $params:expr, check_mode: $check:literal, about: $about:literal,
     plan: $plan:expr) => {
        #[derive(Debug)]
        pub struct $ty;

        impl $crate::modules::registry::Module for $ty {
            fn spec(&self) -> &'static $crate::modules::registry::Spec {
                static SPEC: $crate::modules::registry::Spec = $crate::modules::registry::Spec {
                    name: $name,
                    aliases: $aliases,
                    runs: $crate::modules::registry::Runs::Host,
                    free_form: $free,
                    params: Some($params),
                    check_mode: $check,
                    about: $about,
                };
                &SPEC
            }

            fn run<'a>(
                &'a self,
                cx: &'a mut $crate::modules::registry::Cx<'_>,
            ) -> futures::future::BoxFuture<
                'a,
                Result<$crate::modules::Outcome, $crate::modules::registry::Unreachable>,
            > {
                let plan: fn(
                    &$crate::modules::registry::Cx<'_>,
                ) -> Result<$crate::modules::Step, $crate::modules::ArgError> = $plan;
                Box::pin(async move {
                    let step = plan(cx);
                    cx.planned(step).await
                })
            }
        }
    };
}
pub(crate) use host_module;
