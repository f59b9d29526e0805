//! `--start-at-task` and `--step` for `hactl apply`, as a [`TaskGate`] the engine asks before
//! each task.

use std::io::{BufRead as _, Write as _};
use std::sync::Mutex;

use crate::engine::schedule::TaskGate;
use crate::playbook::Task;

/// Passes over tasks until the first whose name matches `--start-at-task` (then every later
/// task runs, in this play and the next ones), and with `--step` asks before each task.
#[derive(Debug)]
pub struct Gate {
    state: Mutex<State>,
}

struct State {
    /// The `--start-at-task` pattern, until a task matched it.
    start_at: Option<String>,
    /// Whether to ask before each task (until the user answers `c`).
    step: bool,
    /// Answers to `--step`'s question, a line each (standard input; tests give a buffer).
    answers: Option<Box<dyn std::io::BufRead + Send>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("start_at", &self.start_at)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

impl Gate {
    pub fn new(start_at: Option<String>, step: bool) -> Gate {
        Gate {
            state: Mutex::new(State {
                start_at,
                step,
                answers: None,
            }),
        }
    }

    /// Reads `--step`'s answers from `answers` instead of standard input.
    pub fn with_answers(self, answers: Box<dyn std::io::BufRead + Send>) -> Gate {
        if let Ok(mut s) = self.state.lock() {
            s.answers = Some(answers);
        }
        self
    }

    /// The `--start-at-task` pattern if no task matched it.
    pub fn unmatched(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.start_at.clone())
    }
}

/// Whether a task matches `--start-at-task` as ansible-core tests it: its name or its shown
/// name (`ROLE : NAME`, or the module), equal or as an fnmatch pattern.
pub fn matches(pattern: &str, shown: &str, name: Option<&str>) -> bool {
    let glob = globset::GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(false)
        .build()
        .ok()
        .map(|g| g.compile_matcher());
    let fits = |text: &str| text == pattern || glob.as_ref().is_some_and(|g| g.is_match(text));
    name.is_some_and(fits) || fits(shown)
}

impl TaskGate for Gate {
    fn admit(&self, task: &Task, shown: &str, handler: bool) -> bool {
        if handler {
            // Handlers run when notified; `--start-at-task` does not pass over them.
            return self.ask(&format!("HANDLER: {shown}"));
        }
        self.admit_named(shown, task.name.as_deref(), task.module == "meta")
    }
}

impl Gate {
    /// [`TaskGate::admit`] for a task shown as `shown`, named `name`; `meta` tasks are never
    /// stepped (ansible-core runs them without asking).
    fn admit_named(&self, shown: &str, name: Option<&str>, meta: bool) -> bool {
        let Ok(mut s) = self.state.lock() else {
            return true;
        };
        if let Some(pattern) = &s.start_at {
            if !matches(pattern, shown, name) {
                return false;
            }
            s.start_at = None;
        }
        if !s.step || meta {
            return true;
        }
        drop(s);
        self.ask(&format!("TASK: {shown}"))
    }

    /// With `--step`, asks whether to run `what` (`TASK: NAME`, `HANDLER: NAME`).
    fn ask(&self, what: &str) -> bool {
        let Ok(mut s) = self.state.lock() else {
            return true;
        };
        if !s.step {
            return true;
        }
        let question = format!("Perform task: {what} (N)o/(y)es/(c)ontinue: ");
        {
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "{question}");
            let _ = out.flush();
        }
        let mut line = String::new();
        let read = match s.answers.as_mut() {
            Some(a) => a.read_line(&mut line),
            None => std::io::stdin().lock().read_line(&mut line),
        };
        if read.is_err() || !line.ends_with('\n') {
            // No answer (end of input): the terminal's line ends here.
            crate::report::out("");
        }
        // ansible-core repeats the question as a banner once answered.
        crate::engine::output::banner(question.trim_end(), false);
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => true,
            "c" | "continue" => {
                s.step = false;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_at_matches_name_shown_name_and_patterns() {
        assert!(matches(
            "restart nginx",
            "web : restart nginx",
            Some("restart nginx")
        ));
        assert!(matches(
            "web : restart*",
            "web : restart nginx",
            Some("restart nginx")
        ));
        assert!(matches("debug", "debug", None));
        assert!(!matches(
            "restart",
            "web : restart nginx",
            Some("restart nginx")
        ));
        assert!(matches(
            "*nginx",
            "web : restart nginx",
            Some("restart nginx")
        ));
    }

    #[test]
    fn the_gate_opens_at_the_first_match_and_stays_open() {
        let g = Gate::new(Some("two".into()), false);
        assert!(!g.admit_named("one", Some("one"), false));
        assert!(
            !g.admit_named("meta", None, true),
            "meta tasks are passed over too"
        );
        assert!(g.admit_named("two", Some("two"), false));
        assert!(g.admit_named("one", Some("one"), false), "later tasks run");
        assert_eq!(g.unmatched(), None);
        let g = Gate::new(Some("nope".into()), false);
        assert!(!g.admit_named("one", Some("one"), false));
        assert_eq!(g.unmatched(), Some("nope".into()));
    }

    #[test]
    fn step_asks_and_continue_stops_asking() {
        let answers = std::io::Cursor::new(b"y\nn\n\nc\n".to_vec());
        let g = Gate::new(None, true).with_answers(Box::new(answers));
        assert!(g.admit_named("a", None, false));
        assert!(
            g.admit_named("meta", None, true),
            "meta tasks are not asked about"
        );
        assert!(!g.admit_named("b", None, false));
        assert!(!g.admit_named("c", None, false), "no answer is no");
        assert!(g.admit_named("d", None, false));
        assert!(
            g.admit_named("e", None, false),
            "after (c)ontinue nothing is asked"
        );
    }
}
