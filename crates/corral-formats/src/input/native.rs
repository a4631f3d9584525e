//! `native`: corral's own normalized alert (SPEC §1), one JSON object per line. The hot path of
//! every replay, so it deserializes straight into `CompactString`s with no intermediate value.

use crate::common::{finish, utf8, Problems, SeverityField, StatusField, Time};
use corral_core::model::{labels_as_map, Labels, Str};
use corral_core::Alert;
use serde::Deserialize;

#[derive(Deserialize)]
struct NativeRecord {
    #[serde(default)]
    fingerprint: Option<Str>,
    source: Str,
    name: Str,
    status: StatusField,
    severity: SeverityField,
    resource: Str,
    #[serde(default)]
    service: Option<Str>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default, with = "labels_as_map")]
    labels: Labels,
    #[serde(default, with = "labels_as_map")]
    annotations: Labels,
    starts_at: Time,
    #[serde(default)]
    ends_at: Option<Time>,
    #[serde(default)]
    value: Option<f64>,
}

pub(crate) fn parse(payload: &[u8], context: &str, out: &mut Vec<Alert>, problems: &mut Problems) {
    match parse_one(payload) {
        Ok(a) => out.push(a),
        Err(e) => problems.push(context, e),
    }
}

fn parse_one(payload: &[u8]) -> Result<Alert, String> {
    let r: NativeRecord = serde_json::from_str(utf8(payload)?).map_err(|e| e.to_string())?;
    let a = Alert {
        fingerprint: r.fingerprint.unwrap_or_default(),
        source: r.source,
        name: r.name,
        status: r.status.0,
        severity: r.severity.0,
        resource: r.resource,
        service: r.service.filter(|s| !s.is_empty()),
        summary: r.summary,
        labels: r.labels,
        annotations: r.annotations,
        starts_at: r.starts_at.0,
        ends_at: r.ends_at.map(|t| t.0),
        value: r.value,
    };
    // labels_as_map already sorted both sets.
    finish(a, true)
}

#[cfg(test)]
mod tests {
    use crate::{parse_record, Format};
    use corral_core::{Alert, Severity, Status};

    fn one(line: &str) -> Result<Alert, String> {
        let mut out = Vec::new();
        parse_record(&Format::Native, line.as_bytes(), &mut out)?;
        assert_eq!(out.len(), 1);
        Ok(out.pop().unwrap())
    }

    #[test]
    fn reads_every_field() {
        let a = one(
            r#"{"fingerprint":"fp-1","source":"zabbix","name":"DiskFull","status":"resolved",
            "severity":"critical","resource":"db-4","service":"payroll","summary":"disk / at 99%",
            "labels":{"mount":"/","dc":"par1"},"annotations":{"runbook":"http://x"},
            "starts_at":"2026-11-25T02:11:07Z","ends_at":1795572727500,"value":99.5}"#,
        )
        .unwrap();
        assert_eq!(a.fingerprint, "fp-1");
        assert_eq!(a.source, "zabbix");
        assert_eq!(a.name, "DiskFull");
        assert_eq!(a.status, Status::Resolved);
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.resource, "db-4");
        assert_eq!(a.service.as_deref(), Some("payroll"));
        assert_eq!(a.summary.as_deref(), Some("disk / at 99%"));
        assert_eq!(
            a.labels,
            vec![("dc".into(), "par1".into()), ("mount".into(), "/".into())]
        );
        assert_eq!(a.annotations, vec![("runbook".into(), "http://x".into())]);
        assert_eq!(a.starts_at, 1_795_572_667_000);
        assert_eq!(a.ends_at, Some(1_795_572_727_500));
        assert_eq!(a.value, Some(99.5));
    }

    #[test]
    fn both_time_forms_agree_and_fingerprint_is_computed() {
        let a = one(r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":"2023-11-14T22:13:20Z"}"#).unwrap();
        let b = one(r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1700000000000}"#).unwrap();
        let c = one(r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":"1700000000000"}"#).unwrap();
        assert_eq!(a.starts_at, 1_700_000_000_000);
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.fingerprint.len(), 16);
        assert_eq!(
            a.fingerprint,
            corral_core::model::compute_fingerprint("s", "n", "r", &vec![])
        );
    }

    #[test]
    fn missing_required_fields_are_named() {
        let e =
            one(r#"{"source":"s","name":"n","status":"firing","severity":"info","starts_at":1}"#)
                .unwrap_err();
        assert!(e.contains("missing field `resource`"), "{e}");
        let e =
            one(r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r"}"#)
                .unwrap_err();
        assert!(e.contains("missing field `starts_at`"), "{e}");
    }

    #[test]
    fn wrong_types_and_values_are_explained() {
        let e = one(r#"{"source":"s","name":7,"status":"firing","severity":"info","resource":"r","starts_at":1}"#).unwrap_err();
        assert!(e.contains("invalid type: integer `7`"), "{e}");
        let e = one(r#"{"source":"s","name":"n","status":"burning","severity":"info","resource":"r","starts_at":1}"#).unwrap_err();
        assert!(
            e.contains("status \"burning\" is neither firing nor resolved"),
            "{e}"
        );
        let e = one(r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":"tuesday"}"#).unwrap_err();
        assert!(e.contains("invalid timestamp \"tuesday\""), "{e}");
        let e = one(r#"{"source":"s","name":"n","status":"firing","severity":"info","resource":"r","starts_at":1,"labels":{"a":{"b":1}}}"#).unwrap_err();
        assert!(e.contains("label value"), "{e}");
        let e = one(r#"{"source":"s","name":"","status":"firing","severity":"info","resource":"r","starts_at":1}"#).unwrap_err();
        assert!(e.contains("name is empty"), "{e}");
    }

    #[test]
    fn invalid_utf8_is_an_error_with_position() {
        let mut bytes = br#"{"source":"s","name":"n"#.to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        bytes.extend_from_slice(
            br#"","status":"firing","severity":"info","resource":"r","starts_at":1}"#,
        );
        let mut out = Vec::new();
        let e = parse_record(&Format::Native, &bytes, &mut out).unwrap_err();
        assert!(e.contains("line 1 column"), "{e}");
        assert!(out.is_empty());
    }

    #[test]
    fn empty_record_gives_nothing() {
        let mut out = Vec::new();
        parse_record(&Format::Native, b"  \r\n", &mut out).unwrap();
        assert!(out.is_empty());
    }
}
