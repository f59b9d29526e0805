//! Readers for keepalived's value syntax: whole numbers and decimal seconds, with keepalived's
//! ranges.

use std::time::Duration;

use super::error::Location;
use super::parse::Ctx;

/// Reads a whole unsigned number in `min..=max`, warning (as keepalived does) when it is not.
pub(crate) fn number(
    ctx: &mut Ctx,
    loc: &Location,
    kw: &str,
    v: &str,
    min: u32,
    max: u32,
) -> Option<u32> {
    let n = unsigned(v, min, max);
    if n.is_none() {
        ctx.warn(
            loc,
            format!("{kw} '{v}' invalid: must be a number in [{min}, {max}] - ignoring"),
        );
    }
    n
}

/// A decimal unsigned number in `min..=max`.
pub(crate) fn unsigned(v: &str, min: u32, max: u32) -> Option<u32> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u32>().ok().filter(|n| (min..=max).contains(n))
}

/// A decimal signed number in `min..=max`.
pub(crate) fn integer(v: &str, min: i32, max: i32) -> Option<i32> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<i32>().ok().filter(|n| (min..=max).contains(n))
}

/// A number of seconds with up to 6 decimals ("1", "0.5", "2.25"), as keepalived's timers read
/// them, scaled by `unit` (pass one second for plain seconds). `None` if malformed.
pub(crate) fn decimal(v: &str, unit: Duration) -> Option<Duration> {
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !all_digits(frac) || frac.len() > 6 {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let micros_frac: u64 = format!("{frac:0<6}").parse().ok()?;
    let micros = whole.checked_mul(1_000_000)?.checked_add(micros_frac)?;
    let unit_micros = u64::try_from(unit.as_micros()).ok()?;
    Some(Duration::from_micros(
        micros.checked_mul(unit_micros)? / 1_000_000,
    ))
}

/// keepalived's `read_decimal_unsigned_strvec` with six decimal places (microseconds), in
/// `min..=max` microseconds, with its messages: too many decimal places is reported and
/// rounded; a bad or out-of-range number is reported and gives `None`.
pub(crate) fn decimal_micros(
    ctx: &mut Ctx,
    loc: &Location,
    v: &str,
    min: u64,
    max: u64,
) -> Option<u64> {
    if v.starts_with('-') {
        ctx.warn(loc, format!("negative number '{v}'"));
        return None;
    }
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    let mut digits = frac.to_owned();
    let mut round_up = false;
    if digits.len() > 6 {
        ctx.warn(loc, format!("number '{v}' has too many decimal places"));
        round_up = digits.as_bytes()[6] >= b'5';
        // Cut on a character boundary only: a non-ASCII character makes the number invalid
        // below anyway (found by fuzzing `check`: "0.00000é" panicked here).
        if digits.is_char_boundary(6) {
            digits.truncate(6);
        }
    }
    let text = format!("{whole}{digits:0<6}");
    let valid = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let Some(n) = valid.then(|| text.parse::<u64>().ok()).flatten() else {
        if valid {
            ctx.warn(loc, format!("number '{v}' outside unsigned decimal range"));
        } else {
            ctx.warn(loc, format!("invalid number '{v}'"));
        }
        return None;
    };
    let n = n + u64::from(round_up);
    if !(min..=max).contains(&n) {
        ctx.warn(
            loc,
            format!(
                "number '{v}' outside range [{}.{:06}, {}.{:06}]",
                min / 1_000_000,
                min % 1_000_000,
                max / 1_000_000,
                max % 1_000_000
            ),
        );
        return None;
    }
    Some(n)
}

/// keepalived's `read_unsigned` (decimal, `min..=max`) with its messages; the caller adds its
/// own about the keyword.
pub(crate) fn read_unsigned(
    ctx: &mut Ctx,
    loc: &Location,
    v: &str,
    min: u32,
    max: u32,
) -> Option<u32> {
    if let Some(n) = unsigned(v, min, max) {
        return Some(n);
    }
    let message = if v.starts_with('-') {
        format!("negative number '{v}'")
    } else if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        format!("number '{v}' outside range [{min}, {max}]")
    } else {
        format!("invalid number '{v}'")
    };
    ctx.warn(loc, message);
    None
}

/// The words after `garp_extra_if` (`DELAY [all]`, in any order), and after the global
/// `vrrp_garp_extra_if` with `min` 1, as keepalived's two handlers read them: the delay,
/// `None` when a word is invalid or no time is given (each said as keepalived says it, after
/// `prefix`), and whether `all` came, which counts even when the line is then ignored.
pub(crate) fn garp_extra_if(
    ctx: &mut Ctx,
    loc: &Location,
    kw: &str,
    words: &[String],
    min: u32,
    prefix: &str,
) -> (Option<u32>, bool) {
    let (mut delay, mut all) = (None, false);
    for v in words {
        if v == "all" {
            all = true;
        } else if let Some(n) = read_unsigned(ctx, loc, v, min, 86400) {
            delay = Some(n);
        } else {
            ctx.warn(loc, format!("{prefix}{kw} '{v}' invalid - ignoring"));
            return (None, all);
        }
    }
    if delay.is_none() {
        ctx.warn(
            loc,
            format!("{prefix}{kw} specified without time - ignoring"),
        );
    }
    (delay, all)
}

/// keepalived's `check_true_false`: true/on/yes, false/off/no.
pub(crate) fn true_false(v: &str) -> Option<bool> {
    match v {
        "true" | "on" | "yes" => Some(true),
        "false" | "off" | "no" => Some(false),
        _ => None,
    }
}
