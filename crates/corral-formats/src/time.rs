//! Event-time parsing. The hot path (RFC 3339 as Alertmanager and corral write it) is parsed by
//! hand because chrono's general parser costs more than the rest of a native record; anything
//! unusual falls back to chrono.

use corral_core::Millis;
use std::cell::Cell;

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

/// The number the ASCII digits spell, or `None` if one is not a digit.
#[inline(always)]
fn number<const N: usize>(digits: [u8; N]) -> Option<i64> {
    let mut value = 0;
    for c in digits {
        let d = c.wrapping_sub(b'0');
        if d >= 10 {
            return None;
        }
        value = value * 10 + i64::from(d);
    }
    Some(value)
}

/// The shape nearly every event time has (Alertmanager's and corral's own):
/// `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.mmmZ`, nothing around it. Read with fixed
/// offsets and no loops, the same value as [`fast_rfc3339`]; `None` for anything else (which
/// then takes the general path). Every byte is checked: a digit where the shape has one, the
/// separator or `Z` elsewhere.
#[inline(always)]
pub(crate) fn utc_seconds_or_millis(b: &[u8]) -> Option<Millis> {
    let (minute, rest) = b.split_first_chunk::<16>()?;
    let (s0, s1, millis) = match *rest {
        [b':', s0, s1, b'Z'] => (s0, s1, 0),
        [b':', s0, s1, b'.', a, b, c, b'Z'] => (s0, s1, number([a, b, c])?),
        _ => return None,
    };
    let s = number([s0, s1])?;
    if s > 60 {
        return None;
    }
    Some(minute_millis(minute)? + s * 1000 + millis)
}

thread_local! {
    /// The minute (`YYYY-MM-DDTHH:MM`, as a little-endian word) [`minute_millis`] read last,
    /// and its epoch milliseconds. Starts as the epoch's own minute, which is valid.
    static LAST_MINUTE: Cell<(u128, Millis)> =
        const { Cell::new((u128::from_le_bytes(*b"1970-01-01T00:00"), 0)) };
}

/// Epoch milliseconds of the minute `YYYY-MM-DDTHH:MM`, `None` if it is not one. Consecutive
/// event times nearly always share their minute, so the last one's value is reused: a 16-byte
/// compare instead of the digit checks and the calendar arithmetic. Only a valid minute is
/// remembered, so a hit is exactly what [`minute_millis_uncached`] would answer.
#[inline(always)]
fn minute_millis(minute: &[u8; 16]) -> Option<Millis> {
    let key = u128::from_le_bytes(*minute);
    let (last_key, last_millis) = LAST_MINUTE.get();
    if key == last_key {
        return Some(last_millis);
    }
    let millis = minute_millis_uncached(minute)?;
    LAST_MINUTE.set((key, millis));
    Some(millis)
}

#[inline(never)]
fn minute_millis_uncached(minute: &[u8; 16]) -> Option<Millis> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', i0, i1] = *minute else {
        return None;
    };
    let y = number([y0, y1, y2, y3])?;
    let (mo, d) = (number([m0, m1])?, number([d0, d1])?);
    let (h, mi) = (number([h0, h1])?, number([i0, i1])?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 {
        return None;
    }
    Some((days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60) * 1000)
}

/// [`utc_seconds_or_millis`] on the JSON string whose text starts `b` (after its opening
/// quote): the time, and the length of the text before its closing quote. A time of that
/// shape is all digits and separators, so it is the string's whole text (no escape, no control
/// character) and [`parse_time`] of that text gives the same time.
#[inline]
pub(crate) fn utc_string_prefix(b: &[u8]) -> Option<(Millis, usize)> {
    for len in [24, 20] {
        if b.get(len) == Some(&b'"') {
            if let Some(ms) = utc_seconds_or_millis(&b[..len]) {
                return Some((ms, len));
            }
        }
    }
    None
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

    /// The fixed-shape reading without the remembered minute (the code before it), as the
    /// reference for [`minute_millis`].
    fn utc_seconds_or_millis_uncached(b: &[u8]) -> Option<Millis> {
        let (head, rest) = b.split_first_chunk::<19>()?;
        let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', i0, i1, b':', s0, s1] =
            *head
        else {
            return None;
        };
        let millis = match *rest {
            [b'Z'] => 0,
            [b'.', a, b, c, b'Z'] => number([a, b, c])?,
            _ => return None,
        };
        let y = number([y0, y1, y2, y3])?;
        let (mo, d) = (number([m0, m1])?, number([d0, d1])?);
        let (h, mi, s) = (number([h0, h1])?, number([i0, i1])?, number([s0, s1])?);
        if !(1..=12).contains(&mo)
            || d < 1
            || d > days_in_month(y, mo)
            || h > 23
            || mi > 59
            || s > 60
        {
            return None;
        }
        let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s;
        Some(secs * 1000 + millis)
    }

    proptest::proptest! {
        /// Reading a sequence of times with the last minute remembered gives what reading each
        /// one afresh gives: times in the same, the next or an earlier minute, invalid minutes
        /// (never remembered), bytes poked anywhere, the epoch's minute the cache starts with.
        #[test]
        fn remembered_minute_reads_as_a_fresh_reading(
            times in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "2026-11-25T02:11", "2026-11-25T02:12", "2026-11-25T03:11",
                        "2024-02-29T23:59", "2023-02-29T00:00", "1970-01-01T00:00",
                        "1969-12-31T23:59", "2026-13-01T00:00", "2026-11-25T24:00",
                        "2026-11-25T02:60", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
                    ]),
                    0u32..62,
                    proptest::option::of(0u32..1000),
                    proptest::option::of((0usize..24, proptest::sample::select(vec![b'0', b'9', b'/', b':', b'Z', 0]))),
                ),
                1..12,
            ),
        ) {
            for (minute, s, ms, poke) in times {
                let mut text = format!("{minute}:{s:02}");
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
                proptest::prop_assert_eq!(
                    utc_seconds_or_millis(&bytes),
                    utc_seconds_or_millis_uncached(&bytes),
                    "{:?}", String::from_utf8_lossy(&bytes)
                );
            }
        }
    }

    proptest::proptest! {
        /// A time read where it lies in a JSON string is the one `parse_time` reads from the
        /// string's text, with the same length; shapes it does not take are left to the caller.
        #[test]
        fn string_prefix_agrees_with_parse_time(
            y in 1900u32..2200, mo in 1u32..13, d in 1u32..32, h in 0u32..24, mi in 0u32..60,
            s in 0u32..60,
            fraction in proptest::sample::select(vec!["", ".5", ".123", ".1234", ".000"]),
            zone in proptest::sample::select(vec!["Z", "z", "+01:00", ""]),
            tail in proptest::sample::select(vec!["\"", "\",\"x\":\"y\"", "\\\"", "", "Z\"", "\"1234"]),
            poke in proptest::option::of((0usize..26, proptest::sample::select(vec![b'"', b'\\', b'0', 0x1f, b'Z', b'.']))),
        ) {
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{fraction}{zone}");
            let mut bytes = format!("{text}{tail}").into_bytes();
            if let Some((at, byte)) = poke {
                if at < bytes.len() {
                    bytes[at] = byte;
                }
            }
            if let Some((ms, len)) = utc_string_prefix(&bytes) {
                proptest::prop_assert_eq!(bytes.get(len), Some(&b'"'));
                let string = &bytes[..len];
                proptest::prop_assert!(!string.iter().any(|&c| c == b'"' || c == b'\\' || c < 0x20));
                let text = std::str::from_utf8(string).expect("ASCII");
                proptest::prop_assert_eq!(parse_time(text), Some(ms));
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
