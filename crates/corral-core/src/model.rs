//! The normalized alert (SPEC §1): what every input format is parsed into and what every later
//! stage reads. Strings are `CompactString` so that the short ones (most names, sources,
//! severities, label values) live inline without a heap allocation.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Event time in milliseconds since the Unix epoch. Every window in corral runs on this clock.
pub type Millis = i64;

pub type Str = CompactString;

/// Label set, sorted by key, keys unique. A `Vec` beats a map here: label sets are small and a
/// sorted vector is compact, cache friendly and hashes deterministically.
pub type Labels = Vec<(Str, Str)>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Info,
        Severity::Warning,
        Severity::Error,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }

    /// Parses corral's own names and the common synonyms monitors use.
    pub fn parse_loose(s: &str) -> Option<Severity> {
        let s = s.trim();
        let eq = |w: &str| s.eq_ignore_ascii_case(w);
        if eq("critical")
            || eq("crit")
            || eq("fatal")
            || eq("disaster")
            || eq("emergency")
            || eq("page")
        {
            Some(Severity::Critical)
        } else if eq("error") || eq("err") || eq("high") || eq("major") || eq("severe") {
            Some(Severity::Error)
        } else if eq("warning") || eq("warn") || eq("average") || eq("minor") || eq("medium") {
            Some(Severity::Warning)
        } else if eq("info")
            || eq("information")
            || eq("informational")
            || eq("low")
            || eq("notice")
            || eq("ok")
            || eq("none")
            || eq("debug")
            || eq("normal")
            || eq("cleared")
        {
            Some(Severity::Info)
        } else {
            None
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Firing,
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Firing => "firing",
            Status::Resolved => "resolved",
        }
    }
}

/// One alert occurrence, normalized (SPEC §1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub fingerprint: Str,
    pub source: Str,
    pub name: Str,
    pub status: Status,
    pub severity: Severity,
    pub resource: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, with = "labels_as_map")]
    pub labels: Labels,
    #[serde(default, with = "labels_as_map", skip_serializing_if = "Vec::is_empty")]
    pub annotations: Labels,
    #[serde(with = "event_time")]
    pub starts_at: Millis,
    #[serde(
        default,
        with = "event_time_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ends_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

impl Alert {
    /// A firing alert with the given identity; handy in tests and generators.
    pub fn firing(name: &str, resource: &str, starts_at: Millis) -> Alert {
        let mut a = Alert {
            fingerprint: Str::default(),
            source: Str::const_new("native"),
            name: name.into(),
            status: Status::Firing,
            severity: Severity::Error,
            resource: resource.into(),
            service: None,
            summary: None,
            labels: Vec::new(),
            annotations: Vec::new(),
            starts_at,
            ends_at: None,
            value: None,
        };
        a.fingerprint = compute_fingerprint(&a.source, &a.name, &a.resource, &a.labels);
        a
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| self.labels[i].1.as_str())
    }

    /// The time this occurrence speaks for: the end for a resolve that carries one, else the start.
    pub fn event_time(&self) -> Millis {
        match (self.status, self.ends_at) {
            (Status::Resolved, Some(end)) => end,
            _ => self.starts_at,
        }
    }

    /// Sorts labels by key and drops duplicate keys (last one wins), as SPEC §1 identity expects.
    pub fn normalize_labels(labels: &mut Labels) {
        let unique = sort_pairs_last_wins(labels);
        labels.truncate(unique);
    }
}

/// Sorts key-value pairs by key, keeping for each key the value that came last, and returns how
/// many unique pairs now lead the slice (the caller truncates to that). Shared by owned labels
/// and the decoder's borrowed ones, so both normalize alike.
pub fn sort_pairs_last_wins<K: Ord, V>(pairs: &mut [(K, V)]) -> usize {
    // Most producers (corral's own output among them) already send keys sorted and unique.
    if pairs.windows(2).all(|w| w[0].0 < w[1].0) {
        return pairs.len();
    }
    // Stable: of equal keys, the one that came last stays last.
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut unique = 0;
    for i in 0..pairs.len() {
        if unique > 0 && pairs[unique - 1].0 == pairs[i].0 {
            // A later value of the same key replaces the kept one.
            pairs.swap(unique - 1, i);
        } else {
            pairs.swap(unique, i);
            unique += 1;
        }
    }
    unique
}

