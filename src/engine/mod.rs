//! The one engine that runs playbooks, for `hactl apply` (on hosts), `hactl render` and
//! `hactl lint` (offline), so no playbook is accepted by one and refused by another:
//! - [`walk`]: the walk over plays, roles, blocks and includes (which task comes next, for
//!   which hosts);
//! - [`schedule`]: a scheduler with no I/O: failures, rescues, handlers and notifications,
//!   `run_once`, `any_errors_fatal`, `max_fail_percentage`, `meta`;
//! - [`exec`]: the executor that carries out each step over the hosts' transports (or
//!   offline) and feeds results back;
//! - [`task`]: one task on one host (loops, `when`, the module from the registry, `until`,
//!   `register`, `changed_when`/`failed_when`);
//! - [`preflight`]: apply's refusal, before any change, of a task whose module hactl lacks
//!   that a host would run;
//! - [`events`] and [`output`]: what happens, as events handed to an injected sink, and the
//!   sink that prints them as ansible-playbook does.

pub mod batches;
pub mod events;
pub mod exec;
pub mod loops;
pub mod output;
pub mod pending;
pub mod preflight;
pub mod schedule;
pub mod task;
pub mod walk;

pub use events::{Event, Sink};
pub use exec::{BatchHook, Hook, Mode, Options, exit_code, run};
pub use schedule::Stats;
