//! Pieces every parser shares: limits, the last step that turns a half-built alert into a valid
//! one, resource lookup from labels, and a fast event-time deserializer.

use crate::time::parse_time;
use corral_core::model::{compute_fingerprint, Labels, Str};
use corral_core::{Alert, Millis, Severity, Status};
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

/// More labels than this on one alert is a broken producer (or an attack), not a real alert.
pub const MAX_LABELS: usize = 256;
/// Largest accepted string in an alert (a label or annotation value, a summary, a name).
pub const MAX_VALUE_BYTES: usize = 16 * 1024;

/// Alertmanager's "no time" (`0001-01-01T00:00:00Z`) in epoch milliseconds.
pub const GO_ZERO_TIME_MS: Millis = -62_135_596_800_000;

/// Reasons collected while decoding one record; a record can have several bad parts.
#[derive(Default, Debug)]
pub struct Problems(pub Vec<String>);

impl Problems {
    pub fn push(&mut self, context: &str, reason: impl fmt::Display) {
        if context.is_empty() {
            self.0.push(reason.to_string());
        } else {
            self.0.push(format!("{context}: {reason}"));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_reason(self) -> String {
        self.0.join("; ")
    }
}

/// A new alert with the fields every source fills; `finish` completes it.
pub fn alert(source: &str, name: Str, status: Status, severity: Severity, resource: Str) -> Alert {
    Alert {
        fingerprint: Str::default(),
        source: source.into(),
        name,
        status,
        severity,
        resource,
        service: None,
        summary: None,
        labels: Vec::new(),
        annotations: Vec::new(),
        starts_at: 0,
        ends_at: None,
        value: None,
    }
}

/// Sorts labels, computes the fingerprint when the source gave none, and enforces the limits.
pub fn finish(mut a: Alert, labels_sorted: bool) -> Result<Alert, String> {
    if !labels_sorted {
        Alert::normalize_labels(&mut a.labels);
        Alert::normalize_labels(&mut a.annotations);
    }
    if a.name.is_empty() {
        return Err("alert name is empty".into());
    }
    if a.resource.is_empty() {
        return Err("resource is empty".into());
    }
    check_limits(&a)?;
    if a.fingerprint.is_empty() {
        a.fingerprint = compute_fingerprint(&a.source, &a.name, &a.resource, &a.labels);
    }
    Ok(a)
}

/// Rejects alerts with too many labels or oversized strings, naming the offender.
pub fn check_limits(a: &Alert) -> Result<(), String> {
    if a.labels.len() > MAX_LABELS {
        return Err(format!(
            "{} labels, more than the {MAX_LABELS} allowed",
            a.labels.len()
        ));
    }
    if a.annotations.len() > MAX_LABELS {
        return Err(format!(
            "{} annotations, more than the {MAX_LABELS} allowed",
            a.annotations.len()
        ));
    }
    // Checked without allocating: this runs on every alert of every replay.
    let too_long = |s: &str| s.len() > MAX_VALUE_BYTES;
    let refuse = |what: std::fmt::Arguments, s: &str| {
        format!(
            "{what} is {} bytes, more than the {} KiB allowed",
            s.len(),
            MAX_VALUE_BYTES / 1024
        )
    };
    for (what, s) in [
        ("fingerprint", a.fingerprint.as_str()),
        ("source", &a.source),
        ("name", &a.name),
        ("resource", &a.resource),
        ("service", a.service.as_deref().unwrap_or("")),
        ("summary", a.summary.as_deref().unwrap_or("")),
    ] {
        if too_long(s) {
            return Err(refuse(format_args!("{what}"), s));
        }
    }
    for (set, kind) in [(&a.labels, "label"), (&a.annotations, "annotation")] {
        for (k, v) in set {
            if too_long(k) {
                return Err(refuse(format_args!("{kind} key"), k));
            }
            if too_long(v) {
                return Err(refuse(format_args!("{kind} {k:?}"), v));
            }
        }
    }
    Ok(())
}

/// Label keys that name the affected resource, most specific first. The first one present wins.
pub const RESOURCE_LABELS: &[&str] = &[
    "instance",
    "host",
    "hostname",
    "nodename",
    "node",
    "pod",
    "container",
    "deployment",
    "statefulset",
    "daemonset",
    "service",
    "job",
    "namespace",
    "cluster",
];

/// The resource an alert is about, from its labels; `instance` loses its port and scheme.
pub fn resource_from_labels(labels: &Labels) -> Option<Str> {
    for key in RESOURCE_LABELS {
        if let Some(v) = label(labels, key) {
            if v.is_empty() {
                continue;
            }
            return Some(if *key == "instance" {
                strip_port(v).into()
            } else {
                v.into()
            });
        }
    }
    None
}

pub fn label<'l>(labels: &'l Labels, key: &str) -> Option<&'l str> {
    labels
        .binary_search_by(|(k, _)| k.as_str().cmp(key))
        .ok()
        .map(|i| labels[i].1.as_str())
}

