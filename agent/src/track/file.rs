//! `track_file`: an integer read from a file, scaled by a weight.
//!
//! keepalived 2.2.7 (`process_track_file`, `update_track_file_status` in
//! keepalived/trackers/track_file.c) reads at most 127 bytes and parses them with
//! `strtol(buf, NULL, 0)`: leading white space, an optional sign, then hex after `0x`, octal
//! after a leading `0`, decimal otherwise, stopping at the first character that does not fit.
//! Text with no number reads as 0, and so does a missing, unreadable or empty file. A number
//! outside `[-2^31, 2^31]` is logged and ignored (the previous value stays).
//!
//! keepalived watches the file with inotify; [`watch`] polls instead, which costs at most
//! one period of delay.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::mpsc;

/// How much of the file keepalived reads.
const READ_LIMIT: usize = 127;

/// Parses file contents like `strtol(s, NULL, 0)` followed by keepalived's range check.
/// `None` means "invalid, ignore" (keepalived keeps the previous value).
pub fn parse_value(contents: &[u8]) -> Option<i64> {
    let s = &contents[..contents.len().min(READ_LIMIT)];
    let mut i = s
        .iter()
        .take_while(|b| b.is_ascii_whitespace() || **b == 0x0b)
        .count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let rest = &s[i..];
    let (radix, digits) = match rest {
        [b'0', b'x' | b'X', h, ..] if h.is_ascii_hexdigit() => (16, &rest[2..]),
        [b'0', ..] => (8, rest),
        _ => (10, rest),
    };
    let mut value: i64 = 0;
    for b in digits {
        let Some(d) = char::from(*b).to_digit(radix) else {
            break;
        };
        // strtol overflows to LONG_MAX/MIN with ERANGE, which keepalived rejects; anything
        // past the range check below is equally rejected, so stop early.
        value = value
            .checked_mul(i64::from(radix))?
            .checked_add(i64::from(d))?;
    }
    let value = if negative { -value } else { value };
    (i64::from(i32::MIN)..=i64::from(i32::MAX) + 1)
        .contains(&value)
        .then_some(value)
}

/// Reads the file as keepalived does: missing or unreadable is 0; `None` is "ignore".
pub fn read_value(path: &Path) -> Option<i64> {
    match std::fs::read(path) {
        Ok(bytes) => parse_value(&bytes),
        Err(_) => Some(0),
    }
}

/// A new value read from a tracked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileValue {
    pub name: String,
    pub value: i64,
}

/// Polls `path` every `period` and sends its value first and then on every change, until the
/// receiver is dropped. Spawn it as a task.
pub async fn watch(name: String, path: PathBuf, period: Duration, tx: mpsc::Sender<FileValue>) {
    let mut last = None;
    let mut ticks = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = tx.closed() => return,
        }
        let read_path = path.clone();
        let value = tokio::task::spawn_blocking(move || read_value(&read_path))
            .await
            .ok()
            .flatten();
        let Some(value) = value else {
            tracing::info!(file = %path.display(), "invalid number in tracked file - ignoring");
            continue;
        };
        if last != Some(value) {
            last = Some(value);
            if tx
                .send(FileValue {
                    name: name.clone(),
                    value,
                })
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_strtol_base_zero() {
        let cases: &[(&[u8], Option<i64>)] = &[
            (b"10\n", Some(10)),
            (b"  -25", Some(-25)),
            (b"+7", Some(7)),
            (b"0x1f", Some(31)),
            (b"0X1F", Some(31)),
            (b"010", Some(8)),
            (b"09", Some(0)), // octal stops at 9
            (b"0x", Some(0)), // "0" then stop at x
            (b"12abc", Some(12)),
            (b"abc", Some(0)),
            (b"", Some(0)),
            (b"-", Some(0)),
            (b"2147483648", Some(2_147_483_648)), // INT32_MAX + 1 is allowed
            (b"2147483649", None),
            (b"-2147483648", Some(-2_147_483_648)),
            (b"-2147483649", None),
            (b"99999999999999999999999", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_value(input),
                *want,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn only_the_first_127_bytes_count() {
        let mut long = vec![b' '; 126];
        long.extend_from_slice(b"42");
        assert_eq!(parse_value(&long), Some(4));
    }

    #[test]
    fn missing_file_reads_as_zero() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(read_value(&dir.path().join("absent")), Some(0));
        let p = dir.path().join("v");
        std::fs::write(&p, "-3\n").expect("write");
        assert_eq!(read_value(&p), Some(-3));
    }
}
