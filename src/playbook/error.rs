//! Errors from loading playbooks and roles: each names the file, line and, where there is one,
//! the task, and says how to fix it where we can tell.

use std::path::PathBuf;

use crate::yaml::Mark;

/// A playbook or role that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Yaml(#[from] crate::yaml::Error),
    #[error("{}:{}:{}: {}{message}{}", file.display(), mark.line, mark.col, task_prefix(task), hint_suffix(hint))]
    Invalid {
        file: PathBuf,
        mark: Mark,
        /// The task's name, where the problem is in a task.
        task: Option<String>,
        message: String,
        hint: Option<String>,
    },
}

fn task_prefix(task: &Option<String>) -> String {
    task.as_ref()
        .map(|t| format!("in task '{t}': "))
        .unwrap_or_default()
}

fn hint_suffix(hint: &Option<String>) -> String {
    hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default()
}

impl Error {
    pub(crate) fn at(file: &std::path::Path, mark: Mark, message: impl Into<String>) -> Error {
        Error::Invalid {
            file: file.to_path_buf(),
            mark,
            task: None,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds the task name to an error that has none yet.
    pub(crate) fn in_task(mut self, name: &str) -> Error {
        if let Error::Invalid { task, .. } = &mut self {
            if task.is_none() {
                *task = Some(name.to_string());
            }
        }
        self
    }

    pub(crate) fn hint(mut self, text: impl Into<String>) -> Error {
        if let Error::Invalid { hint, .. } = &mut self {
            *hint = Some(text.into());
        }
        self
    }
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4) && *d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("whn", &["when", "name"]), Some("when"));
        assert_eq!(did_you_mean("notfiy", &["notify", "name"]), Some("notify"));
        assert_eq!(did_you_mean("xyz", &["when", "name"]), None);
    }
}
