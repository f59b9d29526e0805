//! The one place that writes to the terminal: messages, warnings and errors.

#![allow(clippy::print_stderr, clippy::print_stdout)]

/// Prints an error with its whole chain of causes.
pub fn error(err: &anyhow::Error) {
    eprintln!("ERROR: {err:#}");
}

/// Prints a warning the way Ansible does.
pub fn warning(msg: &str) {
    eprintln!("[WARNING]: {msg}");
}

/// Prints a line of regular output.
pub fn out(line: &str) {
    println!("{line}");
}
