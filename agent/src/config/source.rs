//! Reading config files: the top-level file and everything it `include`s, as one stream of
//! lexed pieces, each with the file and line it came from.
//!
//! keepalived expands `include PATTERN` where it stands, line by line, so an included file may
//! even hold part of a block. A relative pattern is taken relative to the directory of the file
//! that includes it (keepalived changes into that directory while reading a file). Matches are
//! read in sorted order; directories and executable files are skipped, and a pattern that matches
//! nothing is not an error, all as keepalived does. This is the only module that touches files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::{ConfigError, Diagnostic, Location, Severity};
use super::lexer::{self, Line, Piece};

/// A lexed piece and where it came from.
#[derive(Clone, Debug)]
pub struct SourceLine {
    pub loc: Location,
    pub piece: Piece,
}

/// Includes deeper than this are taken to be a loop (keepalived itself would recurse forever).
const MAX_INCLUDE_DEPTH: usize = 16;

pub(crate) struct Reader {
    pub lines: Vec<SourceLine>,
    pub diagnostics: Vec<Diagnostic>,
    /// Off for configs checked away from their host: their includes are that host's files.
    pub follow_includes: bool,
}

impl Reader {
    pub fn new() -> Self {
        Reader {
            lines: Vec::new(),
            diagnostics: Vec::new(),
            follow_includes: true,
        }
    }

    /// Reads the top-level file; failing to read it is the one I/O error that is fatal.
    pub fn read_top_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8_lossy(&text);
        self.read_text(&text, &path.to_string_lossy(), path.parent(), 0);
        Ok(())
    }

    /// Reads config text; `dir` is where its relative includes are looked up.
    pub fn read_text(&mut self, text: &str, origin: &str, dir: Option<&Path>, depth: usize) {
        let file: Arc<str> = Arc::from(origin);
        for (index, physical) in text.lines().enumerate() {
            let loc = Location {
                file: file.clone(),
                line: u32::try_from(index + 1).unwrap_or(u32::MAX),
            };
            let (line, problems) = lexer::lex_line(physical);
            for problem in problems {
                self.push(Severity::Warning, &loc, problem.to_string());
            }
            match line {
                Line::Blank => {}
                Line::Pieces(pieces) => {
                    self.lines
                        .extend(pieces.into_iter().map(|piece| SourceLine {
                            loc: loc.clone(),
                            piece,
                        }));
                }
                Line::Unsupported(what) => {
                    self.push(
                        Severity::Error,
                        &loc,
                        format!("{what} are not supported by hactl-agent"),
                    );
                }
                Line::Include(pattern) if !self.follow_includes => self.push(
                    Severity::Note,
                    &loc,
                    format!("include '{pattern}' not followed (its files are on the host)"),
                ),
                Line::Include(pattern) => self.include(&pattern, dir, &loc, depth),
            }
        }
    }

    fn include(&mut self, pattern: &str, dir: Option<&Path>, loc: &Location, depth: usize) {
        if depth >= MAX_INCLUDE_DEPTH {
            self.push(
                Severity::Error,
                loc,
                format!("includes nested more than {MAX_INCLUDE_DEPTH} deep (an include loop?)"),
            );
            return;
        }
        if pattern.is_empty() {
            return;
        }
        let full: PathBuf = match dir {
            Some(dir) if Path::new(pattern).is_relative() => dir.join(pattern),
            _ => PathBuf::from(pattern),
        };
        let full = full.to_string_lossy().into_owned();
        let paths = match glob::glob(&full) {
            Ok(paths) => paths,
            Err(e) => {
                self.push(
                    Severity::Note,
                    loc,
                    format!("include '{pattern}': bad pattern ({e}), skipped"),
                );
                return;
            }
        };
        let mut matched = false;
        for entry in paths {
            let path = match entry {
                Ok(path) => path,
                Err(e) => {
                    self.push(
                        Severity::Note,
                        loc,
                        format!("include '{pattern}': {e}, skipped"),
                    );
                    continue;
                }
            };
            matched = true;
            self.include_file(&path, loc, depth);
        }
        if !matched {
            self.push(
                Severity::Note,
                loc,
                format!("include '{pattern}' matched no file"),
            );
        }
    }

    fn include_file(&mut self, path: &Path, loc: &Location, depth: usize) {
        use std::os::unix::fs::PermissionsExt;
        let shown = path.display();
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() || meta.permissions().mode() & 0o111 != 0 => {
                self.push(
                    Severity::Note,
                    loc,
                    format!("included '{shown}' is not a regular non-executable file, skipped"),
                );
                return;
            }
            Ok(_) => {}
            Err(e) => {
                self.push(
                    Severity::Note,
                    loc,
                    format!("included '{shown}': {e}, skipped"),
                );
                return;
            }
        }
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                self.read_text(&text, &path.to_string_lossy(), path.parent(), depth + 1);
            }
            Err(e) => self.push(
                Severity::Note,
                loc,
                format!("included '{shown}': {e}, skipped"),
            ),
        }
    }

    fn push(&mut self, severity: Severity, loc: &Location, message: String) {
        self.diagnostics.push(Diagnostic {
            severity,
            location: Some(loc.clone()),
            message,
        });
    }
}
