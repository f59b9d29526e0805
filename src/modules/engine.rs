//! Entries for what looks like a module in a task but is control flow the engine carries out:
//! `meta`, `include_tasks`, `import_tasks`, `include_role` and `import_role`. They are listed
//! so the loader knows them; `run` is never called for them.

use futures::future::BoxFuture;

use super::Outcome;
use super::registry::{Cx, Module, Runs, Spec, Unreachable};

macro_rules! engine_entry {
    ($ty:ident, $name:literal, $free:literal, $params:expr, $about:literal) => {
        #[derive(Debug)]
        pub struct $ty;

        impl Module for $ty {
            fn spec(&self) -> &'static Spec {
                static SPEC: Spec = Spec {
                    name: $name,
                    aliases: &[],
                    runs: Runs::Engine,
                    free_form: $free,
                    params: $params,
                    check_mode: true,
                    about: $about,
                };
                &SPEC
            }

            fn run<'a>(
                &'a self,
                _cx: &'a mut Cx<'_>,
            ) -> BoxFuture<'a, Result<Outcome, Unreachable>> {
                Box::pin(async move {
                    Ok(Outcome::failed(concat!(
                        "'",
                        $name,
                        "' is carried out by the playbook engine; it cannot run as a module here"
                    )))
                })
            }
        }
    };
}

engine_entry!(
    Meta,
    "meta",
    true,
    Some(&["_raw_params"]),
    "flush_handlers, end_play, end_host, ... (playbook control)"
);
engine_entry!(
    IncludeTasks,
    "include_tasks",
    true,
    Some(&["_raw_params", "file", "apply"]),
    "run a tasks file, chosen at run time"
);
engine_entry!(
    ImportTasks,
    "import_tasks",
    true,
    Some(&["_raw_params", "file"]),
    "insert a tasks file when the playbook loads"
);
engine_entry!(
    IncludeRole,
    "include_role",
    false,
    Some(&[
        "name",
        "tasks_from",
        "vars_from",
        "defaults_from",
        "handlers_from",
        "apply",
        "public",
        "allow_duplicates",
        "rolespec_validate",
    ]),
    "run a role, chosen at run time"
);
engine_entry!(
    ImportRole,
    "import_role",
    false,
    Some(&[
        "name",
        "tasks_from",
        "vars_from",
        "defaults_from",
        "handlers_from",
        "public",
        "allow_duplicates",
        "rolespec_validate",
    ]),
    "insert a role when the playbook loads"
);
