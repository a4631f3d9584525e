//! Incident updates as JSON, written by hand: byte for byte what `serde_json::to_writer` writes
//! for an [`IncidentUpdate`], at a fraction of the cost. serde_json escapes strings one byte at a
//! time through its formatter; an update is ~1,600 bytes of mostly plain fingerprints, resource
//! names and sentences, which this checks eight bytes at a time (the input scanner's test) and
//! copies whole between the rare escapes. The replay writes one of these per incident change.

use corral_core::incident::{Details, EventAction, IncidentUpdate, Payload, RootCause};

/// Appends `update` to `out` as serde_json would serialize it (no trailing newline).
pub fn write_update_json(update: &IncidentUpdate, out: &mut Vec<u8>) {
    // Destructured field by field: a field added to these structs fails to compile here rather
    // than go missing from the output (the field order is the structs' declaration order).
    let IncidentUpdate {
        event_action,
        dedup_key,
        payload,
    } = update;
    let Payload {
        summary,
        source,
        severity,
        timestamp,
        component,
        group,
        class,
        custom_details,
    } = payload;
    out.extend_from_slice(match event_action {
        EventAction::Trigger => br#"{"event_action":"trigger","dedup_key":"#,
        EventAction::Resolve => br#"{"event_action":"resolve","dedup_key":"#,
    });
    string(out, dedup_key);
    out.extend_from_slice(br#","payload":{"summary":"#);
    string(out, summary);
    out.extend_from_slice(br#","source":"#);
    string(out, source);
    out.extend_from_slice(br#","severity":"#);
    string(out, severity.as_str());
    out.extend_from_slice(br#","timestamp":"#);
    string(out, timestamp);
    out.extend_from_slice(br#","component":"#);
    string(out, component);
    out.extend_from_slice(br#","group":"#);
    string(out, group);
    out.extend_from_slice(br#","class":"#);
    string(out, class);
    out.extend_from_slice(br#","custom_details":"#);
    details(out, custom_details);
    out.extend_from_slice(b"}}");
}

fn details(out: &mut Vec<u8>, d: &Details) {
    let Details {
        incident_id,
        alerts,
        alert_count,
        event_count,
        resources,
        services,
        root_cause,
        impacted_services,
        anomaly_score,
        rules,
        merged_from,
        merged_into,
        first_seen,
        last_seen,
        explanation,
    } = d;
    out.extend_from_slice(br#"{"incident_id":"#);
    string(out, incident_id);
    out.extend_from_slice(br#","alerts":"#);
    strings(out, alerts);
    out.extend_from_slice(br#","alert_count":"#);
    integer(out, *alert_count as u64);
    out.extend_from_slice(br#","event_count":"#);
    integer(out, *event_count);
    out.extend_from_slice(br#","resources":"#);
    strings(out, resources);
    out.extend_from_slice(br#","services":"#);
    strings(out, services);
    out.extend_from_slice(br#","root_cause":"#);
    root(out, root_cause);
    out.extend_from_slice(br#","impacted_services":"#);
    strings(out, impacted_services);
    out.extend_from_slice(br#","anomaly_score":"#);
    float(out, *anomaly_score);
    out.extend_from_slice(br#","rules":"#);
    strings(out, rules);
    out.extend_from_slice(br#","merged_from":"#);
    strings(out, merged_from);
    // `skip_serializing_if = "Option::is_none"`.
    if let Some(into) = merged_into {
        out.extend_from_slice(br#","merged_into":"#);
        string(out, into);
    }
    out.extend_from_slice(br#","first_seen":"#);
    string(out, first_seen);
    out.extend_from_slice(br#","last_seen":"#);
    string(out, last_seen);
    out.extend_from_slice(br#","explanation":"#);
    strings(out, explanation);
    out.push(b'}');
}

fn root(out: &mut Vec<u8>, r: &RootCause) {
    let RootCause {
        resource,
        fingerprint,
        name,
        confidence,
        reason,
    } = r;
    out.extend_from_slice(br#"{"resource":"#);
    string(out, resource);
    out.extend_from_slice(br#","fingerprint":"#);
    optional(out, fingerprint.as_deref());
    out.extend_from_slice(br#","name":"#);
    optional(out, name.as_deref());
    out.extend_from_slice(br#","confidence":"#);
    float(out, *confidence);
    out.extend_from_slice(br#","reason":"#);
    string(out, reason);
    out.push(b'}');
}

fn optional(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// A list of names (`Str`) or of sentences (`String`).
fn strings<S: AsRef<str>>(out: &mut Vec<u8>, items: &[S]) {
    out.push(b'[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, s.as_ref());
    }
    out.push(b']');
}

/// Decimal digits as serde_json writes them (it uses `itoa` too); `write!` went through
/// `core::fmt` and `io::Write` for two numbers per update.
fn integer(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// serde_json's own float writing (shortest round-trip digits, `null` when not finite).
fn float(out: &mut Vec<u8>, x: f64) {
    let _ = serde_json::to_writer(&mut *out, &x);
}

/// A JSON string with serde_json's escapes: `\"`, `\\`, the short forms `\b \f \n \r \t`, and
/// `\u00XX` (lowercase hex) for the other control characters; everything else as it is.
/// Room for the plain case is reserved once; escapes, which grow it, are rare.
fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut rest = bytes;
    loop {
        let plain = copy_plain(out, rest);
        let Some(&special) = rest.get(plain) else {
            break;
        };
        escape(out, special);
        rest = &rest[plain + 1..];
    }
    out.push(b'"');
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of every byte of `word` (little-endian) that must be escaped: `"`, `\` or a
/// control character. Borrows can flag bytes above a real one, never below it: the lowest flag
/// is exact (the same test as the input scanner's `find_special`).
fn escape_flags(word: u64) -> u64 {
    let below = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v & HIGHS;
    // Flipping bit 1 maps `"` (0x22) to 0x20 and the control characters onto themselves, and
    // every other byte to 0x21 or above: one comparison finds both.
    below(word ^ (ONES * 0x02), 0x21) | below(word ^ (ONES * u64::from(b'\\')), 1)
}

fn needs_escape(byte: &u8) -> bool {
    *byte == b'"' || *byte == b'\\' || *byte < 0x20
}

/// Appends the longest prefix of `bytes` that needs no escape and returns its length: found
/// eight bytes at a time, then copied at once. The last, partial word is read as the string's
/// last eight bytes, overlapping bytes already checked (no byte-by-byte tail).
fn copy_plain(out: &mut Vec<u8>, bytes: &[u8]) -> usize {
    let plain = plain_prefix(bytes);
    out.extend_from_slice(&bytes[..plain]);
    plain
}

/// Sixteen bytes at a time with SSE2 (part of every x86_64) from 16 bytes on: explanation lines
/// and reasons are sentences of 50 to 200 bytes. Shorter strings take the word path.
#[cfg(target_arch = "x86_64")]
fn plain_prefix(bytes: &[u8]) -> usize {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, min_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let len = bytes.len();
    if len < 16 {
        return plain_prefix_by_words(bytes);
    }
    let quote = set_splat_i8_m128i(b'"' as i8);
    let backslash = set_splat_i8_m128i(b'\\' as i8);
    let below_space = set_splat_i8_m128i(0x1f);
    // One bit per byte to escape: `"`, `\`, or a control byte (unsigned: at most 0x1f is
    // where the minimum with 0x1f leaves it unchanged). Exact per byte.
    let flags_at = |at: usize| {
        let v = load_unaligned_m128i(bytes[at..at + 16].try_into().expect("16 bytes"));
        let special = bitor_m128i(
            bitor_m128i(
                cmp_eq_mask_i8_m128i(v, quote),
                cmp_eq_mask_i8_m128i(v, backslash),
            ),
            cmp_eq_mask_i8_m128i(min_u8_m128i(v, below_space), v),
        );
        move_mask_i8_m128i(special) as u32
    };
    let mut done = 0;
    while done + 16 <= len {
        let flags = flags_at(done);
        if flags != 0 {
            return done + flags.trailing_zeros() as usize;
        }
        done += 16;
    }
    if done < len {
        // Bytes `len - 16 .. done` are plain: the lowest flag is at or after `done`.
        let flags = flags_at(len - 16);
        if flags != 0 {
            return len - 16 + flags.trailing_zeros() as usize;
        }
    }
    len
}

#[cfg(not(target_arch = "x86_64"))]
fn plain_prefix(bytes: &[u8]) -> usize {
    plain_prefix_by_words(bytes)
}

fn plain_prefix_by_words(bytes: &[u8]) -> usize {
    let len = bytes.len();
    if len < 8 {
        return bytes.iter().position(needs_escape).unwrap_or(len);
    }
    let word_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let mut done = 0;
    while done + 8 <= len {
        let flags = escape_flags(word_at(done));
        if flags != 0 {
            return done + (flags.trailing_zeros() / 8) as usize;
        }
        done += 8;
    }
    if done < len {
        // Bytes `len - 8 .. done` are plain, so the lowest flag of the last word is exact and
        // at or after `done`.
        let flags = escape_flags(word_at(len - 8));
        if flags != 0 {
            return len - 8 + (flags.trailing_zeros() / 8) as usize;
        }
    }
    len
}

fn escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match byte {
        b'"' => out.extend_from_slice(br#"\""#),
        b'\\' => out.extend_from_slice(br"\\"),
        0x08 => out.extend_from_slice(br"\b"),
        0x0c => out.extend_from_slice(br"\f"),
        b'\n' => out.extend_from_slice(br"\n"),
        b'\r' => out.extend_from_slice(br"\r"),
        b'\t' => out.extend_from_slice(br"\t"),
        c => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(c >> 4)],
            HEX[usize::from(c & 0xf)],
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_core::model::Str;
    use corral_core::Severity;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9@.:-]{0,24}",
            any::<String>(),
            "[\\x00-\\x20\"\\\\/\\x7f é€😀]{0,12}",
            Just("a\"b\\c\u{1}\u{1f}\u{7f}\n\r\t\u{8}\u{c}".to_string()),
        ]
    }

    fn float() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(0.0),
            Just(-0.0),
            Just(1.0),
            Just(0.35),
            (0..=100u32).prop_map(|n| f64::from(n) / 100.0),
        ]
    }

    prop_compose! {
        fn update()(
            resolve in any::<bool>(),
            words in prop::collection::vec(text(), 13),
            lists in prop::collection::vec(prop::collection::vec(text(), 0..4), 7),
            counts in (any::<usize>(), any::<u64>()),
            scores in (float(), float()),
            options in (prop::option::of(text()), prop::option::of(text()), prop::option::of(text())),
            severity in 0..4usize,
        ) -> IncidentUpdate {
            let name = |i: usize| Str::new(&words[i]);
            let names = |i: usize| lists[i].iter().map(Str::new).collect::<Vec<Str>>();
            IncidentUpdate {
                event_action: if resolve { EventAction::Resolve } else { EventAction::Trigger },
                dedup_key: name(0),
                payload: Payload {
                    summary: words[1].clone(),
                    source: name(2),
                    severity: Severity::ALL[severity],
                    timestamp: name(3),
                    component: name(4),
                    group: name(5),
                    class: name(6),
                    custom_details: Details {
                        incident_id: name(7),
                        alerts: names(0),
                        alert_count: counts.0,
                        event_count: counts.1,
                        resources: names(1).into(),
                        services: names(2).into(),
                        root_cause: RootCause {
                            resource: name(8),
                            fingerprint: options.0.map(Str::from),
                            name: options.1.map(Str::from),
                            confidence: scores.0,
                            reason: words[9].clone(),
                        },
                        impacted_services: names(3).into(),
                        anomaly_score: scores.1,
                        rules: names(4),
                        merged_from: names(5),
                        merged_into: options.2.map(Str::from),
                        first_seen: name(10),
                        last_seen: name(11),
                        explanation: lists[6].iter().map(|s| s.as_str().into()).collect(),
                    },
                },
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn writes_what_serde_json_writes(u in update()) {
            let mut ours = Vec::new();
            write_update_json(&u, &mut ours);
            let theirs = serde_json::to_vec(&u).unwrap();
            prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
        }
    }

    /// Strings of every length around the word size, with bytes to escape anywhere (and
    /// multi-byte characters beside them), appended after whatever the buffer held.
    fn escapable() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                4 => prop::char::range('a', 'z'),
                1 => prop::sample::select(vec![
                    '"', '\\', '\u{0}', '\u{1f}', '\n', '\t', '\u{7f}', ' ', '!', '#', '/',
                    'é', '€', '😀', '\u{80}',
                ]),
                1 => any::<char>(),
            ],
            0..80,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// The word-at-a-time copy writes what serde_json writes, and keeps what was before.
        #[test]
        fn a_string_is_written_as_serde_json_writes_it(
            s in prop_oneof![escapable(), any::<String>()],
            before in "[a-z\"]{0,9}",
        ) {
            let mut ours = before.as_bytes().to_vec();
            string(&mut ours, &s);
            let mut theirs = before.as_bytes().to_vec();
            theirs.extend_from_slice(&serde_json::to_vec(&s).unwrap());
            prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
        }

        /// `copy_plain` copies exactly the bytes before the first one to escape.
        #[test]
        fn the_plain_prefix_ends_at_the_first_byte_to_escape(s in escapable()) {
            let bytes = s.as_bytes();
            let expected = bytes.iter().position(needs_escape).unwrap_or(bytes.len());
            let mut out = b"xy".to_vec();
            prop_assert_eq!(copy_plain(&mut out, bytes), expected);
            prop_assert_eq!(&out[2..], &bytes[..expected]);
            prop_assert_eq!(plain_prefix_by_words(bytes), expected);
        }
    }

    #[test]
    fn every_byte_escapes_as_serde_json_escapes_it() {
        for b in 0u8..=0x7f {
            let s = format!("x{}y", char::from(b));
            let mut ours = Vec::new();
            string(&mut ours, &s);
            assert_eq!(ours, serde_json::to_vec(&s).unwrap(), "byte {b:#x}");
        }
    }
}
