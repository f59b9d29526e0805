//! keepalived.conf: lexer, parser and the typed configuration the agent runs.
//!
//! The grammar and the defaults are keepalived 2.2.7's. The pipeline is
//! `source` (files and `include`s) → [`lexer`] (comments, braces, words) → `tree` (blocks) →
//! `parse`/`global`/`script`/`instance`/`vip` (keywords) → `complete` (defaults) → `validate`
//! (whole-file checks) → [`Config`]. Nothing here touches the network or the system: the
//! controller uses [`parse_str`] to check rendered configs before pushing them, and [`parse_file`]
//! only reads the file and its includes.
//!
//! # Findings and `keepalived -t`
//! `keepalived -t` exits 0 only when it has nothing to say; any reported problem makes it exit
//! non-zero even where keepalived would still run the config. Each finding here has a
//! [`Severity`]: `Warning` for what keepalived reports (the agent applies the same fallback),
//! `Error` for what the agent refuses to run, `Note` for what keepalived accepts silently but
//! the agent ignores. `hactl-agent check` exits non-zero on warnings and errors, so it agrees
//! with `keepalived -t` (see `tests/configs/verdicts.json`).
//!
//! # Differences from keepalived
//! - An instance is IPv4 or IPv6 as in keepalived (VRRPv3 over IPv6); refused with IPv6
//!   addresses: an explicit `version 2` outside strict mode, and no accept mode (the drop rules
//!   are IPv4 only). Routes and rules are IPv4 only.
//! - `$NAME=` definitions, `@id` conditional lines and `~SEQ`/`~LST` are errors.
//! - Include patterns are globs without `{a,b}` alternatives.
//! - Brace problems (a missing or extra `}`, a `{` where no block belongs) are errors; keepalived
//!   reports them and reads on, attaching the following keywords to whatever block it is in.
//! - A missing argument is an error (keepalived aborts or ignores the keyword).
//! - Interfaces are not checked. Script programs and script users are looked up only by
//!   [`parse_file`] (on the host): a `script_user` or `user` this host lacks drops the scripts
//!   it would run, with keepalived's messages; a missing track script is disabled with
//!   keepalived's warning,
//!   a missing or non-executable notify command is dropped, and only scripts that exist count
//!   for script security. For script security the host is assumed to have no
//!   `keepalived_script` user, as on Debian.
//! - `vrrp_iptables` is reported as keepalived 2.2.7 built for Debian reports it (no iptables
//!   support); the agent manages no firewall rules either way.
//! - Keywords of features the agent does not implement are errors when keepalived would change
//!   failover or the host with them (LVS, BFD, notify FIFOs, other timers...), and notes when
//!   they only tune keepalived's own process or reporting (see `keywords`); unknown keywords
//!   are warnings, as in keepalived.
//! - Routes and rules (`virtual_routes`, `virtual_rules`, `static_routes`, `static_rules`):
//!   the common options are read as keepalived reads them (see `route`); the others (MPLS,
//!   encap, nexthop, metrics such as mtu, fwmark, port ranges, goto/nop...) are errors. Table
//!   names are main, local, default and those in /etc/iproute2/rt_tables.
//! - A `static_ipaddress` without `dev` is an error (keepalived uses its default interface).

mod complete;
mod error;
mod global;
mod instance;
mod keywords;
pub mod lexer;
mod model;
mod parse;
mod route;
mod script;
mod source;
mod tree;
mod validate;
mod values;
mod vip;

use std::path::Path;

pub use error::{ConfigError, Diagnostic, Location, Severity};
pub use model::*;
pub use route::RTPROT_KEEPALIVED;
pub use tree::Stmt;

/// A configuration keepalived would run, with what was found on the way.
#[derive(Debug)]
pub struct Parsed {
    pub config: Config,
    /// Notes and warnings, in source order. No errors: those make [`ConfigError::Invalid`].
    pub warnings: Vec<Diagnostic>,
}

impl Parsed {
    /// True when `keepalived -t` would report something about this config (a warning), false
    /// when it would pass silently (notes are hactl-agent's own remarks).
    pub fn has_warnings(&self) -> bool {
        self.warnings
            .iter()
            .any(|d| d.severity >= Severity::Warning)
    }
}

/// Reads and parses a keepalived.conf and everything it includes.
///
/// This is the check on the host the config is for (`hactl-agent check` and `run`): script
/// programs are looked up on this machine, as keepalived does (see [`parse_str`] for the
/// difference).
pub fn parse_file(path: impl AsRef<Path>) -> Result<Parsed, ConfigError> {
    let mut reader = source::Reader::new();
    reader.read_top_file(path.as_ref())?;
    finish(reader, Some(validate::local_probe))
}

/// Parses config text. `origin` names it in diagnostics, and relative `include`s are looked up
/// beside it on the local filesystem: pass a path whose folder holds the included files (for a
/// config rendered for another host, a local staging folder, not the remote path). Script
/// programs are not looked up: every script counts as present and executable.
pub fn parse_str(src: &str, origin: &str) -> Result<Parsed, ConfigError> {
    let mut reader = source::Reader::new();
    reader.read_text(src, origin, Path::new(origin).parent(), 0);
    finish(reader, None)
}

/// A config parsed away from the host it is for (`hactl lint` on rendered templates).
#[derive(Debug)]
pub struct Standalone {
    /// What [`parse_str`] would say, except that `include`s are not followed (each gets a
    /// note): the included files are on the host, not where the check runs.
    pub parsed: Result<Parsed, ConfigError>,
    /// The statement tree the model was built from, so a checker can point at the line of
    /// any keyword and agree with the agent on what the file says.
    pub statements: Vec<Stmt>,
}

/// Parses config text without reading any file; see [`Standalone`].
pub fn parse_standalone(src: &str, origin: &str) -> Standalone {
    let mut reader = source::Reader::new();
    reader.follow_includes = false;
    reader.read_text(src, origin, None, 0);
    let statements = tree::build(reader.lines.clone(), &mut Vec::new());
    Standalone {
        parsed: finish(reader, None),
        statements,
    }
}

fn finish(reader: source::Reader, probe: Option<validate::Probe>) -> Result<Parsed, ConfigError> {
    let mut diagnostics = reader.diagnostics;
    let stmts = tree::build(reader.lines, &mut diagnostics);
    let mut ctx = parse::Ctx {
        diagnostics,
        host: probe.is_some(),
        ..parse::Ctx::default()
    };
    let mut config = parse::config(&mut ctx, &stmts);
    validate::validate(&mut ctx, &mut config, probe);
    let diagnostics = ctx.diagnostics;
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        return Err(ConfigError::Invalid { diagnostics });
    }
    Ok(Parsed {
        config,
        warnings: diagnostics,
    })
}

#[cfg(test)]
mod tests;