/// What the engine needs of an occurrence to merge it into an alert it already knows: its
/// identity, status, severity, service and times, borrowed from the decoder's input.
///
/// A decoder hands this to [`crate::Engine::ingest_repeat`] before building the whole [`Alert`]:
/// most occurrences of a storm repeat an alert that is already firing, and for those the rest
/// of the alert (name, resource, labels, annotations, summary) is never read. The fields mean
/// exactly what they mean in the [`Alert`] the same record decodes into ([`Alert::head`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AlertHead<'a> {
    pub fingerprint: &'a str,
    pub status: Status,
    pub severity: Severity,
    /// Already without the empty string, as in [`Alert::service`].
    pub service: Option<&'a str>,
    pub starts_at: Millis,
    pub ends_at: Option<Millis>,
    /// A metric sample, not an alert occurrence, when set.
    pub value: Option<f64>,
}

impl AlertHead<'_> {
    /// The same as [`Alert::event_time`] of the alert this head belongs to.
    pub fn event_time(&self) -> Millis {
        match (self.status, self.ends_at) {
            (Status::Resolved, Some(end)) => end,
            _ => self.starts_at,
        }
    }
}

impl Alert {
    /// This alert's head, as a decoder would offer it before building the alert.
    pub fn head(&self) -> AlertHead<'_> {
        AlertHead {
            fingerprint: &self.fingerprint,
            status: self.status,
            severity: self.severity,
            service: self.service.as_deref(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            value: self.value,
        }
    }
}

/// Stable fingerprint for sources that give none: xxh3 of source, name, resource and the sorted
/// labels, each field terminated so that ("ab","c") and ("a","bc") differ. Stable across
/// versions and platforms: users store these in tickets.
pub fn compute_fingerprint(source: &str, name: &str, resource: &str, labels: &Labels) -> Str {
    fingerprint_of(
        source,
        name,
        resource,
        labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )
}

/// [`compute_fingerprint`] over borrowed labels (sorted by key, keys unique), for decoders that
/// have not built the label vector.
pub fn fingerprint_of<'l>(
    source: &str,
    name: &str,
    resource: &str,
    labels: impl Iterator<Item = (&'l str, &'l str)> + Clone,
) -> Str {
    // One-shot xxh3 over the bytes laid end to end in a stack buffer gives the same digest as
    // the streaming hasher fed piece by piece, at a fraction of the cost; identities too long
    // for the buffer take the streaming way.
    let mut buf = [0u8; 320];
    let mut len = 0;
    let mut fits = true;
    let mut put = |bytes: &[u8], end: u8| {
        if fits && len + bytes.len() < buf.len() {
            buf[len..len + bytes.len()].copy_from_slice(bytes);
            buf[len + bytes.len()] = end;
            len += bytes.len() + 1;
        } else {
            fits = false;
        }
    };
    for part in [source, name, resource] {
        put(part.as_bytes(), 0xff);
    }
    for (k, v) in labels.clone() {
        put(k.as_bytes(), 0xfe);
        put(v.as_bytes(), 0xff);
    }
    let digest = if fits {
        xxhash_rust::xxh3::xxh3_64(&buf[..len])
    } else {
        streamed_digest(source, name, resource, labels)
    };
    let mut hex = [0u8; 16];
    hex16(digest, &mut hex);
    Str::from_utf8(&hex[..]).unwrap_or_default()
}

/// The fingerprint's definition: the fields fed one by one to a streaming xxh3.
fn streamed_digest<'l>(
    source: &str,
    name: &str,
    resource: &str,
    labels: impl Iterator<Item = (&'l str, &'l str)>,
) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for part in [source, name, resource] {
        h.update(part.as_bytes());
        h.update(&[0xff]);
    }
    for (k, v) in labels {
        h.update(k.as_bytes());
        h.update(&[0xfe]);
        h.update(v.as_bytes());
        h.update(&[0xff]);
    }
    h.digest()
}

fn hex16(mut v: u64, out: &mut [u8; 16]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(v & 0xf) as usize];
        v >>= 4;
    }
}

/// Parses RFC 3339 text or epoch milliseconds (as a number or a string of digits).
pub fn parse_event_time(s: &str) -> Option<Millis> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i64>().ok();
    }
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.timestamp_millis())
}

/// Formats event time as RFC 3339 UTC with second precision, or milliseconds when present.
pub fn format_event_time(ms: Millis) -> String {
    format_event_time_str(ms).into_string()
}

