//! Tracking: the inputs that move a VRRP instance's priority or put it in FAULT, with
//! keepalived 2.2.7's semantics.
//!
//! - [`script`]: `vrrp_script` runs (interval, timeout, fall, rise) producing OK/FAIL changes.
//! - [`file`]: `track_file` values read from a file.
//! - [`interface`]: `track_interface` up/down from link events (see `network::link`).
//! - [`process`]: `vrrp_track_process` quorums from scans of `/proc`.
//! - [`priority`]: the pure rule turning all of those plus weights into an effective
//!   priority or FAULT.
//! - [`argv`]: how keepalived splits a script string into argv (no shell is involved), shared
//!   with `notify`.
//!
//! Nothing here decides VRRP state; the state machine consumes the outputs.

pub mod argv;
pub mod file;
pub mod interface;
pub mod priority;
pub mod process;
pub mod script;

pub use argv::{RunAs, ScriptCommand, SplitError, split_words};
pub use priority::{Effective, Tracked, effective_priority};
pub use script::{ScriptConfig, ScriptCounter, ScriptOutcome, ScriptStatus};

/// Errors in tracking configuration. The config parser adds the file and line.
#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    #[error("script command: {0}")]
    Split(#[from] SplitError),
    #[error("unknown user {0:?}")]
    UnknownUser(String),
    #[error("unknown group {0:?}")]
    UnknownGroup(String),
}
