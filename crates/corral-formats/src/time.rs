//! Event-time parsing. The hot path (RFC 3339 as Alertmanager and corral write it) is parsed by
//! hand because chrono's general parser costs more than the rest of a native record; anything
//! unusual falls back to chrono.

use corral_core::Millis;

/// RFC 3339 (`2026-11-25T02:11:07Z`, fractions, `+01:00` or `+0100` offsets, a space instead of
/// `T`) or epoch milliseconds as a string of digits.
pub fn parse_time(s: &str) -> Option<Millis> {
    if let Some(ms) = utc_seconds_or_millis(s.as_bytes()) {
        return Some(ms);
    }
    let t = s.trim();
    if let Some(ms) = fast_rfc3339(t.as_bytes()) {
        return Some(ms);
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i64>().ok();
    }
    corral_core::model::parse_event_time(t).or_else(|| {
        // CloudWatch writes `2021-03-03T22:16:39.493+0000`; chrono wants a colon in the offset.
        chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z")
            .or_else(|_| chrono::DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f%z"))
            .ok()
            .map(|d| d.timestamp_millis())
    })
}

/// Epoch seconds (integer or fractional, as many monitors send) to milliseconds.
pub fn seconds_to_millis(secs: f64) -> Option<Millis> {
    if secs.is_finite() && secs.abs() < 9.0e12 {
        Some((secs * 1000.0).round() as i64)
    } else {
        None
    }
}

/// Parses text that is either epoch seconds (possibly fractional) or an RFC 3339 timestamp.
pub fn parse_seconds_or_rfc3339(s: &str) -> Option<Millis> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return seconds_to_millis(secs);
    }
    parse_time(t)
}

fn digits(b: &[u8]) -> Option<i64> {
    let mut v: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// The one digit at `b[i]`, or `None`.
#[inline(always)]
fn digit(b: &[u8], i: usize) -> Option<i64> {
    let d = b[i].wrapping_sub(b'0');
    (d < 10).then_some(i64::from(d))
}

/// The two digits at `b[i..i + 2]` as a number, or `None`.
#[inline(always)]
fn two_digits(b: &[u8], i: usize) -> Option<i64> {
    Some(digit(b, i)? * 10 + digit(b, i + 1)?)
}

/// The shape nearly every event time has (Alertmanager's and corral's own):
/// `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.mmmZ`, nothing around it. Read with fixed
/// offsets and no loops, the same value as [`fast_rfc3339`]; `None` for anything else (which
/// then takes the general path).
fn utc_seconds_or_millis(b: &[u8]) -> Option<Millis> {
    let millis = match b.len() {
        20 if b[19] == b'Z' => 0,
        24 if b[19] == b'.' && b[23] == b'Z' => digit(b, 20)? * 100 + two_digits(b, 21)?,
        _ => return None,
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let y = two_digits(b, 0)? * 100 + two_digits(b, 2)?;
    let (mo, d) = (two_digits(b, 5)?, two_digits(b, 8)?);
    let (h, mi, s) = (two_digits(b, 11)?, two_digits(b, 14)?, two_digits(b, 17)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s;
    Some(secs * 1000 + millis)
}

fn fast_rfc3339(b: &[u8]) -> Option<Millis> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
        return None;
    }
    let (y, mo, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (h, mi, s) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &b[start..i];
        if frac.is_empty() {
            return None;
        }
        // Milliseconds: the first three digits, padded; finer digits are truncated.
        for k in 0..3 {
            millis = millis * 10 + frac.get(k).map_or(0, |c| i64::from(c - b'0'));
        }
    }
    let offset_minutes = match &b[i..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let oh = digits(&[*h1, *h2])?;
            let om = digits(&[*m1, *m2])?;
            if oh > 23 || om > 59 {
                return None;
            }
            let v = oh * 60 + om;
            if *sign == b'-' {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset_minutes * 60;
    Some(secs * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_chrono() {
        for s in [
            "2023-11-14T22:13:20Z",
            "2023-11-14T22:13:20.5Z",
            "2023-11-14T22:13:20.123456789Z",
            "2023-11-14T23:13:20.5+01:00",
            "2023-11-14T17:13:20-05:00",
            "2024-02-29T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
        ] {
            assert_eq!(
                fast_rfc3339(s.as_bytes()),
                corral_core::model::parse_event_time(s),
                "{s}"
            );
        }
    }

    proptest::proptest! {
        /// The fixed-offset reading of the common shape gives what the general reading gives,
        /// for well-formed times and for every way of getting one byte of them wrong.
        #[test]
        fn fixed_shape_agrees_with_the_general_reading(
            y in 0u32..10_000, mo in 0u32..14, d in 0u32..33, h in 0u32..26, mi in 0u32..62,
            s in 0u32..62, ms in proptest::option::of(0u32..1000),
            poke in proptest::option::of((0usize..24, proptest::prelude::any::<u8>())),
        ) {
            let mut text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
            if let Some(ms) = ms {
                text.push_str(&format!(".{ms:03}"));
            }
            text.push('Z');
            let mut bytes = text.into_bytes();
            if let Some((at, byte)) = poke {
                if at < bytes.len() {
                    bytes[at] = byte;
                }
            }
            let fixed = utc_seconds_or_millis(&bytes);
            if fixed.is_some() {
                proptest::prop_assert_eq!(fixed, fast_rfc3339(&bytes));
            }
            if let Ok(text) = std::str::from_utf8(&bytes) {
                // The general path (trim, other shapes, chrono) answers the same with or
                // without the fixed reading in front of it.
                let general = fast_rfc3339(text.trim().as_bytes());
                if poke.is_none() {
                    proptest::prop_assert_eq!(fixed, general);
                }
                if fixed.is_some() {
                    proptest::prop_assert_eq!(parse_time(text), general);
                }
            }
        }
    }

    #[test]
    fn accepts_vendor_variants() {
        assert_eq!(
            parse_time("2023-11-14T22:13:20.000+0000"),
            Some(1_700_000_000_000)
        );
        assert_eq!(parse_time("2023-11-14 22:13:20Z"), Some(1_700_000_000_000));
        assert_eq!(parse_time("1700000000000"), Some(1_700_000_000_000));
        assert_eq!(
            parse_seconds_or_rfc3339("1700000000.25"),
            Some(1_700_000_000_250)
        );
        assert_eq!(parse_time("2023-02-30T00:00:00Z"), None);
        assert_eq!(parse_time("2023-11-14T25:00:00Z"), None);
        assert_eq!(parse_time("soon"), None);
        assert_eq!(parse_time(""), None);
    }
}