/// [`format_event_time`] as a `Str`: the text is at most 24 bytes from 1970 to 9999, so it is
/// kept inline, without an allocation (incident updates carry three times).
/// Hand-rolled (days-to-civil, Howard Hinnant's algorithm): it runs for every incident update.
pub fn format_event_time_str(ms: Millis) -> Str {
    if !(0..=253_402_300_799_999).contains(&ms) {
        // Outside years 1970..=9999: rare enough for the general formatter.
        return match chrono::DateTime::from_timestamp_millis(ms) {
            Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string().into(),
            None => ms.to_string().into(),
        };
    }
    // Non-negative from here on, and every intermediate value fits 32 bits: unsigned 32-bit
    // arithmetic divides by the constants without the signed fix-ups.
    let ms = ms as u64;
    let secs = ms / 1000;
    let milli = (ms % 1000) as u32;
    let days = (secs / 86_400) as u32;
    let sod = (secs % 86_400) as u32;
    // Days since 0000-03-01; years 1970..=9999 lie in eras 4 to 24.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u32::from(month <= 2);
    // Written into a stack buffer and copied once: pushing char by char checked the capacity
    // and encoded UTF-8 for each of the ~20 bytes (this runs three times per update).
    let mut buf = *b"0000-00-00T00:00:00.000Z";
    let put2 = |buf: &mut [u8; 24], at: usize, v: u32| {
        buf[at] = b'0' + (v / 10) as u8;
        buf[at + 1] = b'0' + (v % 10) as u8;
    };
    put2(&mut buf, 0, year / 100);
    put2(&mut buf, 2, year % 100);
    put2(&mut buf, 5, month);
    put2(&mut buf, 8, day);
    put2(&mut buf, 11, sod / 3600);
    put2(&mut buf, 14, sod / 60 % 60);
    put2(&mut buf, 17, sod % 60);
    let len = if milli != 0 {
        buf[20] = b'0' + (milli / 100) as u8;
        put2(&mut buf, 21, milli % 100);
        24
    } else {
        buf[19] = b'Z';
        20
    };
    // Only ASCII digits and separators were written: the check cannot fail.
    Str::new(std::str::from_utf8(&buf[..len]).unwrap_or_default())
}

