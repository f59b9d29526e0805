//! The effective priority of a VRRP instance from its base priority and what it tracks.
//!
//! keepalived 2.2.7 (keepalived/vrrp/vrrp_track.c, trackers/track_file.c), restated:
//!
//! - A tracked script or interface with weight 0 puts the instance in FAULT while it is
//!   failed/down (with `reverse`: while it is OK/up). A script that has not reported yet
//!   holds the instance back (keepalived keeps it in INIT) without FAULT.
//! - With a weight `w` and multiplier `m` (-1 with `reverse`, else 1) it adds `w*m` when OK and
//!   `w > 0`, or when failed and `w < 0`; otherwise nothing. No result yet adds nothing.
//! - A tracked file with weight 0 means FAULT when the value is non-zero (with `reverse`:
//!   when it is zero). Otherwise it adds `value*w*m` clamped to `[-254, 253]`, and exactly
//!   -254 (i.e. anything at or below it) means FAULT.
//! - The sum is clamped to `[1, 254]`: tracking never drives priority to 0 (that is
//!   reserved for "master is leaving") nor to 255. It never makes FAULT by itself.
//! - An address owner (base priority 255) keeps 255 whatever the weights; FAULT still applies.

/// One tracked object's current state and its weight in one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracked {
    /// `track_script`: `ok` is `None` until the script's first result.
    Script {
        ok: Option<bool>,
        weight: i32,
        reverse: bool,
    },
    /// `track_interface`.
    Interface {
        up: bool,
        weight: i32,
        reverse: bool,
    },
    /// `track_file`: the value last read.
    File {
        value: i64,
        weight: i32,
        reverse: bool,
    },
}

/// The outcome for one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effective {
    /// The priority to advertise, 1..=255.
    pub priority: u8,
    /// Some tracked object with weight 0 (or a file at -254) is failed: go to FAULT.
    pub fault: bool,
    /// Some weight-0 script has not reported yet: stay in INIT.
    pub waiting: bool,
}

/// keepalived's lowest tracked-file contribution; reaching it means FAULT.
const FILE_FAULT: i64 = -254;
const FILE_MAX: i64 = 253;

/// Computes the effective priority of an instance with base priority `base`.
pub fn effective_priority(base: u8, tracked: &[Tracked]) -> Effective {
    let mut total = i64::from(base);
    let mut fault = false;
    let mut waiting = false;
    for t in tracked {
        match *t {
            Tracked::Script {
                ok,
                weight,
                reverse,
            } => match ok {
                None if weight == 0 => waiting = true,
                None => {}
                Some(ok) => boolean(ok, weight, reverse, &mut total, &mut fault),
            },
            Tracked::Interface {
                up,
                weight,
                reverse,
            } => {
                boolean(up, weight, reverse, &mut total, &mut fault);
            }
            Tracked::File {
                value,
                weight,
                reverse,
            } => {
                if weight == 0 {
                    fault |= (value != 0) != reverse;
                } else {
                    let m = if reverse { -1 } else { 1 };
                    let status = value
                        .saturating_mul(i64::from(weight))
                        .saturating_mul(m)
                        .clamp(FILE_FAULT, FILE_MAX);
                    if status == FILE_FAULT {
                        fault = true;
                    } else {
                        total += status;
                    }
                }
            }
        }
    }
    let priority = if base == 255 {
        255
    } else {
        // Clamped to 1..=254, so the conversion cannot fail.
        u8::try_from(total.clamp(1, 254)).unwrap_or(1)
    };
    Effective {
        priority,
        fault,
        waiting,
    }
}

fn boolean(ok: bool, weight: i32, reverse: bool, total: &mut i64, fault: &mut bool) {
    if weight == 0 {
        *fault |= ok == reverse;
        return;
    }
    let m = if reverse { -1 } else { 1 };
    if (ok && weight > 0) || (!ok && weight < 0) {
        *total += i64::from(weight) * m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(ok: Option<bool>, weight: i32) -> Tracked {
        Tracked::Script {
            ok,
            weight,
            reverse: false,
        }
    }

    fn prio(base: u8, t: &[Tracked]) -> (u8, bool, bool) {
        let e = effective_priority(base, t);
        (e.priority, e.fault, e.waiting)
    }

    #[test]
    fn weights_add_by_sign_and_state() {
        assert_eq!(prio(100, &[]), (100, false, false));
        assert_eq!(prio(100, &[script(Some(true), 10)]), (110, false, false));
        assert_eq!(prio(100, &[script(Some(false), 10)]), (100, false, false));
        assert_eq!(prio(100, &[script(Some(false), -30)]), (70, false, false));
        assert_eq!(prio(100, &[script(Some(true), -30)]), (100, false, false));
        assert_eq!(prio(100, &[script(None, -30)]), (100, false, false));
        let both = [script(Some(false), -30), script(Some(true), 5)];
        assert_eq!(prio(100, &both), (75, false, false));
    }

    #[test]
    fn reverse_flips_the_sign() {
        let rev = |ok, weight| Tracked::Script {
            ok: Some(ok),
            weight,
            reverse: true,
        };
        assert_eq!(prio(100, &[rev(true, 10)]), (90, false, false));
        assert_eq!(prio(100, &[rev(false, -10)]), (110, false, false));
        assert_eq!(prio(100, &[rev(true, 0)]), (100, true, false));
        assert_eq!(prio(100, &[rev(false, 0)]), (100, false, false));
    }

    #[test]
    fn weight_zero_means_fault_or_wait() {
        assert_eq!(prio(100, &[script(Some(false), 0)]), (100, true, false));
        assert_eq!(prio(100, &[script(Some(true), 0)]), (100, false, false));
        assert_eq!(prio(100, &[script(None, 0)]), (100, false, true));
        let down = Tracked::Interface {
            up: false,
            weight: 0,
            reverse: false,
        };
        assert_eq!(prio(100, &[down]), (100, true, false));
    }

    #[test]
    fn clamped_to_1_and_254_never_fault_by_itself() {
        assert_eq!(prio(50, &[script(Some(false), -100)]), (1, false, false));
        assert_eq!(prio(250, &[script(Some(true), 100)]), (254, false, false));
        // The address owner keeps 255.
        assert_eq!(prio(255, &[script(Some(false), -100)]), (255, false, false));
        assert_eq!(prio(255, &[script(Some(false), 0)]), (255, true, false));
    }

    #[test]
    fn files_scale_clamp_and_fault_at_minus_254() {
        let file = |value, weight, reverse| Tracked::File {
            value,
            weight,
            reverse,
        };
        assert_eq!(prio(100, &[file(0, 0, false)]), (100, false, false));
        assert_eq!(prio(100, &[file(3, 0, false)]), (100, true, false));
        assert_eq!(prio(100, &[file(0, 0, true)]), (100, true, false));
        assert_eq!(prio(100, &[file(5, 2, false)]), (110, false, false));
        assert_eq!(prio(100, &[file(-5, 2, false)]), (90, false, false));
        assert_eq!(prio(100, &[file(5, 2, true)]), (90, false, false));
        assert_eq!(prio(100, &[file(1000, 1, false)]), (254, false, false));
        assert_eq!(prio(100, &[file(-253, 1, false)]), (1, false, false));
        assert_eq!(prio(100, &[file(-254, 1, false)]), (100, true, false));
        assert_eq!(prio(100, &[file(-1000, 1, false)]), (100, true, false));
    }
}
