//! `serial`: a play runs on its hosts batch by batch, as ansible-playbook's
//! `_get_serialized_batches` cuts them, and how a batch's failures end the run.

use crate::playbook::Batch;

/// A batch size from one `serial` value for a play of `total` hosts: a percentage rounds down
/// but is at least 1 (Ansible's `pct_to_int`); 0 means "all the rest".
fn size(value: &Batch, total: usize) -> usize {
    match value {
        Batch::Count(n) => usize::try_from(*n).unwrap_or(usize::MAX),
        Batch::Percent(p) => {
            // Ansible reads the percentage as an integer first.
            let pct = p.trunc();
            let n = (pct / 100.0 * total as f64) as usize;
            if n == 0 { 1 } else { n }
        }
    }
}

/// The play's hosts cut into batches: one per `serial` value in turn, the last value repeating
/// until every host has had its turn. No `serial` is one batch of everything.
pub fn split(serial: &[Batch], hosts: &[String]) -> Vec<Vec<String>> {
    let total = hosts.len();
    let mut rest: &[String] = hosts;
    let mut out = Vec::new();
    let mut i = 0;
    while !rest.is_empty() {
        let n = serial.get(i).map_or(0, |v| size(v, total));
        if n == 0 || n >= rest.len() {
            out.push(rest.to_vec());
            break;
        }
        out.push(rest[..n].to_vec());
        rest = &rest[n..];
        if i + 1 < serial.len() {
            i += 1;
        }
    }
    out
}

/// How a batch ended.
#[derive(Debug, Default, Clone)]
pub struct BatchEnd {
    /// Hosts that failed or could not be reached, or that `any_errors_fatal` or
    /// `max_fail_percentage` took out: they take no further part in the run.
    pub out: Vec<String>,
    /// `max_fail_percentage` was exceeded: the run ends here.
    pub abort: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("h{i}")).collect()
    }

    fn sizes(serial: &[Batch], n: usize) -> Vec<usize> {
        split(serial, &hosts(n)).iter().map(Vec::len).collect()
    }

    #[test]
    fn batches_as_ansible_cuts_them() {
        assert_eq!(sizes(&[], 5), vec![5]);
        assert_eq!(sizes(&[Batch::Count(2)], 5), vec![2, 2, 1]);
        assert_eq!(sizes(&[Batch::Count(0)], 3), vec![3]);
        assert_eq!(
            sizes(&[Batch::Count(1), Batch::Percent(50.0)], 5),
            vec![1, 2, 2]
        );
        // 30% of 5 is 1.5: rounds down; 10% of 5 is 0.5: at least 1.
        assert_eq!(sizes(&[Batch::Percent(30.0)], 5), vec![1, 1, 1, 1, 1]);
        assert_eq!(sizes(&[Batch::Percent(10.0)], 5), vec![1, 1, 1, 1, 1]);
        assert_eq!(sizes(&[Batch::Count(1), Batch::Count(10)], 4), vec![1, 3]);
        assert_eq!(
            split(&[Batch::Count(2)], &hosts(3))[1],
            vec!["h3".to_string()]
        );
    }
}
