//! Turning one Kafka record into normalized alerts. Everything that is not an alert is an error
//! with a reason, which the service sends to the dead-letter topic.

use corral_core::Alert;
use corral_formats::Format;

/// A record's payload decoder for one configured input format (SPEC §2, `corral_formats`).
#[derive(Clone, Debug)]
pub struct Decoder {
    /// None: `auto`, detected per record.
    format: Option<Format>,
}

/// Why a record could not be used; `kind` is the metric label, `message` goes in the DLQ header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: &'static str,
    pub message: String,
}

impl Decoder {
    pub fn new(format: &str) -> Result<Decoder, String> {
        Ok(Decoder {
            format: Format::from_name(format)?,
        })
    }

    pub fn format_name(&self) -> &str {
        self.format.as_ref().map_or("auto", Format::name)
    }

    /// Appends the alerts of one record. On `Err` the alerts of the record's good parts are
    /// still appended (a bad alert never costs its neighbours) and the error says what was bad;
    /// the caller dead-letters the record with that reason.
    pub fn decode(&self, payload: Option<&[u8]>, out: &mut Vec<Alert>) -> Result<(), DecodeError> {
        let Some(bytes) = payload.filter(|b| !b.iter().all(u8::is_ascii_whitespace)) else {
            return Err(DecodeError {
                kind: "empty",
                message: "record has no payload".into(),
            });
        };
        let detected;
        let format = match &self.format {
            Some(f) => f,
            None => {
                detected = corral_formats::detect(bytes).map_err(|why| DecodeError {
                    kind: "unknown_format",
                    message: why,
                })?;
                &detected
            }
        };
        let start = out.len();
        match corral_formats::parse_record(format, bytes, out) {
            Ok(()) if out.len() == start => Err(DecodeError {
                kind: "empty",
                message: format!("{format} record holds no alert"),
            }),
            Ok(()) => Ok(()),
            Err(message) => Err(DecodeError {
                kind: if out.len() > start {
                    "partial"
                } else {
                    "parse"
                },
                message: format!("{format}: {message}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_one_native_object_or_an_array() {
        let d = Decoder::new("native").unwrap();
        let mut out = Vec::new();
        let one = br#"{"source":"zabbix","name":"Down","status":"firing","severity":"critical","resource":"db","starts_at":"2026-11-25T02:00:00Z"}"#;
        d.decode(Some(one), &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert!(
            !out[0].fingerprint.is_empty(),
            "fingerprint computed when absent"
        );
        let two = br#"[{"fingerprint":"f1","source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1},
                       {"fingerprint":"f2","source":"s","name":"n","status":"resolved","severity":"info","resource":"r","starts_at":2}]"#;
        d.decode(Some(two), &mut out).unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].fingerprint, "f2");
    }

    #[test]
    fn a_bad_part_keeps_its_good_neighbours() {
        let d = Decoder::new("native").unwrap();
        let mut out = Vec::new();
        let mixed = br#"[{"fingerprint":"f1","source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1},
                         {"fingerprint":"f2"}]"#;
        let e = d.decode(Some(mixed), &mut out).unwrap_err();
        assert_eq!(e.kind, "partial");
        assert!(e.message.contains("[1]"), "{}", e.message);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn bad_records_give_a_reason() {
        let d = Decoder::new("native").unwrap();
        let mut out = Vec::new();
        let e = d.decode(Some(b"{not json"), &mut out).unwrap_err();
        assert_eq!(e.kind, "parse");
        assert!(e.message.starts_with("native: "), "{}", e.message);
        assert!(out.is_empty());
        assert_eq!(d.decode(None, &mut out).unwrap_err().kind, "empty");
        assert_eq!(d.decode(Some(b"  \n"), &mut out).unwrap_err().kind, "empty");
        assert_eq!(
            d.decode(Some(&[0xff, 0xfe]), &mut out).unwrap_err().kind,
            "parse"
        );
    }

    #[test]
    fn auto_detects_per_record_and_says_why_when_it_cannot() {
        let d = Decoder::new("auto").unwrap();
        let mut out = Vec::new();
        let am = br#"{"version":"4","status":"firing","receiver":"corral","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am","groupKey":"{}","truncatedAlerts":0,
          "alerts":[{"status":"firing","labels":{"alertname":"HostDown","instance":"db-1:9100","severity":"critical"},"annotations":{},"startsAt":"2026-11-25T02:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"abc"}]}"#;
        d.decode(Some(am), &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].source, "alertmanager");
        let e = d.decode(Some(b"hello there"), &mut out).unwrap_err();
        assert_eq!(e.kind, "unknown_format");
        assert!(!e.message.is_empty());
    }

    #[test]
    fn unknown_format_is_refused() {
        assert!(Decoder::new("nope").is_err());
    }
}