/// Serde helper: event time in as RFC 3339 or epoch ms, out as RFC 3339.
pub mod event_time {
    use super::*;
    use serde::{de, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Millis, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_event_time(*v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Millis, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Millis;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp or epoch milliseconds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Millis, E> {
                Ok(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Millis, E> {
                i64::try_from(v).map_err(|_| E::custom("epoch milliseconds out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Millis, E> {
                if v.is_finite() && v.abs() < 9.0e15 {
                    Ok(v as i64)
                } else {
                    Err(E::custom("epoch milliseconds out of range"))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Millis, E> {
                parse_event_time(v).ok_or_else(|| E::custom(format!("invalid timestamp {v:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

pub mod event_time_opt {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(ms) => s.serialize_str(&format_event_time(*ms)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Millis>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "super::event_time")] Millis);
        Option::<W>::deserialize(d).map(|o| o.map(|w| w.0))
    }
}

/// Serde helper: a sorted label vector as a JSON object.
pub mod labels_as_map {
    use super::*;
    use serde::{de, ser::SerializeMap, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Labels, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(v.len()))?;
        for (k, val) in v {
            m.serialize_entry(k, val)?;
        }
        m.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Labels, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Labels;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Labels, E> {
                Ok(Vec::new())
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Labels, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some((k, v)) = map.next_entry::<Str, LabelValue>()? {
                    out.push((k, v.0));
                }
                Alert::normalize_labels(&mut out);
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }

    /// Label values are strings; numbers and booleans are accepted and kept as their text,
    /// because monitors routinely send `"port": 5432`.
    struct LabelValue(Str);
    impl<'de> Deserialize<'de> for LabelValue {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl de::Visitor<'_> for V {
                type Value = LabelValue;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a string, number or boolean label value")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<LabelValue, E> {
                    Ok(LabelValue(v.into()))
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<LabelValue, E> {
                    Ok(LabelValue(compact_str::format_compact!("{v}")))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<LabelValue, E> {
                    Ok(LabelValue(compact_str::format_compact!("{v}")))
                }
                fn visit_f64<E: de::Error>(self, v: f64) -> Result<LabelValue, E> {
                    Ok(LabelValue(compact_str::format_compact!("{v}")))
                }
                fn visit_bool<E: de::Error>(self, v: bool) -> Result<LabelValue, E> {
                    Ok(LabelValue(if v { "true".into() } else { "false".into() }))
                }
            }
            d.deserialize_any(V)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_label_order_free() {
        let mut a: Labels = vec![("b".into(), "2".into()), ("a".into(), "1".into())];
        Alert::normalize_labels(&mut a);
        let b: Labels = vec![("a".into(), "1".into()), ("b".into(), "2".into())];
        assert_eq!(
            compute_fingerprint("am", "Down", "h1", &a),
            compute_fingerprint("am", "Down", "h1", &b)
        );
        assert_ne!(
            compute_fingerprint("am", "Down", "h1", &a),
            compute_fingerprint("am", "Dow", "nh1", &a)
        );
        // Pinned value: a change here breaks every stored ticket reference.
        assert_eq!(compute_fingerprint("am", "Down", "h1", &b).len(), 16);
    }

    fn streamed_fingerprint(source: &str, name: &str, resource: &str, labels: &Labels) -> Str {
        let mut buf = [0u8; 16];
        let labels = labels.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        hex16(streamed_digest(source, name, resource, labels), &mut buf);
        Str::from_utf8(&buf[..]).unwrap()
    }

    #[test]
    fn fingerprint_matches_its_streamed_definition_at_every_size() {
        // Sizes across xxh3's internal thresholds (16, 128, 240 bytes, its 256-byte stripes and
        // the 320-byte stack buffer here), so stored fingerprints never change.
        for n in [0usize, 1, 3, 10, 40, 100, 200, 300, 600, 5000] {
            let labels: Labels = (0..n / 10)
                .map(|i| (format!("k{i}").into(), "v".repeat(i % 7).into()))
                .collect();
            let resource = "r".repeat(n % 97);
            assert_eq!(
                compute_fingerprint("alertmanager", "NodeDown", &resource, &labels),
                streamed_fingerprint("alertmanager", "NodeDown", &resource, &labels),
                "size {n}"
            );
        }
        assert_eq!(
            compute_fingerprint("am", "Down", "h1", &vec![("a".into(), "1".into())]),
            streamed_fingerprint("am", "Down", "h1", &vec![("a".into(), "1".into())])
        );
    }

    #[test]
    fn event_time_parses_both_forms() {
        assert_eq!(parse_event_time("1700000000000"), Some(1_700_000_000_000));
        assert_eq!(
            parse_event_time("2023-11-14T22:13:20Z"),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_event_time("2023-11-14T23:13:20.5+01:00"),
            Some(1_700_000_000_500)
        );
        assert_eq!(parse_event_time("yesterday"), None);
        assert_eq!(format_event_time(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(
            format_event_time(1_700_000_000_042),
            "2023-11-14T22:13:20.042Z"
        );
        assert_eq!(format_event_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_event_time(951_782_400_000), "2000-02-29T00:00:00Z");
        // Agrees with chrono over a spread of instants.
        for i in 0..2000i64 {
            let ms = i * 7_919_993_117 + i % 1000;
            let dt = chrono::DateTime::from_timestamp_millis(ms).unwrap();
            let want = if ms % 1000 == 0 {
                dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            } else {
                dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
            };
            assert_eq!(format_event_time(ms), want);
        }
    }

    #[test]
    fn native_alert_round_trips_through_json() {
        let src = r#"{"fingerprint":"f1","source":"am","name":"Down","status":"firing",
            "severity":"critical","resource":"h1","labels":{"z":"1","a":2},
            "starts_at":"2023-11-14T22:13:20Z"}"#;
        let a: Alert = serde_json::from_str(src).unwrap();
        assert_eq!(a.labels[0], ("a".into(), "2".into()));
        assert_eq!(a.starts_at, 1_700_000_000_000);
        let back: Alert = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(a, back);
    }

    proptest::proptest! {
        /// The hand-written formatter writes what chrono writes, over the whole supported range
        /// (years 1970–9999), whole seconds and milliseconds alike, and outside it.
        #[test]
        fn event_times_are_formatted_as_chrono_formats_them(
            ms in proptest::prop_oneof![
                0i64..=253_402_300_799_999,
                proptest::strategy::Strategy::prop_map(0i64..=253_402_300_799, |s| s * 1000),
                -100_000_000_000_000i64..0,
            ],
        ) {
            let dt = chrono::DateTime::from_timestamp_millis(ms).unwrap();
            let want = if ms < 0 {
                dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
            } else if ms % 1000 == 0 {
                dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            } else {
                dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
            };
            proptest::prop_assert_eq!(format_event_time(ms), want.as_str());
            let text = format_event_time_str(ms);
            proptest::prop_assert_eq!(text.as_str(), want.as_str());
            // Years 1970..=9999 fit inline: an update's times allocate nothing.
            proptest::prop_assert!(ms < 0 || !text.is_heap_allocated());
        }
    }

    proptest::proptest! {
        #[test]
        fn sorting_pairs_keeps_the_last_value_of_each_key(
            pairs in proptest::collection::vec((0u8..6, proptest::prelude::any::<u16>()), 0..12)
        ) {
            // What a map does when the pairs are inserted in order: the last value of a key wins.
            let want: Vec<(u8, u16)> = pairs
                .iter()
                .copied()
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_iter()
                .collect();
            let mut got = pairs.clone();
            let unique = sort_pairs_last_wins(&mut got);
            got.truncate(unique);
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn duplicate_label_keys_keep_the_last() {
        let mut l: Labels = vec![("a".into(), "1".into()), ("a".into(), "2".into())];
        Alert::normalize_labels(&mut l);
        assert_eq!(l, vec![("a".into(), "2".into())]);
    }
}
