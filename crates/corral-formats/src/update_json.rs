//! Incident updates as JSON, written by hand: byte for byte what `serde_json::to_writer` writes
//! for an [`IncidentUpdate`], at a fraction of the cost. serde_json escapes strings one byte at a
//! time through its formatter; an update is ~1,600 bytes of mostly plain fingerprints, resource
//! names and sentences, which this copies eight bytes at a time between the rare escapes (the
//! same search the input scanner uses). The replay writes one of these per incident change.

use crate::fast_json::find_special;
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

fn strings(out: &mut Vec<u8>, items: &[String]) {
    out.push(b'[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, s);
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
fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let mut rest = s.as_bytes();
    while let Some(at) = find_special(rest) {
        out.extend_from_slice(&rest[..at]);
        escape(out, rest[at]);
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
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
            IncidentUpdate {
                event_action: if resolve { EventAction::Resolve } else { EventAction::Trigger },
                dedup_key: words[0].clone(),
                payload: Payload {
                    summary: words[1].clone(),
                    source: words[2].clone(),
                    severity: Severity::ALL[severity],
                    timestamp: words[3].clone(),
                    component: words[4].clone(),
                    group: words[5].clone(),
                    class: words[6].clone(),
                    custom_details: Details {
                        incident_id: words[7].clone(),
                        alerts: lists[0].clone(),
                        alert_count: counts.0,
                        event_count: counts.1,
                        resources: lists[1].clone(),
                        services: lists[2].clone(),
                        root_cause: RootCause {
                            resource: words[8].clone(),
                            fingerprint: options.0,
                            name: options.1,
                            confidence: scores.0,
                            reason: words[9].clone(),
                        },
                        impacted_services: lists[3].clone(),
                        anomaly_score: scores.1,
                        rules: lists[4].clone(),
                        merged_from: lists[5].clone(),
                        merged_into: options.2,
                        first_seen: words[10].clone(),
                        last_seen: words[11].clone(),
                        explanation: lists[6].clone(),
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
