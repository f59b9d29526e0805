//! Syntax errors as Ansible reports them, and the one place saphyr-parser is stricter than
//! PyYAML.
//!
//! saphyr refuses a tab right after a value's `:` when a letter, digit or `-` follows
//! (`key:<TAB>value`), a YAML 1.2 test-suite rule; PyYAML takes the tab as a separator. When
//! saphyr reports that error, [`untab_before`] turns that tab run into spaces (same columns,
//! and the tabs separate tokens, so no scalar changes) and the text is parsed again.

use saphyr_parser::ScanError;

use super::node::Mark;

const TAB_AFTER_COLON: &str = "':' must be followed by a valid YAML whitespace";

/// The character index to un-tab before, when `e` is saphyr's tab-after-colon refusal.
pub(crate) fn tab_after_colon(e: &ScanError) -> Option<usize> {
    (e.info() == TAB_AFTER_COLON).then(|| e.marker().index())
}

/// `src` with the blanks just before character `index` made spaces; `None` if there are no
/// tabs there (so retrying would loop).
pub(crate) fn untab_before(src: &str, index: usize) -> Option<String> {
    let mut chars: Vec<char> = src.chars().collect();
    let mut at = index.min(chars.len());
    let mut changed = false;
    while at > 0 && matches!(chars[at - 1], ' ' | '\t') {
        at -= 1;
        if chars[at] == '\t' {
            chars[at] = ' ';
            changed = true;
        }
    }
    changed.then(|| chars.into_iter().collect())
}

/// Where a `%YAML` directive asks for a version other than 1.x, which PyYAML refuses and
/// saphyr ignores. Directives sit before the first document, at the start of their line.
pub(crate) fn incompatible_version(src: &str) -> Option<Mark> {
    for (index, line) in src.trim_start_matches('\u{feff}').lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let version = line.strip_prefix("%YAML")?.split_whitespace().next()?;
        let major = version.split('.').next()?;
        return (major != "1").then_some(Mark {
            line: index + 1,
            col: 1,
        });
    }
    None
}

/// The anchor name among the node properties `text` starts with (`&name`, `!tag &name`).
pub(crate) fn anchor_name(text: &str) -> Option<&str> {
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        let end = rest
            .find([' ', '\t', '\r', '\n', ',', '[', ']', '{', '}'])
            .unwrap_or(rest.len());
        match rest.chars().next() {
            Some('&') => return Some(&rest[1..end]),
            Some('!') => rest = &rest[end..],
            _ => return None,
        }
    }
}

/// Where and how Ansible reports a syntax error saphyr found at `e`.
pub(crate) fn locate(src: &str, e: &ScanError) -> (Mark, String) {
    let at = e.marker();
    let mut mark = Mark {
        line: at.line(),
        col: at.col() + 1,
    };
    let mut message = e.info().to_owned();
    if message.contains("end of stream") {
        // PyYAML points past the last character, where it ran out, not where the scalar began.
        mark = end_of(src);
    }
    // Ansible's own hint: on a line holding a tab, it points at the first tab.
    if let Some(line) = src.lines().nth(mark.line.saturating_sub(1)) {
        if let Some(tab) = line.chars().position(|c| c == '\t') {
            mark.col = tab + 1;
            message.push_str(" (tabs are usually invalid in YAML)");
        }
    }
    (mark, message)
}

/// The position just after the last character, as PyYAML counts it.
fn end_of(src: &str) -> Mark {
    let line = src.matches('\n').count() + 1;
    let last = src.rsplit('\n').next().unwrap_or_default();
    Mark {
        line,
        col: last.chars().count() + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untab_replaces_only_the_blank_run() {
        assert_eq!(
            untab_before("a:\t\tb: c\td", 4).as_deref(),
            Some("a:  b: c\td")
        );
        assert_eq!(untab_before("a: b", 3), None);
    }

    #[test]
    fn anchor_names_follow_or_precede_tags() {
        assert_eq!(anchor_name("&x 1"), Some("x"));
        assert_eq!(anchor_name("!!str &a.b\n  c"), Some("a.b"));
        assert_eq!(anchor_name("&k]"), Some("k"));
        assert_eq!(anchor_name("!unsafe x"), None);
    }

    #[test]
    fn only_yaml_1_documents_are_compatible() {
        assert_eq!(
            incompatible_version("# c\n%YAML 2.0\n--- a\n"),
            Some(Mark { line: 2, col: 1 })
        );
        assert_eq!(incompatible_version("%YAML 1.1\n---\n"), None);
        assert_eq!(incompatible_version("a: 1\n%YAML 2.0\n"), None);
    }

    #[test]
    fn end_of_counts_lines_like_pyyaml() {
        assert_eq!(end_of("a: 'x\n"), Mark { line: 2, col: 1 });
        assert_eq!(end_of("a: 'x"), Mark { line: 1, col: 6 });
    }
}
