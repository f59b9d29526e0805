//! The progress line of the task in flight (on a terminal only, never with `--json`): hosts
//! done out of total, how many failed, and the slowest host still running with its time.
//! While it is shown, every line of output is printed through it (`suspend`) so it never tears.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar on screen, if any, for [`super::out`] to print around.
pub(super) static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

#[derive(Debug, Default)]
struct State {
    task: String,
    total: usize,
    done: usize,
    failed: usize,
    running: Vec<(String, Instant)>,
}

/// The progress of one task across hosts; does nothing when off.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    state: Arc<Mutex<State>>,
}

/// The progress text: `config nginx: 3/10 done, 1 failed, waiting on lb2 (12.3s)`.
pub fn message(
    task: &str,
    done: usize,
    total: usize,
    failed: usize,
    slowest: Option<(&str, Duration)>,
) -> String {
    let mut m = format!("{task}: {done}/{total} done");
    if failed > 0 {
        m.push_str(&format!(", {failed} failed"));
    }
    if let Some((host, t)) = slowest {
        m.push_str(&format!(", waiting on {host} ({:.1}s)", t.as_secs_f64()));
    }
    m
}

fn render(s: &State) -> String {
    let slowest = s
        .running
        .iter()
        .min_by_key(|(_, t)| *t)
        .map(|(h, t)| (h.as_str(), t.elapsed()));
    message(&s.task, s.done, s.total, s.failed, slowest)
}

impl Progress {
    /// Starts the display for `task` on `total` hosts if `enabled` (a terminal, not `--json`).
    pub fn start(task: &str, total: usize, enabled: bool) -> Progress {
        let state = Arc::new(Mutex::new(State {
            task: task.to_string(),
            total,
            ..State::default()
        }));
        let bar = enabled.then(|| {
            let shared = state.clone();
            let style = ProgressStyle::with_template("{spinner} {status}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner())
                .with_key(
                    "status",
                    move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        if let Ok(s) = shared.lock() {
                            let _ = w.write_str(&render(&s));
                        }
                    },
                );
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stdout());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            if let Ok(mut a) = ACTIVE.lock() {
                *a = Some(bar.clone());
            }
            bar
        });
        Progress { bar, state }
    }

    /// A host began the task.
    pub fn host_started(&self, host: &str) {
        if self.bar.is_some() {
            if let Ok(mut s) = self.state.lock() {
                s.running.push((host.to_string(), Instant::now()));
            }
        }
    }

    /// A host finished the task.
    pub fn host_done(&self, host: &str, failed: bool) {
        let Some(bar) = &self.bar else { return };
        if let Ok(mut s) = self.state.lock() {
            s.running.retain(|(h, _)| h != host);
            s.done += 1;
            s.failed += usize::from(failed);
        }
        bar.inc(1);
    }

    /// Removes the display; the task's lines follow.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            if let Ok(mut a) = ACTIVE.lock() {
                *a = None;
            }
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_text() {
        assert_eq!(message("ping", 0, 3, 0, None), "ping: 0/3 done");
        assert_eq!(
            message(
                "config nginx",
                3,
                10,
                1,
                Some(("lb2", Duration::from_millis(12_340)))
            ),
            "config nginx: 3/10 done, 1 failed, waiting on lb2 (12.3s)"
        );
    }

    #[test]
    fn off_does_nothing() {
        let p = Progress::start("t", 2, false);
        p.host_started("a");
        p.host_done("a", true);
        assert!(p.bar.is_none());
        assert!(ACTIVE.lock().map(|a| a.is_none()).unwrap_or(false));
        p.finish();
    }
}
