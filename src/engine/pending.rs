//! Handlers notified on a host but not run yet, remembered on the host itself.
//!
//! Ansible forgets a notification when a run stops before its handlers: a later task fails on
//! the host, the connection breaks, or ansible-playbook is killed. The config has changed but
//! the service still runs the old one, and the next run finds nothing to change, so nothing
//! restarts it. hactl writes each notification to the host as soon as the notifying task
//! reports `changed`, and removes it once the handler has run there. At the start of every
//! play it reads the list back, so a run after an interrupted one still runs the handler.
//!
//! The list lives in `/var/lib/hactl/pending-handlers` (root) or
//! `~/.hactl/pending-handlers` (other users), one notification name per line. Check mode
//! reads it but never writes it.

use std::collections::BTreeSet;

use super::walk::Handler;

/// The line before the pending names in the play's first round trip.
const SECTION: &str = "@@ hactl-pending";

/// Reads (`what=read`) or writes (`what=write`, the names as arguments) the host's list.
const SCRIPT: &str = include_str!("pending.sh");

/// A script printing the list after [`SECTION`]; appended to the facts script.
pub fn read_script() -> String {
    crate::modules::edit::assign(&[("what", "read")], SCRIPT)
}

/// The pending names in the output of [`read_script`].
pub fn parse(output: &str) -> BTreeSet<String> {
    let Some((_, list)) = output.split_once(&format!("{SECTION}\n")) else {
        return BTreeSet::new();
    };
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// A script that replaces the list with `names` (temp file, then rename), or removes it.
pub fn write_script(names: &BTreeSet<String>) -> String {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    crate::modules::protocol::with_args(
        &crate::modules::edit::assign(&[("what", "write")], SCRIPT),
        &names,
    )
}

/// Names a task's `notify` adds: those without a newline (one per line on the host).
pub fn notifiable(notify: &[String]) -> impl Iterator<Item = &String> {
    notify.iter().filter(|n| !n.contains('\n'))
}

/// Which of a host's pending names are settled once the handlers in `ran` (indices into
/// `handlers`) have run there without failing: a name is settled when some handler answers it
/// and every handler that answers it ran.
pub fn settled(
    pending: &BTreeSet<String>,
    handlers: &[Handler<'_>],
    ran: &BTreeSet<usize>,
) -> Vec<String> {
    pending
        .iter()
        .filter(|name| {
            let mut answering = handlers
                .iter()
                .enumerate()
                .filter(|(_, h)| h.answers(name))
                .map(|(i, _)| i)
                .peekable();
            answering.peek().is_some() && answering.all(|i| ran.contains(&i))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_names_after_the_section() {
        let out = "@@ uname\nlb1\n@@ end\n@@ hactl-pending\nrestart nginx\n\nrestart keepalived\n";
        let names = parse(out);
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            vec!["restart keepalived", "restart nginx"]
        );
        assert!(parse("@@ uname\nlb1\n").is_empty());
    }

    #[test]
    fn writes_quoted_names_atomically_or_removes_the_list() {
        let names: BTreeSet<String> = ["restart nginx".to_string(), "it's".to_string()].into();
        let s = write_script(&names);
        assert!(
            s.starts_with("set -- 'it'\"'\"'s' 'restart nginx'\n"),
            "{s}"
        );
        assert!(s.contains(&format!("echo '{SECTION}'")), "{s}");
    }

    #[test]
    fn a_name_with_a_newline_is_never_written() {
        let notify = vec!["a".to_string(), "b\nc".to_string()];
        assert_eq!(notifiable(&notify).collect::<Vec<_>>(), vec!["a"]);
    }

    #[test]
    fn the_script_runs_under_sh() {
        let dir = tempfile::tempdir().expect("tempdir");
        let names: BTreeSet<String> = ["restart nginx".to_string(), "it's".to_string()].into();
        let run = |script: &str| {
            std::process::Command::new("sh")
                .arg("-c")
                .arg(script)
                .env("HOME", dir.path())
                .output()
                .expect("sh")
        };
        // As root the list goes to /var/lib/hactl; the test exercises the path it can write.
        let script =
            write_script(&names).replace("/var/lib/hactl", &dir.path().display().to_string());
        assert!(run(&script).status.success());
        let read = read_script().replace("/var/lib/hactl", &dir.path().display().to_string());
        let out = run(&read);
        assert_eq!(parse(&String::from_utf8_lossy(&out.stdout)), names);
        let clear = write_script(&BTreeSet::new())
            .replace("/var/lib/hactl", &dir.path().display().to_string());
        assert!(run(&clear).status.success());
        assert!(parse(&String::from_utf8_lossy(&run(&read).stdout)).is_empty());
    }
}