/// `host:9100` → `host`, `[::1]:9100` → `::1`, `http://host:8080/path` → `host`; a bare IPv6
/// address stays whole.
pub fn strip_port(instance: &str) -> &str {
    let mut s = instance;
    // Byte loops rather than `str::find` and friends: their searchers cost more to set up than
    // a short instance name takes to walk, and this runs for most Alertmanager alerts. Every
    // byte looked for is ASCII, so each offset found is a char boundary.
    if let Some(i) = find_scheme_separator(s.as_bytes()) {
        s = &s[i + 3..];
    }
    if let Some(i) = s.bytes().position(|b| b == b'/') {
        s = &s[..i];
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match s.bytes().rposition(|b| b == b':') {
        // More than one colon without brackets: an IPv6 address, no port.
        Some(i) if s.as_bytes()[..i].contains(&b':') => s,
        Some(i) if s[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &s[..i],
        _ => s,
    }
}

/// Offset of the first `://`.
fn find_scheme_separator(bytes: &[u8]) -> Option<usize> {
    (0..bytes.len().saturating_sub(2))
        .find(|&i| bytes[i] == b':' && bytes[i + 1] == b'/' && bytes[i + 2] == b'/')
}

/// Event time as RFC 3339 text or epoch milliseconds, parsed without an intermediate string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Time(pub Millis);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Time;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp or epoch milliseconds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Time, E> {
                Ok(Time(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Time, E> {
                i64::try_from(v)
                    .map(Time)
                    .map_err(|_| E::custom("epoch milliseconds out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Time, E> {
                if v.is_finite() && v.abs() < 9.0e15 {
                    Ok(Time(v as i64))
                } else {
                    Err(E::custom("epoch milliseconds out of range"))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Time, E> {
                parse_time(v)
                    .map(Time)
                    .ok_or_else(|| E::custom(format_args!("invalid timestamp {v:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Epoch seconds as a number or a string of digits (Zabbix, Nagios, GCP, Icinga).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seconds(pub Millis);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Seconds, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("epoch seconds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seconds, E> {
                crate::time::seconds_to_millis(v)
                    .map(Seconds)
                    .ok_or_else(|| E::custom("epoch seconds out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Seconds, E> {
                crate::time::parse_seconds_or_rfc3339(v)
                    .map(Seconds)
                    .ok_or_else(|| E::custom(format_args!("invalid timestamp {v:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A string, or a number or boolean kept as its text (vendors are loose about types).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Text(pub Str);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.into()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(compact_str::format_compact!("{v}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(compact_str::format_compact!("{v}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(compact_str::format_compact!("{v}")))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(if v { "true".into() } else { "false".into() }))
            }
        }
        d.deserialize_any(V)
    }
}

/// `firing` or `resolved`, with an error that names what was sent instead (serde's enum error
/// for a number is only "expected value").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StatusField(pub Status);

impl<'de> Deserialize<'de> for StatusField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<StatusField, D::Error> {
        let t = Text::deserialize(d)?;
        match t.0.as_str() {
            "firing" => Ok(StatusField(Status::Firing)),
            "resolved" => Ok(StatusField(Status::Resolved)),
            other => Err(de::Error::custom(format_args!(
                "status {other:?} is neither firing nor resolved"
            ))),
        }
    }
}

/// One of corral's four severities, by name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeverityField(pub Severity);

impl<'de> Deserialize<'de> for SeverityField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SeverityField, D::Error> {
        let t = Text::deserialize(d)?;
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str() == t.0)
            .map(SeverityField)
            .ok_or_else(|| {
                de::Error::custom(format_args!(
                    "severity {:?} is none of critical, error, warning, info",
                    t.0
                ))
            })
    }
}

/// Calls `each` for every payload of a JSON record: the record itself, or each element when the
/// record is a JSON array of payloads. A bad element does not spoil its neighbours.
pub fn for_each_payload(
    record: &[u8],
    problems: &mut Problems,
    mut each: impl FnMut(&[u8], &str, &mut Problems),
) {
    let first = record.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        match serde_json::from_slice::<Vec<&RawValue>>(record) {
            Ok(items) => {
                for (i, item) in items.iter().enumerate() {
                    each(item.get().as_bytes(), &format!("[{i}]"), problems);
                }
            }
            Err(e) => problems.push("", e),
        }
    } else {
        each(record, "", problems);
    }
}

/// Checks UTF-8 once for the whole payload, so that serde_json can read it as `&str` and skip
/// validating every string again (a large share of the cost of a native record). The error
/// gives the line and column like serde_json's own.
///
/// Valid text is checked by simdutf8 (vector instructions, chosen at run time; std's check
/// went a byte or a word at a time and cost ~250 instructions per native record); only invalid
/// text goes through std again, whose error tells where the first bad byte is.
pub fn utf8(payload: &[u8]) -> Result<&str, String> {
    if let Ok(text) = simdutf8::basic::from_utf8(payload) {
        return Ok(text);
    }
    std::str::from_utf8(payload).map_err(|e| {
        let at = e.valid_up_to();
        let before = &payload[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = at
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        format!("invalid UTF-8 at line {line} column {column}")
    })
}

/// Joins a context prefix and a field path for error messages.
pub fn ctx(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    proptest::proptest! {
        /// The vector check accepts exactly what std accepts, as the same `&str`; bad text
        /// still gets std's position. Text is long enough to reach the vector loops and mixes
        /// ASCII with multi-byte characters, lone continuation bytes, truncated sequences,
        /// surrogates and overlong forms.
        #[test]
        fn utf8_agrees_with_std(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    "[a-z\"{}:, ]{0,40}".prop_map(String::into_bytes),
                    "[é€😀ü]{1,3}".prop_map(String::into_bytes),
                    proptest::sample::select(vec![
                        vec![0x80], vec![0xc3], vec![0xe2, 0x82], vec![0xed, 0xa0, 0x80],
                        vec![0xc0, 0xaf], vec![0xf4, 0x90, 0x80, 0x80], vec![0xff], vec![b'\n'],
                    ]),
                ],
                0..20,
            ),
            bad in proptest::bool::weighted(0.3),
        ) {
            let mut bytes: Vec<u8> = Vec::new();
            for piece in &pieces {
                // Most cases stay valid: invalid pieces only when `bad` is drawn.
                if bad || std::str::from_utf8(piece).is_ok() {
                    bytes.extend_from_slice(piece);
                }
            }
            let expected = std::str::from_utf8(&bytes);
            match utf8(&bytes) {
                Ok(text) => prop_assert_eq!(Ok(text), expected),
                Err(reason) => {
                    prop_assert!(expected.is_err());
                    prop_assert!(reason.starts_with("invalid UTF-8 at line"), "{}", reason);
                }
            }
        }
    }

    #[test]
    fn strips_ports_and_schemes() {
        assert_eq!(strip_port("db-1:9100"), "db-1");
        assert_eq!(strip_port("10.0.0.1:9100"), "10.0.0.1");
        assert_eq!(strip_port("[2001:db8::1]:9100"), "2001:db8::1");
        assert_eq!(strip_port("2001:db8::1"), "2001:db8::1");
        assert_eq!(
            strip_port("https://api.example.com:8443/health"),
            "api.example.com"
        );
        assert_eq!(strip_port("db-1"), "db-1");
        assert_eq!(strip_port("host:http"), "host:http");
        // The first `://` only; an empty port is a port.
        assert_eq!(strip_port("a://b://c:1/x"), "b");
        assert_eq!(strip_port("://"), "");
        assert_eq!(strip_port(":/"), "");
    }

    /// `strip_port` as it was written with `str` searches, before its byte loops.
    fn strip_port_with_str_searches(instance: &str) -> &str {
        let mut s = instance;
        if let Some(i) = s.find("://") {
            s = &s[i + 3..];
        }
        if let Some(i) = s.find('/') {
            s = &s[..i];
        }
        if let Some(rest) = s.strip_prefix('[') {
            return rest.split(']').next().unwrap_or(rest);
        }
        match s.rfind(':') {
            Some(i) if s[..i].contains(':') => s,
            Some(i) if s[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &s[..i],
            _ => s,
        }
    }

    proptest::proptest! {
        #[test]
        fn strip_port_agrees_with_its_str_search_form(instance in "[a:/\\[\\]0-9é.]{0,16}") {
            proptest::prop_assert_eq!(strip_port(&instance), strip_port_with_str_searches(&instance));
        }
    }

    #[test]
    fn limits_name_the_offender() {
        let mut a = alert("x", "n".into(), Status::Firing, Severity::Info, "r".into());
        a.labels = (0..300)
            .map(|i| (compact_str::format_compact!("k{i:03}"), Str::from("v")))
            .collect();
        assert!(finish(a.clone(), true).unwrap_err().contains("300 labels"));
        a.labels = vec![("big".into(), "x".repeat(MAX_VALUE_BYTES + 1).into())];
        let e = finish(a, true).unwrap_err();
        assert!(e.contains("label \"big\"") && e.contains("16 KiB"), "{e}");
    }
}
