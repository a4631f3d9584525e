//! Turning one Kafka record into normalized alerts. Everything that is not an alert is an error
//! with a reason, which the service sends to the dead-letter topic.

use corral_core::Alert;

/// A record's payload decoder for one configured input format.
#[derive(Clone, Debug)]
pub struct Decoder {
    format: String,
}

/// Why a record could not be used; `kind` is the metric label, `message` goes in the DLQ header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: &'static str,
    pub message: String,
}

impl Decoder {
    pub fn new(format: &str) -> Result<Decoder, String> {
        match format {
            "auto" | "native" => Ok(Decoder {
                format: format.to_string(),
            }),
            other => Err(format!(
                "input format {other:?} is not available in this build (auto, native)"
            )),
        }
    }

    pub fn format(&self) -> &str {
        &self.format
    }

    /// Appends the alerts of one record (one JSON object, or several as NDJSON lines).
    pub fn decode(&self, payload: Option<&[u8]>, out: &mut Vec<Alert>) -> Result<(), DecodeError> {
        let Some(bytes) = payload.filter(|b| !b.is_empty()) else {
            return Err(DecodeError {
                kind: "empty",
                message: "record has no payload".into(),
            });
        };
        let start = out.len();
        for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Alert>(line) {
                Ok(mut a) => {
                    // Producers that do not send a fingerprint get the SPEC §1 dedup key.
                    if a.fingerprint.is_empty() {
                        Alert::normalize_labels(&mut a.labels);
                        a.fingerprint = corral_core::model::compute_fingerprint(
                            &a.source,
                            &a.name,
                            &a.resource,
                            &a.labels,
                        );
                    } else {
                        Alert::normalize_labels(&mut a.labels);
                    }
                    out.push(a);
                }
                Err(e) => {
                    out.truncate(start);
                    return Err(DecodeError {
                        kind: "parse",
                        message: format!("line {}: {e}", i + 1),
                    });
                }
            }
        }
        if out.len() == start {
            return Err(DecodeError {
                kind: "empty",
                message: "record holds no alert".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_native_objects_and_ndjson() {
        let d = Decoder::new("native").unwrap();
        let mut out = Vec::new();
        let rec = br#"{"source":"zabbix","name":"Down","status":"firing","severity":"critical","resource":"db","starts_at":"2026-11-25T02:00:00Z","fingerprint":""}
{"fingerprint":"f2","source":"zabbix","name":"Down","status":"resolved","severity":"critical","resource":"db","starts_at":1764036000000}"#;
        d.decode(Some(rec), &mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert!(!out[0].fingerprint.is_empty());
        assert_eq!(out[1].fingerprint, "f2");
    }

    #[test]
    fn bad_records_give_a_reason_and_no_partial_alerts() {
        let d = Decoder::new("auto").unwrap();
        let mut out = Vec::new();
        let e = d.decode(Some(b"{not json"), &mut out).unwrap_err();
        assert_eq!(e.kind, "parse");
        assert!(e.message.starts_with("line 1:"), "{}", e.message);
        let two = br#"{"fingerprint":"a","source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1}
{"fingerprint":"b"}"#;
        let e = d.decode(Some(two), &mut out).unwrap_err();
        assert!(e.message.starts_with("line 2:"), "{}", e.message);
        assert!(out.is_empty());
        assert_eq!(d.decode(None, &mut out).unwrap_err().kind, "empty");
        assert_eq!(
            d.decode(Some(&[0xff, 0xfe]), &mut out).unwrap_err().kind,
            "parse"
        );
    }

    #[test]
    fn unknown_format_is_refused() {
        assert!(Decoder::new("nope").is_err());
    }
}
