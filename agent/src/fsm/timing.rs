//! RFC 3768/5798 timers computed exactly as keepalived 2.2.7 computes them.
//!
//! keepalived keeps every interval in microseconds (`TIMER_HZ` = 1 000 000) and truncates:
//! - v2: `Skew_Time = (256 - Priority) * 1_000_000 / 256` us. RFC 3768 gives
//!   `(256 - Priority) / 256` s exactly; keepalived drops the final half microsecond
//!   (priority 90: 648 437 us, not 648 437.5).
//! - v3: `Skew_Time = (256 - Priority) * Master_Adver_Interval_cs * 625 / 16` us, i.e. RFC
//!   5798's `((256 - Priority) * Master_Adver_Interval) / 256` centiseconds evaluated in
//!   microseconds (RFC integer centiseconds would lose up to 10 ms).
//! - `Master_Down_Interval = down_timer_adverts * Master_Adver_Interval + Skew_Time`, with
//!   `down_timer_adverts` = 3 as both RFCs have it.

use std::time::Duration;

use crate::packet::Version;

/// Microseconds in `d`, saturating (intervals are at most 4095 cs or 255 s).
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Skew_Time for `priority` given the current Master_Adver_Interval.
pub fn skew_time(version: Version, priority: u8, master_adver_int: Duration) -> Duration {
    let weight = 256 - u64::from(priority);
    let us = match version {
        Version::V2 => weight * 1_000_000 / 256,
        // keepalived: (pri * (master_adver_int / TIMER_CENTI_HZ) * 625) / 16, whole cs first.
        Version::V3 => weight * (micros(master_adver_int) / 10_000) * 625 / 16,
    };
    Duration::from_micros(us)
}

/// Master_Down_Interval: `adverts` missed intervals plus Skew_Time.
pub fn master_down_interval(
    version: Version,
    priority: u8,
    master_adver_int: Duration,
    adverts: u32,
) -> Duration {
    master_adver_int.saturating_mul(adverts) + skew_time(version, priority, master_adver_int)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_skew_truncates_to_microseconds() {
        let s = Duration::from_secs(1);
        assert_eq!(
            skew_time(Version::V2, 90, s),
            Duration::from_micros(648_437)
        );
        assert_eq!(skew_time(Version::V2, 255, s), Duration::from_micros(3_906));
        assert_eq!(skew_time(Version::V2, 1, s), Duration::from_micros(996_093));
        assert_eq!(
            master_down_interval(Version::V2, 90, s, 3),
            Duration::from_micros(3_648_437)
        );
    }

    #[test]
    fn v2_skew_ignores_the_interval() {
        // RFC 3768: Skew_Time does not scale with Advertisement_Interval.
        let five = Duration::from_secs(5);
        assert_eq!(
            skew_time(Version::V2, 100, five),
            Duration::from_micros(609_375)
        );
        assert_eq!(
            master_down_interval(Version::V2, 100, five, 3),
            Duration::from_micros(15_609_375)
        );
    }

    #[test]
    fn v3_skew_scales_with_master_interval() {
        let cs50 = Duration::from_millis(500);
        // (256-100) * 50 cs / 256 = 30.46875 cs = 304 687.5 us, truncated.
        assert_eq!(
            skew_time(Version::V3, 100, cs50),
            Duration::from_micros(304_687)
        );
        assert_eq!(
            skew_time(Version::V3, 100, Duration::from_secs(1)),
            Duration::from_micros(609_375)
        );
    }
}
