//! Blocks: turns the stream of pieces into a tree of statements, matching `{` and `}`.
//!
//! keepalived itself never builds a tree; it reads keywords and braces as they come and
//! recovers from stray braces in ways that silently change what belongs to which block. The
//! agent must not run a config whose shape is in doubt, so brace problems here are errors
//! (keepalived reports them too, and `keepalived -t` fails on them).

use super::error::{Diagnostic, Location, Severity};
use super::source::SourceLine;

/// A keyword line with its arguments and, if a `{` followed it, its block.
#[derive(Clone, Debug)]
pub struct Stmt {
    pub loc: Location,
    pub words: Vec<String>,
    /// The text of the line (comments stripped), for keywords that re-tokenize it.
    pub raw: String,
    pub block: Option<Vec<Stmt>>,
}

impl Stmt {
    pub fn keyword(&self) -> &str {
        self.words.first().map_or("", String::as_str)
    }

    /// The argument after the keyword, if any.
    pub fn arg(&self, index: usize) -> Option<&str> {
        self.words.get(index + 1).map(String::as_str)
    }
}

struct Frame {
    /// Where the `{` of this block was; `None` for the top level.
    open: Option<Location>,
    stmts: Vec<Stmt>,
}

/// Builds the statement tree; brace problems are reported into `diagnostics`.
pub fn build(lines: Vec<SourceLine>, diagnostics: &mut Vec<Diagnostic>) -> Vec<Stmt> {
    let mut stack = vec![Frame {
        open: None,
        stmts: Vec::new(),
    }];
    for line in lines {
        let SourceLine { loc, piece } = line;
        let first = piece.words.first().map(String::as_str);
        match first {
            Some("{") => {
                let top = stack
                    .last()
                    .map(|f| f.stmts.last().is_some_and(|s| s.block.is_none()));
                if top != Some(true) {
                    error(
                        diagnostics,
                        &loc,
                        "Unexpected '{' (no keyword before it)".to_string(),
                    );
                    // An anonymous statement keeps the braces balanced; it is ignored later.
                    if let Some(frame) = stack.last_mut() {
                        frame.stmts.push(Stmt {
                            loc: loc.clone(),
                            words: Vec::new(),
                            raw: String::new(),
                            block: None,
                        });
                    }
                }
                stack.push(Frame {
                    open: Some(loc),
                    stmts: Vec::new(),
                });
            }
            Some("}") => {
                if stack.len() > 1 {
                    close(&mut stack);
                } else {
                    error(diagnostics, &loc, "Extra '}' found".to_string());
                }
            }
            _ => {
                if let Some(frame) = stack.last_mut() {
                    frame.stmts.push(Stmt {
                        loc,
                        words: piece.words,
                        raw: piece.raw,
                        block: None,
                    });
                }
            }
        }
    }
    while stack.len() > 1 {
        if let Some(Frame {
            open: Some(open), ..
        }) = stack.last()
        {
            let open = open.clone();
            error(
                diagnostics,
                &open,
                "Missing '}' for the block opened here".to_string(),
            );
        }
        close(&mut stack);
    }
    stack.pop().map(|f| f.stmts).unwrap_or_default()
}

fn close(stack: &mut Vec<Frame>) {
    if let Some(frame) = stack.pop() {
        if let Some(owner) = stack.last_mut().and_then(|f| f.stmts.last_mut()) {
            owner.block = Some(frame.stmts);
        }
    }
}

fn error(diagnostics: &mut Vec<Diagnostic>, loc: &Location, message: String) {
    diagnostics.push(Diagnostic {
        severity: Severity::Error,
        location: Some(loc.clone()),
        message,
    });
}
