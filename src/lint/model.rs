//! One host's rendered config, parsed once by the agent's parser, with helpers that find the
//! line of a keyword in the statement tree (the typed config knows values, the tree knows
//! where they were written).

use hactl_agent::config::{self, Config, Diagnostic, Stmt};

/// A rendered keepalived config for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostConfig {
    pub host: String,
    /// Where it goes on the host, which is also how findings name it.
    pub file: String,
    /// The template it was rendered from, when known.
    pub src: Option<String>,
    /// The task that writes it (`task 'NAME' at FILE:LINE`), when known.
    pub task: Option<String>,
    /// That task's `mode:` argument, as written.
    pub mode: Option<String>,
    pub text: String,
}

/// A config as the agent reads it.
#[derive(Debug)]
pub struct Parsed<'a> {
    pub host: &'a str,
    pub file: &'a str,
    /// The task that writes the file, and its `mode:`.
    pub task: Option<&'a str>,
    pub mode: Option<&'a str>,
    /// `None` when the file has errors (they are in `diagnostics`).
    pub config: Option<Config>,
    pub diagnostics: Vec<Diagnostic>,
    pub statements: Vec<Stmt>,
}

impl<'a> Parsed<'a> {
    pub fn new(c: &'a HostConfig) -> Self {
        let standalone = config::parse_standalone(&c.text, &c.file);
        let (config, diagnostics) = match standalone.parsed {
            Ok(p) => (Some(p.config), p.warnings),
            Err(e) => (None, e.diagnostics().to_vec()),
        };
        Parsed {
            host: &c.host,
            file: &c.file,
            task: c.task.as_deref(),
            mode: c.mode.as_deref(),
            config,
            diagnostics,
            statements: standalone.statements,
        }
    }

    /// The `vrrp_instance NAME` statement.
    pub fn instance_stmt(&self, name: &str) -> Option<&Stmt> {
        self.statements
            .iter()
            .find(|s| s.keyword() == "vrrp_instance" && s.arg(0) == Some(name))
    }

    /// The line of `path` (nested keywords) inside instance `name`, else of the instance.
    pub fn line(&self, name: &str, path: &[&str]) -> u32 {
        let Some(top) = self.instance_stmt(name) else {
            return 0;
        };
        let mut st = top;
        for kw in path {
            // keepalived reads keywords in order, so the last one of a name wins.
            match st
                .block
                .as_deref()
                .and_then(|b| b.iter().rev().find(|s| s.keyword() == *kw))
            {
                Some(inner) => st = inner,
                None => break,
            }
        }
        st.loc.line
    }

    /// The line of the entry `entry` of an instance's `block` (`track_script { chk }`).
    pub fn entry_line(&self, name: &str, block: &str, entry: &str) -> Option<u32> {
        self.instance_stmt(name)?
            .block
            .as_deref()?
            .iter()
            .rev()
            .find(|s| s.keyword() == block)?
            .block
            .as_deref()?
            .iter()
            .find(|s| s.keyword() == entry)
            .map(|s| s.loc.line)
    }
}

/// Descends into blocks: every statement of a tree, depth first.
pub fn walk<'s>(stmts: &'s [Stmt], out: &mut Vec<(&'s Stmt, Option<&'s Stmt>)>) {
    fn go<'s>(
        stmts: &'s [Stmt],
        parent: Option<&'s Stmt>,
        out: &mut Vec<(&'s Stmt, Option<&'s Stmt>)>,
    ) {
        for s in stmts {
            out.push((s, parent));
            if let Some(b) = &s.block {
                go(b, Some(s), out);
            }
        }
    }
    go(stmts, None, out);
}
